#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `ox init`, `ox ls`, `ox show` and `ox reindex` on the real binary.

use ox_test_support::{TestProject, ox_command, stderr, stdout};
use serde_json::Value;

/// The shared sweep fixture ([`TestProject::sweep`]).
fn project() -> TestProject {
    TestProject::sweep(env!("CARGO_BIN_EXE_ox"))
}

#[test]
fn outside_a_project_is_a_usage_error_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let out = ox_command(env!("CARGO_BIN_EXE_ox").as_ref(), dir.path())
        .arg("ls")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("no ox project found"), "{err}");
    assert!(err.contains("hint: run `ox init`"), "{err}");
}

#[test]
fn init_creates_the_layout_and_ox_dir_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let ox = env!("CARGO_BIN_EXE_ox");
    let out = std::process::Command::new(ox)
        .current_dir(dir.path())
        .arg("init")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(dir.path().join(".ox/runs").is_dir() && dir.path().join(".ox/metrics").is_dir());
    let elsewhere = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(ox)
        .current_dir(elsewhere.path())
        .env("OX_DIR", dir.path().join(".ox"))
        .args(["ls", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "[]");
}

#[test]
fn ls_json_follows_the_contract() {
    let p = project();
    let out = p.ox(&["ls", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let runs: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(runs.len(), 5);
    let first = &runs[0];
    assert_eq!(first["name"], "lr0-s1");
    assert_eq!(first["study"], "sweep");
    assert_eq!(first["status"], "completed");
    assert_eq!(first["params"]["model"]["layers"], 2);
    assert_eq!(first["duration_s"], 10.0);
    let loss = &first["metrics"]["loss"];
    assert_eq!(loss["first"], 1.0);
    assert_eq!(loss["count"], 5);
    assert_eq!(loss["last_step"], 4);
    assert_eq!(loss["min"], loss["last"]);
    assert_eq!(first["metrics"]["train/acc"]["max"], 0.4);
    // NaN is not JSON: it is null.
    assert_eq!(runs[4]["metrics"]["loss"]["last"], Value::Null);
}

#[test]
fn ls_filters_sorts_limits_and_formats() {
    let p = project();
    let names = |args: &[&str]| -> Vec<String> {
        let out = p.ox(&[&["ls", "--format", "json"], args].concat());
        assert!(out.status.success(), "{}", stderr(&out));
        let runs: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
        runs.iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&["-s", "other"]), ["crashy"]);
    assert_eq!(names(&["--status", "failed"]), ["crashy"]);
    assert_eq!(
        names(&["--sort", "-lr", "--limit", "2"]),
        ["crashy", "lr0-s1"]
    );
    assert_eq!(
        names(&["--sort", "metrics.loss", "--limit", "1"]),
        ["lr0-s2"]
    );

    let csv = stdout(&p.ox(&[
        "ls",
        "-s",
        "sweep",
        "--columns",
        "name,lr,seed,metrics.loss.min",
        "--format",
        "csv",
    ]));
    assert_eq!(csv.lines().next(), Some("name,lr,seed,loss.min"));
    assert_eq!(csv.lines().nth(1), Some("lr0-s1,0.1,1,0.7142857142857143"));
    let md = stdout(&p.ox(&["ls", "-s", "sweep", "--format", "md"]));
    assert!(
        md.starts_with("| id | name | status | duration | lr | seed |"),
        "{md}"
    );
    let table = stdout(&p.ox(&["ls", "-s", "sweep"]));
    assert!(
        table.lines().next().unwrap().contains("lr  seed"),
        "varying params shown: {table}"
    );
    assert!(
        !table.contains("model.layers"),
        "constant params hidden: {table}"
    );

    let bad = p.ox(&["ls", "--status", "done"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn show_by_name_prefix_and_json() {
    let p = project();
    let out = p.ox(&["show", "lr1-s2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("status    completed (exit code 0)"), "{text}");
    assert!(text.contains("lr = 0.01"), "{text}");
    assert!(text.contains("train/acc"), "{text}");
    assert!(text.contains('█'), "sparkline: {text}");

    let json: Value = serde_json::from_str(&stdout(&p.ox(&[
        "show",
        "sweep/lr1-s2",
        "--format",
        "json",
    ])))
    .unwrap();
    let id = json["id"].as_str().unwrap().to_string();
    assert_eq!(json["metrics"]["loss"]["count"], 5);
    assert!(
        json["files"]["metrics"]
            .as_str()
            .unwrap()
            .ends_with("_metrics.jsonl")
    );
    let by_prefix: Value =
        serde_json::from_str(&stdout(&p.ox(&["show", &id[..24], "--format", "json"]))).unwrap();
    assert_eq!(by_prefix["id"], json["id"]);

    let missing = p.ox(&["show", "lr1-s3"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("did you mean"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn deleting_the_catalog_changes_no_output() {
    let p = project();
    let commands: [&[&str]; 4] = [
        &["ls", "--format", "json"],
        &["ls", "--sort", "-metrics.loss"],
        &["show", "lr0-s1", "--format", "json"],
        &[
            "ls",
            "--format",
            "csv",
            "--columns",
            "id,name,lr,metrics.loss.mean",
        ],
    ];
    let before: Vec<String> = commands.iter().map(|c| stdout(&p.ox(c))).collect();
    std::fs::remove_file(p.project.db_path()).unwrap();
    let after: Vec<String> = commands.iter().map(|c| stdout(&p.ox(c))).collect();
    assert_eq!(before, after);
    let re = p.ox(&["reindex"]);
    assert!(re.status.success());
    assert!(stderr(&re).contains("reindexed 5 runs"), "{}", stderr(&re));
    let again: Vec<String> = commands.iter().map(|c| stdout(&p.ox(c))).collect();
    assert_eq!(before, again);
}

#[test]
fn closed_pipe_exits_quietly() {
    let p = project();
    let mut child = p
        .command()
        .args(["ls", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}
