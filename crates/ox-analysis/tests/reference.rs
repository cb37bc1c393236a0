//! ox-analysis against SciPy: `reference/reference.json` holds values computed by SciPy,
//! numpy, statsmodels and pingouin (`reference/generate.py`); every deterministic statistic must
//! match to a relative 1e-9, bootstrap intervals and Monte-Carlo p-values within their
//! Monte-Carlo error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ox_analysis::bootstrap::bootstrap_mean_ci;
use ox_analysis::describe::{describe, t_interval};
use ox_analysis::hypothesis::{MwuMethod, cohen_d, holm, mann_whitney, welch};
use ox_analysis::importance::{anova_oneway, correlation_p, eta_squared, spearman};
use ox_analysis::outliers::{grubbs, grubbs_critical};
use ox_analysis::paired::{PairedOptions, PermutationMethod, mcnemar_exact, paired_compare};
use ox_analysis::{f_sf, t_quantile_upper, t_two_sided_p};
use serde_json::Value;

const REL: f64 = 1e-9;

fn reference() -> Value {
    let text = include_str!("reference/reference.json");
    serde_json::from_str(text).unwrap()
}

/// A number from the reference file: floats, `"nan"`, `"inf"`, `"-inf"`; `None` for null.
fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(match s.as_str() {
            "nan" => f64::NAN,
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            other => panic!("bad number {other}"),
        }),
        other => Some(other.as_f64().unwrap()),
    }
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| num(x).unwrap())
        .collect()
}

fn finite(v: &Value) -> Vec<f64> {
    nums(v).into_iter().filter(|x| x.is_finite()).collect()
}

#[track_caller]
fn assert_close(what: &str, got: Option<f64>, want: Option<f64>) {
    match (got, want) {
        (None, None) => {}
        (Some(g), Some(w)) if g.is_infinite() || w.is_infinite() => assert_eq!(g, w, "{what}"),
        (Some(g), Some(w)) => {
            let tol = REL * w.abs().max(1e-300);
            assert!(
                (g - w).abs() <= tol || (w == 0.0 && g.abs() < 1e-15),
                "{what}: got {g:e}, SciPy {w:e}, rel err {:e}",
                ((g - w) / w).abs()
            );
        }
        _ => panic!("{what}: got {got:?}, SciPy {want:?}"),
    }
}

#[test]
fn describe_and_t_interval_match_numpy_and_scipy() {
    let r = reference();
    for case in r["describe"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let d = describe(&nums(&case["values"]));
        assert_eq!(d.n as u64, case["n"].as_u64().unwrap(), "{name}");
        assert_eq!(
            d.non_finite as u64,
            case["non_finite"].as_u64().unwrap(),
            "{name}"
        );
        for (field, got) in [
            ("mean", d.mean),
            ("std", d.std),
            ("sem", d.sem),
            ("min", d.min),
            ("max", d.max),
            ("median", d.median),
        ] {
            assert_close(&format!("{name}.{field}"), got, num(&case[field]));
        }
        for (conf, want) in case["ci"].as_object().unwrap() {
            let c: f64 = conf.parse().unwrap();
            let got = d
                .mean
                .zip(d.sem)
                .and_then(|(m, s)| t_interval(m, s, d.n, c));
            match want {
                Value::Null => assert_eq!(got, None, "{name} ci {conf}"),
                w => {
                    let (lo, hi) = got.unwrap_or_else(|| panic!("{name}: no ci"));
                    assert_close(&format!("{name}.ci{conf}.low"), Some(lo), num(&w[0]));
                    assert_close(&format!("{name}.ci{conf}.high"), Some(hi), num(&w[1]));
                }
            }
        }
    }
}

#[test]
fn t_distribution_matches_scipy() {
    let r = reference();
    for c in r["t_quantiles"].as_array().unwrap() {
        let (df, p) = (num(&c["df"]).unwrap(), num(&c["p"]).unwrap());
        assert_close(
            &format!("t.ppf({p}, {df})"),
            Some(t_quantile_upper(p, df)),
            num(&c["q"]),
        );
    }
    for c in r["t_tails"].as_array().unwrap() {
        let (df, t) = (num(&c["df"]).unwrap(), num(&c["t"]).unwrap());
        assert_close(
            &format!("2 t.sf({t}, {df})"),
            Some(t_two_sided_p(t, df)),
            num(&c["p"]),
        );
    }
}

