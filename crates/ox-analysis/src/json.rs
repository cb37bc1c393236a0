//! `ox stats --format json`: the contract of DESIGN.md ("`ox stats --format json`"), plus
//! extra keys (documented on each field) that scripts may use but the contract does not fix.
//! Non-finite numbers are written as `null`.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::StatsReport;
use crate::diagnostics::SeriesDiagnostics;
use crate::hypothesis::MwuMethod;
use crate::paired::{PairedResult, PermutationMethod};
use crate::report::GroupStats;
use crate::runs::{ModeSource, RunStats};

fn fin(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

fn pair(v: Option<(f64, f64)>) -> Option<[f64; 2]> {
    v.filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| [a, b])
}

fn key_object(key: &[(String, Value)]) -> Map<String, Value> {
    key.iter().cloned().collect()
}

/// The whole `ox stats` answer.
#[derive(Debug, Serialize)]
pub struct StatsJson {
    pub metric: String,
    pub summary: &'static str,
    pub mode: &'static str,
    pub confidence: f64,
    pub group_by: Vec<String>,
    pub groups: Vec<GroupJson>,
    pub best: Option<Map<String, Value>>,
    pub clear_winner: bool,
    pub importance: Vec<ImportanceJson>,
    pub excluded: Vec<ExcludedJson>,
    // Extra keys.
    /// `"flag"` (from `--mode`) or `"metric name"`.
    pub mode_source: &'static str,
    pub alpha: f64,
    /// One sentence on the winner, or "no clear winner at α=…".
    pub verdict: String,
    /// `{"resamples": N, "seed": S}` when `--bootstrap` was given.
    pub bootstrap: Option<BootstrapJson>,
    /// What `cost` and `pareto` of the groups measure: `"duration_s"`, `"gpu_hours"` or null.
    pub cost_kind: Option<&'static str>,
    /// Keys of the groups on the Pareto front of (mean metric, mean cost).
    pub pareto: Vec<Map<String, Value>>,
    pub diminishing_returns: Vec<DiminishingJson>,
    pub diagnostics: Vec<DiagnosticsJson>,
}

#[derive(Debug, Serialize)]
pub struct BootstrapJson {
    pub resamples: usize,
    pub seed: u64,
}

/// One configuration.
#[derive(Debug, Serialize)]
pub struct GroupJson {
    pub key: Map<String, Value>,
    pub runs: Vec<String>,
    pub n: usize,
    pub mean: Option<f64>,
    pub std: Option<f64>,
    pub sem: Option<f64>,
    pub median: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub ci: Option<[f64; 2]>,
    pub vs_best: Option<VsBestJson>,
    // Extra keys.
    /// n < 3: an interval from so few seeds is fragile.
    pub fragile: bool,
    /// Why values are null (n = 1, …), when they are.
    pub note: Option<String>,
    pub bootstrap_ci: Option<[f64; 2]>,
    /// The seed that is an outlier within the group (Grubbs' test at α = 0.01, groups of
    /// n ≥ 5), if any.
    pub outliers: Vec<OutlierJson>,
    /// Mean cost (see `cost_kind`).
    pub cost: Option<f64>,
    pub pareto: bool,
}

