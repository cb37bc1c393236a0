//! `ox stats`: configurations grouped across seeds with intervals and tests, what mattered,
//! run diagnostics; `ox stats --paired A B` compares two evaluations sample by sample.
//!
//! This file selects runs and turns them into values for `ox_analysis`; `stats/json.rs`
//! holds the `--format json` contract types, `stats/render.rs` the table/csv/md/latex
//! output and `stats/paired.rs` the paired comparison.

mod json;
mod paired;
mod render;

use std::collections::BTreeMap;

use anyhow::anyhow;
use ox_analysis::diagnostics::{SeriesDiagnostics, SeriesOptions, diagnose_series};
use ox_analysis::report::Excluded;
use ox_analysis::{Direction, Observation, StatsOptions, analyze};
use ox_core::{MetricSummary, MetricsFileReader, Status, flatten_params};
use ox_store::{RunFilter, RunView};
use serde_json::Value;

use crate::output::open_catalog;
use crate::{CliError, Outcome};

/// Largest `--bootstrap` (each resample mean is kept in memory to take percentiles).
const MAX_RESAMPLES: usize = 10_000_000;

/// Output formats of `ox stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatsFormat {
    Table,
    Json,
    Csv,
    Md,
    Latex,
}

/// Arguments of `ox stats`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  ox stats --metric loss\n  ox stats --metric val/acc:max --group-by lr,model.layers --bootstrap 10000\n  ox stats -s sweep1 --metric loss --format json\n  ox stats --paired RUN_A RUN_B --scorer match"
)]
pub struct Args {
    /// The metric, with the summary to use per run: `M`, `M:last` (default), `M:min`,
    /// `M:max`, `M:mean` or `M:first`.
    #[arg(long, value_name = "M[:SUMMARY]", required_unless_present = "paired")]
    pub metric: Option<String>,
    /// Only runs matching this query (see `ox query`).
    #[arg(long = "where", value_name = "EXPR")]
    pub where_expr: Option<String>,
    /// Only runs of this study.
    #[arg(short, long)]
    pub study: Option<String>,
    /// Only runs with this status.
    #[arg(long)]
    pub status: Option<Status>,
    /// Params that define a configuration (comma-separated); default: every param that
    /// varies among the selected runs, except seeds.
    #[arg(long, value_delimiter = ',', value_name = "KEYS")]
    pub group_by: Vec<String>,
    /// Params to treat as seeds (never grouped on), besides `seed` / `*_seed`.
    #[arg(long = "seed-key", value_delimiter = ',', value_name = "NAME")]
    pub seed_keys: Vec<String>,
    /// Whether lower (`min`) or higher (`max`) is better; default: from the metric's name.
    #[arg(long, value_name = "min|max")]
    pub mode: Option<String>,
    /// Confidence level of the intervals.
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,
    /// Significance level for "clear winner".
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// Adds a percentile bootstrap interval from N resamples.
    #[arg(long, value_name = "N")]
    pub bootstrap: Option<usize>,
    /// Seed of the bootstrap and Monte-Carlo permutation tests.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Report the first step at which each run's metric reaches this value.
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Diminishing returns: relative tolerance around the best mean.
    #[arg(long, default_value_t = 0.01)]
    pub tolerance: f64,
    /// Skip reading metric series for run diagnostics.
    #[arg(long)]
    pub no_diagnostics: bool,
    /// Compare two evaluations on their shared samples.
    #[arg(long, num_args = 2, value_names = ["RUN_A", "RUN_B"], conflicts_with_all = ["metric", "group_by"])]
    pub paired: Vec<String>,
    /// Scorer of the samples to compare (default: the first one both runs have).
    #[arg(long)]
    pub scorer: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: StatsFormat,
}

/// Which per-run summary of a metric series is the run's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    First,
    Last,
    Min,
    Max,
    Mean,
}

impl Summary {
    fn name(self) -> &'static str {
        match self {
            Summary::First => "first",
            Summary::Last => "last",
            Summary::Min => "min",
            Summary::Max => "max",
            Summary::Mean => "mean",
        }
    }
    fn of(self, s: &MetricSummary) -> f64 {
        s.get(self.name()).unwrap_or(f64::NAN)
    }
}

/// Splits `M[:SUMMARY]`; a colon followed by anything else stays part of the name.
pub fn parse_metric_spec(spec: &str) -> (String, Summary) {
    if let Some((name, suffix)) = spec.rsplit_once(':') {
        let summary = match suffix {
            "first" => Some(Summary::First),
            "last" => Some(Summary::Last),
            "min" => Some(Summary::Min),
            "max" => Some(Summary::Max),
            "mean" => Some(Summary::Mean),
            _ => None,
        };
        if let Some(s) = summary
            && !name.is_empty()
        {
            return (name.to_string(), s);
        }
    }
    (spec.to_string(), Summary::Last)
}

/// Where the direction came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeSource {
    Flag,
    MetricName,
}