#[test]
fn bootstrap_within_monte_carlo_error_of_scipy() {
    let r = reference();
    for c in r["bootstrap"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let x = finite(&c["values"]);
        let b = c["resamples"].as_u64().unwrap() as usize;
        for seed in [0u64, 1, 2] {
            let (lo, hi) = bootstrap_mean_ci(&x, b, num(&c["confidence"]).unwrap(), seed).unwrap();
            for (what, got, mean, sd) in [
                ("low", lo, "low_mean", "low_sd"),
                ("high", hi, "high_mean", "high_sd"),
            ] {
                let (m, s) = (num(&c[mean]).unwrap(), num(&c[sd]).unwrap());
                // Both ours and SciPy's are one draw of the same Monte-Carlo estimator.
                assert!(
                    (got - m).abs() <= 5.0 * s + 1e-12,
                    "{name} {what}: {got} vs {m} ± {s}"
                );
            }
        }
    }
}

#[test]
fn two_sample_tests_match_scipy() {
    let r = reference();
    for c in r["two_sample"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let (x, y) = (finite(&c["x"]), finite(&c["y"]));
        let w = welch(&x, &y).unwrap();
        assert_close(&format!("{name}.welch_t"), Some(w.t), num(&c["welch_t"]));
        assert_close(&format!("{name}.welch_df"), Some(w.df), num(&c["welch_df"]));
        if w.t.is_nan() {
            assert!(num(&c["welch_p"]).is_none(), "{name}");
        } else {
            assert_close(&format!("{name}.welch_p"), Some(w.p), num(&c["welch_p"]));
        }
        let u = mann_whitney(&x, &y).unwrap();
        assert_close(&format!("{name}.mwu_u"), Some(u.u), num(&c["mwu_u"]));
        assert_close(&format!("{name}.mwu_p"), Some(u.p), num(&c["mwu_p"]));
        let method = match u.method {
            MwuMethod::Exact => "exact",
            MwuMethod::Asymptotic => "asymptotic",
        };
        assert_eq!(method, c["mwu_method"].as_str().unwrap(), "{name}");
        assert_close(
            &format!("{name}.cohen_d"),
            cohen_d(&x, &y),
            num(&c["cohen_d"]),
        );
    }
}

#[test]
fn holm_matches_statsmodels() {
    let r = reference();
    for c in r["holm"].as_array().unwrap() {
        let got = holm(&nums(&c["p"]));
        for (g, w) in got.iter().zip(nums(&c["adjusted"])) {
            assert_close("holm", Some(*g), Some(w));
        }
    }
}

#[test]
fn mcnemar_matches_binomtest() {
    let r = reference();
    for c in r["mcnemar"].as_array().unwrap() {
        let (b, cc) = (c["b"].as_u64().unwrap(), c["c"].as_u64().unwrap());
        assert_close(
            &format!("mcnemar({b},{cc})"),
            Some(mcnemar_exact(b, cc)),
            num(&c["p"]),
        );
    }
}

