#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `ox stats` says only what the data support (issue 10 §1), end to end on the real binary:
//! a smooth decay is not a divergence, outliers need a group of 5, the Pareto set and cost
//! columns, claims with their tests, and the metric/summary/param errors.

use ox_core::Status;
use ox_test_support::{TestProject, stderr, stdout};
use serde_json::{Value, json};

/// `loss = 2·0.9^step (+ an offset per lr)`, 200 steps, 3 seeds per lr.
fn decay_project() -> TestProject {
    let mut p = TestProject::new(env!("CARGO_BIN_EXE_ox"));
    for (lr, offset) in [(0.1, 0.30), (0.01, 0.10), (0.001, 0.20)] {
        for seed in 1..=3 {
            let metrics: Vec<(i64, Vec<(&str, f64)>)> = (0..200)
                .map(|s| {
                    let loss = offset + 0.001 * f64::from(seed) + 2.0 * 0.9f64.powi(s);
                    (i64::from(s), vec![("loss", loss)])
                })
                .collect();
            p.add_run(
                "decay",
                &format!("lr{lr}-s{seed}"),
                Status::Completed,
                json!({"lr": lr, "seed": seed}),
                &metrics,
            );
        }
    }
    p
}

fn json_of(p: &TestProject, args: &[&str]) -> Value {
    let out = p.ox(args);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[test]
fn smooth_decay_is_converged_not_diverged() {
    let p = decay_project();
    let j = json_of(&p, &["stats", "--metric", "loss", "--format", "json"]);
    let diags = j["diagnostics"].as_array().unwrap();
    assert_eq!(diags.len(), 9);
    for d in diags {
        assert_eq!(d["diverged"], false, "{d}");
        assert_eq!(d["plateau"], true, "{d}");
        assert!(d["converged_step"].as_i64().unwrap() < 100, "{d}");
        assert!(d["name"].as_str().unwrap().starts_with("lr"), "{d}");
    }
    let text = stdout(&p.ox(&["stats", "--metric", "loss"]));
    assert!(!text.contains("diverged"), "{text}");
    assert!(
        text.contains("9 run(s) plateaued in the first half"),
        "{text}"
    );
}

#[test]
fn a_real_blow_up_is_reported_by_name() {
    let mut p = decay_project();
    let metrics: Vec<(i64, Vec<(&str, f64)>)> = (0..200)
        .map(|s| {
            let loss = if s < 100 {
                2.0 * 0.97f64.powi(s)
            } else {
                0.1 * 1.1f64.powi(s - 100)
            };
            (i64::from(s), vec![("loss", loss)])
        })
        .collect();
    let id = p.add_run(
        "decay",
        "exploded",
        Status::Completed,
        json!({"lr": 1.0, "seed": 1}),
        &metrics,
    );
    let text = stdout(&p.ox(&["stats", "--metric", "loss"]));
    assert!(
        text.contains(&format!("Run exploded ({id}) diverged at step")),
        "{text}"
    );
    assert_eq!(text.matches("diverged").count(), 1, "{text}");
}

/// lr 0.1: six seeds, one far off (`odd`); lr 0.2: three seeds, one far off (too few to
/// tell). Durations grow with each run written (10 s × its position).
fn outlier_project() -> TestProject {
    let mut p = TestProject::new(env!("CARGO_BIN_EXE_ox"));
    for (seed, loss) in [0.50, 0.51, 0.49, 0.505, 0.495].iter().enumerate() {
        p.add_run(
            "noisy",
            &format!("a-s{seed}"),
            Status::Completed,
            json!({"lr": 0.1, "seed": seed}),
            &[(0, vec![("loss", *loss)])],
        );
    }
    p.add_run(
        "noisy",
        "odd",
        Status::Completed,
        json!({"lr": 0.1, "seed": 9}),
        &[(0, vec![("loss", 0.9)])],
    );
    for (seed, loss) in [0.40, 0.41, 0.95].iter().enumerate() {
        p.add_run(
            "noisy",
            &format!("b-s{seed}"),
            Status::Completed,
            json!({"lr": 0.2, "seed": seed}),
            &[(0, vec![("loss", *loss)])],
        );
    }
    p
}

#[test]
fn outliers_need_five_seeds_and_are_named() {
    let p = outlier_project();
    let j = json_of(&p, &["stats", "--metric", "loss", "--format", "json"]);
    let groups = j["groups"].as_array().unwrap();
    let by_lr = |lr: f64| groups.iter().find(|g| g["key"]["lr"] == json!(lr)).unwrap();
    let a = by_lr(0.1);
    let out = a["outliers"].as_array().unwrap();
    assert_eq!(out.len(), 1, "{a}");
    assert_eq!(out[0]["name"], "odd");
    assert!(out[0]["p"].as_f64().unwrap() < 0.01);
    assert!(out[0]["grubbs_g"].as_f64().unwrap() > out[0]["critical"].as_f64().unwrap());
    assert_eq!(by_lr(0.2)["outliers"], json!([]), "n = 3 is never flagged");
    let text = stdout(&p.ox(&["stats", "--metric", "loss"]));
    assert!(text.contains("Run odd ("), "{text}");
    assert!(text.contains("outlier: odd"), "{text}");
}

#[test]
fn pareto_set_and_cost_columns() {
    let p = outlier_project();
    let j = json_of(&p, &["stats", "--metric", "loss", "--format", "json"]);
    assert_eq!(j["cost_kind"], "duration_s");
    // Run k (1-based, in writing order) took 10·k seconds: lr 0.1 holds runs 1–6, lr 0.2
    // runs 7–9.
    let groups = j["groups"].as_array().unwrap();
    let cost = |lr: f64| {
        groups.iter().find(|g| g["key"]["lr"] == json!(lr)).unwrap()["cost"]
            .as_f64()
            .unwrap()
    };
    assert!((cost(0.1) - 35.0).abs() < 1e-9, "{}", cost(0.1));
    assert!((cost(0.2) - 80.0).abs() < 1e-9, "{}", cost(0.2));
    // Means: lr 0.1 ≈ 0.567, lr 0.2 ≈ 0.587: lr 0.1 is better and cheaper — it alone is
    // on the front.
    assert_eq!(j["pareto"], json!([{"lr": 0.1}]));
    let text = stdout(&p.ox(&["stats", "--metric", "loss"]));
    assert!(
        text.contains("Pareto set of loss vs duration_s: lr=0.1."),
        "{text}"
    );
}

#[test]
fn claims_without_evidence_say_so() {
    let p = outlier_project();
    let j = json_of(&p, &["stats", "--metric", "loss", "--format", "json"]);
    let imp = &j["importance"][0];
    assert!(imp["anova_p"].as_f64().unwrap() > 0.05, "{imp}");
    let sentence = imp["sentence"].as_str().unwrap();
    assert!(
        sentence.starts_with("no evidence that lr affects loss")
            && sentence.contains("ANOVA p = ")
            && !sentence.contains("goes with"),
        "{sentence}"
    );
    // Two levels: no diminishing-returns sentence.
    assert_eq!(j["diminishing_returns"], json!([]));
}

#[test]
fn metric_and_param_errors_name_what_exists() {
    let p = decay_project();
    let cases: [(&[&str], &str, &str); 4] = [
        (
            &["stats", "--metric", "nosuch"],
            "error: no selected run has metric 'nosuch'",
            "hint: metrics of the selected runs: loss",
        ),
        (
            &["stats", "--metric", "los"],
            "error: no selected run has metric 'los'",
            "hint: did you mean loss?",
        ),
        (
            &["stats", "--metric", "loss:median"],
            "error: 'median' is not a summary of metric 'loss'",
            "hint: a summary is one of: last, first, min, max, mean; e.g. --metric loss:min",
        ),
        (
            &["stats", "--metric", "loss", "--group-by", "lrr"],
            "error: no selected run has the param 'lrr'",
            "hint: did you mean lr?",
        ),
    ];
    for (args, error, hint) in cases {
        let out = p.ox(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains(error) && err.contains(hint), "{args:?}: {err}");
    }
}
