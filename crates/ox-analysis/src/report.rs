//! The statistics of a set of runs: configurations best first, comparisons with the best,
//! what mattered, diminishing returns, the cost Pareto set and outlier seeds.
//!
//! Per configuration: [`describe`](crate::describe::describe), the Student-t interval and,
//! when asked, the percentile bootstrap interval. Every other configuration is compared
//! with the best one (`x` = the configuration, `y` = the best): Welch, Mann–Whitney U,
//! Cohen's d, and Holm's correction over the Welch p-values of all comparisons. A
//! configuration with n < 2 (or a best with n < 2) gets no test (all values `None`).
//! **Clear winner** only when the comparison with the runner-up has a Holm p < α; otherwise
//! the verdict says "no clear winner at α=…".

use serde_json::Value;

use crate::bootstrap::bootstrap_mean_ci;
use crate::describe::{Describe, describe, mean, t_interval};
use crate::diagnostics::{DiminishingReturns, diminishing_returns, pareto_front};
use crate::direction::Direction;
use crate::group::{Observation, describe_key, group_by, level_number, varied_params};
use crate::hypothesis::{MannWhitney, Welch, cohen_d, holm, mann_whitney, welch};
use crate::importance::{anova_oneway, correlation_p, eta_squared, spearman};

/// Options of [`analyze`].
#[derive(Debug, Clone)]
pub struct StatsOptions {
    pub metric: String,
    pub direction: Direction,
    pub confidence: f64,
    /// Significance level of the winner verdict.
    pub alpha: f64,
    /// Grouping keys; `None` means every varied non-seed param.
    pub group_by: Option<Vec<String>>,
    /// Param names to treat like `seed`.
    pub seed_like: Vec<String>,
    /// `(resamples, seed)` of the percentile bootstrap, when wanted.
    pub bootstrap: Option<(usize, u64)>,
    /// Relative tolerance of the diminishing-returns rule.
    pub diminishing_tolerance: f64,
}

/// A comparison of one configuration with the best one.
#[derive(Debug, Clone, PartialEq)]
pub struct VsBest {
    pub welch: Option<Welch>,
    pub mann_whitney: Option<MannWhitney>,
    pub p_holm: Option<f64>,
    pub cohen_d: Option<f64>,
}

/// One configuration's statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupStats {
    pub key: Vec<(String, Value)>,
    pub runs: Vec<String>,
    pub stats: Describe,
    pub ci: Option<(f64, f64)>,
    pub bootstrap_ci: Option<(f64, f64)>,
    /// `None` for the best configuration.
    pub vs_best: Option<VsBest>,
    /// The seed that is an outlier within the group (Grubbs, see [`crate::outliers`]).
    pub outliers: Vec<OutlierSeed>,
    /// Mean cost of the group's runs, when every run has one.
    pub cost: Option<f64>,
    /// On the Pareto front of (mean metric, mean cost).
    pub pareto: bool,
}

/// A run whose value stands out from the rest of its configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct OutlierSeed {
    pub run_id: String,
    pub name: Option<String>,
    pub value: f64,
    /// Grubbs' statistic and its critical value at [`crate::outliers::OUTLIER_ALPHA`].
    pub grubbs_g: f64,
    pub critical: f64,
    pub p: f64,
}

/// How much one param mattered.
#[derive(Debug, Clone, PartialEq)]
pub struct Importance {
    pub param: String,
    pub levels: usize,
    pub eta_squared: Option<f64>,
    /// One-way ANOVA of the metric across the param's levels: `(F, p)`.
    pub anova: Option<(f64, f64)>,
    pub spearman_rho: Option<f64>,
    /// Two-sided p-value of `spearman_rho` (t-test, n − 2 df).
    pub spearman_p: Option<f64>,
    /// The level with the best mean metric.
    pub best_level: Value,
    /// A plain sentence whose every claim carries its test; a test that fails at α reads
    /// "no evidence of …".
    pub sentence: String,
}

