//! From runs to `ox stats`: which runs count, their value and cost, and the checks on what
//! the user asked for — the entry point for every caller that computes `ox stats` for a
//! selection of runs ([`stats_for_runs`], then [`RunStats::to_json`]).
//!
//! - A run's value is a summary of its metric series (`M:last` by default; `first`, `min`,
//!   `max`, `mean`).
//! - Only **completed** runs count unless the caller says the user chose statuses: a failed,
//!   killed, crashed or running run stopped early. Other runs are excluded with the reason.
//! - Cost policy: GPU-hours when every run records them (`gpu_hours` in run.json, or as a
//!   metric's last value), else wall time (`duration_s`) when any run has one, else none.
//! - The metric must exist in some selected run (else [`StatsError::NoSuchMetric`] with the
//!   metric names there are); `M:x` with `x` not a summary, where `M` is a metric, is
//!   [`StatsError::UnknownSummary`]; the direction comes from the caller or the metric's
//!   name; every `group_by` key must be a param of an included run.

use std::collections::BTreeMap;

use ox_core::{MetricSummary, Run, Status, flatten_params};
use serde::Serialize;
use serde_json::Value;

use crate::diagnostics::{SeriesDiagnostics, SeriesOptions, diagnose_series};
use crate::direction::Direction;
use crate::group::Observation;
use crate::report::{Excluded, StatsOptions, StatsReport, analyze};

/// One selected run, as the catalog shows it.
#[derive(Debug, Clone, Copy)]
pub struct RunInput<'a> {
    pub run: &'a Run,
    pub duration_s: Option<f64>,
    pub metrics: &'a BTreeMap<String, MetricSummary>,
}

/// Which per-run summary of a metric series is the run's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Summary {
    First,
    Last,
    Min,
    Max,
    Mean,
}

impl Summary {
    /// Every summary, in the order help texts list them.
    pub const ALL: [Summary; 5] = [
        Summary::Last,
        Summary::First,
        Summary::Min,
        Summary::Max,
        Summary::Mean,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Summary::First => "first",
            Summary::Last => "last",
            Summary::Min => "min",
            Summary::Max => "max",
            Summary::Mean => "mean",
        }
    }

    pub fn parse(s: &str) -> Option<Summary> {
        Summary::ALL.into_iter().find(|x| x.name() == s)
    }

    /// This summary of a series.
    pub fn of(self, s: &MetricSummary) -> f64 {
        s.get(self.name()).unwrap_or(f64::NAN)
    }
}

/// `M[:SUMMARY]`: a metric name and the summary to use per run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricSpec {
    pub name: String,
    pub summary: Summary,
}

impl MetricSpec {
    /// Splits `M[:SUMMARY]`; a colon followed by anything else stays part of the name (metric
    /// names may hold colons); [`stats_for_runs`] reports `loss:median` when `loss` exists.
    pub fn parse(spec: &str) -> MetricSpec {
        if let Some((name, suffix)) = spec.rsplit_once(':')
            && let Some(summary) = Summary::parse(suffix)
            && !name.is_empty()
        {
            return MetricSpec {
                name: name.to_string(),
                summary,
            };
        }
        MetricSpec {
            name: spec.to_string(),
            summary: Summary::Last,
        }
    }
}

/// Where the direction came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeSource {
    /// The caller (`--mode`).
    Flag,
    MetricName,
}

/// What the `cost` of a group measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CostKind {
    GpuHours,
    DurationS,
}

impl CostKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CostKind::GpuHours => "gpu_hours",
            CostKind::DurationS => "duration_s",
        }
    }
}

impl std::fmt::Display for CostKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The cost policy (module docs) for a selection.
pub fn cost_kind(runs: &[RunInput]) -> Option<CostKind> {
    if !runs.is_empty() && runs.iter().all(|r| gpu_hours(r.run, r.metrics).is_some()) {
        Some(CostKind::GpuHours)
    } else if runs.iter().any(|r| r.duration_s.is_some()) {
        Some(CostKind::DurationS)
    } else {
        None
    }
}

/// A run's GPU-hours: its record's `gpu_hours`, else the last value of a `gpu_hours` metric.
pub fn gpu_hours(run: &Run, metrics: &BTreeMap<String, MetricSummary>) -> Option<f64> {
    run.extra
        .get("gpu_hours")
        .and_then(Value::as_f64)
        .or_else(|| metrics.get("gpu_hours").map(|s| s.last))
        .filter(|h| h.is_finite())
}

/// One run's cost under `kind`.
pub fn run_cost(r: &RunInput, kind: Option<CostKind>) -> Option<f64> {
    match kind {
        Some(CostKind::GpuHours) => gpu_hours(r.run, r.metrics),
        Some(CostKind::DurationS) => r.duration_s,
        None => None,
    }
}

