//! One function per `ox plot` kind: selected runs → an `ox_plot::Figure` and the JSON data
//! it draws. Statistics come from `ox_analysis` (`analyze` for group means and intervals,
//! exactly what `ox stats` reports; `downsample` for long series, the EMA and the per-step
//! band of curves).

use std::collections::BTreeMap;

use anyhow::anyhow;
use ox_analysis::describe::{describe, percentile};
use ox_analysis::downsample::{BandPoint, Point, aligned_band, ema_debiased, min_max_in, x_range};
use ox_analysis::group::{level_key, level_number};
use ox_analysis::report::{Excluded, GroupStats};
use ox_analysis::{Direction, Observation, StatsOptions, StatsReport, analyze};
use ox_core::{Project, Status, flatten_params};
use ox_plot::{Axis, Bar, BoxGroup, Content, Figure, Heatmap, Panel, Scale, Series, Style};
use ox_store::{RunView, edit_distance};
use serde_json::{Value, json};

use super::series::{read_metric_series, read_sample_scores, read_system};
use super::{Args, Kind};
use crate::CliError;

/// A group's key: `(param, value)` pairs, in `--group-by` order.
type Key = Vec<(String, Value)>;

/// What `build` needs: the flags, the selected runs and the figure style.
pub struct Request<'a> {
    pub args: &'a Args,
    pub project: &'a Project,
    pub views: &'a [RunView],
    /// Whether the user chose statuses; otherwise statistics use completed runs only.
    pub status_chosen: bool,
    pub style: Style,
    pub direction: Option<Direction>,
    /// ` · study sweep`: appended to default titles.
    pub title_suffix: String,
}

/// A figure and the data it draws.
pub struct Plot {
    pub figure: Figure,
    pub data: Value,
}

/// Builds the figure of `r.args.kind`.
pub fn build(r: &Request<'_>) -> Result<Plot, CliError> {
    match r.args.kind {
        Kind::Curves => curves(r),
        Kind::Bar => bar(r),
        Kind::Sweep => sweep(r),
        Kind::Heatmap => heatmap(r),
        Kind::Box => boxes(r),
        Kind::Pareto => pareto(r),
        Kind::System => system(r),
    }
}

/// A metric name and the per-run summary used for statistics (`last` unless `M:summary`).
#[derive(Debug, Clone)]
struct MetricSpec {
    name: String,
    summary: &'static str,
}

fn parse_spec(spec: &str) -> MetricSpec {
    if let Some((name, suffix)) = spec.rsplit_once(':')
        && !name.is_empty()
        && let Some(s) = ["first", "last", "min", "max", "mean"]
            .into_iter()
            .find(|s| *s == suffix)
    {
        return MetricSpec {
            name: name.to_string(),
            summary: s,
        };
    }
    MetricSpec {
        name: spec.to_string(),
        summary: "last",
    }
}

/// The metrics asked for, each known to some selected run.
fn metric_specs(r: &Request<'_>) -> Result<Vec<MetricSpec>, CliError> {
    let specs: Vec<MetricSpec> = match &r.args.metric {
        Some(m) => vec![parse_spec(m)],
        None => r
            .args
            .metrics
            .iter()
            .map(|m| m.trim())
            .filter(|m| !m.is_empty())
            .map(parse_spec)
            .collect(),
    };
    if specs.is_empty() {
        let kind = r.args.kind.name();
        return Err(
            CliError::usage(anyhow!("ox plot {kind} needs --metric M")).hint(format!(
                "e.g. ox plot {kind} --metric loss; metrics of the selected runs: {}",
                known_metrics(r.views).join(", ")
            )),
        );
    }
    for s in &specs {
        if !r.views.iter().any(|v| v.metrics.contains_key(&s.name)) {
            return Err(unknown_name("metric", &s.name, &known_metrics(r.views)));
        }
    }
    Ok(specs)
}

fn single_metric(r: &Request<'_>) -> Result<MetricSpec, CliError> {
    let mut specs = metric_specs(r)?;
    if specs.len() > 1 {
        return Err(CliError::usage(anyhow!(
            "ox plot {} draws one metric, got {}",
            r.args.kind.name(),
            specs.len()
        ))
        .hint("use --metric M; `ox plot sweep` and `ox plot curves` take --metrics a,b"));
    }
    Ok(specs.remove(0))
}

