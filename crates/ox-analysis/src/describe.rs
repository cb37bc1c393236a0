//! Descriptive statistics of one sample and the Student-t interval of its mean.
//!
//! For the finite values `x₁…xₙ` (NaN and ±∞ are excluded and counted):
//! - mean `x̄ = Σxᵢ / n`; std `s = √(Σ(xᵢ − x̄)² / (n − 1))` (undefined for n < 2);
//!   sem `s / √n`; median as `numpy.median` (mean of the two middle values for even n).
//! - Student-t interval at confidence `c`: `x̄ ± t_{(1+c)/2, n−1} · sem`
//!   (`scipy.stats.t.interval(c, n − 1, loc=x̄, scale=sem)`); a zero sem gives `[x̄, x̄]`.
//! - Percentiles interpolate linearly between order statistics (`numpy.percentile`'s
//!   default): position `q·(n − 1)` in the sorted sample.
//! - Ranks are 1-based with ties given their average rank (`scipy.stats.rankdata`).

use serde::Serialize;

use crate::dist::t_quantile_upper;

/// Descriptive statistics of a sample's finite values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Describe {
    /// Number of finite values used.
    pub n: usize,
    /// Values left out because they were NaN or infinite.
    pub non_finite: usize,
    pub mean: Option<f64>,
    /// Sample standard deviation (n − 1); `None` for n < 2.
    pub std: Option<f64>,
    /// Standard error of the mean, `std / √n`; `None` for n < 2.
    pub sem: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub median: Option<f64>,
}

/// Describes the finite values of `values`.
pub fn describe(values: &[f64]) -> Describe {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let non_finite = values.len() - finite.len();
    let n = finite.len();
    let mean = mean(&finite);
    let std = std_dev(&finite);
    let sem = std.map(|s| s / (n as f64).sqrt());
    let min = finite.iter().copied().min_by(f64::total_cmp);
    let max = finite.iter().copied().max_by(f64::total_cmp);
    Describe {
        n,
        non_finite,
        mean,
        std,
        sem,
        min,
        max,
        median: median(&finite),
    }
}

/// Arithmetic mean; `None` for an empty sample.
pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(values.iter().sum::<f64>() / values.len() as f64)
}

/// Sample variance with n − 1 in the denominator (two-pass); `None` for n < 2.
pub fn variance(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let m = mean(values)?;
    let ss: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    Some(ss / (values.len() - 1) as f64)
}

/// Sample standard deviation (n − 1); `None` for n < 2.
pub fn std_dev(values: &[f64]) -> Option<f64> {
    variance(values).map(f64::sqrt)
}

/// Median (`numpy.median`); `None` for an empty sample.
pub fn median(values: &[f64]) -> Option<f64> {
    percentile(values, 0.5)
}

/// The `q`-quantile (`q` in [0, 1]) with linear interpolation, like `numpy.percentile`.
pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    percentile_sorted(&sorted, q)
}

/// [`percentile`] of an already sorted sample.
pub fn percentile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let pos = q.clamp(0.0, 1.0) * last as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(last);
    let frac = pos - lo as f64;
    let a = *sorted.get(lo)?;
    let b = *sorted.get(hi)?;
    // numpy's `_lerp`: a + (b - a) * t, computed from the nearer end for t ≥ 0.5.
    Some(if frac >= 0.5 {
        b - (b - a) * (1.0 - frac)
    } else {
        a + (b - a) * frac
    })
}

/// Student-t confidence interval of the mean of a sample of size `n` with standard error
/// `sem`; `None` when n < 2, `confidence` is not in (0, 1), or an input is not finite.
pub fn t_interval(mean: f64, sem: f64, n: usize, confidence: f64) -> Option<(f64, f64)> {
    if !(n >= 2 && confidence > 0.0 && confidence < 1.0 && mean.is_finite() && sem.is_finite()) {
        return None;
    }
    let q = t_quantile_upper(0.5 + confidence / 2.0, (n - 1) as f64);
    if !q.is_finite() {
        return None;
    }
    let half = q * sem;
    Some((mean - half, mean + half))
}

/// 1-based ranks with ties averaged (`scipy.stats.rankdata(method='average')`), and the
/// sizes of the tie groups (each ≥ 1), in sorted order.
pub fn average_ranks(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut ties = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end hold equal values: ranks start+1 ..= end, averaged.
        let avg = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = avg;
        }
        ties.push(end - start);
        start = end;
    }
    (ranks, ties)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_samples_and_nan() {
        let d = describe(&[1.0, f64::NAN, 3.0, f64::INFINITY]);
        assert_eq!((d.n, d.non_finite), (2, 2));
        assert_eq!(d.mean, Some(2.0));
        assert_eq!(d.median, Some(2.0));
        assert!((d.std.unwrap() - 2f64.sqrt()).abs() < 1e-15);
        let one = describe(&[5.0]);
        assert_eq!((one.std, one.sem, one.median), (None, None, Some(5.0)));
        assert_eq!(t_interval(5.0, 0.0, 1, 0.95), None);
        assert_eq!(t_interval(5.0, 0.0, 3, 0.95), Some((5.0, 5.0)));
        assert_eq!(describe(&[]).mean, None);
    }

    #[test]
    fn ranks_average_ties() {
        let (r, t) = average_ranks(&[3.0, 1.0, 3.0, 2.0]);
        assert_eq!(r, vec![3.5, 1.0, 3.5, 2.0]);
        assert_eq!(t, vec![1, 1, 2]);
    }

    #[test]
    fn percentile_is_numpy_linear() {
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.25), Some(1.75));
        assert_eq!(percentile(&[4.0], 0.9), Some(4.0));
    }
}