#[test]
fn paired_comparison_matches_scipy() {
    let r = reference();
    for c in r["paired"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let pairs: Vec<(f64, f64)> = nums(&c["a"]).into_iter().zip(nums(&c["b"])).collect();
        let opts = PairedOptions {
            bootstrap_resamples: c["bootstrap_resamples"].as_u64().unwrap() as usize,
            permutation_resamples: 20_000,
            ..PairedOptions::default()
        };
        let res = paired_compare(&pairs, &opts);
        assert_eq!(res.n as u64, c["n"].as_u64().unwrap());
        assert_close(
            &format!("{name}.mean_diff"),
            res.mean_diff,
            num(&c["mean_diff"]),
        );
        let want_p = num(&c["permutation_p"]).unwrap();
        let got_p = res.permutation_p.unwrap();
        if c["permutation_exact"].as_bool().unwrap() {
            assert_eq!(res.permutation_method, PermutationMethod::Exact);
            assert_close(&format!("{name}.permutation_p"), Some(got_p), Some(want_p));
        } else {
            assert_eq!(res.permutation_method, PermutationMethod::MonteCarlo);
            let se_ours = (want_p * (1.0 - want_p) / 20_000.0).sqrt();
            let se = se_ours + num(&c["permutation_p_se"]).unwrap();
            assert!(
                (got_p - want_p).abs() <= 5.0 * se,
                "{name}: p {got_p} vs {want_p} ± {se}"
            );
        }
        let (lo, hi) = res.ci.unwrap();
        for (what, got, m, s) in [
            ("low", lo, "ci_low_mean", "ci_low_sd"),
            ("high", hi, "ci_high_mean", "ci_high_sd"),
        ] {
            let (m, s) = (num(&c[m]).unwrap(), num(&c[s]).unwrap());
            assert!(
                (got - m).abs() <= 5.0 * s + 1e-12,
                "{name} ci {what}: {got} vs {m} ± {s}"
            );
        }
        match (&res.mcnemar, c.get("mcnemar")) {
            (Some(m), Some(w)) => {
                assert_eq!(
                    (m.b, m.c),
                    (w["b"].as_u64().unwrap(), w["c"].as_u64().unwrap()),
                    "{name}"
                );
                assert_close(&format!("{name}.mcnemar"), Some(m.p), num(&w["p"]));
            }
            (None, None) => {}
            (got, want) => panic!("{name}: mcnemar {got:?} vs {want:?}"),
        }
    }
}

#[test]
fn eta_squared_and_spearman_match_scipy() {
    let r = reference();
    for c in r["eta_squared"].as_array().unwrap() {
        let groups: Vec<Vec<f64>> = c["groups"].as_array().unwrap().iter().map(nums).collect();
        assert_close(
            c["name"].as_str().unwrap(),
            eta_squared(&groups),
            num(&c["eta_squared"]),
        );
    }
    for c in r["spearman"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let x = nums(&c["x"]);
        let rho = spearman(&x, &nums(&c["y"]));
        assert_close(name, rho, num(&c["rho"]));
        let p = rho.and_then(|r| correlation_p(r, x.len()));
        match num(&c["p"]) {
            // ρ = ±1 up to rounding: both p-values are rounding noise around 0.
            Some(want) if want < 1e-12 => assert!(p.unwrap() < 1e-12, "{name}.p: {p:?}"),
            want => assert_close(&format!("{name}.p"), p, want),
        }
    }
}

#[test]
fn anova_and_f_tail_match_scipy() {
    let r = reference();
    for c in r["eta_squared"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let groups: Vec<Vec<f64>> = c["groups"].as_array().unwrap().iter().map(nums).collect();
        let got = anova_oneway(&groups);
        assert_close(&format!("{name}.F"), got.map(|a| a.0), num(&c["anova_f"]));
        assert_close(&format!("{name}.p"), got.map(|a| a.1), num(&c["anova_p"]));
    }
    for c in r["f_tails"].as_array().unwrap() {
        let (d1, d2, f) = (
            num(&c["d1"]).unwrap(),
            num(&c["d2"]).unwrap(),
            num(&c["f"]).unwrap(),
        );
        assert_close(
            &format!("F({d1},{d2}) > {f}"),
            Some(f_sf(f, d1, d2)),
            num(&c["p"]),
        );
    }
}

#[test]
fn grubbs_matches_scipy_t() {
    let r = reference();
    for c in r["grubbs"].as_array().unwrap() {
        let x = nums(&c["values"]);
        let g = grubbs(&x).unwrap();
        assert_eq!(g.index as u64, c["index"].as_u64().unwrap());
        assert_close("G", Some(g.g), num(&c["g"]));
        assert_close("critical", Some(g.critical), num(&c["critical"]));
        assert_close("p", Some(g.p), num(&c["p"]));
    }
    for c in r["grubbs_critical"].as_array().unwrap() {
        let n = c["n"].as_u64().unwrap() as usize;
        assert_close(
            &format!("critical n={n}"),
            Some(grubbs_critical(n, num(&c["alpha"]).unwrap())),
            num(&c["critical"]),
        );
    }
}
