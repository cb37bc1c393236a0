//! Paired comparison of two evaluations scored on the same samples.
//!
//! Input: pairs `(aᵢ, bᵢ)` of scores on shared samples; `dᵢ = aᵢ − bᵢ`, n pairs.
//! - Mean difference `d̄ = Σdᵢ / n`.
//! - Paired bootstrap interval: the percentile bootstrap of the mean of `d` (resampling
//!   samples, so the pairing is kept), see [`crate::bootstrap`].
//! - Sign-flip permutation test (`scipy.stats.permutation_test((d,), mean,
//!   permutation_type='samples')`): under the null each `dᵢ` is as likely as `−dᵢ`. Two-sided
//!   `p = min(1, 2·min(P(T ≤ d̄), P(T ≥ d̄)))` over the null distribution `T` of the mean
//!   with random signs, comparisons with SciPy's relative tolerance of 1e-14. **Exact**
//!   enumeration of all `2ⁿ` sign patterns when `n ≤ 20` (counts divided by `2ⁿ`);
//!   otherwise **Monte-Carlo** with `R` seeded resamples and SciPy's estimator
//!   `(count + 1) / (R + 1)`.
//! - McNemar's exact test, when every score is 0 or 1: `b` = pairs with a correct and b
//!   wrong, `c` = the reverse; `p = min(1, 2·P(X ≤ min(b, c)))` for `X ~ Bin(b + c, 1/2)`,
//!   which is `scipy.stats.binomtest(b, b + c, 0.5).pvalue`; 1 when `b + c = 0`.
//!
//! The pairs come from [`join_scores`]: two runs' scores of one scorer joined on their sample
//! key (sample id, epoch); samples only one run has, and pairs with a missing score, are
//! counted, not used.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::bootstrap::{SeededRng, bootstrap_mean_ci};
use crate::dist::binomial_half_cdf;

/// Largest n for which the sign-flip null distribution is enumerated exactly.
pub const EXACT_SIGN_FLIP_MAX_N: usize = 20;

/// How a permutation p-value was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PermutationMethod {
    /// All `2ⁿ` sign patterns.
    Exact,
    /// Seeded random sign patterns.
    MonteCarlo,
}

/// Options of a paired comparison.
#[derive(Debug, Clone, Copy)]
pub struct PairedOptions {
    pub confidence: f64,
    /// Bootstrap resamples for the interval.
    pub bootstrap_resamples: usize,
    /// Random sign patterns when n is too large for enumeration.
    pub permutation_resamples: usize,
    pub seed: u64,
}

impl Default for PairedOptions {
    fn default() -> Self {
        Self {
            confidence: 0.95,
            bootstrap_resamples: 10_000,
            permutation_resamples: 10_000,
            seed: 0,
        }
    }
}

/// McNemar's exact test on discordant pairs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct McNemar {
    /// Pairs where A is correct (1) and B is not (0).
    pub b: u64,
    /// Pairs where B is correct and A is not.
    pub c: u64,
    pub p: f64,
}

/// Result of [`paired_compare`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairedResult {
    pub n: usize,
    pub mean_diff: Option<f64>,
    pub ci: Option<(f64, f64)>,
    pub permutation_p: Option<f64>,
    pub permutation_method: PermutationMethod,
    pub mcnemar: Option<McNemar>,
}

/// Compares A with B on paired scores (pairs with a non-finite score are the caller's to
/// drop and report).
pub fn paired_compare(pairs: &[(f64, f64)], opts: &PairedOptions) -> PairedResult {
    let diffs: Vec<f64> = pairs.iter().map(|(a, b)| a - b).collect();
    let n = diffs.len();
    let mean_diff = crate::describe::mean(&diffs);
    let (permutation_p, permutation_method) =
        sign_flip_test(&diffs, opts.permutation_resamples, opts.seed);
    let binary = |v: f64| v == 0.0 || v == 1.0;
    let mcnemar = (n > 0 && pairs.iter().all(|&(a, b)| binary(a) && binary(b))).then(|| {
        let b = pairs.iter().filter(|&&(a, b)| a == 1.0 && b == 0.0).count() as u64;
        let c = pairs.iter().filter(|&&(a, b)| a == 0.0 && b == 1.0).count() as u64;
        McNemar {
            b,
            c,
            p: mcnemar_exact(b, c),
        }
    });
    PairedResult {
        n,
        mean_diff,
        ci: bootstrap_mean_ci(&diffs, opts.bootstrap_resamples, opts.confidence, opts.seed),
        permutation_p,
        permutation_method,
        mcnemar,
    }
}