/// A run left out of the statistics, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Excluded {
    pub run_id: String,
    pub reason: String,
}

/// Everything [`analyze`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsReport {
    pub group_by: Vec<String>,
    /// Best first.
    pub groups: Vec<GroupStats>,
    pub clear_winner: bool,
    /// One plain sentence on the winner (or the lack of one).
    pub verdict: String,
    pub importance: Vec<Importance>,
    pub diminishing_returns: Vec<(String, DiminishingReturns)>,
    pub excluded: Vec<Excluded>,
}

/// Computes the statistics of `observations` (runs missing the metric are the caller's
/// `excluded`, passed through; runs with a non-finite value are excluded here).
pub fn analyze(
    observations: &[Observation],
    excluded: Vec<Excluded>,
    opts: &StatsOptions,
) -> StatsReport {
    let mut excluded = excluded;
    let obs: Vec<Observation> = observations
        .iter()
        .filter(|o| {
            let keep = o.value.is_finite();
            if !keep {
                excluded.push(Excluded {
                    run_id: o.run_id.clone(),
                    reason: format!("metric '{}' is {}", opts.metric, o.value),
                });
            }
            keep
        })
        .cloned()
        .collect();
    let varied = varied_params(&obs, &opts.seed_like);
    let keys = opts.group_by.clone().unwrap_or_else(|| varied.clone());
    let dir = opts.direction;
    let mut groups: Vec<(GroupStats, Vec<f64>)> = group_by(&obs, &keys)
        .into_iter()
        .map(|cfg| {
            let members: Vec<&Observation> =
                cfg.members.iter().filter_map(|&i| obs.get(i)).collect();
            let values: Vec<f64> = members.iter().map(|o| o.value).collect();
            let stats = describe(&values);
            let ci = match (stats.mean, stats.sem) {
                (Some(m), Some(s)) => t_interval(m, s, stats.n, opts.confidence),
                _ => None,
            };
            let bootstrap_ci = opts
                .bootstrap
                .and_then(|(b, seed)| bootstrap_mean_ci(&values, b, opts.confidence, seed));
            let outliers = crate::outliers::outlier(&values)
                .and_then(|t| {
                    let o = members.get(t.index)?;
                    Some(OutlierSeed {
                        run_id: o.run_id.clone(),
                        name: o.name.clone(),
                        value: o.value,
                        grubbs_g: t.g,
                        critical: t.critical,
                        p: t.p,
                    })
                })
                .into_iter()
                .collect();
            let costs: Option<Vec<f64>> = members
                .iter()
                .map(|o| o.cost.filter(|c| c.is_finite()))
                .collect();
            let g = GroupStats {
                key: cfg.key,
                runs: members.iter().map(|o| o.run_id.clone()).collect(),
                stats,
                ci,
                bootstrap_ci,
                vs_best: None,
                outliers,
                cost: costs.and_then(|c| mean(&c)),
                pareto: false,
            };
            (g, values)
        })
        .collect();
    groups.sort_by(|(a, _), (b, _)| {
        let (ma, mb) = (
            a.stats.mean.unwrap_or(f64::NAN),
            b.stats.mean.unwrap_or(f64::NAN),
        );
        dir.cmp_best_first(ma, mb)
            .then(b.stats.n.cmp(&a.stats.n))
            .then_with(|| describe_key(&a.key).cmp(&describe_key(&b.key)))
    });
    compare_with_best(&mut groups);
    let points: Vec<(f64, f64)> = groups
        .iter()
        .map(|(g, _)| (g.stats.mean.unwrap_or(f64::NAN), g.cost.unwrap_or(f64::NAN)))
        .collect();
    for ((g, _), on_front) in groups.iter_mut().zip(pareto_front(&points, dir)) {
        g.pareto = on_front;
    }
    let (clear_winner, verdict) = verdict(&groups, opts);
    let groups: Vec<GroupStats> = groups.into_iter().map(|(g, _)| g).collect();
    let (importance, diminishing) = what_mattered(&obs, &varied, opts);
    StatsReport {
        group_by: keys,
        groups,
        clear_winner,
        verdict,
        importance,
        diminishing_returns: diminishing,
        excluded,
    }
}

