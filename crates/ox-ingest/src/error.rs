use std::path::PathBuf;

/// Why a source could not be imported. Each variant names the file it concerns.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// A file could not be read or written.
    #[error("{op} {path}: {}", ox_core::io_reason(source))]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The content is not what its format requires (corrupt, truncated, garbage).
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    /// Writing the run into the project failed.
    #[error(transparent)]
    Core(#[from] ox_core::CoreError),
}

impl IngestError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        IngestError::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        IngestError::Invalid {
            path: path.into(),
            reason: reason.into(),
        }
    }
}
