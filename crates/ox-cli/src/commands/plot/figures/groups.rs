//! `ox plot bar|sweep|heatmap|box`: group means and intervals (`ox stats`' numbers) against
//! groups, a numeric param, or two params; distributions across seeds or samples.

use super::*;

pub(super) fn bar(r: &Request<'_>) -> Result<Plot, CliError> {
    let spec = single_metric(r)?;
    check_params(r, &r.args.group_by)?;
    let (obs, excluded) = observations(r, &spec, |_| None);
    if obs.is_empty() {
        return Err(no_observations(r, &spec));
    }
    let group_by = (!r.args.group_by.is_empty()).then(|| r.args.group_by.clone());
    let report = stats(r, &spec, &obs, excluded, group_by);
    if report.groups.is_empty() {
        return Err(CliError::usage(anyhow!(
            "no selected run has a finite {:?}",
            spec.name
        )));
    }
    let best_known = direction(r, &spec.name).is_some() && report.groups.len() > 1;
    let best_key = report.groups.first().map(|g| g.key.clone());
    let mut groups: Vec<&GroupStats> = report.groups.iter().collect();
    groups.sort_by(|a, b| cmp_keys(&a.key, &b.key));
    let bars: Vec<Bar> = groups
        .iter()
        .map(|g| Bar {
            label: group_label(&g.key),
            value: g.stats.mean.unwrap_or(f64::NAN),
            interval: g.ci,
            best: best_known && Some(&g.key) == best_key.as_ref(),
        })
        .collect();
    let data = json!({
        "kind": "bar",
        "metric": spec.name,
        "summary": spec.summary,
        "confidence": r.args.confidence,
        "group_by": report.group_by,
        "groups": groups.iter().zip(&bars).map(|(g, b)| group_json(g, b.best)).collect::<Vec<_>>(),
        "excluded": report.excluded.iter().map(|e| json!({"run": e.run_id, "reason": e.reason})).collect::<Vec<_>>(),
    });
    let group_by = report.group_by.join(", ");
    let base = if group_by.is_empty() {
        spec.name.clone()
    } else {
        format!("{} by {group_by}", spec.name)
    };
    let panel = Panel {
        x: Axis::linear(if group_by.is_empty() {
            "group".into()
        } else {
            group_by
        }),
        y: Axis::linear(stat_label(&spec, r.args.confidence)),
        content: Content::Bars(bars),
    };
    Ok(Plot {
        figure: figure(r, base, vec![panel]),
        data,
    })
}

// ---------------------------------------------------------------------------------------
// sweep