fn compare_with_best(groups: &mut [(GroupStats, Vec<f64>)]) {
    let Some((best, rest)) = groups.split_first_mut() else {
        return;
    };
    let best_values = &best.1;
    for (g, values) in rest.iter_mut() {
        let testable = values.len() >= 2 && best_values.len() >= 2;
        g.vs_best = Some(VsBest {
            welch: testable.then(|| welch(values, best_values)).flatten(),
            mann_whitney: testable
                .then(|| mann_whitney(values, best_values))
                .flatten(),
            p_holm: None,
            cohen_d: testable.then(|| cohen_d(values, best_values)).flatten(),
        });
    }
    let ps: Vec<f64> = rest
        .iter()
        .map(|(g, _)| {
            g.vs_best
                .as_ref()
                .and_then(|v| v.welch)
                .map_or(f64::NAN, |w| w.p)
        })
        .collect();
    for ((g, _), p) in rest.iter_mut().zip(holm(&ps)) {
        if let Some(v) = g.vs_best.as_mut() {
            v.p_holm = (!p.is_nan()).then_some(p);
        }
    }
}

fn fmt_p(p: f64) -> String {
    if p == 0.0 {
        // What SciPy returns when both groups have no spread: t is infinite.
        "0".into()
    } else if p < 1e-4 {
        format!("{p:.1e}")
    } else {
        format!("{p:.4}")
    }
}

fn verdict(groups: &[(GroupStats, Vec<f64>)], opts: &StatsOptions) -> (bool, String) {
    let alpha = opts.alpha;
    let (Some((best, _)), Some((second, _))) = (groups.first(), groups.get(1)) else {
        return match groups.first() {
            Some((g, _)) => (
                false,
                format!(
                    "only one configuration ({}): nothing to compare",
                    describe_key(&g.key)
                ),
            ),
            None => (false, "no runs with the metric".to_string()),
        };
    };
    let (b, s) = (describe_key(&best.key), describe_key(&second.key));
    let vs = second.vs_best.as_ref();
    match (vs.and_then(|v| v.welch), vs.and_then(|v| v.p_holm)) {
        (Some(w), Some(ph)) if ph < alpha => (
            true,
            format!(
                "{b} is best: significantly better than the runner-up {s} (Welch p={}, Holm p={})",
                fmt_p(w.p),
                fmt_p(ph)
            ),
        ),
        (Some(w), Some(ph)) => (
            false,
            format!(
                "no clear winner at α={alpha}: {b} is not significantly better than {s} (Welch p={}, Holm p={})",
                fmt_p(w.p),
                fmt_p(ph)
            ),
        ),
        _ => (
            false,
            format!(
                "no clear winner at α={alpha}: {b} vs {s} cannot be tested (a configuration has fewer than 2 runs)"
            ),
        ),
    }
}