/// What the user asked `ox stats` for.
#[derive(Debug, Clone)]
pub struct StatsRequest {
    pub metric: MetricSpec,
    /// `None`: infer from the metric's name.
    pub direction: Option<Direction>,
    /// Whether the user chose statuses (then runs of any status count).
    pub status_chosen: bool,
    pub confidence: f64,
    pub alpha: f64,
    pub group_by: Option<Vec<String>>,
    pub seed_like: Vec<String>,
    pub bootstrap: Option<(usize, u64)>,
    pub diminishing_tolerance: f64,
}

/// Why `ox stats` cannot answer; each carries what a helpful message needs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    #[error("no runs selected")]
    NoRuns,
    #[error("no selected run has metric '{metric}'")]
    NoSuchMetric {
        metric: String,
        /// Metric names of the selected runs, sorted.
        known: Vec<String>,
    },
    #[error("'{summary}' is not a summary of metric '{metric}'")]
    UnknownSummary { metric: String, summary: String },
    #[error(
        "no selected run is both completed and has the metric '{metric}' ({not_completed} of {total} are not completed)"
    )]
    NotCompleted {
        metric: String,
        not_completed: usize,
        total: usize,
    },
    #[error("cannot tell whether lower or higher '{metric}' is better")]
    UnknownDirection { metric: String },
    #[error("no selected run has the param '{param}'")]
    NoSuchParam {
        param: String,
        /// Param keys (dotted) of the included runs, sorted.
        known: Vec<String>,
    },
}

/// Everything `ox stats` computed, ready for output.
#[derive(Debug, Clone)]
pub struct RunStats {
    pub metric: String,
    pub summary: Summary,
    pub mode_source: ModeSource,
    pub options: StatsOptions,
    pub report: StatsReport,
    pub cost_kind: Option<CostKind>,
    /// Run id → name, for the runs that have one.
    pub names: BTreeMap<String, String>,
    /// Per run, when its series was read ([`RunStats::add_series`]).
    pub diagnostics: Vec<(String, SeriesDiagnostics)>,
    /// Steps to reach this value, when asked.
    pub threshold: Option<f64>,
}

/// Computes `ox stats` for a selection of runs (see the module docs for the policy).
pub fn stats_for_runs(runs: &[RunInput], req: &StatsRequest) -> Result<RunStats, StatsError> {
    if runs.is_empty() {
        return Err(StatsError::NoRuns);
    }
    let metric = &req.metric.name;
    if !runs.iter().any(|r| r.metrics.contains_key(metric)) {
        let known = metric_names(runs);
        if let Some((base, suffix)) = metric.rsplit_once(':')
            && known.iter().any(|k| k == base)
        {
            return Err(StatsError::UnknownSummary {
                metric: base.to_string(),
                summary: suffix.to_string(),
            });
        }
        return Err(StatsError::NoSuchMetric {
            metric: metric.clone(),
            known,
        });
    }
    let (direction, mode_source) = match req.direction {
        Some(d) => (d, ModeSource::Flag),
        None => (
            Direction::infer(metric).ok_or_else(|| StatsError::UnknownDirection {
                metric: metric.clone(),
            })?,
            ModeSource::MetricName,
        ),
    };
    let cost_kind = cost_kind(runs);
    let mut observations = Vec::new();
    let mut excluded = Vec::new();
    let mut not_completed = 0usize;
    for r in runs {
        let id = r.run.id.to_string();
        if !req.status_chosen && r.run.status != Status::Completed {
            not_completed += 1;
            excluded.push(Excluded {
                run_id: id,
                reason: format!(
                    "status {} (only completed runs count unless --status or --where selects a status)",
                    r.run.status.as_str()
                ),
            });
            continue;
        }
        match r.metrics.get(metric) {
            None => excluded.push(Excluded {
                run_id: id,
                reason: format!("no metric '{metric}'"),
            }),
            Some(s) => observations.push(Observation {
                run_id: id,
                name: r.run.name.clone(),
                params: flatten_params(&r.run.params)
                    .into_iter()
                    .map(|(k, v)| (k, v.clone()))
                    .collect(),
                value: req.metric.summary.of(s),
                cost: run_cost(r, cost_kind),
            }),
        }
    }
    if observations.is_empty() {
        return Err(StatsError::NotCompleted {
            metric: metric.clone(),
            not_completed,
            total: runs.len(),
        });
    }
    if let Some(keys) = &req.group_by
        && let Some(unknown) = keys.iter().find(|k| {
            !observations
                .iter()
                .any(|o| o.params.contains_key(k.as_str()))
        })
    {
        let mut known: Vec<String> = observations
            .iter()
            .flat_map(|o| o.params.keys().cloned())
            .collect();
        known.sort();
        known.dedup();
        return Err(StatsError::NoSuchParam {
            param: unknown.clone(),
            known,
        });
    }
    let options = StatsOptions {
        metric: metric.clone(),
        direction,
        confidence: req.confidence,
        alpha: req.alpha,
        group_by: req.group_by.clone(),
        seed_like: req.seed_like.clone(),
        bootstrap: req.bootstrap,
        diminishing_tolerance: req.diminishing_tolerance,
    };
    let report = analyze(&observations, excluded, &options);
    let names = runs
        .iter()
        .filter_map(|r| Some((r.run.id.to_string(), r.run.name.clone()?)))
        .collect();
    Ok(RunStats {
        metric: metric.clone(),
        summary: req.metric.summary,
        mode_source,
        options,
        report,
        cost_kind,
        names,
        diagnostics: Vec::new(),
        threshold: None,
    })
}

