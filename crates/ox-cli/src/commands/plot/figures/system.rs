//! `ox plot system`: CPU, RSS, GPU utilization and memory over time, one panel each.

use super::*;

pub(super) fn system(r: &Request<'_>) -> Result<Plot, CliError> {
    let mut runs = Vec::new();
    for v in r.views {
        let pts = read_system(&r.project.system_path(&v.run.id))
            .map_err(|e| CliError::failed(anyhow!(e)))?;
        if !pts.is_empty() {
            runs.push((v, pts));
        }
    }
    if runs.is_empty() {
        return Err(
            CliError::usage(anyhow!("no selected run has system samples")).hint(
                "`ox run` samples CPU, RSS and GPU every 2 s into .ox/metrics/<id>_system.jsonl; imported runs have none",
            ),
        );
    }
    let span = runs
        .iter()
        .map(|(_, p)| p.last().map_or(0.0, |l| l.time) - p.first().map_or(0.0, |f| f.time))
        .fold(0.0, f64::max);
    let (div, unit) = time_unit(span);
    type Field = fn(&crate::commands::plot::series::SystemPoint) -> Option<f64>;
    // Memory in GiB, or MiB when every value is below 1 GiB.
    let bytes_unit = |get: Field| {
        let max = runs
            .iter()
            .flat_map(|(_, p)| p.iter().filter_map(get))
            .fold(0.0, f64::max);
        if max >= 1024.0 * 1024.0 * 1024.0 {
            (1024.0 * 1024.0 * 1024.0, "GiB")
        } else {
            (1024.0 * 1024.0, "MiB")
        }
    };
    let (rss_div, rss_unit) = bytes_unit(|p| p.rss_bytes);
    let (gpu_div, gpu_unit) = bytes_unit(|p| p.gpu_mem_bytes);
    let rss_label = format!("RSS ({rss_unit})");
    let gpu_label = format!("GPU memory ({gpu_unit})");
    let fields: [(&str, &str, Field, f64); 4] = [
        ("CPU (%)", "cpu_percent", |p| p.cpu_percent, 1.0),
        (&rss_label, "rss", |p| p.rss_bytes, rss_div),
        (
            "GPU util (%)",
            "gpu_util_percent",
            |p| p.gpu_util_percent,
            1.0,
        ),
        (&gpu_label, "gpu_mem", |p| p.gpu_mem_bytes, gpu_div),
    ];
    let cols = columns(&r.style);
    let mut panels = Vec::new();
    let mut panels_json = Vec::new();
    for (label, key, get, scale) in fields {
        if !runs
            .iter()
            .any(|(_, pts)| pts.iter().any(|p| get(p).is_some()))
        {
            continue;
        }
        let mut series = Vec::new();
        let mut series_json = Vec::new();
        for (v, pts) in &runs {
            let t0 = pts.first().map_or(0.0, |p| p.time);
            let raw: Vec<Point> = pts
                .iter()
                .map(|p| ((p.time - t0) / div, get(p).map_or(f64::NAN, |x| x / scale)))
                .collect();
            let xr = x_range(&raw).unwrap_or((0.0, 1.0));
            let points = min_max_in(&raw, xr, cols);
            series_json.push(json!({
                "label": run_label(v),
                "runs": [v.run.id.to_string()],
                "points": points.iter().map(|p| [p.0, p.1]).collect::<Vec<_>>(),
            }));
            series.push(Series {
                label: run_label(v),
                points,
                line: true,
                ..Series::default()
            });
        }
        panels_json.push(json!({"metric": key, "label": label, "series": series_json}));
        panels.push(Panel {
            x: Axis::linear(format!("time ({unit})")),
            y: Axis::linear(label),
            content: Content::Lines(series),
        });
    }
    let data = json!({"kind": "system", "x": format!("time_{unit}"), "panels": panels_json});
    let base = if runs.len() == 1 {
        format!("system · {}", run_label(runs[0].0))
    } else {
        format!("system · {} runs", runs.len())
    };
    let mut figure = figure(r, base, panels);
    // Stacked panels need height: grow the figure unless --height was given.
    let n = figure.panels.len() as f64;
    if r.args.height.is_none() && n > 2.0 {
        figure.style.height_in *= 0.5 + 0.25 * n;
    }
    Ok(Plot { figure, data })
}
