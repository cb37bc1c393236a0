use std::path::PathBuf;

use ox_core::{CoreError, RunId};

/// Errors of supervising a run. Each carries the run id or path it concerns.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// Reading or writing the run's files failed.
    #[error("run {run}: {source}")]
    Core {
        run: RunId,
        #[source]
        source: CoreError,
    },
    /// A file operation on one of the run's files failed.
    #[error("run {run}: {op} {path}: {}", ox_core::io_reason(source))]
    Io {
        run: RunId,
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The command could not be started (not found, not executable, ...). The run is
    /// recorded as failed with `exit_code` (127 or 126, as a shell would say).
    #[error("run {run}: cannot start {program:?}: {source}")]
    Spawn {
        run: RunId,
        program: String,
        exit_code: i32,
        #[source]
        source: std::io::Error,
    },
    /// Installing the signal handlers or waiting for the command failed.
    #[error("run {run}: {what}: {source}")]
    Os {
        run: RunId,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The command line is empty.
    #[error("no command to run")]
    EmptyCommand,
}
