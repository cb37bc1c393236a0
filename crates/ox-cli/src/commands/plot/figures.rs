//! One function per `ox plot` kind: selected runs → an `ox_plot::Figure` and the JSON data
//! it draws. Statistics come from `ox_analysis` (`analyze` for group means and intervals,
//! exactly what `ox stats` reports; `downsample` for long series, the EMA and the per-step
//! band of curves). One submodule per family of kinds.

mod curves;
mod groups;
mod pareto;
mod system;

use std::collections::BTreeMap;

use anyhow::anyhow;
use ox_analysis::describe::{describe, percentile};
use ox_analysis::downsample::{
    BandPoint, Point, aligned_band, ema_debiased, min_max, min_max_in, x_range,
};
use ox_analysis::group::{level_key, level_number};
use ox_analysis::report::{Excluded, GroupStats};
use ox_analysis::{Direction, Observation, StatsOptions, StatsReport, analyze};
use ox_core::{Project, Status, flatten_params};
use ox_plot::{Axis, Bar, BoxGroup, Content, Figure, Heatmap, Panel, Scale, Series, Style};
use ox_query::suggest::{closest, or_list};
use ox_store::RunView;
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
    /// The catalog the runs came from (long series' envelopes).
    pub catalog: &'a ox_store::Catalog,
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
        Kind::Curves => curves::curves(r),
        Kind::Bar => groups::bar(r),
        Kind::Sweep => groups::sweep(r),
        Kind::Heatmap => groups::heatmap(r),
        Kind::Box => groups::boxes(r),
        Kind::Pareto => pareto::pareto(r),
        Kind::System => system::system(r),
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
    let close = closest(name, known.iter().map(String::as_str));
    let hint = if close.is_empty() {
        let list: Vec<&str> = known.iter().take(20).map(String::as_str).collect();
        if list.is_empty() {
            format!("the selected runs have no {what}s")
        } else {
            format!("{what}s of the selected runs: {}", list.join(", "))
        }
    } else {
        format!("did you mean {}?", or_list(&close))
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
                name: v.run.name.clone(),
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