fn what_mattered(
    obs: &[Observation],
    varied: &[String],
    opts: &StatsOptions,
) -> (Vec<Importance>, Vec<(String, DiminishingReturns)>) {
    let dir = opts.direction;
    let mut importance = Vec::new();
    let mut diminishing = Vec::new();
    for param in varied {
        let configs = group_by(obs, std::slice::from_ref(param));
        let levels: Vec<Vec<f64>> = configs
            .iter()
            .map(|c| {
                c.members
                    .iter()
                    .filter_map(|&i| obs.get(i))
                    .map(|o| o.value)
                    .collect()
            })
            .collect();
        let eta = eta_squared(&levels);
        let numeric: Option<Vec<f64>> = obs
            .iter()
            .map(|o| level_number(o.params.get(param)))
            .collect();
        let values: Vec<f64> = obs.iter().map(|o| o.value).collect();
        let rho = numeric.as_ref().and_then(|x| spearman(x, &values));
        let rho_p = rho.and_then(|r| correlation_p(r, values.len()));
        let anova = anova_oneway(&levels);
        let means: Vec<(usize, f64)> = levels
            .iter()
            .enumerate()
            .filter_map(|(i, l)| mean(l).map(|m| (i, m)))
            .collect();
        let best = means.iter().min_by(|a, b| dir.cmp_best_first(a.1, b.1));
        let best_level = best
            .and_then(|(i, _)| configs.get(*i))
            .and_then(|c| c.key.first())
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null);
        if numeric.is_some() {
            let pairs: Vec<(f64, f64)> = means
                .iter()
                .filter_map(|&(i, m)| {
                    let c = configs.get(i)?;
                    Some((level_number(c.key.first().map(|(_, v)| v))?, m))
                })
                .collect();
            if let Some(d) = diminishing_returns(&pairs, dir, opts.diminishing_tolerance) {
                diminishing.push((param.clone(), d));
            }
        }
        importance.push(Importance {
            param: param.clone(),
            levels: configs.len(),
            eta_squared: eta,
            anova,
            spearman_rho: rho,
            spearman_p: rho_p,
            sentence: sentence(&Claims {
                param,
                metric: &opts.metric,
                alpha: opts.alpha,
                eta,
                anova,
                rho: rho.zip(rho_p),
                best: &best_level,
                levels: configs.len(),
            }),
            best_level,
        });
    }
    importance.sort_by(|a, b| {
        b.eta_squared
            .unwrap_or(-1.0)
            .total_cmp(&a.eta_squared.unwrap_or(-1.0))
            .then_with(|| a.param.cmp(&b.param))
    });
    (importance, diminishing)
}

/// What [`sentence`] says about one param.
struct Claims<'a> {
    param: &'a str,
    metric: &'a str,
    alpha: f64,
    eta: Option<f64>,
    anova: Option<(f64, f64)>,
    /// Spearman ρ and its p-value.
    rho: Option<(f64, f64)>,
    best: &'a Value,
    levels: usize,
}

