#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Saying no to what cannot be right (issue 10 §2): each bad input is a usage error (exit 2)
//! whose message says what is wrong and what exists, and the same names are checked the
//! same way in every flag. Plus snapshots of `ox ls` and `ox stats` on a fixed project.

use ox_core::Status;
use ox_test_support::{TestProject, stderr, stdout};
use serde_json::json;

fn sweep() -> TestProject {
    TestProject::sweep(env!("CARGO_BIN_EXE_ox"))
}

/// Runs `args`, expects exit 2 and every `needles` in stderr; returns stderr.
#[track_caller]
fn usage_error(p: &TestProject, args: &[&str], needles: &[&str]) -> String {
    let out = p.ox(args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: missing {n:?} in\n{err}");
    }
    err
}

#[test]
fn query_type_mismatches_and_bad_dates_are_errors_with_a_caret() {
    let p = sweep();
    let err = usage_error(
        &p,
        &["query", "name > 5"],
        &[
            "error: name is text, but this is not a quoted string",
            "hint: quote it",
        ],
    );
    assert!(err.contains("  name > 5\n         ^\n"), "{err}");
    usage_error(
        &p,
        &["ls", "--where", "created > 'yesterday'"],
        &["not a date or time: 'yesterday'", "^^^^^^^^^^^"],
    );
    usage_error(
        &p,
        &["query", "ended < '2026-13-45'"],
        &["not a date or time: '2026-13-45'"],
    );
    // Durations as tables print them.
    let out = p.ox(&["query", "duration > '10ms'", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let runs: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 5);
    let out = p.ox(&["query", "duration > '20s'", "--format", "json"]);
    let runs: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        runs.as_array().unwrap().len(),
        3,
        "runs take 10, 20, … 50 s"
    );
}

#[test]
fn sort_and_columns_names_are_checked_like_queries() {
    let p = sweep();
    usage_error(
        &p,
        &["ls", "--sort", "nonexistent"],
        &[
            "error: --sort nonexistent: unknown name `nonexistent`",
            "params: lr, model.layers, seed",
        ],
    );
    usage_error(
        &p,
        &["ls", "--sort", "-los"],
        &["did you mean metrics.loss (metric)?"],
    );
    usage_error(
        &p,
        &["ls", "--columns", "name,bogus"],
        &["error: --columns bogus: unknown name `bogus`"],
    );
    usage_error(
        &p,
        &["query", "lr > 0", "--columns", "name,lrr"],
        &["did you mean lr (param)?"],
    );
    // Names written the query way work in both flags.
    let out = p.ox(&[
        "ls",
        "--sort",
        "-metrics.loss.min",
        "--columns",
        "name,lr,metrics.`train/acc`.max",
        "--format",
        "csv",
        "--study",
        "sweep",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = stdout(&out);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "name,lr,train/acc.max", "{csv}");
    assert!(lines[1].starts_with("lr1-s"), "{csv}");
    usage_error(
        &p,
        &["ls", "--limit", "0"],
        &["--limit 0 would show no runs"],
    );
}

#[test]
fn show_refuses_short_prefixes_and_counts_ambiguity() {
    let mut p = sweep();
    let a = p.add_run("sweep", "twin", Status::Completed, json!({}), &[]);
    let b = p.add_run("sweep", "twin", Status::Completed, json!({}), &[]);
    usage_error(
        &p,
        &["show", &a.as_str()[..2]],
        &["is too short for an id prefix (4 characters at least); 7 run ids start with it"],
    );
    // The longest prefix all 7 ids share.
    let out = p.ox(&["ls", "--format", "json"]);
    let runs: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let ids: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let common = (0..a.as_str().len())
        .take_while(|&i| {
            ids.iter()
                .all(|id| id.as_bytes()[i] == ids[0].as_bytes()[i])
        })
        .count();
    assert!(common >= 4, "{ids:?}");
    usage_error(
        &p,
        &["show", &ids[0][..common]],
        &["matches 7 runs", "use more characters of the id"],
    );
    usage_error(
        &p,
        &["show", "sweep/twin"],
        &[
            "matches 2 runs",
            a.as_str(),
            b.as_str(),
            "these runs share their study and name: name one by its id",
        ],
    );
    usage_error(
        &p,
        &["show", "lr0-s1", "--format", "csv"],
        &["invalid value 'csv'", "[possible values: table, json]"],
    );
}

/// The fixed sweep as `ox ls` prints it (ids and times are deterministic in the fixture;
/// ISO times are redacted all the same).
#[test]
fn ls_snapshot() {
    let p = sweep();
    let out = p.ox(&["ls"]);
    assert!(out.status.success(), "{}", stderr(&out));
    insta::with_settings!({filters => vec![
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", "[TIME]"),
    ]}, {
        insta::assert_snapshot!(stdout(&out));
    });
}

/// `ox stats` on a fixed project: three learning rates × 3 seeds, text report.
#[test]
fn stats_snapshot() {
    let mut p = TestProject::new(env!("CARGO_BIN_EXE_ox"));
    for (lr, base) in [(0.1, 0.40), (0.01, 0.30), (0.001, 0.35)] {
        for seed in 1..=3 {
            let metrics: Vec<(i64, Vec<(&str, f64)>)> = (0..30)
                .map(|s| {
                    let noise = 0.01 * f64::from(seed) - 0.02;
                    (
                        i64::from(s),
                        vec![("loss", base + noise + 1.5 * 0.8f64.powi(s))],
                    )
                })
                .collect();
            p.add_run(
                "sweep",
                &format!("lr{lr}-s{seed}"),
                Status::Completed,
                json!({"lr": lr, "seed": seed}),
                &metrics,
            );
        }
    }
    let out = p.ox(&["stats", "--metric", "loss"]);
    assert!(out.status.success(), "{}", stderr(&out));
    insta::with_settings!({filters => vec![
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", "[TIME]"),
    ]}, {
        insta::assert_snapshot!(stdout(&out));
    });
}

#[test]
fn a_param_and_its_nested_keys_are_refused_in_either_order() {
    let p = TestProject::new(env!("CARGO_BIN_EXE_ox"));
    for args in [
        ["run", "-p", "a.b=2", "-p", "a=1", "--", "true"],
        ["run", "-p", "a=1", "-p", "a.b=2", "--", "true"],
    ] {
        usage_error(&p, &args, &["bad parameter"]);
    }
    let out = p.ox(&["ls", "--format", "json"]);
    assert_eq!(stdout(&out).trim(), "[]", "no run was started");
}
