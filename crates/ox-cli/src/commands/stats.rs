//! `ox stats`: configurations grouped across seeds with intervals and tests, what mattered,
//! run diagnostics; `ox stats --paired A B` compares two evaluations sample by sample.
//!
//! This file parses the flags, selects runs, hands them to `ox_analysis::stats_for_runs`
//! (which owns the selection and cost policies and the `--format json` answer), reads the
//! metric series for the diagnostics and prints; `stats/render.rs` holds the
//! table/csv/md/latex output and `stats/paired.rs` the paired comparison.

mod paired;
mod render;

use std::collections::BTreeMap;

use anyhow::anyhow;
use ox_analysis::runs::{MetricSpec, RunInput, RunStats as StatsRun, StatsError, StatsRequest};
use ox_analysis::{Direction, stats_for_runs};
use ox_core::{MetricsFileReader, Status};
use ox_query::suggest::{closest, or_list};
use ox_store::{RunFilter, RunView};

use crate::output::{Format, open_catalog};
use crate::{CliError, Outcome};

/// Largest `--bootstrap` (each resample mean is kept in memory to take percentiles).
const MAX_RESAMPLES: usize = 10_000_000;

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
    pub format: Format,
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
    let direction = match args.mode.as_deref() {
        Some(m) => Some(
            Direction::parse(m)
                .ok_or_else(|| CliError::usage(anyhow!("--mode must be min or max, got {m:?}")))?,
        ),
        None => None,
    };
    let catalog = open_catalog()?;
    let (views, status_chosen) = select_runs(&catalog, &args)?;
    let inputs: Vec<RunInput> = views
        .iter()
        .map(|v| RunInput {
            run: &v.run,
            duration_s: v.duration_s,
            metrics: &v.metrics,
        })
        .collect();
    let request = StatsRequest {
        metric: MetricSpec::parse(spec),
        direction,
        status_chosen,
        confidence: args.confidence,
        alpha: args.alpha,
        group_by: (!args.group_by.is_empty()).then(|| args.group_by.clone()),
        seed_like: args.seed_keys.clone(),
        bootstrap: args.bootstrap.map(|b| (b, args.seed)),
        diminishing_tolerance: args.tolerance,
    };
    let mut stats = stats_for_runs(&inputs, &request).map_err(stats_error)?;
    stats.threshold = args.threshold;
    let mut warnings = Vec::new();
    if !args.no_diagnostics {
        diagnose(&catalog, &views, &mut stats, &mut warnings);
    }
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let text = match args.format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&stats.to_json())
                .map_err(|e| CliError::failed(anyhow!(e)))?;
            s.push('\n');
            s
        }
        Format::Table => render::text(&stats),
        Format::Csv => render::groups_table(&stats).to_csv(),
        Format::Md => render::markdown(&stats),
        Format::Latex => render::latex(&stats),
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

/// A request `ox stats` cannot answer, as a usage error that says what exists.
fn stats_error(e: StatsError) -> CliError {
    let hint = match &e {
        StatsError::NoRuns => "`ox ls` lists the runs; check --study/--status/--where".to_string(),
        StatsError::NoSuchMetric { metric, known } => names_hint(metric, known, "metrics"),
        StatsError::UnknownSummary { metric, .. } => format!(
            "a summary is one of: {}; e.g. --metric {metric}:min",
            ox_analysis::runs::Summary::ALL.map(|s| s.name()).join(", ")
        ),
        StatsError::NotCompleted { .. } => "failed, killed, crashed and running runs count only when chosen: add --status failed, or a status condition to --where".to_string(),
        StatsError::UnknownDirection { .. } => {
            "pass --mode min (lower is better) or --mode max (higher is better)".to_string()
        }
        StatsError::NoSuchParam { param, known } => names_hint(param, known, "params"),
    };
    CliError::usage(e).hint(hint)
}

/// "did you mean a or b?", else the first names there are.
fn names_hint(wanted: &str, known: &[String], what: &str) -> String {
    let close = closest(wanted, known.iter().map(String::as_str));
    if close.is_empty() {
        let shown: Vec<&str> = known.iter().take(12).map(String::as_str).collect();
        let more = known.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        format!("{what} of the selected runs: {}{more}", shown.join(", "))
    } else {
        format!("did you mean {}?", or_list(&close))
    }
}

/// Reads the metric series of the runs the diagnostics want.
fn diagnose(
    catalog: &ox_store::Catalog,
    views: &[RunView],
    stats: &mut StatsRun,
    warnings: &mut Vec<String>,
) {
    let by_id: BTreeMap<String, &ox_core::RunId> = views
        .iter()
        .map(|v| (v.run.id.to_string(), &v.run.id))
        .collect();
    for id in stats.runs_to_diagnose() {
        let Some(run_id) = by_id.get(id.as_str()) else {
            continue;
        };
        let path = catalog.project().metrics_path(run_id);
        if !path.exists() {
            continue;
        }
        match MetricsFileReader::read_series(&path) {
            Ok(file) => {
                if let Some((_, points)) =
                    file.series.iter().find(|(name, _)| *name == stats.metric)
                {
                    stats.add_series(&id, points);
                }
            }
            Err(e) => warnings.push(format!("diagnostics of {id} skipped: {e}")),
        }
    }
}
