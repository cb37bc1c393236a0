//! `ox import` end to end on the real binary: the corpus imports into ordinary runs that
//! `ox ls`/`ox query`/`ox show` see, re-imports update instead of duplicating, failures are
//! reported per file with exit 1 while good files still import, and `ox run` applies the
//! user's log patterns to its command's output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use ox_test_support::{TestProject, stderr, stdout};
use serde_json::Value;

/// The corpora directory: `testdata/corpora/` in this repository (`OX_CORPORA` overrides).
fn corpora() -> Option<PathBuf> {
    Some(ox_test_support::corpora())
}

fn project() -> TestProject {
    TestProject::new(env!("CARGO_BIN_EXE_ox"))
}

fn json_rows(p: &TestProject, args: &[&str]) -> Vec<Value> {
    let out = p.ox(args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn corpus_imports_once_and_reimport_updates() {
    let Some(c) = corpora() else { return };
    let p = project();
    let arg = c.to_string_lossy().into_owned();
    let out = p.ox(&["import", &arg]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("imported 38, updated 0, failed 0"),
        "{}",
        stderr(&out)
    );
    let again = p.ox(&["import", &arg]);
    assert!(
        stderr(&again).contains("imported 0, updated 38, failed 0"),
        "{}",
        stderr(&again)
    );
    let runs = json_rows(&p, &["ls", "--format", "json"]);
    assert_eq!(runs.len(), 38);

    // Names with slashes reach the query language through backticks.
    let rows = json_rows(
        &p,
        &[
            "query",
            "study = 'lr-sweep' AND metrics.`train/loss` < 0.5",
            "--format",
            "json",
        ],
    );
    assert_eq!(rows.len(), 4, "two stores, two good runs each");
    let evals = json_rows(
        &p,
        &[
            "query",
            "metrics.`match/accuracy` = 0.5",
            "--format",
            "json",
        ],
    );
    assert_eq!(evals.len(), 1);
    assert_eq!(evals[0]["name"], "arith");
    assert_eq!(evals[0]["source"]["kind"], "inspect");

    // Samples are kept with the run; the source can go away afterwards.
    let id = evals[0]["id"].as_str().unwrap();
    let samples =
        std::fs::read_to_string(p.root().join(format!(".ox/runs/{id}/samples.jsonl"))).unwrap();
    let first: Value = serde_json::from_str(samples.lines().next().unwrap()).unwrap();
    assert_eq!(first["id"], "a1");
    assert_eq!(first["scorer"], "match");
    assert_eq!(first["value"], "I");
    assert_eq!(first["score"], 0.0);
    assert_eq!(samples.lines().count(), 8);
}

#[test]
fn study_flag_and_failures_exit_one_while_good_files_import() {
    let Some(c) = corpora() else { return };
    let p = project();
    let bad = p.root().join("garbage.eval");
    std::fs::write(&bad, b"PK\x03\x04 not really a zip").unwrap();
    let tb = p.root().join("tb");
    std::fs::create_dir_all(&tb).unwrap();
    let events = std::fs::read(
        c.join("tensorboard/runs/tbwriter-tensor/events.out.tfevents.1795418288.vm.27828.0"),
    )
    .unwrap();
    std::fs::write(
        tb.join("events.out.tfevents.1.host"),
        &events[..events.len() - 7],
    )
    .unwrap();
    let slurm = c.join("slurm/seed-sweep/slurm-47_1.out");
    let out = p.ox(&[
        "import",
        "-s",
        "mine",
        bad.to_str().unwrap(),
        slurm.to_str().unwrap(),
        tb.to_str().unwrap(),
        "does-not-exist",
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("imported 2, updated 0, failed 2"), "{err}");
    assert!(err.contains("garbage.eval"), "{err}");
    assert!(err.contains("does-not-exist"), "{err}");
    assert!(
        err.contains("truncated"),
        "the damaged tail is a warning: {err}"
    );
    let runs = json_rows(&p, &["ls", "--format", "json"]);
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r["study"] == "mine"));
    let s = runs.iter().find(|r| r["name"] == "slurm-47_1").unwrap();
    assert_eq!(s["metrics"]["loss"]["last"], 0.3043);
    assert_eq!(s["metrics"]["loss"]["last_step"], 1000);
    // The log itself is kept with the run.
    let id = s["id"].as_str().unwrap();
    let log = std::fs::read_to_string(p.root().join(format!(".ox/runs/{id}/stdout.log"))).unwrap();
    assert_eq!(log, std::fs::read_to_string(&slurm).unwrap());
}

#[test]
fn ox_run_tracks_lines_matching_log_patterns() {
    let p = project();
    std::fs::write(
        p.root().join(".ox/config.toml"),
        "[[log_patterns]]\nregex = 'Loss: (?P<loss>[0-9.eE+-]+)'\n",
    )
    .unwrap();
    let out = p.ox(&[
        "run",
        "--",
        "sh",
        "-c",
        "echo 'Loss: 0.52'; echo 'Loss: 0.25'",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let runs = json_rows(&p, &["ls", "--format", "json"]);
    assert_eq!(runs[0]["metrics"]["loss"]["first"], 0.52);
    assert_eq!(runs[0]["metrics"]["loss"]["last"], 0.25);
    assert_eq!(runs[0]["metrics"]["loss"]["count"], 2);
}

#[test]
fn a_reimported_source_shows_its_new_data_without_reindex() {
    let p = project();
    let src = tempfile::tempdir().unwrap();
    let csv = src.path().join("train.csv");
    std::fs::write(&csv, "step,loss\n0,1.0\n1,0.5\n").unwrap();
    let csv_arg = csv.to_str().unwrap();
    assert_eq!(p.ox(&["import", csv_arg]).status.code(), Some(0));
    let before = json_rows(&p, &["ls", "--format", "json"]);
    assert_eq!(before[0]["metrics"]["loss"]["count"], 2);
    std::fs::write(&csv, "step,loss\n0,1.0\n1,0.5\n2,0.25\n").unwrap();
    let again = p.ox(&["import", csv_arg]);
    assert!(stderr(&again).contains("updated 1"), "{}", stderr(&again));
    let after = json_rows(&p, &["ls", "--format", "json"]);
    assert_eq!(after.len(), 1);
    assert_eq!(
        after[0]["metrics"]["loss"]["count"], 3,
        "{:?}",
        after[0]["metrics"]
    );
    assert_eq!(after[0]["metrics"]["loss"]["last"], 0.25);
}

#[test]
fn unknown_files_named_on_the_command_line_are_not_recognized_exit_one() {
    let c = ox_test_support::corpora();
    let p = project();
    let sbatch = c.join("slurm/seed-sweep/job_array.sbatch");
    let requirements =
        c.join("edge/wandb/offline-run-20261204_202802-lgx5hpgx/files/requirements.txt");
    let damaged = c.join("edge/mlflow/damaged.db");
    let out = p.ox(&[
        "import",
        sbatch.to_str().unwrap(),
        requirements.to_str().unwrap(),
        damaged.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("imported 0, updated 0, failed 3"), "{err}");
    assert_eq!(err.matches("not recognized").count(), 2, "{err}");
    assert!(err.contains("database disk image is malformed"), "{err}");
    assert!(!err.contains("without MLflow's tables"), "{err}");
    assert!(json_rows(&p, &["ls", "--format", "json"]).is_empty());
}

#[test]
fn reimporting_from_a_moved_folder_updates_the_runs_it_made() {
    let c = ox_test_support::corpora();
    let p = project();
    let first = p.root().join("first");
    let moved = p.root().join("moved/again");
    for dir in [&first, &moved] {
        std::fs::create_dir_all(dir.join("tb")).unwrap();
        for src in [
            c.join("edge/tensorboard/tf_summary_write"),
            c.join("edge/inspect/logs"),
        ] {
            for entry in std::fs::read_dir(&src).unwrap() {
                let f = entry.unwrap().path();
                let to = if f.to_string_lossy().contains("tfevents") {
                    dir.join("tb").join(f.file_name().unwrap())
                } else {
                    dir.join(f.file_name().unwrap())
                };
                std::fs::copy(&f, to).unwrap();
            }
        }
    }
    let out = p.ox(&["import", first.to_str().unwrap()]);
    assert!(
        stderr(&out).contains("imported 3, updated 0, failed 0"),
        "{}",
        stderr(&out)
    );
    let out = p.ox(&["import", moved.to_str().unwrap()]);
    assert!(
        stderr(&out).contains("imported 0, updated 3, failed 0"),
        "{}",
        stderr(&out)
    );
    assert_eq!(json_rows(&p, &["ls", "--format", "json"]).len(), 3);
}