/// The comparison of a group with the best group (`x` = this group, `y` = the best).
#[derive(Debug, Serialize)]
pub struct VsBestJson {
    pub welch_t: Option<f64>,
    pub welch_df: Option<f64>,
    pub welch_p: Option<f64>,
    pub mannwhitney_u: Option<f64>,
    pub mannwhitney_p: Option<f64>,
    pub p_holm: Option<f64>,
    pub cohen_d: Option<f64>,
    // Extra key: `"exact"` or `"asymptotic"`.
    pub mannwhitney_method: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct OutlierJson {
    pub id: String,
    pub name: Option<String>,
    pub value: f64,
    pub grubbs_g: f64,
    pub critical: f64,
    pub p: f64,
}

#[derive(Debug, Serialize)]
pub struct ImportanceJson {
    pub param: String,
    pub eta_squared: Option<f64>,
    pub spearman_rho: Option<f64>,
    pub sentence: String,
    // Extra keys.
    /// One-way ANOVA across the param's levels (the test behind `eta_squared`).
    pub anova_f: Option<f64>,
    pub anova_p: Option<f64>,
    /// Two-sided p-value of `spearman_rho`.
    pub spearman_p: Option<f64>,
    pub levels: usize,
    pub best_level: Value,
}

#[derive(Debug, Serialize)]
pub struct ExcludedJson {
    pub id: String,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct DiminishingJson {
    pub param: String,
    pub best_level: f64,
    pub best_mean: f64,
    pub smallest_sufficient_level: f64,
    pub smallest_sufficient_mean: f64,
    pub tolerance: f64,
}

#[derive(Debug, Serialize)]
pub struct DiagnosticsJson {
    pub id: String,
    pub name: Option<String>,
    pub points: usize,
    pub diverged: bool,
    pub diverged_step: Option<i64>,
    pub diverged_reason: Option<&'static str>,
    pub converged_step: Option<i64>,
    pub plateau: bool,
    pub oscillating: bool,
    pub threshold_step: Option<i64>,
}

fn group_json(g: &GroupStats) -> GroupJson {
    let s = &g.stats;
    let note = match s.n {
        0 => Some("no values".to_string()),
        1 => Some("n = 1: no std, interval or tests".to_string()),
        _ => None,
    };
    GroupJson {
        key: key_object(&g.key),
        runs: g.runs.clone(),
        n: s.n,
        mean: fin(s.mean),
        std: fin(s.std),
        sem: fin(s.sem),
        median: fin(s.median),
        min: fin(s.min),
        max: fin(s.max),
        ci: pair(g.ci),
        vs_best: g.vs_best.as_ref().map(|v| VsBestJson {
            welch_t: fin(v.welch.map(|w| w.t)),
            welch_df: fin(v.welch.map(|w| w.df)),
            welch_p: fin(v.welch.map(|w| w.p)),
            mannwhitney_u: fin(v.mann_whitney.map(|m| m.u)),
            mannwhitney_p: fin(v.mann_whitney.map(|m| m.p)),
            p_holm: fin(v.p_holm),
            cohen_d: fin(v.cohen_d),
            mannwhitney_method: v.mann_whitney.map(|m| match m.method {
                MwuMethod::Exact => "exact",
                MwuMethod::Asymptotic => "asymptotic",
            }),
        }),
        fragile: s.n < 3,
        note,
        bootstrap_ci: pair(g.bootstrap_ci),
        outliers: g
            .outliers
            .iter()
            .map(|o| OutlierJson {
                id: o.run_id.clone(),
                name: o.name.clone(),
                value: o.value,
                grubbs_g: o.grubbs_g,
                critical: o.critical,
                p: o.p,
            })
            .collect(),
        cost: fin(g.cost),
        pareto: g.pareto,
    }
}

/// Builds the JSON answer of `ox stats`.
pub fn stats_json(run: &RunStats) -> StatsJson {
    let r: &StatsReport = &run.report;
    StatsJson {
        metric: run.metric.clone(),
        summary: run.summary.name(),
        mode: run.options.direction.as_str(),
        confidence: run.options.confidence,
        group_by: r.group_by.clone(),
        groups: r.groups.iter().map(group_json).collect(),
        best: r.groups.first().map(|g| key_object(&g.key)),
        clear_winner: r.clear_winner,
        importance: r
            .importance
            .iter()
            .map(|i| ImportanceJson {
                param: i.param.clone(),
                eta_squared: fin(i.eta_squared),
                spearman_rho: fin(i.spearman_rho),
                sentence: i.sentence.clone(),
                anova_f: fin(i.anova.map(|a| a.0)),
                anova_p: fin(i.anova.map(|a| a.1)),
                spearman_p: fin(i.spearman_p),
                levels: i.levels,
                best_level: i.best_level.clone(),
            })
            .collect(),
        excluded: r
            .excluded
            .iter()
            .map(|e| ExcludedJson {
                id: e.run_id.clone(),
                reason: e.reason.clone(),
            })
            .collect(),
        mode_source: match run.mode_source {
            ModeSource::Flag => "flag",
            ModeSource::MetricName => "metric name",
        },
        alpha: run.options.alpha,
        verdict: r.verdict.clone(),
        bootstrap: run
            .options
            .bootstrap
            .map(|(resamples, seed)| BootstrapJson { resamples, seed }),
        cost_kind: run.cost_kind.map(|k| k.as_str()),
        pareto: r
            .groups
            .iter()
            .filter(|g| g.pareto)
            .map(|g| key_object(&g.key))
            .collect(),
        diminishing_returns: r
            .diminishing_returns
            .iter()
            .map(|(param, d)| DiminishingJson {
                param: param.clone(),
                best_level: d.best_level,
                best_mean: d.best_mean,
                smallest_sufficient_level: d.smallest_sufficient_level,
                smallest_sufficient_mean: d.smallest_sufficient_mean,
                tolerance: d.tolerance,
            })
            .collect(),
        diagnostics: run
            .diagnostics
            .iter()
            .map(|(id, d)| diagnostics_json(id, run.names.get(id), d))
            .collect(),
    }
}

fn diagnostics_json(id: &str, name: Option<&String>, d: &SeriesDiagnostics) -> DiagnosticsJson {
    DiagnosticsJson {
        id: id.to_string(),
        name: name.cloned(),
        points: d.points,
        diverged: d.diverged,
        diverged_step: d.diverged_step,
        diverged_reason: d.diverged_reason,
        converged_step: d.converged_step,
        plateau: d.plateau,
        oscillating: d.oscillating,
        threshold_step: d.threshold_step,
    }
}

/// `ox stats --paired A B --format json`.
#[derive(Debug, Serialize)]
pub struct PairedJson {
    pub n: usize,
    pub mean_diff: Option<f64>,
    pub ci: Option<[f64; 2]>,
    pub permutation_p: Option<f64>,
    /// Null unless every score is 0 or 1.
    pub mcnemar: Option<McNemarJson>,
    // Extra keys.
    pub a: String,
    pub b: String,
    pub scorer: String,
    pub confidence: f64,
    /// `"exact"` (all 2ⁿ sign patterns, n ≤ 20) or `"monte_carlo"`.
    pub permutation_method: &'static str,
    pub permutation_resamples: Option<usize>,
    pub bootstrap_resamples: usize,
    pub seed: u64,
    /// Samples (id, epoch) only one of the runs has, and pairs dropped for a missing score.
    pub only_in_a: usize,
    pub only_in_b: usize,
    pub unscored: usize,
}

#[derive(Debug, Serialize)]
pub struct McNemarJson {
    pub b: u64,
    pub c: u64,
    pub p: f64,
}

/// Fields of [`PairedJson`] that come from the comparison itself.
pub struct PairedContext {
    pub a: String,
    pub b: String,
    pub scorer: String,
    pub confidence: f64,
    pub permutation_resamples: usize,
    pub bootstrap_resamples: usize,
    pub seed: u64,
    pub only_in_a: usize,
    pub only_in_b: usize,
    pub unscored: usize,
}

/// Builds the JSON answer of `ox stats --paired`.
pub fn paired_json(r: &PairedResult, ctx: PairedContext) -> PairedJson {
    PairedJson {
        n: r.n,
        mean_diff: fin(r.mean_diff),
        ci: pair(r.ci),
        permutation_p: fin(r.permutation_p),
        mcnemar: r.mcnemar.map(|m| McNemarJson {
            b: m.b,
            c: m.c,
            p: m.p,
        }),
        a: ctx.a,
        b: ctx.b,
        scorer: ctx.scorer,
        confidence: ctx.confidence,
        permutation_method: match r.permutation_method {
            PermutationMethod::Exact => "exact",
            PermutationMethod::MonteCarlo => "monte_carlo",
        },
        permutation_resamples: (r.permutation_method == PermutationMethod::MonteCarlo)
            .then_some(ctx.permutation_resamples),
        bootstrap_resamples: ctx.bootstrap_resamples,
        seed: ctx.seed,
        only_in_a: ctx.only_in_a,
        only_in_b: ctx.only_in_b,
        unscored: ctx.unscored,
    }
}
