#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `ox stats` end to end: runs written in the real on-disk format, the real binary, and its
//! `--format json` compared with SciPy's values for the same numbers
//! (`ox-analysis/tests/reference/reference.json`, section `cli` / `cli_paired`).

use ox_core::Status;
use ox_test_support::{TestProject, stderr, stdout};
use serde_json::{Value, json};

fn reference() -> Value {
    serde_json::from_str(include_str!(
        "../../ox-analysis/tests/reference/reference.json"
    ))
    .unwrap()
}

#[track_caller]
fn close(what: &str, got: &Value, want: &Value) {
    match (got.as_f64(), want.as_f64()) {
        (Some(g), Some(w)) => assert!(
            (g - w).abs() <= 1e-9 * w.abs().max(1e-300),
            "{what}: {g} vs SciPy {w}"
        ),
        _ => assert_eq!(got, want, "{what}"),
    }
}

/// A loss series that decays to `last` over 20 steps.
fn series(last: f64) -> Vec<(i64, Vec<(&'static str, f64)>)> {
    (0..20)
        .map(|s| {
            (
                s,
                vec![(
                    "loss",
                    last + 2.0 * (-(s as f64) / 3.0).exp() - 2.0 * (-19.0f64 / 3.0).exp(),
                )],
            )
        })
        .collect()
}

fn scenario() -> (TestProject, Value) {
    let r = reference();
    let mut p = TestProject::new(env!("CARGO_BIN_EXE_ox"));
    for run in r["cli"]["runs"].as_array().unwrap() {
        let params = json!({"lr": run["lr"], "seed": run["seed"], "model": {"size": "small"}});
        let loss = run["loss"].as_f64().unwrap();
        p.add_run(
            "sweep",
            &format!("lr{}-s{}", run["lr"], run["seed"]),
            Status::Completed,
            params,
            &series(loss),
        );
    }
    // A run whose loss went NaN, and one that never logged the metric.
    let nan = p.add_run(
        "sweep",
        "nan",
        Status::Completed,
        json!({"lr": 0.001, "seed": 4, "model": {"size": "small"}}),
        &[],
    );
    std::fs::write(
        p.project.metrics_path(&nan),
        "{\"step\": 0, \"loss\": 2.0}\n{\"step\": 1, \"loss\": NaN}\n",
    )
    .unwrap();
    p.add_run(
        "sweep",
        "no-loss",
        Status::Completed,
        json!({"lr": 0.003, "seed": 4}),
        &[(0, vec![("acc", 0.5)])],
    );
    (p, r)
}

#[test]
fn stats_json_matches_scipy() {
    let (p, r) = scenario();
    let out = p.ox(&[
        "stats",
        "--metric",
        "loss",
        "--format",
        "json",
        "--bootstrap",
        "2000",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let j: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(j["metric"], "loss");
    assert_eq!(j["summary"], "last");
    assert_eq!(j["mode"], "min");
    assert_eq!(j["mode_source"], "metric name");
    assert_eq!(j["confidence"], 0.95);
    assert_eq!(
        j["group_by"],
        json!(["lr"]),
        "seed is never grouped on, model.size does not vary"
    );
    let want = r["cli"]["groups"].as_array().unwrap();
    let got = j["groups"].as_array().unwrap();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        let lr = &w["lr"];
        assert_eq!(g["key"], json!({"lr": lr}));
        assert_eq!(g["n"], w["n"], "lr={lr}");
        assert_eq!(
            g["runs"].as_array().unwrap().len() as u64,
            w["n"].as_u64().unwrap()
        );
        for k in ["mean", "median", "std", "sem"] {
            close(&format!("lr={lr} {k}"), &g[k], &w[k]);
        }
        match &w["ci"] {
            Value::Null => assert_eq!(g["ci"], Value::Null),
            ci => {
                close("ci low", &g["ci"][0], &ci[0]);
                close("ci high", &g["ci"][1], &ci[1]);
                let boot = &g["bootstrap_ci"];
                assert!(boot[0].as_f64().unwrap() <= boot[1].as_f64().unwrap());
            }
        }
        match &w["vs_best"] {
            Value::Null => assert_eq!(
                g["vs_best"],
                Value::Null,
                "the best group has no comparison"
            ),
            vs => {
                for k in [
                    "welch_t",
                    "welch_df",
                    "welch_p",
                    "mannwhitney_u",
                    "mannwhitney_p",
                    "p_holm",
                    "cohen_d",
                ] {
                    close(&format!("lr={lr} {k}"), &g["vs_best"][k], &vs[k]);
                }
            }
        }
        assert_eq!(g["fragile"], json!(w["n"].as_u64().unwrap() < 3));
    }
    assert_eq!(got[3]["note"], "n = 1: no std, interval or tests");
    assert_eq!(j["best"], json!({"lr": 0.001}));
    // Welch p = 0.044 against the runner-up, but Holm-corrected 0.088: no crowning.
    assert_eq!(j["clear_winner"], false);
    assert!(
        j["verdict"]
            .as_str()
            .unwrap()
            .starts_with("no clear winner at α=0.05"),
        "{}",
        j["verdict"]
    );
    let imp = &j["importance"][0];
    assert_eq!(imp["param"], "lr");
    close("eta_squared", &imp["eta_squared"], &r["cli"]["eta_squared"]);
    close(
        "spearman_rho",
        &imp["spearman_rho"],
        &r["cli"]["spearman_rho"],
    );
    assert!(
        imp["sentence"]
            .as_str()
            .unwrap()
            .contains("higher lr goes with higher loss")
    );
    let excluded: Vec<String> = j["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(excluded.len(), 2, "{excluded:?}");
    assert!(excluded.contains(&"no metric 'loss'".to_string()));
    assert!(excluded.contains(&"metric 'loss' is NaN".to_string()));
    let diverged: Vec<&Value> = j["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["diverged"] == true)
        .collect();
    assert_eq!(diverged.len(), 1);
    assert_eq!(diverged[0]["diverged_step"], 1);
    assert_eq!(j["cost_kind"], "duration_s");
}

#[test]
fn stats_text_csv_md_latex_and_usage_errors() {
    let (p, _) = scenario();
    let text = stdout(&p.ox(&["stats", "--metric", "loss"]));
    assert!(
        text.contains("lower is better (from the metric's name)"),
        "{text}"
    );
    assert!(text.contains("no clear winner at α=0.05"), "{text}");
    assert!(text.contains("Excluded "), "{text}");
    let csv = stdout(&p.ox(&["stats", "--metric", "loss", "--format", "csv"]));
    assert!(csv.starts_with("rank,lr,n,mean,"), "{csv}");
    assert_eq!(csv.lines().count(), 5);
    let md = stdout(&p.ox(&["stats", "--metric", "loss", "--format", "md"]));
    assert!(md.contains("| rank |"), "{md}");
    let tex = stdout(&p.ox(&["stats", "--metric", "loss", "--format", "latex"]));
    assert!(
        tex.contains("\\begin{tabular}") && tex.contains("\\toprule"),
        "{tex}"
    );
    // --mode overrides the name; the best flips to the highest loss.
    let j: Value = serde_json::from_str(&stdout(&p.ox(&[
        "stats", "--metric", "loss", "--mode", "max", "--format", "json",
    ])))
    .unwrap();
    assert_eq!(j["best"], json!({"lr": 0.03}));
    assert_eq!(j["mode_source"], "flag");
    // A metric no run has is named as such, before any question of direction.
    let unknown = p.ox(&["stats", "--metric", "tokens"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("no selected run has metric 'tokens'")
            && stderr(&unknown).contains("metrics of the selected runs: acc, loss"),
        "{}",
        stderr(&unknown)
    );
    let missing = p.ox(&["stats", "--metric", "nope", "--mode", "min"]);
    assert_eq!(missing.status.code(), Some(2));
    // --where selects runs with the query language.
    let out = p.ox(&[
        "stats",
        "--metric",
        "loss",
        "--where",
        "lr < 0.02",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let j: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let lrs: Vec<&Value> = j["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| &g["key"]["lr"])
        .collect();
    assert_eq!(lrs, [&json!(0.001), &json!(0.003), &json!(0.01)]);
    assert_eq!(j["excluded"].as_array().unwrap().len(), 2);
    let bad = p.ox(&["stats", "--metric", "loss", "--where", "lr <"]);
    assert_eq!(bad.status.code(), Some(2));
    let bad = p.ox(&["stats", "--metric", "loss", "--group-by", "nope"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("params of the selected runs: lr, model.size, seed"),
        "{}",
        stderr(&bad)
    );
    // Grouping on seed explicitly is allowed: every run its own group here.
    let j: Value = serde_json::from_str(&stdout(&p.ox(&[
        "stats",
        "--metric",
        "loss",
        "--group-by",
        "lr,seed",
        "--format",
        "json",
    ])))
    .unwrap();
    assert_eq!(j["group_by"], json!(["lr", "seed"]));
    assert_eq!(j["groups"].as_array().unwrap().len(), 9);
}

#[test]
fn paired_comparison_matches_scipy() {
    let r = reference();
    let c = &r["cli_paired"];
    let mut p = TestProject::new(env!("CARGO_BIN_EXE_ox"));
    let mut ids = Vec::new();
    for (name, m, g) in [("a", "match_a", "graded_a"), ("b", "match_b", "graded_b")] {
        let id = p.add_run(
            "eval",
            name,
            Status::Completed,
            json!({"model": name}),
            &[(0, vec![("match/accuracy", 0.5)])],
        );
        let mut lines = String::new();
        for (i, v) in c[m].as_array().unwrap().iter().enumerate() {
            let letter = if v.as_f64().unwrap() == 1.0 { "C" } else { "I" };
            lines.push_str(&format!(
                "{}\n",
                json!({"id": i, "epoch": 1, "scorer": "match", "value": letter, "score": v})
            ));
        }
        for (i, v) in c[g].as_array().unwrap().iter().enumerate() {
            lines.push_str(&format!("{}\n", json!({"id": format!("g{i}"), "epoch": 1, "scorer": "graded", "value": v, "score": v})));
        }
        std::fs::write(p.project.samples_path(&id), lines).unwrap();
        ids.push(id.to_string());
    }
    let out = p.ox(&["stats", "--paired", &ids[0], &ids[1], "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let j: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(j["scorer"], "match");
    assert_eq!(j["n"], 200);
    let a: Vec<f64> = c["match_a"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let b: Vec<f64> = c["match_b"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let diff = a.iter().zip(&b).map(|(x, y)| x - y).sum::<f64>() / 200.0;
    close("mean_diff", &j["mean_diff"], &json!(diff));
    let binary200 = r["paired"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "binary200")
        .unwrap();
    assert_eq!(j["mcnemar"]["b"], binary200["mcnemar"]["b"]);
    assert_eq!(j["mcnemar"]["c"], binary200["mcnemar"]["c"]);
    close("mcnemar p", &j["mcnemar"]["p"], &binary200["mcnemar"]["p"]);
    let (ci_lo, ci_hi) = (j["ci"][0].as_f64().unwrap(), j["ci"][1].as_f64().unwrap());
    assert!(ci_lo < diff && diff < ci_hi);
    assert_eq!(j["permutation_method"], "monte_carlo");
    // Monte-Carlo p (10,000 sign patterns) within its error of SciPy's (200,000 patterns).
    let want_p = binary200["permutation_p"].as_f64().unwrap();
    let se = (want_p * (1.0 - want_p) / 10_000.0).sqrt()
        + binary200["permutation_p_se"].as_f64().unwrap();
    let got_p = j["permutation_p"].as_f64().unwrap();
    assert!(
        (got_p - want_p).abs() <= 5.0 * se,
        "permutation p {got_p} vs SciPy {want_p} ± {se}"
    );

    let out = p.ox(&[
        "stats", "--paired", &ids[0], &ids[1], "--scorer", "graded", "--format", "json",
    ]);
    let j: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!((j["n"].as_u64(), &j["mcnemar"]), (Some(12), &Value::Null));
    close("graded mean_diff", &j["mean_diff"], &c["graded_mean_diff"]);
    assert_eq!(j["permutation_method"], "exact");
    close(
        "graded permutation_p",
        &j["permutation_p"],
        &c["graded_permutation_p"],
    );

    let bad = p.ox(&["stats", "--paired", &ids[0], &ids[1], "--scorer", "nope"]);
    assert_eq!(bad.status.code(), Some(2));
    let plain = p.add_run("eval", "no-samples", Status::Completed, json!({}), &[]);
    let bad = p.ox(&["stats", "--paired", &ids[0], &plain.to_string()]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("ox import"), "{}", stderr(&bad));
}

#[test]
fn only_completed_runs_count_unless_a_status_is_chosen() {
    let mut p = TestProject::new(env!("CARGO_BIN_EXE_ox"));
    for (seed, loss) in [(1, 0.5), (2, 0.6), (3, 0.7)] {
        p.add_run(
            "s",
            &format!("ok{seed}"),
            Status::Completed,
            json!({"lr": 0.1, "seed": seed}),
            &[(0, vec![("loss", 2.0)]), (9, vec![("loss", loss)])],
        );
    }
    // Stopped at step 0: its "last" loss is a partial value.
    let failed = p.add_run(
        "s",
        "failed",
        Status::Failed,
        json!({"lr": 0.1, "seed": 4}),
        &[(0, vec![("loss", 2.0)])],
    );
    let json_of = |args: &[&str]| -> Value {
        let out = p.ox(args);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_str(&stdout(&out)).unwrap()
    };
    let j = json_of(&["stats", "--metric", "loss", "--format", "json"]);
    assert_eq!(j["groups"][0]["n"], 3);
    assert_eq!(j["excluded"][0]["id"], failed.as_str());
    let reason = j["excluded"][0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("status failed"), "{reason}");
    // Choosing statuses, by flag or in the query, counts the run.
    let j = json_of(&[
        "stats",
        "--metric",
        "loss",
        "--format",
        "json",
        "--where",
        "status IN ('completed', 'failed')",
    ]);
    assert_eq!(j["groups"][0]["n"], 4);
    assert_eq!(j["excluded"].as_array().unwrap().len(), 0);
    let j = json_of(&[
        "stats", "--metric", "loss", "--format", "json", "--status", "failed",
    ]);
    assert_eq!(j["groups"][0]["n"], 1);
    // Selecting only runs that are not completed says why nothing is left.
    let none = p.ox(&["stats", "--metric", "loss", "--where", "name = 'failed'"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(
        stderr(&none).contains("--status failed"),
        "{}",
        stderr(&none)
    );
}
