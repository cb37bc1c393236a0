//! The Python client that ships in the binary, offered to the command of `ox run` so that
//! `import ox` works in a script even when the client was never installed.
//!
//! It is written to `.ox/python/ox/` (ignored by `.ox/.gitignore`) and that directory is
//! appended to the command's `PYTHONPATH`. An `ox` earlier on `sys.path` (the script's
//! directory, the user's `PYTHONPATH`) wins as usual; one installed later (site-packages,
//! a venv) wins too: the package written there is a small shim that loads an installed
//! client when there is one, and the bundled one otherwise.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use ox_core::{CoreError, Project};

/// The client's source (`python/ox/__init__.py`), as built into this binary.
pub const CLIENT_PY: &str = include_str!("../../../python/ox/__init__.py");
/// The package's `__init__.py`: an installed client first, else the bundled one.
const SHIM_PY: &str = include_str!("client_shim.py");

/// `.ox/python`, the directory `ox run` appends to `PYTHONPATH`.
pub fn client_dir(project: &Project) -> PathBuf {
    project.ox_dir().join("python")
}

/// Writes the bundled client under [`client_dir`] (only the files that differ, atomically,
/// so concurrent runs never see a torn one) and returns that directory.
pub fn offer(project: &Project) -> Result<PathBuf, CoreError> {
    let dir = client_dir(project);
    let package = dir.join("ox");
    fs_err::create_dir_all(&package).map_err(|source| CoreError::Io {
        op: "create directory",
        path: package.clone(),
        source,
    })?;
    for (name, text) in [("__init__.py", SHIM_PY), ("_bundled.py", CLIENT_PY)] {
        let path = package.join(name);
        if std::fs::read(&path).is_ok_and(|b| b == text.as_bytes()) {
            continue;
        }
        ox_core::write_atomic(&path, text.as_bytes())?;
    }
    Ok(dir)
}

/// `existing` with `dir` appended (`dir` alone when there is none).
pub fn append_to_path(existing: Option<&OsStr>, dir: &Path) -> OsString {
    match existing.filter(|e| !e.is_empty()) {
        Some(e) => {
            let mut joined = e.to_owned();
            joined.push(":");
            joined.push(dir);
            joined
        }
        None => dir.as_os_str().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_dir_goes_last() {
        let dir = Path::new("/p/.ox/python");
        assert_eq!(append_to_path(None, dir), OsString::from("/p/.ox/python"));
        assert_eq!(
            append_to_path(Some(OsStr::new("")), dir),
            OsString::from("/p/.ox/python")
        );
        assert_eq!(
            append_to_path(Some(OsStr::new("/a:/b")), dir),
            OsString::from("/a:/b:/p/.ox/python")
        );
    }

    #[test]
    fn offering_writes_the_package_once() {
        let tmp = tempfile::tempdir().unwrap();
        let p = Project::init(tmp.path()).unwrap();
        let dir = offer(&p).unwrap();
        let bundled = dir.join("ox/_bundled.py");
        assert_eq!(std::fs::read_to_string(&bundled).unwrap(), CLIENT_PY);
        let stamp = std::fs::metadata(&bundled).unwrap().modified().unwrap();
        offer(&p).unwrap();
        assert_eq!(
            std::fs::metadata(&bundled).unwrap().modified().unwrap(),
            stamp
        );
    }
}
