//! Statistics over runs: grouping seeds, intervals, significance tests, importance and diagnostics.
//!
//! Pure functions: values in, values out (no SQLite, no files; run records are `ox-core` values). Every statistic follows the
//! conventions of SciPy so that numbers can be checked against it (the reference values in
//! `tests/reference/` are generated with SciPy by `tests/reference/generate.py` and matched
//! to a relative 1e-9; bootstrap and Monte-Carlo results to their Monte-Carlo error).
//!
//! | module | what | formulas |
//! |---|---|---|
//! | [`describe`] | n, mean, std (n − 1), sem, min, max, median, Student-t interval | module docs |
//! | [`bootstrap`] | percentile bootstrap of the mean, seeded ChaCha8 | module docs |
//! | [`hypothesis`] | Welch's t, Mann–Whitney U (exact / normal with tie + continuity correction), Holm, Cohen's d | module docs |
//! | [`paired`] | paired bootstrap, sign-flip permutation test, McNemar exact | module docs |
//! | [`importance`] | one-way ANOVA η² and its F-test, Spearman ρ and its t-test | module docs |
//! | [`diagnostics`] | divergence, convergence/plateau, oscillation, threshold, diminishing returns, Pareto | module docs |
//! | [`outliers`] | Grubbs' test for an outlier seed (n ≥ 5, α = 1 %) | module docs |
//! | [`downsample`] | min/max per pixel column, LTTB, TensorBoard's debiased EMA, aligned mean band | module docs |
//! | [`group`] | varied params, seed-like names, configurations | module docs |
//! | [`report`] | everything above assembled for `ox stats` | module docs |
//! | [`runs`] | from runs to `ox stats`: selection policy, cost policy, request checks — the entry point [`stats_for_runs`] | module docs |
//! | [`json`] | the `ox stats --format json` answer | — |
//!
//! Non-finite inputs (NaN, ±∞) are never silently used: [`describe::describe`] counts them,
//! [`report::analyze`] lists the runs they come from as excluded with the reason.

pub mod bootstrap;
pub mod describe;
pub mod diagnostics;
pub mod direction;
mod dist;
pub mod downsample;
pub mod group;
pub mod hypothesis;
pub mod importance;
pub mod json;
pub mod outliers;
pub mod paired;
pub mod report;
pub mod runs;

pub use direction::Direction;
pub use dist::{binomial_half_cdf, f_sf, normal_sf, t_quantile_upper, t_two_sided_p};
pub use group::Observation;
pub use report::{StatsOptions, StatsReport, analyze};
pub use runs::{RunInput, RunStats, StatsError, StatsRequest, stats_for_runs};
