//! Two-sample tests and effect size: Welch's t, Mann–Whitney U, Holm, Cohen's d.
//!
//! All tests are two-sided and take the finite values of two samples `x` (size n₁) and `y`
//! (size n₂); NaN/∞ must be filtered by the caller ([`crate::describe`] reports them).
//!
//! **Welch** (`scipy.stats.ttest_ind(x, y, equal_var=False)`): with `vᵢ = sᵢ²/nᵢ`,
//! `t = (x̄ − ȳ) / √(v₁ + v₂)`, `ν = (v₁ + v₂)² / (v₁²/(n₁−1) + v₂²/(n₂−1))`,
//! `p = P(|T_ν| ≥ |t|)`. Needs n₁, n₂ ≥ 2. As in SciPy, when both variances are zero ν is
//! set to 1 and `t` is ±∞ (p = 0) or undefined (equal means).
//!
//! **Mann–Whitney U** (`scipy.stats.mannwhitneyu(x, y)` defaults): ranks of the pooled sample
//! with ties averaged, `U₁ = R₁ − n₁(n₁+1)/2` (the reported statistic, of `x`),
//! `U = max(U₁, n₁n₂ − U₁)`. Exact when `min(n₁, n₂) ≤ 8` and there are no ties (SciPy's
//! `method='auto'`: asymptotic only when both samples exceed 8 or when there are ties):
//! `p = 2·P(U' ≥ U)` under the null distribution of U (all `C(n₁+n₂, n₁)` orderings equally
//! likely), computed with the recurrence
//! `P_{m,n}(u) = m/(m+n)·P_{m−1,n}(u−n) + n/(m+n)·P_{m,n−1}(u)`. Otherwise the normal
//! approximation with continuity and tie correction:
//! `z = (U − n₁n₂/2 − 1/2) / √(n₁n₂/12·((N+1) − Σ(t³−t)/(N(N−1))))`, `p = 2·Φ̄(z)`.
//! p is clipped to [0, 1].
//!
//! **Holm** (`statsmodels.stats.multitest.multipletests(p, method='holm')`): sort the m
//! p-values ascending, `p̃₍ᵢ₎ = max_{j≤i} min(1, (m − j + 1)·p₍ⱼ₎)`.
//!
//! **Cohen's d**: `(x̄ − ȳ) / s_p` with `s_p = √(((n₁−1)s₁² + (n₂−1)s₂²) / (n₁+n₂−2))`.

use serde::Serialize;

use crate::describe::{average_ranks, mean, variance};
use crate::dist::{normal_sf, t_two_sided_p};

/// Result of Welch's t-test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Welch {
    /// The t statistic (may be ±∞ when both samples have zero variance, NaN when also equal).
    pub t: f64,
    pub df: f64,
    pub p: f64,
}

/// Welch's unequal-variance t-test of `x` against `y`; `None` unless both have n ≥ 2.
pub fn welch(x: &[f64], y: &[f64]) -> Option<Welch> {
    let (n1, n2) = (x.len() as f64, y.len() as f64);
    let (v1, v2) = (variance(x)? / n1, variance(y)? / n2);
    let mut df = (v1 + v2).powi(2) / (v1 * v1 / (n1 - 1.0) + v2 * v2 / (n2 - 1.0));
    if df.is_nan() {
        df = 1.0;
    }
    let t = (mean(x)? - mean(y)?) / (v1 + v2).sqrt();
    Some(Welch {
        t,
        df,
        p: t_two_sided_p(t, df),
    })
}

/// Which way the Mann–Whitney p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MwuMethod {
    Exact,
    Asymptotic,
}

/// Result of the Mann–Whitney U test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MannWhitney {
    /// `U₁`, the statistic of the first sample.
    pub u: f64,
    pub p: f64,
    pub method: MwuMethod,
}

/// Largest `m·n·u` table the exact null distribution may fill before falling back to the
/// normal approximation (keeps a 8-vs-10⁴ comparison from taking minutes).
const EXACT_WORK_LIMIT: f64 = 2e8;