/// Metric names of `runs`, sorted, without duplicates.
pub fn metric_names(runs: &[RunInput]) -> Vec<String> {
    let mut known: Vec<String> = runs
        .iter()
        .flat_map(|r| r.metrics.keys().cloned())
        .collect();
    known.sort();
    known.dedup();
    known
}

impl RunStats {
    /// Runs whose metric series the diagnostics want: the grouped runs and the ones excluded
    /// for their status or a non-finite value (not those without the metric).
    pub fn runs_to_diagnose(&self) -> Vec<String> {
        self.report
            .groups
            .iter()
            .flat_map(|g| g.runs.iter().cloned())
            .chain(
                self.report
                    .excluded
                    .iter()
                    .filter(|e| !e.reason.starts_with("no metric"))
                    .map(|e| e.run_id.clone()),
            )
            .collect()
    }

    /// Diagnoses one run's series of the metric (points `(step, value)` in order).
    pub fn add_series(&mut self, run_id: &str, points: &[(i64, f64)]) {
        let opts = SeriesOptions {
            direction: self.options.direction,
            threshold: self.threshold,
            plateau_tolerance: 0.02,
        };
        self.diagnostics
            .push((run_id.to_string(), diagnose_series(points, &opts)));
    }

    /// `name (id)`, or the id of an unnamed run.
    pub fn run_label(&self, run_id: &str) -> String {
        match self.names.get(run_id) {
            Some(n) if !n.is_empty() => format!("{n} ({run_id})"),
            _ => run_id.to_string(),
        }
    }

    /// The `ox stats --format json` answer.
    pub fn to_json(&self) -> crate::json::StatsJson {
        crate::json::stats_json(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ox_core::RunId;
    use serde_json::json;

    fn summary(v: f64) -> MetricSummary {
        MetricSummary {
            first: v,
            last: v,
            min: v,
            max: v,
            mean: v,
            count: 1,
            last_step: 0,
        }
    }

    fn run(name: &str, status: Status, lr: f64) -> Run {
        let mut r = Run::new(RunId::generate(), status);
        r.name = Some(name.into());
        r.params = json!({"lr": lr}).as_object().cloned().unwrap_or_default();
        r
    }

    fn request(metric: &str) -> StatsRequest {
        StatsRequest {
            metric: MetricSpec::parse(metric),
            direction: None,
            status_chosen: false,
            confidence: 0.95,
            alpha: 0.05,
            group_by: None,
            seed_like: vec![],
            bootstrap: None,
            diminishing_tolerance: 0.01,
        }
    }

    #[test]
    fn metric_specs() {
        assert_eq!(MetricSpec::parse("val/acc:max").summary, Summary::Max);
        assert_eq!(MetricSpec::parse("a:b").name, "a:b");
        assert_eq!(MetricSpec::parse(":min").name, ":min");
    }

    #[test]
    fn bad_requests_say_what_exists() {
        let runs = [
            run("a", Status::Completed, 0.1),
            run("b", Status::Failed, 0.2),
        ];
        let mut m = BTreeMap::new();
        m.insert("loss".to_string(), summary(0.5));
        m.insert("gpu_hours".to_string(), summary(2.0));
        let inputs: Vec<RunInput> = runs
            .iter()
            .map(|r| RunInput {
                run: r,
                duration_s: Some(3.0),
                metrics: &m,
            })
            .collect();
        let e = stats_for_runs(&inputs, &request("nosuch")).unwrap_err();
        assert_eq!(
            e,
            StatsError::NoSuchMetric {
                metric: "nosuch".into(),
                known: vec!["gpu_hours".into(), "loss".into()]
            }
        );
        let e = stats_for_runs(&inputs, &request("loss:median")).unwrap_err();
        assert!(matches!(e, StatsError::UnknownSummary { ref summary, .. } if summary == "median"));
        let mut req = request("loss");
        req.group_by = Some(vec!["lrr".into()]);
        assert!(matches!(
            stats_for_runs(&inputs, &req),
            Err(StatsError::NoSuchParam { .. })
        ));
        let ok = stats_for_runs(&inputs, &request("loss")).unwrap();
        assert_eq!(ok.cost_kind, Some(CostKind::GpuHours));
        assert_eq!(ok.report.excluded.len(), 1, "the failed run");
        assert_eq!(
            ok.run_label(&runs[0].id.to_string()),
            format!("a ({})", runs[0].id)
        );
        assert_eq!(cost_kind(&[]), None);
    }
}
