#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `ox ls` default columns fit the terminal: imported runs with dozens of params must not
//! print rows a thousand characters wide.

use ox_core::Status;
use ox_test_support::{TestProject, stderr, stdout};

fn wide_project() -> TestProject {
    let mut p = TestProject::new(env!("CARGO_BIN_EXE_ox"));
    for i in 0..6_i64 {
        let mut params = serde_json::Map::new();
        params.insert("lr".into(), [0.1, 0.01, 0.001][i as usize % 3].into());
        params.insert(
            "output_dir".into(),
            format!("/scratch/someone/experiments/2026-11-23/run-{i}").into(),
        );
        for k in 0..40 {
            params.insert(format!("trainer.option_{k:02}"), (i * (k + 1)).into());
        }
        p.add_run(
            "imported",
            &format!("an-imported-run-with-a-rather-long-name-{i}"),
            Status::Completed,
            serde_json::Value::Object(params),
            &[(0, vec![("val_loss", 1.0 / (i + 1) as f64)])],
        );
    }
    p
}

#[test]
fn default_columns_fit_columns_and_name_what_was_left_out() {
    let p = wide_project();
    for width in [80, 120] {
        let out = p
            .command()
            .env("COLUMNS", width.to_string())
            .arg("ls")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.lines().all(|l| l.chars().count() <= width),
            "{width}:\n{text}"
        );
        let header = text.lines().next().unwrap();
        // The sweep axis first, the key metric kept, run names shortened with an ellipsis.
        assert!(header.contains("  lr  "), "{header}");
        assert!(header.ends_with("val_loss"), "{header}");
        assert!(text.contains('…'), "{text}");
        let note = stderr(&out);
        assert!(note.contains(" more params ("), "{note}");
        assert!(note.contains("--columns"), "{note}");
    }
    // CSV and JSON are never shortened and keep every param.
    let csv = stdout(&p.ox(&["ls", "--format", "csv"]));
    assert!(csv.contains("an-imported-run-with-a-rather-long-name-0"));
    assert!(csv.lines().next().unwrap().contains("trainer.option_39"));
    assert!(!csv.contains('…'));
}