pub(super) fn sweep(r: &Request<'_>) -> Result<Plot, CliError> {
    let specs = metric_specs(r)?;
    let Some(param) = r.args.x.clone() else {
        return Err(
            CliError::usage(anyhow!("ox plot sweep needs --x PARAM")).hint(format!(
                "params of the selected runs: {}",
                known_params(r.views).join(", ")
            )),
        );
    };
    check_params(r, std::slice::from_ref(&param))?;
    check_params(r, &r.args.group_by)?;
    let mut keys = vec![param.clone()];
    keys.extend(r.args.group_by.iter().filter(|k| **k != param).cloned());
    let mut series: Vec<Series> = Vec::new();
    let mut series_json = Vec::new();
    let mut xs_all = Vec::new();
    for spec in &specs {
        let (obs, excluded) = observations(r, spec, |_| None);
        if obs.is_empty() {
            return Err(no_observations(r, spec));
        }
        if let Some(o) = obs
            .iter()
            .find(|o| level_number(o.params.get(&param)).is_none())
        {
            let shown = o
                .params
                .get(&param)
                .map_or("nothing".to_string(), value_text);
            return Err(CliError::usage(anyhow!(
                "a sweep needs a numeric param: {param} is {shown:?} in run {}",
                o.run_id
            ))
            .hint(format!(
                "`ox plot bar --metric {} --group-by {param}` compares non-numeric levels",
                spec.name
            )));
        }
        let report = stats(r, spec, &obs, excluded, Some(keys.clone()));
        // One series per value of the other keys.
        let mut by_rest: BTreeMap<String, (Key, Vec<&GroupStats>)> = BTreeMap::new();
        for g in &report.groups {
            let rest: Vec<(String, Value)> =
                g.key.iter().filter(|(k, _)| *k != param).cloned().collect();
            let id = rest
                .iter()
                .map(|(_, v)| level_key(Some(v)))
                .collect::<Vec<_>>()
                .join("|");
            by_rest
                .entry(id)
                .or_insert_with(|| (rest, Vec::new()))
                .1
                .push(g);
        }
        let mut ordered: Vec<_> = by_rest.into_values().collect();
        ordered.sort_by(|a, b| cmp_keys(&a.0, &b.0));
        for (rest, mut groups) in ordered {
            let x_of = |g: &GroupStats| {
                level_number(g.key.iter().find(|(k, _)| *k == param).map(|(_, v)| v))
                    .unwrap_or(f64::NAN)
            };
            groups.sort_by(|a, b| x_of(a).total_cmp(&x_of(b)));
            let points: Vec<Point> = groups
                .iter()
                .map(|g| (x_of(g), g.stats.mean.unwrap_or(f64::NAN)))
                .collect();
            xs_all.extend(points.iter().map(|p| p.0));
            let errors = groups
                .iter()
                .filter_map(|g| g.ci.map(|(lo, hi)| (x_of(g), lo, hi)))
                .collect();
            let rest_label = if rest.is_empty() {
                String::new()
            } else {
                rest.iter()
                    .map(|(k, v)| format!("{k}={}", value_text(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let label = match (specs.len() > 1, rest_label.is_empty()) {
                (true, true) => spec.name.clone(),
                (true, false) => format!("{} · {rest_label}", spec.name),
                (false, _) => rest_label,
            };
            series_json.push(json!({
                "label": label,
                "metric": spec.name,
                "key": key_json(&rest),
                "points": groups.iter().map(|g| json!({
                    "x": x_of(g),
                    "n": g.stats.n,
                    "mean": g.stats.mean,
                    "ci": g.ci.map(|(lo, hi)| [lo, hi]),
                    "runs": g.runs,
                })).collect::<Vec<_>>(),
            }));
            series.push(Series {
                label,
                points,
                errors,
                line: true,
                markers: true,
                ..Series::default()
            });
        }
    }
    let lo = xs_all.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs_all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log_x = lo > 0.0 && hi / lo >= 10.0;
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    let y_label = if specs.len() == 1 {
        stat_label(&specs[0], r.args.confidence)
    } else {
        format!("mean, {} CI", percent(r.args.confidence))
    };
    let data = json!({
        "kind": "sweep",
        "x": param,
        "log_x": log_x,
        "metrics": names,
        "confidence": r.args.confidence,
        "series": series_json,
    });
    let panel = Panel {
        x: Axis {
            label: param.clone(),
            scale: if log_x { Scale::Log } else { Scale::Linear },
        },
        y: Axis {
            label: y_label,
            scale: if r.args.log_y {
                Scale::Log
            } else {
                Scale::Linear
            },
        },
        content: Content::Lines(series),
    };
    Ok(Plot {
        figure: figure(
            r,
            format!("{} against {param}", names.join(", ")),
            vec![panel],
        ),
        data,
    })
}

// ---------------------------------------------------------------------------------------
// heatmap

pub(super) fn heatmap(r: &Request<'_>) -> Result<Plot, CliError> {
    let spec = single_metric(r)?;
    let (Some(px), Some(py)) = (r.args.x.clone(), r.args.y.clone()) else {
        return Err(
            CliError::usage(anyhow!("ox plot heatmap needs two params: --x P --y Q")).hint(
                format!(
                    "params of the selected runs: {}",
                    known_params(r.views).join(", ")
                ),
            ),
        );
    };
    if px == py {
        return Err(CliError::usage(anyhow!(
            "--x and --y are both {px:?}; a heatmap needs two different params"
        )));
    }
    check_params(r, &[px.clone(), py.clone()])?;
    let (obs, excluded) = observations(r, &spec, |_| None);
    if obs.is_empty() {
        return Err(no_observations(r, &spec));
    }
    let report = stats(r, &spec, &obs, excluded, Some(vec![px.clone(), py.clone()]));
    let level = |g: &GroupStats, k: &str| {
        g.key
            .iter()
            .find(|(kk, _)| kk == k)
            .map_or(Value::Null, |(_, v)| v.clone())
    };
    let levels = |k: &str| {
        let mut vals: Vec<Value> = report.groups.iter().map(|g| level(g, k)).collect();
        vals.sort_by(cmp_values);
        vals.dedup_by(|a, b| level_key(Some(a)) == level_key(Some(b)));
        vals
    };
    let (xl, yl) = (levels(&px), levels(&py));
    for (p, other, lv) in [(&px, &py, &xl), (&py, &px, &yl)] {
        if lv.len() < 2 {
            return Err(CliError::usage(anyhow!(
                "{p} and {other} are not a 2-D grid: {p} has a single value ({})",
                lv.first().map_or("none".into(), value_text)
            ))
            .hint(format!(
                "`ox plot sweep --metric {} --x {other}` plots against one param",
                spec.name
            )));
        }
    }
    let mut cells = vec![vec![None; xl.len()]; yl.len()];
    let mut cells_json = Vec::new();
    for g in &report.groups {
        let (vx, vy) = (level(g, &px), level(g, &py));
        let i = xl
            .iter()
            .position(|v| level_key(Some(v)) == level_key(Some(&vx)));
        let j = yl
            .iter()
            .position(|v| level_key(Some(v)) == level_key(Some(&vy)));
        if let (Some(i), Some(j)) = (i, j) {
            cells[j][i] = g.stats.mean;
            cells_json.push(json!({
                "x": vx, "y": vy, "n": g.stats.n, "mean": g.stats.mean,
                "ci": g.ci.map(|(lo, hi)| [lo, hi]), "runs": g.runs,
            }));
        }
    }
    let filled = cells.iter().flatten().filter(|c| c.is_some()).count();
    if filled * 2 < xl.len() * yl.len() {
        return Err(CliError::usage(anyhow!(
            "{px} and {py} are not a 2-D grid: only {filled} of {}×{} combinations have runs",
            xl.len(),
            yl.len()
        ))
        .hint("choose two params that were crossed in the sweep, or use `ox plot sweep --x P`"));
    }
    let data = json!({
        "kind": "heatmap",
        "metric": spec.name,
        "summary": spec.summary,
        "x": px, "y": py,
        "x_levels": xl, "y_levels": yl,
        "confidence": r.args.confidence,
        "cells": cells_json,
    });
    let h = Heatmap {
        x_labels: xl.iter().map(value_text).collect(),
        y_labels: yl.iter().map(value_text).collect(),
        cells,
        value_label: if spec.summary == "last" {
            format!("{} (mean)", spec.name)
        } else {
            format!("{}:{} (mean)", spec.name, spec.summary)
        },
    };
    let panel = Panel {
        x: Axis::linear(px.clone()),
        y: Axis::linear(py.clone()),
        content: Content::Heatmap(h),
    };
    Ok(Plot {
        figure: figure(r, format!("{} over {px} × {py}", spec.name), vec![panel]),
        data,
    })
}

// ---------------------------------------------------------------------------------------
// box

pub(super) fn boxes(r: &Request<'_>) -> Result<Plot, CliError> {
    let (groups, x_label, base, what) = if r.args.samples {
        let Some(scorer) = r.args.metric.clone() else {
            return Err(CliError::usage(anyhow!("--samples needs --metric SCORER"))
                .hint("the scorer of the evaluation, e.g. --metric match"));
        };
        let mut groups = Vec::new();
        let mut scorers: Vec<String> = Vec::new();
        for v in r.views {
            let (scores, found) = read_sample_scores(&r.project.samples_path(&v.run.id), &scorer)
                .map_err(|e| CliError::failed(anyhow!(e)))?;
            scorers.extend(found);
            if !scores.is_empty() {
                groups.push((run_label(v), vec![v.run.id.to_string()], scores));
            }
        }
        if groups.is_empty() {
            scorers.sort();
            scorers.dedup();
            return Err(if scorers.is_empty() {
                CliError::usage(anyhow!("no selected run has per-sample scores"))
                    .hint("per-sample scores come from evaluations imported with `ox import` (inspect-ai logs)")
            } else {
                unknown_name("scorer", &scorer, &scorers)
            });
        }
        (
            groups,
            "run".to_string(),
            format!("{scorer} per sample"),
            "samples",
        )
    } else {
        let spec = single_metric(r)?;
        check_params(r, &r.args.group_by)?;
        let (obs, excluded) = observations(r, &spec, |_| None);
        if obs.is_empty() {
            return Err(no_observations(r, &spec));
        }
        let group_by = (!r.args.group_by.is_empty()).then(|| r.args.group_by.clone());
        let report = stats(r, &spec, &obs, excluded, group_by);
        let value_of: BTreeMap<&str, f64> =
            obs.iter().map(|o| (o.run_id.as_str(), o.value)).collect();
        let mut gs: Vec<&GroupStats> = report.groups.iter().collect();
        gs.sort_by(|a, b| cmp_keys(&a.key, &b.key));
        let groups = gs
            .iter()
            .map(|g| {
                let values = g
                    .runs
                    .iter()
                    .filter_map(|id| value_of.get(id.as_str()).copied())
                    .filter(|v| v.is_finite())
                    .collect();
                (group_label(&g.key), g.runs.clone(), values)
            })
            .collect();
        let by = report.group_by.join(", ");
        (
            groups,
            if by.is_empty() {
                "group".into()
            } else {
                by.clone()
            },
            if by.is_empty() {
                format!("{} across runs", spec.name)
            } else {
                format!("{} ({}) across seeds by {by}", spec.name, spec.summary)
            },
            "seeds",
        )
    };
    let y_label = r
        .args
        .metric
        .as_deref()
        .map(|m| parse_spec(m).name)
        .unwrap_or_default();
    let data = json!({
        "kind": "box",
        "of": what,
        "metric": y_label,
        "groups": groups.iter().map(|(label, runs, values)| {
            let d = describe(values);
            json!({
                "label": label, "runs": runs, "n": d.n, "values": values,
                "q1": percentile(values, 0.25), "median": d.median, "q3": percentile(values, 0.75),
            })
        }).collect::<Vec<_>>(),
    });
    let panel = Panel {
        x: Axis::linear(x_label),
        y: Axis::linear(y_label),
        content: Content::Boxes(
            groups
                .into_iter()
                .map(|(label, _, values)| BoxGroup { label, values })
                .collect(),
        ),
    };
    Ok(Plot {
        figure: figure(r, base, vec![panel]),
        data,
    })
}
