//! Files of a run, served only from inside the run's directory.

use std::path::{Component, Path, PathBuf};

/// Why a file of a run is not served.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// `..`, an absolute path, or an empty one.
    #[error("{0:?} is not a path inside the run's directory")]
    Outside(String),
    /// The path resolves (through a symlink) to somewhere outside the run's directory.
    #[error("{0:?} leads outside the run's directory")]
    EscapesRunDir(String),
    /// No such file (or a directory).
    #[error("no file {0:?} in this run")]
    NotFound(String),
}

/// The real path of `relative` under `run_dir`, refusing `..`, absolute paths and symlinks
/// that lead out of `run_dir`.
pub fn confined_path(run_dir: &Path, relative: &str) -> Result<PathBuf, FileError> {
    let rel = Path::new(relative);
    let plain = !relative.is_empty()
        && !relative.contains('\0')
        && rel.components().all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return Err(FileError::Outside(relative.to_string()));
    }
    let root = run_dir
        .canonicalize()
        .map_err(|_| FileError::NotFound(relative.to_string()))?;
    let real = root
        .join(rel)
        .canonicalize()
        .map_err(|_| FileError::NotFound(relative.to_string()))?;
    if !real.starts_with(&root) {
        return Err(FileError::EscapesRunDir(relative.to_string()));
    }
    if !real.is_file() {
        return Err(FileError::NotFound(relative.to_string()));
    }
    Ok(real)
}

/// Files under `run_dir` (relative paths with `/`, sizes), sorted, at most `limit`;
/// symlinks are listed only when they stay inside.
pub fn list_files(run_dir: &Path, limit: usize) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(run_dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
    {
        if out.len() >= limit {
            break;
        }
        let Ok(rel) = entry.path().strip_prefix(run_dir) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if rel.is_empty() || entry.file_type().is_dir() {
            continue;
        }
        if let Ok(real) = confined_path(run_dir, &rel)
            && let Ok(meta) = real.metadata()
        {
            out.push((rel, meta.len()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_run_directory() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        std::fs::create_dir_all(run.join("artifacts")).unwrap();
        std::fs::write(run.join("artifacts/model.txt"), "m").unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), run.join("artifacts/link")).unwrap();
        std::os::unix::fs::symlink(run.join("artifacts/model.txt"), run.join("inside")).unwrap();

        assert!(confined_path(&run, "artifacts/model.txt").is_ok());
        assert!(confined_path(&run, "inside").is_ok());
        for bad in [
            "../secret",
            "artifacts/../../secret",
            "/etc/passwd",
            "",
            "./x/../..",
        ] {
            assert!(
                matches!(confined_path(&run, bad), Err(FileError::Outside(_))),
                "{bad}"
            );
        }
        assert_eq!(
            confined_path(&run, "artifacts/link"),
            Err(FileError::EscapesRunDir("artifacts/link".into()))
        );
        assert!(matches!(
            confined_path(&run, "artifacts"),
            Err(FileError::NotFound(_))
        ));
        let listed: Vec<String> = list_files(&run, 100).into_iter().map(|f| f.0).collect();
        assert_eq!(listed, ["artifacts/model.txt", "inside"]);
    }
}
