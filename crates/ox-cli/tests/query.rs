#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `ox query` and `ox ls --where` on the real binary.

use ox_test_support::{TestProject, stderr, stdout};
use serde_json::Value;

/// The shared sweep fixture ([`TestProject::sweep`]).
fn project() -> TestProject {
    TestProject::sweep(env!("CARGO_BIN_EXE_ox"))
}

fn names(p: &TestProject, args: &[&str]) -> Vec<String> {
    let mut full = args.to_vec();
    full.extend(["--format", "json"]);
    let out = p.ox(&full);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    let rows: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    rows.iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn query_selects_and_sorts() {
    let p = project();
    assert_eq!(
        names(
            &p,
            &[
                "query",
                "study = 'sweep' AND lr < 0.05 ORDER BY metrics.loss"
            ]
        ),
        ["lr1-s2", "lr1-s1"]
    );
    // Words are joined, so the query need not be one argument.
    assert_eq!(
        names(&p, &["query", "seed", "=", "2", "ORDER", "BY", "lr"]),
        ["lr1-s2", "lr0-s2"]
    );
    // A run without the metric (its only value was NaN) sorts last both ways.
    assert_eq!(
        names(&p, &["query", "ORDER BY metrics.loss DESC"]),
        ["lr1-s1", "lr1-s2", "lr0-s1", "lr0-s2", "crashy"]
    );
    assert_eq!(
        names(&p, &["query", "ORDER BY metrics.loss"]),
        ["lr0-s2", "lr0-s1", "lr1-s2", "lr1-s1", "crashy"]
    );
    assert_eq!(names(&p, &["query"]).len(), 5);
    assert_eq!(
        names(&p, &["query", "metrics.`train/acc`.max = 0.4 LIMIT 1"]),
        ["lr0-s1"]
    );
}

#[test]
fn json_output_follows_the_runs_contract() {
    let p = project();
    let out = p.ox(&["query", "name = 'lr0-s1'", "--format", "json"]);
    let rows: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    let row = &rows[0];
    assert_eq!(row["study"], "sweep");
    assert_eq!(row["params"]["model"]["layers"], 2);
    assert_eq!(row["metrics"]["loss"]["count"], 5);
    assert!(row["duration_s"].is_number());
}

#[test]
fn table_shows_varying_params_and_the_metrics_in_the_query() {
    let p = project();
    let out = p.ox(&[
        "query",
        "metrics.`train/acc`.max > 0.3 AND metrics.loss.min < 2",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let header = text.lines().next().unwrap();
    for col in ["name", "lr", "seed", "train/acc.max", "loss.min"] {
        assert!(header.contains(col), "{col} missing from {header:?}");
    }
    assert!(!header.contains("layers"), "{header:?}");
    let out = p.ox(&[
        "query",
        "lr = 0.1",
        "--format",
        "csv",
        "--columns",
        "name,seed",
    ]);
    assert_eq!(stdout(&out), "name,seed\nlr0-s1,1\nlr0-s2,2\n");
    // Columns may be written as in queries: backticks, summaries.
    let out = p.ox(&[
        "query",
        "lr = 0.1",
        "--format",
        "csv",
        "--columns",
        "name,metrics.`train/acc`.count",
    ]);
    assert_eq!(stdout(&out), "name,train/acc.count\nlr0-s1,5\nlr0-s2,5\n");
}

#[test]
fn bad_queries_exit_2_with_a_caret_and_a_hint() {
    let p = project();
    let out = p.ox(&["query", "study = 'sweep' AND lrr > 3e-4"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: unknown name `lrr`\n  study = 'sweep' AND lrr > 3e-4\n                      ^^^\nhint: did you mean lr (param)?\n"
    );
    let out = p.ox(&["query", "metrics.loss < 'x'"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("                 ^^^\n"),
        "{}",
        stderr(&out)
    );
    let out = p.ox(&["ls", "--where", "status = 'complete'"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("hint: did you mean 'completed'?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn ls_where_combines_with_the_other_filters() {
    let p = project();
    assert_eq!(
        names(&p, &["ls", "--where", "lr >= 0.1"]),
        ["lr0-s1", "lr0-s2", "crashy"]
    );
    assert_eq!(
        names(
            &p,
            &[
                "ls",
                "--where",
                "metrics.loss < 1",
                "--status",
                "completed",
                "--sort",
                "-seed",
                "--limit",
                "3"
            ]
        ),
        ["lr0-s2", "lr1-s2", "lr0-s1"]
    );
    assert_eq!(
        names(&p, &["ls", "--where", "lr >= 0.1", "-s", "other"]),
        ["crashy"]
    );
    assert_eq!(
        names(&p, &["ls", "--where", "lr >= 0.01 LIMIT 3", "--limit", "2"]),
        ["lr0-s1", "lr0-s2"]
    );
    let out = p.ox(&[
        "ls",
        "--where",
        "seed = 1",
        "--format",
        "csv",
        "--columns",
        "name",
    ]);
    assert_eq!(stdout(&out), "name\nlr0-s1\nlr1-s1\n");
}
