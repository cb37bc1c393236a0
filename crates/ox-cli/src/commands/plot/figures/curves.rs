//! `ox plot curves`: metric series against step or time, runs overlaid or group means
//! with their per-step confidence band.

use super::*;

pub(super) fn curves(r: &Request<'_>) -> Result<Plot, CliError> {
    let specs = metric_specs(r)?;
    let by_time = match r.args.x.as_deref() {
        None | Some("step") => false,
        Some("time") => true,
        Some(other) => {
            return Err(CliError::usage(anyhow!(
                "curves are drawn against step or time, not {other:?}"
            ))
            .hint(
                "--x step (default) or --x time; `ox plot sweep --x PARAM` plots against a param",
            ));
        }
    };
    check_params(r, &r.args.group_by)?;
    let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
    let files: Vec<_> = r
        .views
        .iter()
        .map(|v| r.project.metrics_path(&v.run.id))
        .collect();
    let grouped = !r.args.group_by.is_empty();
    let cols = columns(&r.style);
    let smooth = r.args.smooth.filter(|w| *w > 0.0);
    // On the reading threads: times from the run's first line, smoothing, and (without
    // groups, whose per-step band needs every point) downsampling to the plot's columns.
    let finish = |series: Vec<Vec<Point>>| -> Vec<Vec<Point>> {
        series
            .into_iter()
            .map(|mut pts| {
                if by_time && let Some(t0) = pts.first().map(|p| p.0) {
                    for p in &mut pts {
                        p.0 -= t0;
                    }
                }
                if let Some(w) = smooth {
                    let ys: Vec<f64> = pts.iter().map(|p| p.1).collect();
                    for (p, y) in pts.iter_mut().zip(ema_debiased(&ys, w)) {
                        p.1 = y;
                    }
                }
                if grouped { pts } else { min_max(&pts, cols) }
            })
            .collect()
    };
    // Long series the catalog keeps a min/max envelope of are drawn from it, without
    // reading their files, when it is at least half as fine as the figure's pixels: every
    // extreme is drawn at its exact place, wiggles within a pixel column may merge. Group
    // bands (every step) and smoothing (every point) read the files.
    let enveloped: Vec<Option<Vec<Vec<Point>>>> = r
        .views
        .iter()
        .map(|v| {
            if grouped || smooth.is_some() {
                return None;
            }
            names
                .iter()
                .map(|m| envelope_series(r.catalog, &v.run.id, m, by_time, cols))
                .collect()
        })
        .collect();
    let to_read: Vec<_> = files
        .iter()
        .zip(&enveloped)
        .filter(|(_, e)| e.is_none())
        .map(|(f, _)| f.clone())
        .collect();
    let mut from_files = read_metric_series(&to_read, &names, by_time, &finish).into_iter();
    let read: Vec<Result<Vec<Vec<Point>>, String>> = enveloped
        .into_iter()
        .map(|e| match e {
            Some(series) => Ok(series),
            None => from_files
                .next()
                .unwrap_or_else(|| Err("not read".to_string())),
        })
        .collect();
    let mut per_run: Vec<Vec<Vec<Point>>> = Vec::with_capacity(read.len());
    let mut time_span: f64 = 0.0;
    for (v, res) in r.views.iter().zip(read) {
        match res {
            Ok(series) => {
                for s in &series {
                    if let Some(last) = s.last() {
                        time_span = time_span.max(last.0);
                    }
                }
                per_run.push(series);
            }
            Err(e) => {
                eprintln!("warning: run {}: {e}", v.run.id);
                per_run.push(vec![Vec::new(); names.len()]);
            }
        }
    }
    let (unit_div, unit) = time_unit(time_span);
    if by_time {
        for run in &mut per_run {
            for s in run.iter_mut() {
                for p in s.iter_mut() {
                    p.0 /= unit_div;
                }
            }
        }
    }
    let x_label = if by_time {
        format!("time ({unit})")
    } else {
        "step".to_string()
    };
    let mut panels = Vec::new();
    let mut panels_json = Vec::new();
    // Groups of runs (by the values of --group-by), in param order.
    let mut groups: Vec<(Key, Vec<usize>)> = Vec::new();
    if grouped {
        let mut map: BTreeMap<Vec<String>, (Key, Vec<usize>)> = BTreeMap::new();
        for (i, v) in r.views.iter().enumerate() {
            let flat: BTreeMap<String, &Value> =
                flatten_params(&v.run.params).into_iter().collect();
            let key: Vec<(String, Value)> = r
                .args
                .group_by
                .iter()
                .map(|k| (k.clone(), flat.get(k).map_or(Value::Null, |v| (*v).clone())))
                .collect();
            let id: Vec<String> = key.iter().map(|(_, v)| level_key(Some(v))).collect();
            map.entry(id).or_insert_with(|| (key, Vec::new())).1.push(i);
        }
        groups = map.into_values().collect();
        groups.sort_by(|a, b| cmp_keys(&a.0, &b.0));
    }
    for (mi, spec) in specs.iter().enumerate() {
        let mut series = Vec::new();
        let mut series_json = Vec::new();
        let all: Vec<&Vec<Point>> = per_run.iter().map(|s| &s[mi]).collect();
        let xr = x_range(
            &all.iter()
                .flat_map(|s| s.iter().copied())
                .collect::<Vec<_>>(),
        )
        .unwrap_or((0.0, 1.0));
        if grouped {
            for (key, members) in &groups {
                let refs: Vec<&[Point]> = members
                    .iter()
                    .map(|&i| per_run[i][mi].as_slice())
                    .filter(|s| !s.is_empty())
                    .collect();
                if refs.is_empty() {
                    continue;
                }
                let band = aligned_band(&refs, r.args.confidence);
                let means: Vec<Point> = band.iter().map(|b| (b.x, b.mean)).collect();
                let points = min_max_in(&means, xr, cols);
                let band_pts = band_columns(&band, xr, cols);
                let label = if r.args.group_by.len() == 1 {
                    format!("{}={}", r.args.group_by[0], group_label(key))
                } else {
                    group_label(key)
                };
                let runs: Vec<String> = members
                    .iter()
                    .map(|&i| r.views[i].run.id.to_string())
                    .collect();
                series_json.push(json!({
                    "label": label,
                    "key": key_json(key),
                    "runs": runs,
                    "points": points.iter().map(|p| [p.0, p.1]).collect::<Vec<_>>(),
                    "band": band_pts.iter().map(|b| [b.0, b.1, b.2]).collect::<Vec<_>>(),
                    "last": band.last().map(|b| json!({"x": b.x, "n": b.n, "mean": b.mean, "ci": b.lo.zip(b.hi).map(|(l, h)| [l, h])})),
                }));
                series.push(Series {
                    label,
                    points,
                    band: band_pts,
                    line: true,
                    ..Series::default()
                });
            }
        } else {
            for (v, pts) in r.views.iter().zip(&all) {
                if pts.is_empty() {
                    continue;
                }
                let points = min_max_in(pts, xr, cols);
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
        }
        if series.is_empty() {
            return Err(CliError::usage(anyhow!(
                "no selected run has points of {:?} in its metrics file",
                spec.name
            ))
            .hint("`ox show RUN` lists a run's metrics"));
        }
        panels_json.push(json!({"metric": spec.name, "series": series_json}));
        panels.push(Panel {
            x: Axis::linear(x_label.clone()),
            y: Axis {
                label: spec.name.clone(),
                scale: if r.args.log_y {
                    Scale::Log
                } else {
                    Scale::Linear
                },
            },
            content: Content::Lines(series),
        });
    }
    let mut base = names.join(", ");
    if grouped {
        base.push_str(&format!(
            " by {} (mean, {} CI)",
            r.args.group_by.join(", "),
            percent(r.args.confidence)
        ));
    }
    let n_series = panels
        .first()
        .map(|p| match &p.content {
            Content::Lines(s) => s.len(),
            _ => 0,
        })
        .unwrap_or(0);
    if !grouped && n_series > ox_plot::MAX_LEGEND {
        base.push_str(&format!(" · {n_series} runs"));
    }
    let data = json!({
        "kind": "curves",
        "x": if by_time { format!("time_{unit}") } else { "step".to_string() },
        "smooth": r.args.smooth,
        "confidence": r.args.confidence,
        "group_by": r.args.group_by,
        "panels": panels_json,
    });
    Ok(Plot {
        figure: figure(r, base, panels),
        data,
    })
}

/// `metric` of a run from the catalog's envelope, downsampled to `cols` pixel columns (times
/// from the series' first point, as read from files); `None` where the file must be read:
/// no envelope (a short series), steps or times that go back, or an envelope coarser than
/// half the columns.
fn envelope_series(
    catalog: &ox_store::Catalog,
    id: &ox_core::RunId,
    metric: &str,
    by_time: bool,
    cols: usize,
) -> Option<Vec<Point>> {
    let env = catalog.envelope(id, metric).ok()??;
    let xy = env.xy(by_time)?;
    let (first, last) = (xy.first()?.2, xy.last()?.2);
    if env.columns_between(first, last) < (cols / 2) as i64 {
        return None;
    }
    let t0 = if by_time { xy[0].0 } else { 0.0 };
    let points: Vec<Point> = xy.iter().map(|p| (p.0 - t0, p.1)).collect();
    Some(min_max(&points, cols))
}

/// The band for drawing: unchanged when short, else per pixel column the lowest `lo` and
/// highest `hi` at the column's first and last `x` (an envelope: no interval is narrowed),
/// with the exact last point kept.
fn band_columns(band: &[BandPoint], xr: (f64, f64), cols: usize) -> Vec<(f64, f64, f64)> {
    let exact = |b: &BandPoint| (b.x, b.lo.unwrap_or(f64::NAN), b.hi.unwrap_or(f64::NAN));
    if band.len() <= 4 * cols {
        return band.iter().map(exact).collect();
    }
    let width = (xr.1 - xr.0).max(f64::MIN_POSITIVE);
    let col_of = |x: f64| (((x - xr.0) / width * cols as f64) as usize).min(cols - 1);
    let mut out = Vec::with_capacity(2 * cols + 1);
    let mut i = 0;
    while i < band.len() {
        let c = col_of(band[i].x);
        let mut j = i;
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut gap = false;
        while j < band.len() && col_of(band[j].x) == c {
            match (band[j].lo, band[j].hi) {
                (Some(l), Some(h)) => {
                    lo = lo.min(l);
                    hi = hi.max(h);
                }
                _ => gap = true,
            }
            j += 1;
        }
        if gap || lo > hi {
            out.push((band[i].x, f64::NAN, f64::NAN));
        } else {
            out.push((band[i].x, lo, hi));
            out.push((band[j - 1].x, lo, hi));
        }
        i = j;
    }
    if let Some(last) = band.last() {
        out.pop();
        out.push(exact(last));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(x: f64, lo: Option<f64>, hi: Option<f64>) -> BandPoint {
        BandPoint {
            x,
            n: 2,
            mean: 0.0,
            lo,
            hi,
        }
    }

    #[test]
    fn long_bands_become_an_envelope_that_keeps_the_last_interval() {
        let band: Vec<BandPoint> = (0..10_000)
            .map(|i| {
                let x = f64::from(i);
                let w = if i == 4321 {
                    50.0
                } else {
                    1.0 + (x / 100.0).sin()
                };
                point(x, Some(-w), Some(w))
            })
            .collect();
        let out = band_columns(&band, (0.0, 9_999.0), 100);
        assert!(out.len() <= 201, "{}", out.len());
        assert_eq!(
            out.last(),
            Some(&(9_999.0, band[9_999].lo.unwrap(), band[9_999].hi.unwrap()))
        );
        // The spike's interval is inside the drawn envelope.
        assert!(out.iter().any(|b| b.1 <= -50.0 && b.2 >= 50.0));
        // Short bands are drawn as they are; a missing interval is a gap.
        let short = [point(0.0, Some(1.0), Some(2.0)), point(1.0, None, None)];
        let drawn = band_columns(&short, (0.0, 1.0), 100);
        assert_eq!(drawn[0], (0.0, 1.0, 2.0));
        assert!(drawn[1].1.is_nan());
    }

    #[test]
    fn metric_specs_split_the_summary() {
        let s = parse_spec("val/acc:max");
        assert_eq!((s.name.as_str(), s.summary), ("val/acc", "max"));
        let s = parse_spec("a:b");
        assert_eq!((s.name.as_str(), s.summary), ("a:b", "last"));
    }
}
