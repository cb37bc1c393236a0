//! The value every importer produces: one run's metadata, metric points and sample scores.

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use ox_core::{SampleRecord, Status};
use serde::Serialize;
use serde_json::{Map, Value};

/// Which tool wrote a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Inspect,
    Tensorboard,
    Mlflow,
    Wandb,
    Slurm,
    Torchtune,
    Text,
    Ndjson,
    Csv,
}

impl SourceKind {
    /// The name written to `run.json` (`source.kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Inspect => "inspect",
            SourceKind::Tensorboard => "tensorboard",
            SourceKind::Mlflow => "mlflow",
            SourceKind::Wandb => "wandb",
            SourceKind::Slurm => "slurm",
            SourceKind::Torchtune => "torchtune",
            SourceKind::Text => "text",
            SourceKind::Ndjson => "ndjson",
            SourceKind::Csv => "csv",
        }
    }
}

/// Where an imported run came from. `key` is the source's stable identity (an eval id, an
/// MLflow run id, a canonical path): importing the same key again updates the same run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub kind: SourceKind,
    pub key: String,
    pub path: PathBuf,
}

/// One metric point. `metric` indexes [`MetricTable::names`]; `time` is NaN when unknown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub step: i64,
    pub time: f64,
    pub metric: u32,
    pub value: f64,
}

/// All metric points of a run, stored flat (no allocation per point) with interned names.
#[derive(Debug, Clone, Default)]
pub struct MetricTable {
    names: Vec<String>,
    index: HashMap<String, u32>,
    points: Vec<Point>,
}

impl MetricTable {
    /// The id of metric `name`, adding it when new.
    pub fn metric_id(&mut self, name: &str) -> u32 {
        // Runs have few metrics: comparing names beats hashing them on the hot path.
        if self.names.len() <= 16 {
            if let Some(i) = self.names.iter().position(|n| n == name) {
                return i as u32;
            }
        } else if let Some(&id) = self.index.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), id);
        id
    }

    /// Adds a point of metric `metric` (an id from [`MetricTable::metric_id`]).
    pub fn push(&mut self, metric: u32, step: i64, time: Option<f64>, value: f64) {
        self.points.push(Point {
            step,
            time: time.unwrap_or(f64::NAN),
            metric,
            value,
        });
    }

    /// Adds a point of the metric called `name`.
    pub fn push_named(&mut self, name: &str, step: i64, time: Option<f64>, value: f64) {
        let id = self.metric_id(name);
        self.push(id, step, time, value);
    }

    /// Metric names, indexed by id.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Every point, in the order added.
    pub fn points(&self) -> &[Point] {
        &self.points
    }

    /// Sorts points by step, keeping the order of points at the same step.
    pub fn sort_by_step(&mut self) {
        if !self.points.is_sorted_by_key(|p| p.step) {
            self.points.sort_by_key(|p| p.step);
        }
    }

    /// The `(step, value)` series of one metric, in stored order (for tests and summaries).
    pub fn series(&self, name: &str) -> Vec<(i64, f64)> {
        match self.index.get(name) {
            Some(&id) => self
                .points
                .iter()
                .filter(|p| p.metric == id)
                .map(|p| (p.step, p.value))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}

/// The numeric reading of a score value: `C`→1, `I`→0, `P`→0.5, `N`→0, numbers as they are,
/// booleans as 1/0, anything else none.
pub fn score_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => match s.as_str() {
            "C" => Some(1.0),
            "I" | "N" => Some(0.0),
            "P" => Some(0.5),
            other => other.trim().parse::<f64>().ok(),
        },
        _ => None,
    }
}

/// A run read from another tool's files, ready to be written into a project.
#[derive(Debug, Clone)]
pub struct ImportedRun {
    pub source: Source,
    /// The study the source's own structure suggests (`-s` overrides it).
    pub study: String,
    pub name: Option<String>,
    pub status: Status,
    pub params: Map<String, Value>,
    pub tags: Vec<String>,
    pub created: Option<DateTime<Utc>>,
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
    pub exit_code: Option<i32>,
    /// Further `run.json` fields (for example `error`, `notes`, `mlflow`).
    pub extra: Map<String, Value>,
    pub metrics: MetricTable,
    pub samples: Vec<SampleRecord>,
    /// A console log of the run (a SLURM output file, W&B's `output.log`), copied to the
    /// run's `stdout.log`.
    pub console_log: Option<PathBuf>,
    /// Problems that did not stop the import (a truncated tail, a bad line).
    pub warnings: Vec<String>,
}

impl ImportedRun {
    /// An empty completed run for `source` in `study`.
    pub fn new(source: Source, study: impl Into<String>) -> Self {
        ImportedRun {
            source,
            study: study.into(),
            name: None,
            status: Status::Completed,
            params: Map::new(),
            tags: Vec::new(),
            created: None,
            started: None,
            ended: None,
            exit_code: None,
            extra: Map::new(),
            metrics: MetricTable::default(),
            samples: Vec::new(),
            console_log: None,
            warnings: Vec::new(),
        }
    }
}

/// Parses an RFC 3339 / ISO 8601 timestamp (with offset) into UTC.
pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A UTC time from seconds since the epoch.
pub(crate) fn time_from_secs(secs: f64) -> Option<DateTime<Utc>> {
    if !secs.is_finite() {
        return None;
    }
    DateTime::from_timestamp_micros((secs * 1e6).round() as i64)
}

/// A UTC time from milliseconds since the epoch.
pub(crate) fn time_from_millis(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scores_map_letters_numbers_and_bools() {
        assert_eq!(score_of(&json!("C")), Some(1.0));
        assert_eq!(score_of(&json!("I")), Some(0.0));
        assert_eq!(score_of(&json!("P")), Some(0.5));
        assert_eq!(score_of(&json!("N")), Some(0.0));
        assert_eq!(score_of(&json!(9.5)), Some(9.5));
        assert_eq!(score_of(&json!(true)), Some(1.0));
        assert_eq!(score_of(&json!({"a": 1})), None);
        assert_eq!(score_of(&json!("maybe")), None);
    }

    #[test]
    fn table_interns_names_and_sorts_stably() {
        let mut t = MetricTable::default();
        t.push_named("b", 2, None, 1.0);
        t.push_named("a", 1, Some(5.0), 2.0);
        t.push_named("b", 1, None, 3.0);
        assert_eq!(t.names(), ["b", "a"]);
        t.sort_by_step();
        assert_eq!(t.series("b"), vec![(1, 3.0), (2, 1.0)]);
        assert_eq!(t.points()[0].metric, 1);
        assert!(t.points()[1].time.is_nan());
    }
}