/// Mann–Whitney U test of `x` against `y`, as `scipy.stats.mannwhitneyu` with defaults;
/// `None` when either sample is empty.
pub fn mann_whitney(x: &[f64], y: &[f64]) -> Option<MannWhitney> {
    let (n1, n2) = (x.len(), y.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    let pooled: Vec<f64> = x.iter().chain(y).copied().collect();
    let (ranks, ties) = average_ranks(&pooled);
    let r1: f64 = ranks.iter().take(n1).sum();
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let u1 = r1 - n1f * (n1f + 1.0) / 2.0;
    let u = u1.max(n1f * n2f - u1);
    let has_ties = ties.iter().any(|&t| t > 1);
    let small = n1 <= 8 || n2 <= 8;
    let (m, n) = (n1.min(n2), n1.max(n2));
    let k = (n1f * n2f - u).round();
    let affordable = (m as f64) * (n as f64) * (k + 1.0) <= EXACT_WORK_LIMIT;
    if small && !has_ties && affordable {
        let p = 2.0 * exact_u_cdf(m, n, k as usize);
        return Some(MannWhitney {
            u: u1,
            p: p.clamp(0.0, 1.0),
            method: MwuMethod::Exact,
        });
    }
    let big_n = n1f + n2f;
    let tie_term: f64 = ties.iter().map(|&t| (t as f64).powi(3) - t as f64).sum();
    let s = (n1f * n2f / 12.0 * ((big_n + 1.0) - tie_term / (big_n * (big_n - 1.0)))).sqrt();
    let z = (u - n1f * n2f / 2.0 - 0.5) / s;
    let p = 2.0 * normal_sf(z);
    Some(MannWhitney {
        u: u1,
        p: if p.is_nan() { p } else { p.clamp(0.0, 1.0) },
        method: MwuMethod::Asymptotic,
    })
}

/// `P(U ≤ k)` under the null for samples of sizes `m ≤ n`.
fn exact_u_cdf(m: usize, n: usize, k: usize) -> f64 {
    // prev[j][u] = P_{i-1, j}(u), cur[j][u] = P_{i, j}(u), for u ≤ k only.
    let width = k + 1;
    let mut prev = vec![0.0; (n + 1) * width];
    for j in 0..=n {
        prev[j * width] = 1.0;
    }
    let mut cur = vec![0.0; (n + 1) * width];
    for i in 1..=m {
        cur.iter_mut().for_each(|v| *v = 0.0);
        cur[0] = 1.0; // P_{i,0}(0) = 1
        for j in 1..=n {
            let (fi, fj) = (i as f64, j as f64);
            let (a, b) = (fi / (fi + fj), fj / (fi + fj));
            for u in 0..width {
                let from_prev = if u >= j { prev[j * width + u - j] } else { 0.0 };
                cur[j * width + u] = a * from_prev + b * cur[(j - 1) * width + u];
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[n * width..].iter().sum()
}

/// Holm step-down adjusted p-values, in the input order. NaN entries stay NaN and are not
/// counted in the family.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let m = idx.len();
    let mut out = vec![f64::NAN; p.len()];
    let mut running = 0.0f64;
    for (rank, &i) in idx.iter().enumerate() {
        let adj = ((m - rank) as f64 * p[i]).min(1.0);
        running = running.max(adj);
        out[i] = running;
    }
    out
}

/// Cohen's d of `x` relative to `y` with the pooled (n − 1 weighted) standard deviation;
/// `None` when n₁ + n₂ < 3 or the pooled std is zero.
pub fn cohen_d(x: &[f64], y: &[f64]) -> Option<f64> {
    let (n1, n2) = (x.len(), y.len());
    if n1 == 0 || n2 == 0 || n1 + n2 < 3 {
        return None;
    }
    let ss = |s: &[f64]| variance(s).map_or(0.0, |v| v * (s.len() - 1) as f64);
    let pooled = ((ss(x) + ss(y)) / (n1 + n2 - 2) as f64).sqrt();
    if pooled == 0.0 || !pooled.is_finite() {
        return None;
    }
    Some((mean(x)? - mean(y)?) / pooled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_distribution_sums_to_one_and_is_symmetric() {
        for (m, n) in [(1, 1), (2, 3), (3, 7), (8, 8)] {
            let total = exact_u_cdf(m, n, m * n);
            assert!((total - 1.0).abs() < 1e-12, "{m} {n}: {total}");
            // P(U ≤ k) + P(U ≤ mn − k − 1) = 1 by symmetry.
            let k = m * n / 3;
            let s = exact_u_cdf(m, n, k) + exact_u_cdf(m, n, m * n - k - 1);
            assert!((s - 1.0).abs() < 1e-12);
        }
        // Two vs two, complete separation: P(U ≤ 0) = 1/6.
        assert!((exact_u_cdf(2, 2, 0) - 1.0 / 6.0).abs() < 1e-15);
    }

    #[test]
    fn holm_steps_down_and_skips_nan() {
        let adj = holm(&[0.01, f64::NAN, 0.04, 0.03]);
        assert!((adj[0] - 0.03).abs() < 1e-15);
        assert!(adj[1].is_nan());
        assert!((adj[3] - 0.06).abs() < 1e-15);
        assert!((adj[2] - 0.06).abs() < 1e-15);
    }

    #[test]
    fn degenerate_inputs() {
        assert!(welch(&[1.0], &[1.0, 2.0]).is_none());
        let w = welch(&[1.0, 1.0], &[2.0, 2.0]).unwrap();
        assert_eq!((w.t, w.df, w.p), (f64::NEG_INFINITY, 1.0, 0.0));
        assert!(cohen_d(&[1.0], &[1.0]).is_none());
        assert!(cohen_d(&[1.0, 1.0], &[1.0, 1.0]).is_none());
        assert!(mann_whitney(&[], &[1.0]).is_none());
    }
}
