//! Test helpers: a temporary project ([`TestProject`]) with runs written in the real on-disk
//! format, and a way to run the `ox` binary in it with a clean environment.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod browser;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{DateTime, Duration, Utc};
use ox_core::{Project, Run, RunId, Status};
use serde_json::Value;

/// A temporary directory holding an initialised ox project; removed on drop.
pub struct TestProject {
    pub dir: tempfile::TempDir,
    pub project: Project,
    bin: PathBuf,
    counter: u64,
}

/// A fixed time runs are created at, so outputs are stable.
pub fn base_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

impl TestProject {
    /// A fresh project in a new temporary directory, run with the `ox` binary at `bin`
    /// (in ox-cli's integration tests: `env!("CARGO_BIN_EXE_ox")`).
    pub fn new(bin: impl Into<PathBuf>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let project = Project::init(dir.path()).unwrap();
        TestProject {
            dir,
            project,
            bin: bin.into(),
            counter: 0,
        }
    }

    /// The sweep fixture of the ls/show/query tests: four runs of study `sweep` (lr 0.1/0.01
    /// × seed 1/2, named `lr{i}-s{seed}`, `loss` and `train/acc` over 5 steps, a constant
    /// `model.layers`) and a failed run `crashy` of study `other` whose loss is NaN.
    pub fn sweep(bin: impl Into<PathBuf>) -> Self {
        let mut p = TestProject::new(bin);
        for (i, lr) in [0.1, 0.01].iter().enumerate() {
            for seed in 1..=2 {
                let metrics: Vec<(i64, Vec<(&str, f64)>)> = (0..5)
                    .map(|s| {
                        let loss = 1.0 / (1.0 + s as f64 * lr * f64::from(seed));
                        (s, vec![("loss", loss), ("train/acc", s as f64 / 10.0)])
                    })
                    .collect();
                p.add_run(
                    "sweep",
                    &format!("lr{i}-s{seed}"),
                    Status::Completed,
                    serde_json::json!({"lr": lr, "seed": seed, "model": {"layers": 2}}),
                    &metrics,
                );
            }
        }
        p.add_run(
            "other",
            "crashy",
            Status::Failed,
            serde_json::json!({"lr": 0.5}),
            &[(0, vec![("loss", f64::NAN)])],
        );
        p
    }

    /// The project root (the directory holding `.ox`).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a finished run with deterministic id and times, and its metrics lines
    /// (`(step, [(name, value)])`). Returns the id.
    pub fn add_run(
        &mut self,
        study: &str,
        name: &str,
        status: Status,
        params: Value,
        metrics: &[(i64, Vec<(&str, f64)>)],
    ) -> RunId {
        self.counter += 1;
        let created = base_time() + Duration::seconds(self.counter as i64 * 60);
        let id = RunId::from_parts(created, u128::from(self.counter));
        let mut run = Run::new(id.clone(), status);
        run.name = Some(name.to_string());
        run.study = study.to_string();
        run.params = params.as_object().cloned().unwrap_or_default();
        run.created = created;
        run.started = Some(created);
        run.ended = status
            .is_final()
            .then(|| created + Duration::seconds(10 * self.counter as i64));
        run.exit_code = match status {
            Status::Completed => Some(0),
            Status::Failed => Some(1),
            _ => None,
        };
        self.project.write_run(&run).unwrap();
        let mut text = String::new();
        for (step, values) in metrics {
            let mut obj = serde_json::Map::new();
            obj.insert("type".into(), "metrics".into());
            obj.insert("step".into(), (*step).into());
            for (k, v) in values {
                obj.insert(
                    (*k).into(),
                    serde_json::Number::from_f64(*v).map_or(Value::Null, Value::Number),
                );
            }
            text.push_str(&Value::Object(obj).to_string());
            text.push('\n');
        }
        std::fs::write(self.project.metrics_path(&id), text).unwrap();
        id
    }

    /// Runs `ox ARGS` in the project root.
    pub fn ox(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// A `Command` for `ox` in the project root.
    pub fn command(&self) -> Command {
        ox_command(&self.bin, self.root())
    }
}

/// The environment variables through which `ox run` hands a run to its command; tests
/// clear them so an outer `ox run` does not leak into the binary under test.
pub const OX_ENV_VARS: [&str; 6] = [
    "OX_DIR",
    "OX_RUN_ID",
    "OX_METRICS_FILE",
    "OX_STUDY",
    "OX_RUN_NAME",
    "OX_PARAMS",
];

/// A `Command` for the `ox` binary `bin` in `dir`, with the ox environment variables cleared.
pub fn ox_command(bin: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.current_dir(dir);
    for var in OX_ENV_VARS {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1");
    // Tables fit the terminal: the same width wherever the tests run.
    cmd.env_remove("COLUMNS");
    cmd
}

/// stdout of an `Output` as a string.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr of an `Output` as a string.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The real tool-written files the tests import: `testdata/corpora/` in this repository
/// (see its README for where each file came from). `OX_CORPORA` points elsewhere.
pub fn corpora() -> PathBuf {
    match std::env::var_os("OX_CORPORA") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpora"),
    }
}
