//! Outlier seeds within a configuration: Grubbs' test, where its false-alarm rate holds.
//!
//! For the `n` values of one configuration (mean `x̄`, sample std `s`), Grubbs' statistic is
//! `G = max|xᵢ − x̄| / s`. The value farthest from the mean is flagged when
//! `G > G_crit = (n − 1)/√n · √(t² / (n − 2 + t²))` with `t` the upper `α/(2n)` quantile of
//! Student's t with `n − 2` degrees of freedom (two-sided Grubbs). Its p-value is the
//! Bonferroni bound `min(1, 2n · P(T_{n−2} > t_G))`, `t_G = √(n(n − 2)G² / ((n − 1)² − nG²))`,
//! which is exact wherever it is below `α`.
//!
//! On normally distributed seeds this flags a group with probability `α`
//! ([`OUTLIER_ALPHA`] = 1 %), whatever `n`. It is only applied from [`MIN_OUTLIER_N`] = 5
//! values: `G` can never exceed `(n − 1)/√n`, so with 3 or 4 seeds the test can only fire on
//! near-ties (`[0.5, 0.5, 0.9]`) and says nothing useful. (The modified z-score rule used
//! before, `0.6745·|x − x̃|/MAD > 3.5`, flagged 29 % of normal groups of 3 and still 12 % of
//! groups of 10: the MAD of a few values is itself noise.) At most one seed per group is
//! flagged.

use crate::describe::{mean, std_dev};
use crate::dist::{t_quantile_upper, t_two_sided_p};

/// Significance level of the outlier test: the false-alarm rate per group.
pub const OUTLIER_ALPHA: f64 = 0.01;
/// Smallest group the outlier test is applied to.
pub const MIN_OUTLIER_N: usize = 5;

/// Grubbs' test on one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grubbs {
    /// Index of the value farthest from the mean.
    pub index: usize,
    /// `max|xᵢ − x̄| / s`.
    pub g: f64,
    /// The critical value at [`OUTLIER_ALPHA`].
    pub critical: f64,
    /// Bonferroni-bounded two-sided p-value.
    pub p: f64,
}

impl Grubbs {
    /// Whether the farthest value is an outlier at [`OUTLIER_ALPHA`].
    pub fn is_outlier(&self) -> bool {
        self.g > self.critical
    }
}

/// Grubbs' critical value for `n` values at level `alpha` (two-sided); NaN for n < 3.
pub fn grubbs_critical(n: usize, alpha: f64) -> f64 {
    if n < 3 {
        return f64::NAN;
    }
    let nf = n as f64;
    let t = t_quantile_upper(1.0 - alpha / (2.0 * nf), nf - 2.0);
    (nf - 1.0) / nf.sqrt() * (t * t / (nf - 2.0 + t * t)).sqrt()
}

/// Grubbs' statistic of `values` (all finite); `None` for n < 3 or no spread.
pub fn grubbs(values: &[f64]) -> Option<Grubbs> {
    let n = values.len();
    if n < 3 || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let m = mean(values)?;
    let s = std_dev(values)?;
    if s <= 0.0 {
        return None;
    }
    let (index, dev) = values
        .iter()
        .map(|v| (v - m).abs())
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let g = dev / s;
    let nf = n as f64;
    let denom = (nf - 1.0).powi(2) - nf * g * g;
    let p = if denom <= 0.0 {
        0.0
    } else {
        let t = (nf * (nf - 2.0) * g * g / denom).sqrt();
        (nf * t_two_sided_p(t, nf - 2.0)).min(1.0)
    };
    Some(Grubbs {
        index,
        g,
        critical: grubbs_critical(n, OUTLIER_ALPHA),
        p,
    })
}

/// The outlier among `values`, if any: Grubbs at [`OUTLIER_ALPHA`], for n ≥ [`MIN_OUTLIER_N`].
pub fn outlier(values: &[f64]) -> Option<Grubbs> {
    if values.len() < MIN_OUTLIER_N {
        return None;
    }
    grubbs(values).filter(Grubbs::is_outlier)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::{RngCore, SeedableRng};

    /// Standard normal draws (Box–Muller).
    fn normals(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
        (0..n)
            .map(|_| {
                let u1 = ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
                let u2 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
            })
            .collect()
    }

    /// The simulation: groups of normal seeds with no outlier. The share of groups
    /// flagged must be the stated rate (1 %), for every group size; groups under 5 are never
    /// flagged.
    #[test]
    fn false_alarm_rate_is_controlled() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        const GROUPS: usize = 20_000;
        for n in [3usize, 4] {
            let flagged = (0..GROUPS)
                .filter(|_| outlier(&normals(&mut rng, n)).is_some())
                .count();
            assert_eq!(flagged, 0, "n = {n}");
        }
        for n in [5usize, 6, 8, 10, 20] {
            let flagged = (0..GROUPS)
                .filter(|_| outlier(&normals(&mut rng, n)).is_some())
                .count();
            let rate = flagged as f64 / GROUPS as f64;
            // 1 % ± 5 standard errors (0.07 %).
            assert!((0.0065..0.0135).contains(&rate), "n = {n}: rate {rate}");
        }
    }

    #[test]
    fn planted_outlier_is_found() {
        let o = outlier(&[1.0, 1.1, 0.9, 1.05, 10.0]).unwrap();
        assert_eq!(o.index, 4);
        assert!(o.p < OUTLIER_ALPHA && o.g > o.critical);
        assert!(outlier(&[1.0, 1.1, 0.9, 1.05, 1.2]).is_none());
        assert!(outlier(&[1.0, 1.0, 1.0, 1.0, 1.0]).is_none());
        // Too few seeds to tell.
        assert!(outlier(&[1.0, 1.1, 50.0]).is_none());
    }
}
