//! A project: the `.ox/` directory and the paths of everything inside it.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{CoreError, Run, RunId};

/// Environment variable naming the `.ox` directory to use instead of searching for one.
pub const OX_DIR_ENV: &str = "OX_DIR";

/// An ox project, identified by its `.ox` directory. Holds only paths: creating one does
/// no I/O beyond what the constructor says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    ox_dir: PathBuf,
}

impl Project {
    /// Opens the project whose `.ox` directory is `ox_dir` (which must exist).
    pub fn open(ox_dir: impl Into<PathBuf>) -> Result<Self, CoreError> {
        let ox_dir = ox_dir.into();
        if !ox_dir.is_dir() {
            return Err(CoreError::BadOxDir { path: ox_dir });
        }
        let ox_dir =
            std::path::absolute(&ox_dir).map_err(|e| CoreError::io("resolve", &ox_dir, e))?;
        Ok(Project { ox_dir })
    }

    /// Finds the project: `OX_DIR` when given, else the first `.ox` directory in `start` or
    /// one of its parents (like git).
    pub fn discover(start: &Path, ox_dir_env: Option<&Path>) -> Result<Self, CoreError> {
        if let Some(dir) = ox_dir_env.filter(|d| !d.as_os_str().is_empty()) {
            return Self::open(dir);
        }
        let start_abs =
            std::path::absolute(start).map_err(|e| CoreError::io("resolve", start, e))?;
        let mut cur = Some(start_abs.as_path());
        while let Some(dir) = cur {
            let candidate = dir.join(".ox");
            if candidate.is_dir() {
                return Ok(Project { ox_dir: candidate });
            }
            cur = dir.parent();
        }
        Err(CoreError::NoProject { start: start_abs })
    }

    /// Creates `dir/.ox` with its subdirectories and its `.gitignore` (keeping whatever is
    /// already there, an edited `.gitignore` included).
    pub fn init(dir: &Path) -> Result<Self, CoreError> {
        let ox_dir =
            std::path::absolute(dir.join(".ox")).map_err(|e| CoreError::io("resolve", dir, e))?;
        let project = Project { ox_dir };
        for d in [project.runs_dir(), project.metrics_dir()] {
            fs_err::create_dir_all(&d).map_err(|e| CoreError::io("create directory", &d, e))?;
        }
        let ignore = project.gitignore_path();
        if !ignore.exists() {
            write_atomic(&ignore, GITIGNORE.as_bytes())?;
        }
        Ok(project)
    }

    /// `.ox/.gitignore`: keeps the catalog and other derived files out of git.
    pub fn gitignore_path(&self) -> PathBuf {
        self.ox_dir.join(".gitignore")
    }
    /// `.ox/reopened/`: one empty file per finished run reopened to log more
    /// (`ox.init(resume=RUN_ID)`); a catalog refresh re-checks these runs' files.
    pub fn reopened_dir(&self) -> PathBuf {
        self.ox_dir.join("reopened")
    }

    /// The absolute `.ox` directory.
    pub fn ox_dir(&self) -> &Path {
        &self.ox_dir
    }
    /// The directory that holds `.ox` (the project root).
    pub fn root(&self) -> &Path {
        self.ox_dir.parent().unwrap_or(&self.ox_dir)
    }
    /// `reports/` in the project root: where `ox report` writes by default.
    pub fn reports_dir(&self) -> PathBuf {
        self.root().join("reports")
    }
    /// `reports/<slug of name>/`: the default output directory of `ox report` for a study
    /// (or selection) called `name`; its page is `report.html` there.
    pub fn report_dir(&self, name: &str) -> PathBuf {
        self.reports_dir().join(slug(name))
    }
    /// `.ox/config.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.ox_dir.join("config.toml")
    }
    /// `.ox/ox.db`, the catalog.
    pub fn db_path(&self) -> PathBuf {
        self.ox_dir.join("ox.db")
    }
    /// `.ox/runs`.
    pub fn runs_dir(&self) -> PathBuf {
        self.ox_dir.join("runs")
    }
    /// `.ox/metrics`.
    pub fn metrics_dir(&self) -> PathBuf {
        self.ox_dir.join("metrics")
    }
    /// `.ox/runs/<id>`.
    pub fn run_dir(&self, id: &RunId) -> PathBuf {
        self.runs_dir().join(id.as_str())
    }
    /// `.ox/runs/<id>/run.json`.
    pub fn run_json_path(&self, id: &RunId) -> PathBuf {
        self.run_dir(id).join("run.json")
    }
    /// `.ox/runs/<id>/stdout.log`.
    pub fn stdout_log_path(&self, id: &RunId) -> PathBuf {
        self.run_dir(id).join("stdout.log")
    }
    /// `.ox/runs/<id>/samples.jsonl`: per-sample evaluation scores of imported evals.
    pub fn samples_path(&self, id: &RunId) -> PathBuf {
        self.run_dir(id).join("samples.jsonl")
    }
    /// `.ox/metrics/<id>_metrics.jsonl`.
    pub fn metrics_path(&self, id: &RunId) -> PathBuf {
        self.metrics_dir().join(format!("{id}_metrics.jsonl"))
    }
    /// `.ox/metrics/<id>_system.jsonl`.
    pub fn system_path(&self, id: &RunId) -> PathBuf {
        self.metrics_dir().join(format!("{id}_system.jsonl"))
    }

    /// Writes `run.json` atomically (temporary file in the same directory, fsync, rename),
    /// creating the run directory if needed. Readers never see a half-written file.
    pub fn write_run(&self, run: &Run) -> Result<(), CoreError> {
        let dir = self.run_dir(&run.id);
        fs_err::create_dir_all(&dir).map_err(|e| CoreError::io("create directory", &dir, e))?;
        let path = self.run_json_path(&run.id);
        let mut text = serde_json::to_vec_pretty(run).map_err(|e| CoreError::Json {
            path: path.clone(),
            source: e,
        })?;
        text.push(b'\n');
        write_atomic(&path, &text)
    }

    /// Reads `runs/<id>/run.json`.
    pub fn read_run(&self, id: &RunId) -> Result<Run, CoreError> {
        let path = self.run_json_path(id);
        let bytes = match fs_err::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(CoreError::NoSuchRun { id: id.to_string() });
            }
            Err(e) => return Err(CoreError::io("read", &path, e)),
        };
        parse_run_json(&path, &bytes)
    }

    /// Ids of every run directory that has a `run.json`, sorted.
    pub fn run_ids(&self) -> Result<Vec<RunId>, CoreError> {
        let dir = self.runs_dir();
        let entries = match fs_err::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(CoreError::io("list", &dir, e)),
        };
        let mut ids = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| CoreError::io("list", &dir, e))?;
            if let Some(id) = entry.file_name().to_str().and_then(RunId::parse)
                && self.run_json_path(&id).is_file()
            {
                ids.push(id);
            }
        }
        ids.sort();
        Ok(ids)
    }
}