fn known_metrics(views: &[RunView]) -> Vec<String> {
    let mut names: Vec<String> = views
        .iter()
        .flat_map(|v| v.metrics.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    names
}

fn known_params(views: &[RunView]) -> Vec<String> {
    let mut names: Vec<String> = views
        .iter()
        .flat_map(|v| flatten_params(&v.run.params).into_iter().map(|(k, _)| k))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// "no selected run has the metric 'los'" with the closest names as the hint.
fn unknown_name(what: &str, name: &str, known: &[String]) -> CliError {
    let mut close: Vec<(usize, &String)> = known
        .iter()
        .map(|k| (edit_distance(name, k), k))
        .filter(|(d, k)| *d <= (k.chars().count() / 3).max(2))
        .collect();
    close.sort();
    let hint = if close.is_empty() {
        let list: Vec<&str> = known.iter().take(20).map(String::as_str).collect();
        if list.is_empty() {
            format!("the selected runs have no {what}s")
        } else {
            format!("{what}s of the selected runs: {}", list.join(", "))
        }
    } else {
        let names: Vec<&str> = close.iter().take(3).map(|(_, k)| k.as_str()).collect();
        format!("did you mean {}?", names.join(" or "))
    };
    CliError::usage(anyhow!("no selected run has the {what} {name:?}")).hint(hint)
}

fn check_params(r: &Request<'_>, keys: &[String]) -> Result<(), CliError> {
    let known = known_params(r.views);
    match keys.iter().find(|k| !known.contains(k)) {
        Some(k) => Err(unknown_name("param", k, &known)),
        None => Ok(()),
    }
}

/// A run's short name for legends: its name, else the first 8 characters of its id.
fn run_label(v: &RunView) -> String {
    match &v.run.name {
        Some(n) if !n.is_empty() => n.clone(),
        _ => v.run.id.to_string().chars().take(8).collect(),
    }
}

/// A param value as plain text (strings without quotes).
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Orders param values: numerically when both are numbers, else as text.
fn cmp_values(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (level_number(Some(a)), level_number(Some(b))) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => value_text(a).cmp(&value_text(b)),
    }
}

fn cmp_keys(a: &[(String, Value)], b: &[(String, Value)]) -> std::cmp::Ordering {
    for ((_, x), (_, y)) in a.iter().zip(b) {
        let o = cmp_values(x, y);
        if o != std::cmp::Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

/// A group's label: the value alone for one key (`0.01`), `k=v, …` for several.
fn group_label(key: &[(String, Value)]) -> String {
    match key {
        [] => "all runs".to_string(),
        [(_, v)] => value_text(v),
        _ => key
            .iter()
            .map(|(k, v)| format!("{k}={}", value_text(v)))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn key_json(key: &[(String, Value)]) -> Value {
    Value::Object(key.iter().cloned().collect())
}

/// The direction for best/front: `--mode`, else from the metric's name.
fn direction(r: &Request<'_>, metric: &str) -> Option<Direction> {
    r.direction.or_else(|| Direction::infer(metric))
}

/// The per-run values of `spec` (completed runs unless a status was chosen, as `ox stats`)
/// and the runs left out with the reason. `cost` gives each run's cost, for Pareto plots.
fn observations(
    r: &Request<'_>,
    spec: &MetricSpec,
    cost: impl Fn(&RunView) -> Option<f64>,
) -> (Vec<Observation>, Vec<Excluded>) {
    let mut obs = Vec::new();
    let mut excluded = Vec::new();
    for v in r.views {
        let id = v.run.id.to_string();
        if !r.status_chosen && v.run.status != Status::Completed {
            excluded.push(Excluded {
                run_id: id,
                reason: format!("status {}", v.run.status.as_str()),
            });
            continue;
        }
        match v.metrics.get(&spec.name) {
            None => excluded.push(Excluded {
                run_id: id,
                reason: format!("no metric '{}'", spec.name),
            }),
            Some(s) => obs.push(Observation {
                run_id: id,
                params: flatten_params(&v.run.params)
                    .into_iter()
                    .map(|(k, v)| (k, v.clone()))
                    .collect(),
                value: s.get(spec.summary).unwrap_or(f64::NAN),
                cost: cost(v),
            }),
        }
    }
    (obs, excluded)
}

fn no_observations(r: &Request<'_>, spec: &MetricSpec) -> CliError {
    let not_completed = r
        .views
        .iter()
        .filter(|v| v.run.status != Status::Completed)
        .count();
    if !r.status_chosen && not_completed > 0 {
        CliError::usage(anyhow!(
            "no selected run is both completed and has the metric {:?}",
            spec.name
        ))
        .hint("statistics use completed runs unless chosen: add --status failed, or a status condition to --where")
    } else {
        unknown_name("metric", &spec.name, &known_metrics(r.views))
    }
}

/// Group statistics as `ox stats` computes them.
fn stats(
    r: &Request<'_>,
    spec: &MetricSpec,
    obs: &[Observation],
    excluded: Vec<Excluded>,
    group_by: Option<Vec<String>>,
) -> StatsReport {
    let options = StatsOptions {
        metric: spec.name.clone(),
        direction: direction(r, &spec.name).unwrap_or(Direction::Min),
        confidence: r.args.confidence,
        alpha: 0.05,
        group_by,
        seed_like: r.args.seed_keys.clone(),
        bootstrap: None,
        diminishing_tolerance: 0.01,
    };
    analyze(obs, excluded, &options)
}

fn group_json(g: &GroupStats, best: bool) -> Value {
    json!({
        "label": group_label(&g.key),
        "key": key_json(&g.key),
        "runs": g.runs,
        "n": g.stats.n,
        "mean": g.stats.mean,
        "std": g.stats.std,
        "ci": g.ci.map(|(lo, hi)| [lo, hi]),
        "best": best,
    })
}

/// An axis label for group means: `loss (mean, 95% CI)`, `loss:min (mean, 95% CI)`.
fn stat_label(spec: &MetricSpec, confidence: f64) -> String {
    let name = if spec.summary == "last" {
        spec.name.clone()
    } else {
        format!("{}:{}", spec.name, spec.summary)
    };
    format!("{name} (mean, {} CI)", percent(confidence))
}

fn percent(c: f64) -> String {
    let p = c * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{p:.0}%")
    } else {
        format!("{p}%")
    }
}

fn title(r: &Request<'_>, base: String) -> Option<String> {
    Some(
        r.args
            .title
            .clone()
            .unwrap_or_else(|| format!("{base}{}", r.title_suffix)),
    )
}

fn figure(r: &Request<'_>, base: String, panels: Vec<Panel>) -> Figure {
    Figure {
        title: title(r, base),
        panels,
        style: r.style,
    }
}

/// Pixel columns of the plot area, for downsampling.
fn columns(style: &Style) -> usize {
    ((style.width_in * style.dpi) as usize).clamp(100, 4000)
}

/// A time axis unit for a span in seconds: seconds, minutes or hours.
fn time_unit(span_secs: f64) -> (f64, &'static str) {
    if span_secs >= 3.0 * 3600.0 {
        (3600.0, "h")
    } else if span_secs >= 180.0 {
        (60.0, "min")
    } else {
        (1.0, "s")
    }
}

// ---------------------------------------------------------------------------------------
// curves

fn curves(r: &Request<'_>) -> Result<Plot, CliError> {
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
    let read = read_metric_series(&files, &names);
    let mut per_run: Vec<Vec<Vec<Point>>> = Vec::with_capacity(read.len());
    let mut time_span: f64 = 0.0;
    for (v, res) in r.views.iter().zip(read) {
        match res {
            Ok(series) => {
                let mut converted = Vec::with_capacity(series.len());
                for pts in series {
                    let xs: Vec<Point> = if by_time {
                        let t0 = pts.iter().map(|p| p.1).find(|t| t.is_finite());
                        pts.iter()
                            .filter(|p| p.1.is_finite())
                            .map(|p| (p.1 - t0.unwrap_or(0.0), p.2))
                            .collect()
                    } else {
                        pts.iter().map(|p| (p.0 as f64, p.2)).collect()
                    };
                    if let Some(last) = xs.last() {
                        time_span = time_span.max(last.0);
                    }
                    let xs = match r.args.smooth {
                        Some(w) if w > 0.0 => {
                            let ys: Vec<f64> = xs.iter().map(|p| p.1).collect();
                            let smooth = ema_debiased(&ys, w);
                            xs.iter().zip(smooth).map(|(p, y)| (p.0, y)).collect()
                        }
                        _ => xs,
                    };
                    converted.push(xs);
                }
                per_run.push(converted);
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
    let cols = columns(&r.style);
    let mut panels = Vec::new();
    let mut panels_json = Vec::new();
    let grouped = !r.args.group_by.is_empty();
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

// ---------------------------------------------------------------------------------------
// bar

fn bar(r: &Request<'_>) -> Result<Plot, CliError> {
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

fn sweep(r: &Request<'_>) -> Result<Plot, CliError> {
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

fn heatmap(r: &Request<'_>) -> Result<Plot, CliError> {
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

fn boxes(r: &Request<'_>) -> Result<Plot, CliError> {
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

// ---------------------------------------------------------------------------------------
// pareto

fn gpu_hours(v: &RunView) -> Option<f64> {
    v.run
        .extra
        .get("gpu_hours")
        .and_then(Value::as_f64)
        .or_else(|| v.metrics.get("gpu_hours").map(|s| s.last))
        .filter(|h| h.is_finite())
}

fn pareto(r: &Request<'_>) -> Result<Plot, CliError> {
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

// ---------------------------------------------------------------------------------------
// system

fn system(r: &Request<'_>) -> Result<Plot, CliError> {
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
    type Field = fn(&super::series::SystemPoint) -> Option<f64>;
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