/// Everything `ox stats` computed, ready for output.
pub struct StatsRun {
    pub metric: String,
    pub summary: Summary,
    pub mode_source: ModeSource,
    pub options: StatsOptions,
    pub report: ox_analysis::StatsReport,
    pub cost_kind: Option<&'static str>,
    /// Per run, when the series was read.
    pub diagnostics: Vec<(String, SeriesDiagnostics)>,
    /// `--threshold`, when given.
    pub threshold: Option<f64>,
    pub warnings: Vec<String>,
}

/// Runs `ox stats`.
pub fn run(args: Args) -> Result<Outcome, CliError> {
    if !(args.confidence > 0.0 && args.confidence < 1.0) {
        return Err(CliError::usage(anyhow!(
            "--confidence must be between 0 and 1, got {}",
            args.confidence
        ))
        .hint("e.g. --confidence 0.95"));
    }
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        return Err(CliError::usage(anyhow!(
            "--alpha must be between 0 and 1, got {}",
            args.alpha
        )));
    }
    if let Some(b) = args.bootstrap
        && !(1..=MAX_RESAMPLES).contains(&b)
    {
        return Err(CliError::usage(anyhow!(
            "--bootstrap must be between 1 and {MAX_RESAMPLES}, got {b}"
        ))
        .hint("10000 resamples are plenty for a 95% interval"));
    }
    if !args.paired.is_empty() {
        return paired::run(&args);
    }
    let Some(spec) = args.metric.as_deref() else {
        return Err(
            CliError::usage(anyhow!("--metric is required")).hint("e.g. ox stats --metric loss")
        );
    };
    let (metric, summary) = parse_metric_spec(spec);
    let (direction, mode_source) = match args.mode.as_deref() {
        Some(m) => (
            Direction::parse(m)
                .ok_or_else(|| CliError::usage(anyhow!("--mode must be min or max, got {m:?}")))?,
            ModeSource::Flag,
        ),
        None => (
            Direction::infer(&metric).ok_or_else(|| {
                CliError::usage(anyhow!(
                    "cannot tell whether lower or higher {metric:?} is better"
                ))
                .hint("pass --mode min (lower is better) or --mode max (higher is better)")
            })?,
            ModeSource::MetricName,
        ),
    };
    let catalog = open_catalog()?;
    let (views, status_chosen) = select_runs(&catalog, &args)?;
    if views.is_empty() {
        return Err(CliError::usage(anyhow!("no runs selected"))
            .hint("`ox ls` lists the runs; check --study/--status/--where"));
    }
    let cost_kind = cost_kind(&views);
    let mut observations = Vec::new();
    let mut excluded = Vec::new();
    let mut not_completed = 0usize;
    for v in &views {
        let id = v.run.id.to_string();
        // A failed, killed, crashed or unfinished run's metric is a partial one: it counts
        // only when the user chose statuses (--status, or `status` in --where).
        if !status_chosen && v.run.status != Status::Completed {
            let status = v.run.status.as_str();
            not_completed += 1;
            excluded.push(Excluded {
                run_id: id,
                reason: format!(
                    "status {status} (only completed runs count unless --status or --where selects a status)"
                ),
            });
            continue;
        }
        match v.metrics.get(&metric) {
            None => excluded.push(Excluded {
                run_id: id,
                reason: format!("no metric '{metric}'"),
            }),
            Some(s) => observations.push(Observation {
                run_id: id,
                name: v.run.name.clone(),
                params: flatten_params(&v.run.params)
                    .into_iter()
                    .map(|(k, v)| (k, v.clone()))
                    .collect::<BTreeMap<_, _>>(),
                value: summary.of(s),
                cost: run_cost(v, cost_kind),
            }),
        }
    }
    if observations.is_empty() && not_completed > 0 {
        return Err(CliError::usage(anyhow!(
            "no selected run is both completed and has the metric {metric:?} ({not_completed} of {} are not completed)",
            views.len()
        ))
        .hint("failed, killed, crashed and running runs count only when chosen: add --status failed, or a status condition to --where"));
    }
    if observations.is_empty() {
        let mut known: Vec<&String> = views.iter().flat_map(|v| v.metrics.keys()).collect();
        known.sort();
        known.dedup();
        let list: Vec<&str> = known.iter().take(12).map(|s| s.as_str()).collect();
        return Err(
            CliError::usage(anyhow!("no selected run has the metric {metric:?}"))
                .hint(format!("metrics of the selected runs: {}", list.join(", "))),
        );
    }
    if let Some(unknown) = args.group_by.iter().find(|k| {
        !observations
            .iter()
            .any(|o| o.params.contains_key(k.as_str()))
    }) {
        let mut keys: Vec<&String> = observations.iter().flat_map(|o| o.params.keys()).collect();
        keys.sort();
        keys.dedup();
        let list: Vec<&str> = keys.iter().take(20).map(|s| s.as_str()).collect();
        return Err(
            CliError::usage(anyhow!("no selected run has the param {unknown:?}"))
                .hint(format!("params of the selected runs: {}", list.join(", "))),
        );
    }
    let options = StatsOptions {
        metric: metric.clone(),
        direction,
        confidence: args.confidence,
        alpha: args.alpha,
        group_by: (!args.group_by.is_empty()).then(|| args.group_by.clone()),
        seed_like: args.seed_keys.clone(),
        bootstrap: args.bootstrap.map(|b| (b, args.seed)),
        diminishing_tolerance: args.tolerance,
    };
    let report = analyze(&observations, excluded, &options);
    let mut warnings = Vec::new();
    let diagnostics = if args.no_diagnostics {
        Vec::new()
    } else {
        diagnose(
            &catalog,
            &views,
            &report,
            &metric,
            direction,
            args.threshold,
            &mut warnings,
        )
    };
    let stats = StatsRun {
        metric,
        summary,
        mode_source,
        options,
        report,
        cost_kind,
        diagnostics,
        threshold: args.threshold,
        warnings,
    };
    for w in &stats.warnings {
        eprintln!("warning: {w}");
    }
    let text = match args.format {
        StatsFormat::Json => {
            let mut s = serde_json::to_string_pretty(&json::stats_json(&stats))
                .map_err(|e| CliError::failed(anyhow!(e)))?;
            s.push('\n');
            s
        }
        StatsFormat::Table => render::text(&stats),
        StatsFormat::Csv => render::groups_table(&stats).to_csv(),
        StatsFormat::Md => render::markdown(&stats),
        StatsFormat::Latex => render::latex(&stats),
    };
    print!("{text}");
    Ok(Outcome::Success)
}

