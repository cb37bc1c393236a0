//! `ox plot pareto`: group means against cost (duration or GPU-hours) with the front.

use super::*;

fn gpu_hours(v: &RunView) -> Option<f64> {
    ox_analysis::runs::gpu_hours(&v.run, &v.metrics)
}

pub(super) fn pareto(r: &Request<'_>) -> Result<Plot, CliError> {
    let spec = single_metric(r)?;
    check_params(r, &r.args.group_by)?;
    let use_gpu = match r.args.x.as_deref() {
        None => r.views.iter().all(|v| gpu_hours(v).is_some()),
        Some("gpu_hours" | "gpu-hours") => true,
        Some("duration" | "duration_s") => false,
        Some(other) => {
            return Err(CliError::usage(anyhow!(
                "the cost axis of a Pareto plot is duration or gpu_hours, not {other:?}"
            ))
            .hint("--x duration or --x gpu_hours"));
        }
    };
    let Some(dir) = direction(r, &spec.name) else {
        return Err(CliError::usage(anyhow!(
            "cannot tell whether lower or higher {:?} is better",
            spec.name
        ))
        .hint("pass --mode min (lower is better) or --mode max (higher is better)"));
    };
    let (obs, excluded) = observations(
        r,
        &spec,
        |v| {
            if use_gpu { gpu_hours(v) } else { v.duration_s }
        },
    );
    let (obs, mut no_cost): (Vec<Observation>, Vec<Observation>) = obs
        .into_iter()
        .partition(|o| o.cost.is_some_and(f64::is_finite));
    let cost_name = if use_gpu { "gpu_hours" } else { "duration" };
    if obs.is_empty() {
        return Err(CliError::usage(anyhow!(
            "no selected run has both {:?} and a {cost_name}",
            spec.name
        ))
        .hint("durations come from finished runs' start and end times; GPU-hours from `gpu_hours` in run.json or as a metric"));
    }
    let mut excluded = excluded;
    excluded.extend(no_cost.drain(..).map(|o| Excluded {
        run_id: o.run_id,
        reason: format!("no {cost_name}"),
    }));
    let group_by = (!r.args.group_by.is_empty()).then(|| r.args.group_by.clone());
    let mut report = stats(r, &spec, &obs, excluded, group_by);
    report
        .groups
        .retain(|g| g.cost.is_some() && g.stats.mean.is_some());
    let max_cost = report
        .groups
        .iter()
        .filter_map(|g| g.cost)
        .fold(0.0, f64::max);
    let (div, unit) = if use_gpu {
        (1.0, "GPU-hours")
    } else {
        let (d, u) = time_unit(max_cost);
        (d, u)
    };
    let x_label = if use_gpu {
        "GPU-hours (mean per run)".to_string()
    } else {
        format!("duration ({unit}, mean per run)")
    };
    let mut groups: Vec<&GroupStats> = report.groups.iter().collect();
    groups.sort_by(|a, b| a.cost.unwrap_or(0.0).total_cmp(&b.cost.unwrap_or(0.0)));
    let pt = |g: &GroupStats| {
        (
            g.cost.unwrap_or(f64::NAN) / div,
            g.stats.mean.unwrap_or(f64::NAN),
        )
    };
    let all = Series {
        label: "configurations".into(),
        points: groups.iter().map(|g| pt(g)).collect(),
        errors: groups
            .iter()
            .filter_map(|g| g.ci.map(|(lo, hi)| (pt(g).0, lo, hi)))
            .collect(),
        markers: true,
        ..Series::default()
    };
    let front: Vec<&&GroupStats> = groups.iter().filter(|g| g.pareto).collect();
    let front_series = Series {
        label: "Pareto front".into(),
        points: front.iter().map(|g| pt(g)).collect(),
        line: true,
        markers: true,
        point_labels: front
            .iter()
            .map(|g| {
                g.key
                    .iter()
                    .map(|(k, v)| format!("{k}={}", value_text(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .collect(),
        ..Series::default()
    };
    let data = json!({
        "kind": "pareto",
        "metric": spec.name,
        "summary": spec.summary,
        "cost": cost_name,
        "direction": dir.as_str(),
        "confidence": r.args.confidence,
        "groups": groups.iter().map(|g| {
            let mut j = group_json(g, false);
            if let Value::Object(m) = &mut j {
                m.remove("best");
                m.insert("cost".into(), json!(g.cost));
                m.insert("pareto".into(), json!(g.pareto));
            }
            j
        }).collect::<Vec<_>>(),
    });
    let panel = Panel {
        x: Axis::linear(x_label),
        y: Axis::linear(stat_label(&spec, r.args.confidence)),
        content: Content::Lines(vec![all, front_series]),
    };
    let cost_title = if use_gpu { "GPU-hours" } else { "duration" };
    Ok(Plot {
        figure: figure(
            r,
            format!("{} against {cost_title}", spec.name),
            vec![panel],
        ),
        data,
    })
}
