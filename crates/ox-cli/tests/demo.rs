#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `ox demo` end to end: the embedded script and client, `ox run`, the Python client and
//! `ox ls` together.

use serde_json::Value;

#[test]
fn demo_runs_a_real_sweep_and_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let ox = env!("CARGO_BIN_EXE_ox");
    let out = std::process::Command::new(ox)
        .current_dir(dir.path())
        .env_remove("OX_DIR")
        .args(["demo", "--dir", "d"])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("lr=0.1,seed=2"), "{stdout}");
    assert!(stderr.contains("[9/9]"), "{stderr}");
    assert!(stderr.contains("report: "), "{stderr}");
    let report = dir.path().join("d/reports/demo/report.md");
    let report = std::fs::read_to_string(&report).unwrap();
    assert!(report.contains("## Key findings"), "{report}");

    let ls = std::process::Command::new(ox)
        .current_dir(dir.path().join("d"))
        .env_remove("OX_DIR")
        .args(["ls", "--format", "json"])
        .output()
        .unwrap();
    let runs: Vec<Value> = serde_json::from_slice(&ls.stdout).unwrap();
    assert_eq!(runs.len(), 9);
    for run in &runs {
        assert_eq!(run["status"], "completed", "{run}");
        assert_eq!(run["study"], "demo");
        assert_eq!(run["sweep"], "demo");
        assert!(
            run["metrics"]["val_loss"]["count"].as_u64().unwrap() > 5,
            "{run}"
        );
        assert!(run["params"]["lr"].is_number() && run["params"]["seed"].is_number());
        // Params the script declared through the client are merged with ox run's.
        assert!(run["params"]["steps"].is_number(), "{run}");
    }
    // Learning rate matters: the smallest one has clearly not converged.
    let mean_loss = |lr: f64| {
        let v: Vec<f64> = runs
            .iter()
            .filter(|r| r["params"]["lr"].as_f64() == Some(lr))
            .map(|r| r["metrics"]["val_loss"]["last"].as_f64().unwrap())
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    assert!(mean_loss(0.01) > mean_loss(0.1) + 0.1);

    let again = std::process::Command::new(ox)
        .current_dir(dir.path())
        .args(["demo", "--dir", "d"])
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(2),
        "a second demo into the same directory is refused"
    );
}