/// One sentence per param; an effect or a trend is asserted only when its test passes at α.
fn sentence(c: &Claims) -> String {
    let (param, metric, alpha, levels) = (c.param, c.metric, c.alpha, c.levels);
    let best_text = match c.best {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let share = |e: f64| format!("{:.0}%", e * 100.0);
    let effect = match (c.eta, c.anova) {
        (None, _) => {
            format!("{param} explains none of the variance in {metric} (the metric does not vary)")
        }
        (Some(e), Some((_, p))) if p < alpha => format!(
            "{param} matters: it explains {} of the variance in {metric} across {levels} values (ANOVA p = {}); best at {param}={best_text}",
            share(e),
            fmt_p(p)
        ),
        (Some(e), Some((_, p))) => format!(
            "no evidence that {param} affects {metric} (η² = {} across {levels} values, ANOVA p = {})",
            share(e),
            fmt_p(p)
        ),
        (Some(e), None) => format!(
            "{param} explains {} of the variance in {metric} across {levels} values, but there are too few runs per value to test it",
            share(e)
        ),
    };
    let trend = match c.rho {
        Some((r, p)) if p < alpha => {
            let way = if r > 0.0 { "higher" } else { "lower" };
            format!(
                "; higher {param} goes with {way} {metric} (Spearman ρ = {r:.2}, p = {})",
                fmt_p(p)
            )
        }
        Some((r, p)) => format!(
            "; no evidence of a monotone trend (Spearman ρ = {r:.2}, p = {})",
            fmt_p(p)
        ),
        None => String::new(),
    };
    format!("{effect}{trend}.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    #[test]
    fn p_values_read_plainly() {
        assert_eq!(fmt_p(0.0), "0");
        assert_eq!(fmt_p(3.2e-7), "3.2e-7");
        assert_eq!(fmt_p(0.04567), "0.0457");
    }

    fn o(id: &str, lr: f64, seed: i64, value: f64) -> Observation {
        let mut params = BTreeMap::new();
        params.insert("lr".to_string(), json!(lr));
        params.insert("seed".to_string(), json!(seed));
        Observation {
            run_id: id.into(),
            name: None,
            params,
            value,
            cost: Some(10.0 * lr),
        }
    }

    fn opts() -> StatsOptions {
        StatsOptions {
            metric: "loss".into(),
            direction: Direction::Min,
            confidence: 0.95,
            alpha: 0.05,
            group_by: None,
            seed_like: vec![],
            bootstrap: Some((500, 0)),
            diminishing_tolerance: 0.01,
        }
    }

    #[test]
    fn groups_sorted_and_compared() {
        let obs = vec![
            o("a1", 0.1, 1, 0.50),
            o("a2", 0.1, 2, 0.52),
            o("a3", 0.1, 3, 0.51),
            o("b1", 0.01, 1, 0.30),
            o("b2", 0.01, 2, 0.31),
            o("b3", 0.01, 3, 0.29),
            o("c1", 1.0, 1, f64::NAN),
        ];
        let r = analyze(&obs, vec![], &opts());
        assert_eq!(r.group_by, vec!["lr"]);
        assert_eq!(r.groups.len(), 2);
        assert_eq!(r.groups[0].runs, vec!["b1", "b2", "b3"]);
        assert!(r.groups[0].vs_best.is_none());
        let vs = r.groups[1].vs_best.as_ref().unwrap();
        assert!(vs.welch.unwrap().p < 0.01 && vs.cohen_d.unwrap() > 0.0);
        assert!(r.clear_winner, "{}", r.verdict);
        assert_eq!(r.excluded.len(), 1);
        assert_eq!(r.importance[0].param, "lr");
        assert!(r.importance[0].eta_squared.unwrap() > 0.9);
        assert!(r.groups[0].bootstrap_ci.is_some());
        assert!(
            r.importance[0]
                .sentence
                .starts_with("lr matters: it explains"),
            "{}",
            r.importance[0].sentence
        );
    }

    /// The case: a weak, non-significant correlation must not be read as a direction.
    #[test]
    fn claims_carry_their_tests() {
        let obs = vec![
            o("a1", 0.1, 1, 0.50),
            o("a2", 0.1, 2, 0.30),
            o("a3", 0.1, 3, 0.41),
            o("b1", 0.01, 1, 0.49),
            o("b2", 0.01, 2, 0.31),
            o("b3", 0.01, 3, 0.42),
            o("c1", 0.001, 1, 0.48),
            o("c2", 0.001, 2, 0.33),
            o("c3", 0.001, 3, 0.40),
        ];
        let r = analyze(&obs, vec![], &opts());
        let i = &r.importance[0];
        assert!(i.spearman_rho.unwrap().abs() > 0.0);
        assert!(i.spearman_p.unwrap() > 0.05 && i.anova.unwrap().1 > 0.05);
        assert!(
            i.sentence.starts_with("no evidence that lr affects loss")
                && i.sentence.contains("no evidence of a monotone trend")
                && !i.sentence.contains("goes with"),
            "{}",
            i.sentence
        );
        // Three ordered levels: a diminishing-returns check is possible.
        assert_eq!(r.diminishing_returns.len(), 1);
        // Two levels are not enough to speak of diminishing returns.
        let two = analyze(&obs[..6], vec![], &opts());
        assert!(two.diminishing_returns.is_empty());
    }

    #[test]
    fn no_clear_winner_when_overlapping() {
        let obs = vec![
            o("a1", 0.1, 1, 0.50),
            o("a2", 0.1, 2, 0.30),
            o("b1", 0.01, 1, 0.49),
            o("b2", 0.01, 2, 0.29),
        ];
        let r = analyze(&obs, vec![], &opts());
        assert!(!r.clear_winner);
        assert!(
            r.verdict.starts_with("no clear winner at α=0.05"),
            "{}",
            r.verdict
        );
        let single = analyze(&obs[..1], vec![], &opts());
        assert!(!single.clear_winner && single.groups[0].stats.std.is_none());
    }
}
