//! The `--format json` object of a run, shared by `ox ls`/`ox query` and the dashboard's
//! `/api/runs` (one contract, one type).

use std::collections::BTreeMap;

use ox_core::{MetricSummary, Run};
use serde::Serialize;

use crate::RunView;

/// One run in `--format json` (contract, DESIGN.md): the run.json fields plus `duration_s`
/// and a summary per metric.
#[derive(Debug, Serialize)]
pub struct RunJson<'a> {
    #[serde(flatten)]
    pub run: &'a Run,
    pub duration_s: Option<f64>,
    pub metrics: BTreeMap<&'a str, MetricJson>,
}

/// A metric summary in JSON; non-finite values are `null`.
#[derive(Debug, Serialize)]
pub struct MetricJson {
    pub first: Option<f64>,
    pub last: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    pub count: u64,
    pub last_step: i64,
}

impl From<&MetricSummary> for MetricJson {
    fn from(s: &MetricSummary) -> Self {
        let f = |v: f64| v.is_finite().then_some(v);
        MetricJson {
            first: f(s.first),
            last: f(s.last),
            min: f(s.min),
            max: f(s.max),
            mean: f(s.mean),
            count: s.count,
            last_step: s.last_step,
        }
    }
}

impl<'a> From<&'a RunView> for RunJson<'a> {
    fn from(v: &'a RunView) -> Self {
        RunJson {
            run: &v.run,
            duration_s: v.duration_s,
            metrics: v
                .metrics
                .iter()
                .map(|(k, s)| (k.as_str(), s.into()))
                .collect(),
        }
    }
}
