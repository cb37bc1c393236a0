#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `ox record` and `ox notes` end to end: records filled from the runs (golden file), and
//! a second run that refreshes only the generated blocks, keeping what a person wrote.

use std::io::Write;

use ox_core::Status;
use ox_test_support::{TestProject, stderr, stdout};

/// Two seeds of one config with batch params, a dataset recorded the way the Python client
/// records it (a line in the metrics file) and an artifact in run.json.
fn project() -> TestProject {
    let mut p = TestProject::new(env!("CARGO_BIN_EXE_ox"));
    for seed in 1..=2 {
        let metrics: Vec<(i64, Vec<(&str, f64)>)> = (0..10)
            .map(|s| {
                (
                    s,
                    vec![("loss", 2.0 / (1.0 + s as f64) + 0.01 * f64::from(seed))],
                )
            })
            .collect();
        let id = p.add_run(
            "lora",
            &format!("r16-s{seed}"),
            Status::Completed,
            serde_json::json!({"lr": 5e-5, "seed": seed, "train": {"batch_size": 8, "gradient_accumulation_steps": 4}, "max_seq_len": 512}),
            &metrics,
        );
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(p.project.metrics_path(&id))
            .unwrap();
        writeln!(
            f,
            r#"{{"type": "dataset", "dataset": {{"path": "/data/alpaca.jsonl", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "bytes": 2048, "rows": 52, "name": "alpaca"}}}}"#
        )
        .unwrap();
    }
    p
}

#[test]
fn record_is_filled_from_the_runs_and_keeps_human_edits() {
    let p = project();
    let out = p.ox(&[
        "record",
        "lora/r16-s1",
        "lora/r16-s2",
        "--title",
        "LoRA r16 baseline",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let path = p.root().join("experiments/2026-11-23_lora-r16-baseline.md");
    assert_eq!(stdout(&out).trim(), path.display().to_string());
    let text = std::fs::read_to_string(&path).unwrap();
    insta::assert_snapshot!("record_md", text);
    assert!(text.contains("Effective batch size: 32 (`train.batch_size` = 8 × `train.gradient_accumulation_steps` = 4)"));
    assert!(text.contains("Tokens per update: 16384"));
    assert!(
        text.contains(
            "`alpaca`: `9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08`"
        )
    );

    // A person fills in the goals and scribbles inside a generated block.
    let edited = text
        .replace(
            "- What question does this experiment answer?",
            "- Does rank 16 suffice?",
        )
        .replace("- **Seed(s):** 1, 2", "- **Seed(s):** scribbled");
    std::fs::write(&path, &edited).unwrap();
    let out = p.ox(&[
        "record",
        "lora/r16-s1",
        "lora/r16-s2",
        "--title",
        "LoRA r16 baseline",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("refreshed 5 generated block(s)"),
        "{}",
        stderr(&out)
    );
    let again = std::fs::read_to_string(&path).unwrap();
    assert!(again.contains("- Does rank 16 suffice?"), "human text kept");
    assert!(
        again.contains("- **Seed(s):** 1, 2"),
        "generated block restored"
    );
    assert_eq!(
        again,
        text.replace(
            "- What question does this experiment answer?",
            "- Does rank 16 suffice?"
        )
    );
}

#[test]
fn record_of_an_unknown_run_suggests_names() {
    let p = project();
    let out = p.ox(&["record", "r16-s3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("hint:"), "{}", stderr(&out));
}

#[test]
fn notes_tables_and_study_findings() {
    let p = project();
    let out = p.ox(&["notes", "lora/r16-s1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let notes = std::fs::read_to_string(p.root().join("studies/lora/r16-s1/NOTES.md")).unwrap();
    assert!(notes.contains("| Final loss | 0.21 (step 9) |"), "{notes}");
    assert!(notes.contains("| Best loss | 0.21 (step 9) |"), "{notes}");
    assert!(notes.contains("| Wall time | 10 s |"), "{notes}");
    assert!(notes.contains("## Conclusions"), "{notes}");

    let out = p.ox(&["notes", "lora"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let study = std::fs::read_to_string(p.root().join("studies/lora/NOTES.md")).unwrap();
    assert!(
        study.contains("| r16-s2 | completed | 0.22 | 0.22 (9) | 20 s |"),
        "{study}"
    );

    let readme = p.root().join("studies/lora/README.md");
    std::fs::write(&readme, "# LoRA study\n\nWritten by me.\n").unwrap();
    let out = p.ox(&["notes", "--study", "lora"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&readme).unwrap();
    assert!(
        text.starts_with("# LoRA study\n\nWritten by me.\n\n<!-- ox:begin key-findings"),
        "{text}"
    );
    assert!(text.contains("1. `loss`: only one configuration (all runs, 0.215 [0.1515, 0.2785] (n=2)); nothing to compare."), "{text}");
}

#[test]
fn show_lists_recorded_datasets() {
    let p = project();
    let out = p.ox(&["show", "lora/r16-s1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("alpaca  /data/alpaca.jsonl  9f86d081884c  2.0 KiB    52"),
        "{}",
        stdout(&out)
    );
    let json: serde_json::Value =
        serde_json::from_slice(&p.ox(&["show", "lora/r16-s1", "--format", "json"]).stdout).unwrap();
    assert_eq!(json["provenance"]["datasets"][0]["rows"], 52);
}