/// What `ox init` writes to `.ox/.gitignore`: everything derived from the run files (the
/// catalog, the copy of the Python client `ox run` offers, temporary files) is ignored;
/// `runs/`, `metrics/`, `reopened/` and `config.toml` are the project's record.
pub const GITIGNORE: &str = "\
# Written by `ox init`. Derived files, rebuilt from runs/ and metrics/ when missing:
ox.db
ox.db-*
python/
.tmp-*
";

/// `name` as one lower-case file name: ASCII letters, digits, `-`, `_` and `.` kept, any
/// other run of characters one `-`, no `-` at either end; `report` when nothing is left.
/// `ox report` names its default directory with it (`reports/<slug>/`), `ox ui` finds the
/// report by it.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let t = out.trim_matches('-');
    if t.is_empty() || t.chars().all(|c| c == '.') {
        "report".into()
    } else {
        t.to_string()
    }
}

/// Parses the bytes of a `run.json` file.
pub fn parse_run_json(path: &Path, bytes: &[u8]) -> Result<Run, CoreError> {
    serde_json::from_slice(bytes).map_err(|e| CoreError::Json {
        path: path.to_path_buf(),
        source: e,
    })
}

/// Replaces `path` with `bytes` atomically: a temporary file beside it is written, synced
/// and renamed over it (mode 0644 less the umask).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    // Readable by others (subject to the umask) like any file a program writes: a temporary
    // file's default 0600 would hide the project's records from the rest of a team.
    let mode = std::os::unix::fs::PermissionsExt::from_mode(0o644);
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .permissions(mode)
        .tempfile_in(dir)
        .map_err(|e| CoreError::io("create temporary file in", dir, e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| CoreError::io("write", tmp.path().to_path_buf(), e))?;
    tmp.persist(path)
        .map_err(|e| CoreError::io("rename onto", path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Status;

    impl Project {
        fn open_unchecked_for_test(ox_dir: &str) -> Project {
            Project {
                ox_dir: ox_dir.into(),
            }
        }
    }

    #[test]
    fn discover_walks_up_and_honours_override() {
        let tmp = tempfile::tempdir().unwrap();
        let p = Project::init(tmp.path()).unwrap();
        let deep = tmp.path().join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(Project::discover(&deep, None).unwrap(), p);
        let other = tempfile::tempdir().unwrap();
        assert!(matches!(
            Project::discover(other.path(), None),
            Err(CoreError::NoProject { .. })
        ));
        assert_eq!(
            Project::discover(other.path(), Some(p.ox_dir())).unwrap(),
            p
        );
        assert!(Project::discover(other.path(), Some(&other.path().join("nope"))).is_err());
    }

    #[test]
    fn report_directories_are_one_plain_name_under_reports() {
        let p = Project::open_unchecked_for_test("/proj/.ox");
        assert_eq!(p.report_dir("sweep"), Path::new("/proj/reports/sweep"));
        assert_eq!(slug("My Study/v2"), "my-study-v2");
        assert_eq!(slug("lr=0.1, bs=32"), "lr-0.1-bs-32");
        assert_eq!(slug("--x--"), "x");
        for nothing in ["", "/", "..", ".", "é"] {
            assert_eq!(slug(nothing), "report", "{nothing:?}");
        }
        assert_eq!(p.report_dir("../etc"), Path::new("/proj/reports/..-etc"));
    }

    #[test]
    fn init_ignores_the_catalog_and_keeps_an_edited_gitignore() {
        let tmp = tempfile::tempdir().unwrap();
        let p = Project::init(tmp.path()).unwrap();
        let text = std::fs::read_to_string(p.gitignore_path()).unwrap();
        assert!(text.lines().any(|l| l == "ox.db"), "{text}");
        std::fs::write(p.gitignore_path(), "mine\n").unwrap();
        Project::init(tmp.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(p.gitignore_path()).unwrap(),
            "mine\n"
        );
    }

    #[test]
    fn write_read_and_list_runs() {
        let tmp = tempfile::tempdir().unwrap();
        let p = Project::init(tmp.path()).unwrap();
        let run = Run::new(RunId::generate(), Status::Running);
        p.write_run(&run).unwrap();
        assert_eq!(p.read_run(&run.id).unwrap(), run);
        assert_eq!(p.run_ids().unwrap(), vec![run.id.clone()]);
        assert!(matches!(
            p.read_run(&RunId::parse("nope").unwrap()),
            Err(CoreError::NoSuchRun { .. })
        ));
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(p.run_dir(&run.id))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("run.json")]);
    }
}
