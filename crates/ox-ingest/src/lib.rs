//! Importers that turn other tools' files (inspect-ai, TensorBoard, MLflow, W&B, text logs,
//! NDJSON/CSV) into ox runs.
//!
//! The flow is: [`discover`] walks the given paths and detects each source's format from its
//! content, giving [`ImportUnit`]s; [`parse_unit`] turns one unit into [`ImportedRun`] values
//! (pure parsing, no writes); [`RunWriter`] puts them into a project as ordinary runs
//! (`run.json`, metrics JSONL, `samples.jsonl`), reusing the run of a source imported before.
//! Every parser returns errors for bad input, never panics.

mod detect;
mod error;
mod inspect;
mod mlflow;
mod model;
mod ndjson;
mod patterns;
mod pipeline;
mod proto;
mod text;
mod tfevents;
mod wandb;
mod write;

pub use detect::{Discovery, ImportUnit, UnitKind, discover};
pub use error::IngestError;
pub use model::{ImportedRun, MetricTable, Point, Source, SourceKind, score_of};
pub use ox_core::SampleRecord;
pub use patterns::{LineMetrics, LogPattern, LogPatterns};
pub use pipeline::{default_threads, parse_units};
pub use tfevents::{TfEventsReport, read_tfevents};
pub use write::{RunWriter, WriteOutcome, attach_to_run};

/// Parses one unit found by [`discover`] into the runs it holds (one for most formats, one
/// per MLflow run for an MLflow store). `patterns` are the user's text-log patterns.
pub fn parse_unit(
    unit: &ImportUnit,
    patterns: &LogPatterns,
) -> Result<Vec<ImportedRun>, IngestError> {
    match unit.kind {
        UnitKind::Inspect => inspect::parse_path(&unit.path).map(|r| vec![r]),
        UnitKind::TensorBoard => tfevents::import_dir(&unit.path, &unit.root).map(|r| vec![r]),
        UnitKind::MlflowFileStore => mlflow::import_file_store(&unit.path),
        UnitKind::MlflowSqlite => mlflow::import_sqlite(&unit.path),
        UnitKind::Wandb => wandb::import_file(&unit.path).map(|r| vec![r]),
        UnitKind::TextLog => text::import_file(&unit.path, patterns).map(|r| vec![r]),
        UnitKind::Ndjson => ndjson::import_ndjson_dir(&unit.path).map(|r| vec![r]),
        UnitKind::JsonLines => ndjson::import_jsonl_file(&unit.path).map(|r| vec![r]),
        UnitKind::Csv => ndjson::import_csv(&unit.path).map(|r| vec![r]),
    }
}
