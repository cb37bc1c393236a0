use std::path::PathBuf;

/// Errors of reading and writing the on-disk format. Each carries the path it concerns.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// No `.ox/` directory in the start directory or any parent.
    #[error("no ox project found in {start} or any parent directory")]
    NoProject { start: PathBuf },
    /// `OX_DIR` names something that is not a directory.
    #[error("OX_DIR={path} is not a directory")]
    BadOxDir { path: PathBuf },
    /// A file operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A JSON document could not be parsed.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// `.ox/config.toml` is not valid.
    #[error("{path}: {reason}")]
    Config { path: PathBuf, reason: String },
    /// A run id does not name a run in this project.
    #[error("no run with id {id}")]
    NoSuchRun { id: String },
    /// A `KEY=VALUE` parameter could not be set.
    #[error("bad parameter {spec:?}: {reason}")]
    BadParam { spec: String, reason: String },
}

impl CoreError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CoreError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
