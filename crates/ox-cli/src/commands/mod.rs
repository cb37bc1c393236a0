//! One module per subcommand: its clap `Args` and a `run` function.

pub mod demo;
pub mod export;
pub mod import;
pub mod init;
pub mod ls;
pub mod notes;
pub mod plot;
pub mod query;
pub mod record;
pub mod reindex;
pub mod report;
pub mod run;
pub mod show;
pub mod stats;
pub mod sweep;
pub mod sweep_status;
pub mod ui;
