//! What mattered: variance explained by a parameter (η²) and its direction (Spearman ρ).
//!
//! - One-way ANOVA η² over groups `g` of values (all selected runs, grouped by the
//!   parameter's value): `η² = SS_between / SS_total`, `SS_between = Σ_g n_g (x̄_g − x̄)²`,
//!   `SS_total = Σ (xᵢ − x̄)²`. Undefined (None) when SS_total = 0 or fewer than 2 values.
//!   Equals `F·df_b / (F·df_b + df_w)` of `scipy.stats.f_oneway`.
//! - Spearman ρ (`scipy.stats.spearmanr`): the Pearson correlation of the average ranks
//!   (ties share their mean rank) of the two variables,
//!   `ρ = Σ(rᵢ − r̄)(sᵢ − s̄) / √(Σ(rᵢ − r̄)² Σ(sᵢ − s̄)²)`; None when either variable is
//!   constant or there are fewer than 2 pairs.
//! - Their tests, so that a sentence claims an effect or a trend only when the data support
//!   it: the one-way ANOVA F-test, `F = (SS_between/(k − 1)) / (SS_within/(N − k))`,
//!   `p = P(F_{k−1, N−k} > F)` (`scipy.stats.f_oneway`; needs k ≥ 2 levels and N > k runs),
//!   and Spearman's t-test, `t = ρ √((n − 2)/(1 − ρ²))`, two-sided with n − 2 degrees of
//!   freedom (`scipy.stats.spearmanr`'s p-value; needs n ≥ 3).

use crate::describe::{average_ranks, mean};
use crate::dist::{f_sf, t_two_sided_p};

/// η² of `groups` (each a list of values of one level); `None` when undefined.
pub fn eta_squared(groups: &[Vec<f64>]) -> Option<f64> {
    let all: Vec<f64> = groups.iter().flatten().copied().collect();
    if all.len() < 2 {
        return None;
    }
    let grand = mean(&all)?;
    let ss_total: f64 = all.iter().map(|v| (v - grand).powi(2)).sum();
    if ss_total <= 0.0 {
        return None;
    }
    let ss_between: f64 = groups
        .iter()
        .filter_map(|g| mean(g).map(|m| g.len() as f64 * (m - grand).powi(2)))
        .sum();
    Some((ss_between / ss_total).clamp(0.0, 1.0))
}

/// One-way ANOVA of `groups`: `(F, p)`; `None` with fewer than 2 non-empty groups, no
/// within-group degrees of freedom, or no variance at all. Zero within-group variance with
/// differing means gives `(∞, 0)`, as SciPy does.
pub fn anova_oneway(groups: &[Vec<f64>]) -> Option<(f64, f64)> {
    let groups: Vec<&Vec<f64>> = groups.iter().filter(|g| !g.is_empty()).collect();
    let k = groups.len();
    let n: usize = groups.iter().map(|g| g.len()).sum();
    if k < 2 || n <= k {
        return None;
    }
    let all: Vec<f64> = groups.iter().flat_map(|g| g.iter().copied()).collect();
    let grand = mean(&all)?;
    let mut ss_between = 0.0;
    let mut ss_within = 0.0;
    for g in &groups {
        let m = mean(g)?;
        ss_between += g.len() as f64 * (m - grand).powi(2);
        ss_within += g.iter().map(|v| (v - m).powi(2)).sum::<f64>();
    }
    if ss_between + ss_within <= 0.0 {
        return None;
    }
    let (d1, d2) = ((k - 1) as f64, (n - k) as f64);
    if ss_within <= 0.0 {
        return Some((f64::INFINITY, 0.0));
    }
    let f = (ss_between / d1) / (ss_within / d2);
    Some((f, f_sf(f, d1, d2)))
}

/// Two-sided p-value of a Spearman (or Pearson) correlation `rho` over `n` pairs, by the
/// t-test with n − 2 degrees of freedom; `None` for n < 3.
pub fn correlation_p(rho: f64, n: usize) -> Option<f64> {
    if n < 3 || !rho.is_finite() {
        return None;
    }
    if rho.abs() >= 1.0 {
        return Some(0.0);
    }
    let df = (n - 2) as f64;
    let t = rho * (df / ((1.0 + rho) * (1.0 - rho))).sqrt();
    Some(t_two_sided_p(t, df))
}

/// Pearson correlation; `None` when undefined.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    let (mx, my) = (mean(x)?, mean(y)?);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (da, db) = (a - mx, b - my);
        sxy += da * db;
        sxx += da * da;
        syy += db * db;
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    Some((sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0))
}

/// Spearman rank correlation with average ranks for ties; `None` when undefined.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() {
        return None;
    }
    let (rx, _) = average_ranks(x);
    let (ry, _) = average_ranks(y);
    pearson(&rx, &ry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_extremes() {
        assert_eq!(eta_squared(&[vec![1.0, 1.0], vec![2.0, 2.0]]), Some(1.0));
        assert_eq!(eta_squared(&[vec![1.0, 2.0], vec![1.0, 2.0]]), Some(0.0));
        assert_eq!(eta_squared(&[vec![3.0, 3.0]]), None);
    }

    #[test]
    fn anova_and_correlation_tests() {
        // Clearly different levels.
        let (f, p) = anova_oneway(&[vec![1.0, 1.1, 0.9], vec![2.0, 2.1, 1.9]]).unwrap();
        assert!(f > 100.0 && p < 1e-3, "{f} {p}");
        // Same levels: F = 0, p = 1.
        let (f, p) = anova_oneway(&[vec![1.0, 2.0], vec![1.0, 2.0]]).unwrap();
        assert_eq!((f, p), (0.0, 1.0));
        assert_eq!(
            anova_oneway(&[vec![1.0], vec![2.0]]),
            None,
            "no within-group df"
        );
        assert_eq!(correlation_p(0.0, 10), Some(1.0));
        assert_eq!(correlation_p(1.0, 3), Some(0.0));
        assert_eq!(correlation_p(0.5, 2), None);
    }

    #[test]
    fn spearman_monotone_and_constant() {
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 300.0]).unwrap() - 1.0).abs() < 1e-15);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-15);
        assert_eq!(spearman(&[1.0, 1.0, 1.0], &[3.0, 2.0, 1.0]), None);
    }
}
