//! Domain types of ox (runs, params, metric points) and the on-disk format under `.ox/`.
//!
//! Everything here is plain data plus the file reads and writes that define the format:
//! `runs/<id>/run.json` (replaced atomically), `metrics/<id>_metrics.jsonl` (append-only
//! lines), `metrics/<id>_system.jsonl` and `runs/<id>/samples.jsonl`. The catalog (`ox.db`)
//! is *not* here: it is a cache derived from these files and lives in `ox-store`.

pub mod config;
pub mod envelope;
mod error;
pub mod hash;
pub mod metrics;
pub mod metrics_write;
pub mod params;
pub mod process;
mod project;
pub mod provenance;
mod run;
pub mod samples;
pub mod shell;
pub mod system;

pub use config::{LogPatternSpec, ProjectConfig};
pub use envelope::{EnvelopePoint, StepEnvelope};
pub use error::{CoreError, io_reason};
pub use metrics::{
    LineKind, MetricAccumulator, MetricLine, MetricSummary, MetricsFileReader, MetricsScan,
    SeriesFile, json_number, nonfinite_tokens_as_strings, parse_metric_line,
};
pub use metrics_write::{MetricKey, MetricsWriter};
pub use params::{deep_merge, flatten_params, parse_param_value, set_dotted, set_param_spec};
pub use process::{LinuxProcTable, ProcStat, ProcessIdentity, ProcessTable, parse_stat, read_stat};
pub use project::{OX_DIR_ENV, Project, parse_run_json, slug, write_atomic};
pub use provenance::{FileRecord, Provenance, provenance};
pub use run::{Artifact, GitInfo, Run, RunId, Status, default_study, now_utc};
pub use samples::{SampleRecord, SamplesFile, append_samples, read_samples, write_samples};
pub use system::{SystemSample, read_system, read_system_from};

/// Result type of this crate.
pub type Result<T, E = CoreError> = std::result::Result<T, E>;
