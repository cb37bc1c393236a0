#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every shell example in README.md runs as written against the demo project: the test
//! reads the README's ```sh blocks (so examples added later are run too), makes the demo
//! project with `ox demo`, and runs each command line with `sh` in it, `ox` on PATH.
//! Commands that need what a test cannot provide are listed in [`SKIPPED`], with why.

use std::path::{Path, PathBuf};
use std::process::Command;

use ox_test_support::{OX_ENV_VARS, stderr, stdout};

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
    let demo = command(&ox, tmp.path()).arg("demo").output().unwrap();
    assert!(demo.status.success(), "ox demo: {}", stderr(&demo));
    let project = tmp.path().join("ox-demo");

    let mut ran = 0;
    let mut failures = Vec::new();
    for example in sh_examples(&readme) {
        if let Some((_, why)) = SKIPPED.iter().find(|(p, _)| example.starts_with(p)) {
            eprintln!("skipped `{example}`: {why}");
            continue;
        }
        let out = command(Path::new("sh"), &project)
            .args(["-c", &example])
            .output()
            .unwrap();
        ran += 1;
        if !out.status.success() {
            failures.push(format!(
                "`{example}` exited {:?}\nstdout:\n{}stderr:\n{}",
                out.status.code(),
                stdout(&out),
                stderr(&out)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "README examples that fail against the demo project:\n\n{}",
        failures.join("\n")
    );
    assert!(ran >= 12, "only {ran} README examples ran");
}
