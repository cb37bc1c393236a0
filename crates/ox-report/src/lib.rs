//! Reports, exports and experiment records: run values in, Markdown/HTML/CSV/LaTeX/Parquet bytes out.
//!
//! No file or catalog access: `ox-cli` reads the runs and writes what this crate returns
//! (or hands it a `Write` sink). Statistics come from `ox-analysis`; tables are rendered
//! by `ox-render`.

pub mod blocks;
pub mod document;
pub mod export;
pub mod notes;
pub mod parquet;
pub mod record;
pub mod report;

pub use export::{MetricColumn, RunRecord};
