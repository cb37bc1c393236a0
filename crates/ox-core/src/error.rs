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
    #[error("{op} {path}: {}", io_reason(source))]
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

/// What an I/O error says without the path: `fs_err` errors read "failed to open file
/// `PATH`: REASON", restating the operation and path that the error carrying them already
/// names, so only REASON is kept ("Permission denied (os error 13)").
pub fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.split_once("`: ") {
        Some((head, reason)) if head.starts_with("failed to ") => reason.to_string(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_io_error_names_its_path_once() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let source = fs_err::read(&missing).unwrap_err();
        let e = CoreError::io("read", &missing, source);
        let text = e.to_string();
        assert_eq!(text.matches("missing").count(), 1, "{text}");
        assert!(text.ends_with("(os error 2)"), "{text}");
        let plain = std::io::Error::other("disk on fire");
        assert_eq!(io_reason(&plain), "disk on fire");
    }
}