/// The runs `args` select, and whether the user chose their statuses (`--status`, or a
/// `status` condition in `--where`).
fn select_runs(catalog: &ox_store::Catalog, args: &Args) -> Result<(Vec<RunView>, bool), CliError> {
    if let Some(expr) = &args.where_expr {
        use super::query;
        let mut q = ox_query::parse(expr).map_err(|e| query::query_error(expr, e))?;
        if let Some(study) = &args.study {
            query::and_equals(&mut q, "study", study);
        }
        if let Some(status) = args.status {
            query::and_equals(&mut q, "status", status.as_str());
        }
        let selected = query::select(catalog, &q, expr)?;
        let status_chosen = selected
            .compiled
            .fields
            .contains(&ox_query::Field::Run(ox_query::RunField::Status));
        return Ok((selected.views, status_chosen));
    }
    let filter = RunFilter {
        study: args.study.clone(),
        status: args.status,
        sort: None,
        limit: None,
    };
    let views = catalog.runs(&filter).map_err(crate::output::store_error)?;
    Ok((views, args.status.is_some()))
}

/// GPU-hours when every selected run records them (`gpu_hours` in run.json or as a
/// metric), else wall time when any run has one.
fn cost_kind(views: &[RunView]) -> Option<&'static str> {
    if views.iter().all(|v| gpu_hours(v).is_some()) {
        Some("gpu_hours")
    } else if views.iter().any(|v| v.duration_s.is_some()) {
        Some("duration_s")
    } else {
        None
    }
}

fn gpu_hours(v: &RunView) -> Option<f64> {
    v.run
        .extra
        .get("gpu_hours")
        .and_then(Value::as_f64)
        .or_else(|| v.metrics.get("gpu_hours").map(|s| s.last))
        .filter(|h| h.is_finite())
}

fn run_cost(v: &RunView, kind: Option<&str>) -> Option<f64> {
    match kind {
        Some("gpu_hours") => gpu_hours(v),
        Some(_) => v.duration_s,
        None => None,
    }
}

fn diagnose(
    catalog: &ox_store::Catalog,
    views: &[RunView],
    report: &ox_analysis::StatsReport,
    metric: &str,
    direction: Direction,
    threshold: Option<f64>,
    warnings: &mut Vec<String>,
) -> Vec<(String, SeriesDiagnostics)> {
    let opts = SeriesOptions {
        direction,
        threshold,
        plateau_tolerance: 0.02,
    };
    let ids = report.groups.iter().flat_map(|g| g.runs.iter()).chain(
        report
            .excluded
            .iter()
            .filter(|e| !e.reason.starts_with("no metric"))
            .map(|e| &e.run_id),
    );
    let by_id: BTreeMap<String, &ox_core::RunId> = views
        .iter()
        .map(|v| (v.run.id.to_string(), &v.run.id))
        .collect();
    let mut out = Vec::new();
    for id in ids {
        let Some(run_id) = by_id.get(id.as_str()) else {
            continue;
        };
        let path = catalog.project().metrics_path(run_id);
        if !path.exists() {
            continue;
        }
        match MetricsFileReader::read_series(&path) {
            Ok(file) => {
                if let Some((_, points)) = file.series.iter().find(|(name, _)| name == metric) {
                    out.push((id.clone(), diagnose_series(points, &opts)));
                }
            }
            Err(e) => warnings.push(format!("diagnostics of {id} skipped: {e}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_specs() {
        assert_eq!(
            parse_metric_spec("loss"),
            ("loss".to_string(), Summary::Last)
        );
        assert_eq!(
            parse_metric_spec("val/acc:max"),
            ("val/acc".to_string(), Summary::Max)
        );
        assert_eq!(parse_metric_spec("a:b"), ("a:b".to_string(), Summary::Last));
        assert_eq!(
            parse_metric_spec(":min"),
            (":min".to_string(), Summary::Last)
        );
    }
}