/// McNemar's exact two-sided p-value on discordant counts `b` and `c`.
pub fn mcnemar_exact(b: u64, c: u64) -> f64 {
    let n = b + c;
    if n == 0 || b == c {
        return 1.0;
    }
    (2.0 * binomial_half_cdf(b.min(c), n)).min(1.0)
}

/// Two-sided sign-flip test of mean zero for `d`; `None` for an empty sample.
pub fn sign_flip_test(d: &[f64], resamples: usize, seed: u64) -> (Option<f64>, PermutationMethod) {
    let n = d.len();
    if n == 0 {
        return (None, PermutationMethod::Exact);
    }
    let observed = d.iter().sum::<f64>() / n as f64;
    let gamma = (1e-14 * observed).abs();
    let (mut less, mut greater) = (0u64, 0u64);
    let mut count = |t: f64| {
        if t <= observed + gamma {
            less += 1;
        }
        if t >= observed - gamma {
            greater += 1;
        }
    };
    if n <= EXACT_SIGN_FLIP_MAX_N {
        let total = 1u64 << n;
        for mask in 0..total {
            let sum: f64 = d
                .iter()
                .enumerate()
                .map(|(i, v)| if mask >> i & 1 == 1 { -v } else { *v })
                .sum();
            count(sum / n as f64);
        }
        let p = 2.0 * (less.min(greater) as f64) / total as f64;
        return (Some(p.min(1.0)), PermutationMethod::Exact);
    }
    let mut rng = SeededRng::new(seed);
    for _ in 0..resamples {
        let sum: f64 = d.iter().map(|v| if rng.coin() { -v } else { *v }).sum();
        count(sum / n as f64);
    }
    let r = resamples as f64;
    let p = 2.0 * ((less.min(greater) as f64 + 1.0) / (r + 1.0));
    (Some(p.min(1.0)), PermutationMethod::MonteCarlo)
}

/// Two runs' scores joined on their sample key.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JoinedScores {
    /// `(score of A, score of B)` per shared, scored sample, in key order.
    pub pairs: Vec<(f64, f64)>,
    pub only_in_a: usize,
    pub only_in_b: usize,
    /// Shared samples where a score is missing.
    pub unscored: usize,
}

/// Joins the scores of A and B (sample key → score, `None` when unscored).
pub fn join_scores<K: Ord>(
    a: &BTreeMap<K, Option<f64>>,
    b: &BTreeMap<K, Option<f64>>,
) -> JoinedScores {
    let mut out = JoinedScores::default();
    for (key, score_a) in a {
        match (score_a, b.get(key)) {
            (_, None) => out.only_in_a += 1,
            (Some(x), Some(Some(y))) => out.pairs.push((*x, *y)),
            _ => out.unscored += 1,
        }
    }
    out.only_in_b = b.keys().filter(|k| !a.contains_key(*k)).count();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mcnemar_small_cases() {
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        assert_eq!(mcnemar_exact(3, 3), 1.0);
        // binomtest(0, 5).pvalue = 2 / 32
        assert!((mcnemar_exact(0, 5) - 0.0625).abs() < 1e-15);
    }

    #[test]
    fn sign_flip_exact_tiny() {
        // d = [1, 2]: means over sign patterns {1.5, -0.5, 0.5, -1.5}; P(T ≥ 1.5) = 1/4.
        let (p, m) = sign_flip_test(&[1.0, 2.0], 0, 0);
        assert_eq!((p, m), (Some(0.5), PermutationMethod::Exact));
        let (p, _) = sign_flip_test(&[0.0, 0.0], 0, 0);
        assert_eq!(p, Some(1.0));
    }

    #[test]
    fn paired_binary_scores_get_mcnemar() {
        let pairs = [(1.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)];
        let r = paired_compare(&pairs, &PairedOptions::default());
        assert_eq!(r.mcnemar.map(|m| (m.b, m.c)), Some((2, 1)));
        assert_eq!(r.mean_diff, Some(0.25));
        let r = paired_compare(&[(0.5, 0.0)], &PairedOptions::default());
        assert!(r.mcnemar.is_none() && r.ci.is_none());
    }

    #[test]
    fn join_counts_what_it_leaves_out() {
        let a: BTreeMap<&str, Option<f64>> =
            [("s1", Some(1.0)), ("s2", None), ("s3", Some(0.0))].into();
        let b: BTreeMap<&str, Option<f64>> =
            [("s1", Some(0.0)), ("s2", Some(1.0)), ("s4", Some(1.0))].into();
        let j = join_scores(&a, &b);
        assert_eq!(j.pairs, vec![(1.0, 0.0)]);
        assert_eq!((j.only_in_a, j.only_in_b, j.unscored), (1, 1, 1));
    }
}
