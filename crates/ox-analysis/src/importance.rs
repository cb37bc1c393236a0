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

use crate::describe::{average_ranks, mean};

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
    fn spearman_monotone_and_constant() {
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 300.0]).unwrap() - 1.0).abs() < 1e-15);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-15);
        assert_eq!(spearman(&[1.0, 1.0, 1.0], &[3.0, 2.0, 1.0]), None);
    }
}
