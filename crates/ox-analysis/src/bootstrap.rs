//! Percentile bootstrap of the mean, seeded and reproducible.
//!
//! `B` resamples of size n are drawn with replacement from the sample; the interval at
//! confidence `c` is the `(1 − c)/2` and `(1 + c)/2` percentiles (linear interpolation, as
//! `numpy.percentile`) of the `B` resample means — `scipy.stats.bootstrap(...,
//! method='percentile')`. The generator is ChaCha8 seeded from a `u64`, so the same seed,
//! sample and `B` give the same interval on every machine. Agreement with SciPy is within
//! Monte-Carlo error only (the random streams differ).

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

use crate::describe::percentile_sorted;

/// A seeded random source with unbiased bounded integers (Lemire's multiply-and-reject).
pub struct SeededRng(ChaCha8Rng);

impl SeededRng {
    /// A generator whose stream depends only on `seed`.
    pub fn new(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    /// A uniform integer in `0..n`; `n` must be positive (0 gives 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.0.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// A fair coin.
    pub fn coin(&mut self) -> bool {
        self.0.next_u64() >> 63 == 1
    }
}

/// Percentile bootstrap interval of the mean of `values` from `resamples` resamples; `None`
/// when there are fewer than two values, no resamples, or `confidence` is not in (0, 1).
pub fn bootstrap_mean_ci(
    values: &[f64],
    resamples: usize,
    confidence: f64,
    seed: u64,
) -> Option<(f64, f64)> {
    if values.len() < 2 || resamples == 0 || !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    let mut rng = SeededRng::new(seed);
    let n = values.len();
    let mut means = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        let mut sum = 0.0;
        for _ in 0..n {
            let i = rng.below(n as u64) as usize;
            sum += values.get(i).copied().unwrap_or(f64::NAN);
        }
        means.push(sum / n as f64);
    }
    means.sort_by(f64::total_cmp);
    let alpha = 1.0 - confidence;
    Some((
        percentile_sorted(&means, alpha / 2.0)?,
        percentile_sorted(&means, 1.0 - alpha / 2.0)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproducible_and_bounded() {
        let x: Vec<f64> = (1..=30).map(|i| f64::from(i * i % 17)).collect();
        let a = bootstrap_mean_ci(&x, 2000, 0.95, 7).unwrap();
        assert_eq!(a, bootstrap_mean_ci(&x, 2000, 0.95, 7).unwrap());
        assert_ne!(a, bootstrap_mean_ci(&x, 2000, 0.95, 8).unwrap());
        assert!(a.0 >= 0.0 && a.1 <= 16.0 && a.0 < a.1);
        assert_eq!(bootstrap_mean_ci(&[1.0], 100, 0.95, 0), None);
        assert_eq!(
            bootstrap_mean_ci(&[2.0, 2.0], 100, 0.95, 0),
            Some((2.0, 2.0))
        );
    }

    #[test]
    fn below_is_in_range_and_covers() {
        let mut rng = SeededRng::new(1);
        let mut seen = [0usize; 3];
        for _ in 0..3000 {
            seen[rng.below(3) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 900), "{seen:?}");
    }
}
