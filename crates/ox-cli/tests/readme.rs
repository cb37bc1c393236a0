#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every shell example in README.md runs as written against the demo project: the test
//! reads the README's ```sh blocks (so examples added later are run too), makes the demo
//! project with `ox demo`, and runs each command line with `sh` in it, `ox` on PATH.
//! Commands that need what a test cannot provide are listed in [`SKIPPED`], with why.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ox_test_support::{OX_ENV_VARS, stderr};

/// Command prefixes not run here, and why.
const SKIPPED: &[(&str, &str)] = &[
    ("cargo ", "builds or tests this repository itself"),
    (
        "pip install ",
        "installs into the user's Python environment",
    ),
    (
        "ox import ",
        "needs files other tools wrote (tests/import.rs imports testdata/corpora)",
    ),
    (
        "ox ui",
        "serves until stopped (tests/ui_api.rs and tests/ui_browser.rs run it)",
    ),
    (
        "ox plot heatmap ",
        "needs a 2-D sweep, which the demo is not (tests/plot.rs draws one)",
    ),
    (
        "ox stats --paired ",
        "needs evaluations with per-sample scores (tests/stats.rs)",
    ),
];

/// The command lines of the README's ```sh blocks (continuation lines joined).
fn sh_examples(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in readme.lines() {
        let trimmed = line.trim();
        if let Some(lang) = trimmed.strip_prefix("```") {
            in_sh = !in_sh && matches!(lang.trim(), "sh" | "bash" | "shell" | "console");
            continue;
        }
        if !in_sh || trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let command = trimmed.strip_prefix("$ ").unwrap_or(trimmed);
        match command.strip_suffix('\\') {
            Some(head) => {
                pending.push_str(head);
                pending.push(' ');
            }
            None => {
                pending.push_str(command);
                out.push(std::mem::take(&mut pending));
            }
        }
    }
    out
}

/// How long one example may take; one that runs longer (a server) fails instead of hanging.
const DEADLINE: Duration = Duration::from_secs(180);

/// Runs `sh -c example` to its end or the deadline; on failure, what to report.
fn run_with_deadline(mut sh: Command, example: &str) -> Result<(), String> {
    let logs = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (logs.path().join("out"), logs.path().join("err"));
    let mut child = sh
        .args(["-c", example])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    match status {
        Some(s) if s.success() => Ok(()),
        Some(s) => Err(format!(
            "`{example}` exited {:?}\nstdout:\n{}stderr:\n{}",
            s.code(),
            read(&out_path),
            read(&err_path)
        )),
        None => Err(format!(
            "`{example}` did not finish in {DEADLINE:?} (a server? add it to SKIPPED)\nstderr:\n{}",
            read(&err_path)
        )),
    }
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

#[test]
fn the_sh_blocks_of_the_readme_are_parsed() {
    let text = "x\n```sh\nox ls   # list\n\n# a comment\nox query \\\n  \"lr > 1\"\n```\n```python\nimport ox\n```\n";
    assert_eq!(
        sh_examples(text),
        ["ox ls   # list", "ox query  \"lr > 1\""]
    );
}

#[test]
fn every_readme_example_runs_against_the_demo_project() {
    let readme_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(readme_path).unwrap();
    let Some(python3) = on_path("python3") else {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "python3 is needed under CI"
        );
        eprintln!("skipped: python3 (which the demo trains with) is not installed");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let ox = PathBuf::from(env!("CARGO_BIN_EXE_ox"));
    // `ox` as installed, and `python` as researchers type it (Debian has only python3).
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(&ox, bin.join("ox")).unwrap();
    if on_path("python").is_none() {
        std::os::unix::fs::symlink(&python3, bin.join("python")).unwrap();
    }
    let mut path =
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect::<Vec<_>>();
    path.insert(0, bin.clone());
    let path = std::env::join_paths(path).unwrap();
    let command = |program: &Path, dir: &Path| {
        let mut c = Command::new(program);
        c.current_dir(dir)
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .env("XDG_CACHE_HOME", tmp.path().join("cache"))
            .env_remove("COLUMNS");
        for var in OX_ENV_VARS {
            c.env_remove(var);
        }
        c
    };
    // Without `ox` on PATH, as after `cargo run -- demo`: the hints it prints run as printed.
    let demo = command(&ox, tmp.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .arg("demo")
        .output()
        .unwrap();
    assert!(demo.status.success(), "ox demo: {}", stderr(&demo));
    let project = tmp.path().join("ox-demo");
    let hints: Vec<String> = stderr(&demo)
        .lines()
        .skip_while(|l| !l.starts_with("next:"))
        .map(|l| l.trim_start_matches("next:").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    assert!(hints.len() >= 3, "{}", stderr(&demo));
    for hint in &hints {
        let out = Command::new("sh")
            .args(["-c", hint])
            .current_dir(tmp.path())
            .env_remove("OX_DIR")
            .output()
            .unwrap();
        assert!(out.status.success(), "`{hint}`: {}", stderr(&out));
    }

    let mut ran = 0;
    let mut failures = Vec::new();
    for example in sh_examples(&readme) {
        if let Some((_, why)) = SKIPPED.iter().find(|(p, _)| example.starts_with(p)) {
            eprintln!("skipped `{example}`: {why}");
            continue;
        }
        ran += 1;
        if let Err(failure) = run_with_deadline(command(Path::new("sh"), &project), &example) {
            failures.push(failure);
        }
    }
    assert!(
        failures.is_empty(),
        "README examples that fail against the demo project:\n\n{}",
        failures.join("\n")
    );
    assert!(ran >= 12, "only {ran} README examples ran");
}
