//! Run diagnostics: what a metric series did, and what a set of runs says about cost.
//!
//! Series (points `(step, value)` in order; "worse"/"better" follow the [`Direction`]):
//! - **diverged**: a NaN/±∞ value (the first such step), or a *blow-up*: a sustained rise
//!   far beyond the early level. With `s` the starting level (median of the first
//!   `w = max(1, n/10)` points) and `b` the best value of the series, the limit is
//!   `s + max(|s − b|, |s|)` in the worse direction (for a positive loss: at least twice its
//!   start, and more than it ever improved). The series blew up at the first step after the
//!   first `w` points from which *every* later value is past that limit — e.g. a loss that
//!   started at 2.3, reached 0.1 and ended above 4.5. A single spike that recovers is not a
//!   blow-up, and neither is anything a monotone improvement does, whatever its start:
//!   values after the first `w` points of a monotone decrease are all below `s`.
//! - **converged step**: the series is smoothed by a trailing mean over `w` points; it is
//!   converged from the first step after which every smoothed value stays within
//!   `tolerance · range` (default 2 % of the smoothed range) of the final smoothed value.
//!   **plateau**: converged before the last half of the steps (n ≥ 10), i.e. the second half
//!   of training did not move the metric.
//! - **oscillation**: over the last half, the fraction of sign changes between successive
//!   non-zero differences is ≥ 0.8 (i.i.d. noise gives ≈ 2/3, a trend ≈ 0) and the mean
//!   absolute step is ≥ 5 % of the series' range.
//! - **steps to threshold**: the first step whose value is at least as good as the threshold.
//!
//! Across runs:
//! - **diminishing returns** over a numeric parameter with at least 3 levels: among the
//!   levels (mean metric per level), the smallest level whose mean is within
//!   `tolerance · |best mean|` (default 1 %) of the best level's mean.
//! - **Pareto set** of (metric, cost): the points not dominated by another point at least as
//!   good in both and strictly better in one (cost: wall time, or GPU-hours when known).
//!
//! Outlier seeds are tested in [`crate::outliers`].

use serde::Serialize;

use crate::describe::median;
use crate::direction::Direction;

/// Tunables of [`diagnose_series`].
#[derive(Debug, Clone, Copy)]
pub struct SeriesOptions {
    pub direction: Direction,
    /// Steps to reach this value, when given.
    pub threshold: Option<f64>,
    /// Convergence band as a fraction of the smoothed range.
    pub plateau_tolerance: f64,
}

/// What a metric series did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesDiagnostics {
    pub points: usize,
    pub diverged: bool,
    /// The step where divergence was first seen.
    pub diverged_step: Option<i64>,
    /// `"non-finite value"` or `"blow-up"`.
    pub diverged_reason: Option<&'static str>,
    pub converged_step: Option<i64>,
    pub plateau: bool,
    pub oscillating: bool,
    /// Fraction of sign changes of successive differences over the last half.
    pub sign_change_ratio: Option<f64>,
    pub threshold_step: Option<i64>,
}

/// Diagnoses one series.
pub fn diagnose_series(points: &[(i64, f64)], opts: &SeriesOptions) -> SeriesDiagnostics {
    let dir = opts.direction;
    let n = points.len();
    let mut out = SeriesDiagnostics {
        points: n,
        diverged: false,
        diverged_step: None,
        diverged_reason: None,
        converged_step: None,
        plateau: false,
        oscillating: false,
        sign_change_ratio: None,
        threshold_step: None,
    };
    if let Some(&(step, _)) = points.iter().find(|(_, v)| !v.is_finite()) {
        out.diverged = true;
        out.diverged_step = Some(step);
        out.diverged_reason = Some("non-finite value");
    }
    let finite: Vec<(i64, f64)> = points
        .iter()
        .copied()
        .filter(|(_, v)| v.is_finite())
        .collect();
    let w = (finite.len() / 10).max(1);
    if let Some(threshold) = opts.threshold {
        out.threshold_step = finite
            .iter()
            .find(|(_, v)| *v == threshold || dir.better(*v, threshold))
            .map(|(s, _)| *s);
    }
    let head: Vec<f64> = finite.iter().take(w).map(|p| p.1).collect();
    let Some(start) = median(&head) else {
        return out;
    };
    if !out.diverged
        && let Some(step) = blow_up_step(&finite, start, w, dir)
    {
        out.diverged = true;
        out.diverged_step = Some(step);
        out.diverged_reason = Some("blow-up");
    }
    if out.diverged || finite.len() < 2 {
        return out;
    }
    // Trailing mean over w points (the first w − 1 use what is available).
    let mut smoothed = Vec::with_capacity(finite.len());
    let mut window_sum = 0.0;
    for (i, &(_, v)) in finite.iter().enumerate() {
        window_sum += v;
        if i >= w {
            window_sum -= finite.get(i - w).map_or(0.0, |p| p.1);
        }
        smoothed.push(window_sum / (i + 1).min(w) as f64);
    }
    let lo = smoothed.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = smoothed.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let last = smoothed.last().copied().unwrap_or(0.0);
    let band = opts.plateau_tolerance * (hi - lo);
    let mut first_in = smoothed.len() - 1;
    for i in (0..smoothed.len()).rev() {
        if smoothed.get(i).is_some_and(|s| (s - last).abs() <= band) {
            first_in = i;
        } else {
            break;
        }
    }
    out.converged_step = finite.get(first_in).map(|p| p.0);
    out.plateau = finite.len() >= 10 && first_in * 2 < finite.len();
    let tail = finite.get(finite.len() / 2..).unwrap_or(&[]);
    let diffs: Vec<f64> = tail
        .windows(2)
        .map(|p| p[1].1 - p[0].1)
        .filter(|d| *d != 0.0)
        .collect();
    if diffs.len() >= 4 {
        let changes = diffs
            .windows(2)
            .filter(|d| d[0].signum() != d[1].signum())
            .count();
        let ratio = changes as f64 / (diffs.len() - 1) as f64;
        let mean_step = diffs.iter().map(|d| d.abs()).sum::<f64>() / diffs.len() as f64;
        let (flo, fhi) = finite
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                (a.min(p.1), b.max(p.1))
            });
        out.sign_change_ratio = Some(ratio);
        out.oscillating = ratio >= 0.8 && mean_step >= 0.05 * (fhi - flo);
    }
    out
}

/// The first step (after the first `w` points) from which every value is past the blow-up
/// limit of the module docs; `None` when the series ends within it.
fn blow_up_step(finite: &[(i64, f64)], start: f64, w: usize, dir: Direction) -> Option<i64> {
    let best = finite
        .iter()
        .map(|p| p.1)
        .min_by(|a, b| dir.cmp_best_first(*a, *b))?;
    let limit = (start - best).abs().max(start.abs());
    if limit <= 0.0 {
        return None;
    }
    let past = |v: f64| match dir {
        Direction::Min => v - start > limit,
        Direction::Max => start - v > limit,
    };
    let tail = finite.get(w..)?;
    let from = tail.iter().rposition(|p| !past(p.1)).map_or(0, |i| i + 1);
    tail.get(from).map(|p| p.0)
}

/// Diminishing returns over a numeric parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiminishingReturns {
    /// The level with the best mean.
    pub best_level: f64,
    pub best_mean: f64,
    /// The smallest level whose mean is within `tolerance` of the best.
    pub smallest_sufficient_level: f64,
    pub smallest_sufficient_mean: f64,
    /// The absolute tolerance used.
    pub tolerance: f64,
}

/// Diminishing returns over `(level, mean metric)` pairs; `None` with fewer than 3 levels
/// (two points show a difference, not a curve that flattens).
/// `relative_tolerance` is a fraction of `|best mean|` (of the spread of means when the best
/// mean is 0).
pub fn diminishing_returns(
    levels: &[(f64, f64)],
    direction: Direction,
    relative_tolerance: f64,
) -> Option<DiminishingReturns> {
    let finite: Vec<(f64, f64)> = levels
        .iter()
        .copied()
        .filter(|(l, m)| l.is_finite() && m.is_finite())
        .collect();
    if finite.len() < 3 {
        return None;
    }
    let &(best_level, best_mean) = finite
        .iter()
        .min_by(|a, b| direction.cmp_best_first(a.1, b.1))?;
    let spread = finite.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max)
        - finite.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let scale = if best_mean != 0.0 {
        best_mean.abs()
    } else {
        spread
    };
    let tolerance = relative_tolerance * scale;
    let &(level, mean) = finite
        .iter()
        .filter(|(_, m)| (m - best_mean).abs() <= tolerance)
        .min_by(|a, b| a.0.total_cmp(&b.0))?;
    Some(DiminishingReturns {
        best_level,
        best_mean,
        smallest_sufficient_level: level,
        smallest_sufficient_mean: mean,
        tolerance,
    })
}

/// Which `(metric, cost)` points are on the Pareto front (not dominated). Points with a
/// non-finite coordinate are never on it.
pub fn pareto_front(points: &[(f64, f64)], direction: Direction) -> Vec<bool> {
    points
        .iter()
        .map(|&(m, c)| {
            m.is_finite()
                && c.is_finite()
                && !points.iter().any(|&(m2, c2)| {
                    let at_least = (m2 == m || direction.better(m2, m)) && c2 <= c;
                    let strictly = direction.better(m2, m) || c2 < c;
                    m2.is_finite() && c2.is_finite() && at_least && strictly
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(direction: Direction) -> SeriesOptions {
        SeriesOptions {
            direction,
            threshold: Some(0.5),
            plateau_tolerance: 0.02,
        }
    }

    #[test]
    fn converging_loss_plateaus() {
        let s: Vec<(i64, f64)> = (0..100)
            .map(|i| (i, if i < 30 { 2.0 - i as f64 * 0.05 } else { 0.5 }))
            .collect();
        let d = diagnose_series(&s, &opts(Direction::Min));
        assert!(!d.diverged && d.plateau && !d.oscillating, "{d:?}");
        assert!(
            d.converged_step.is_some_and(|c| (28..=40).contains(&c)),
            "{d:?}"
        );
        assert_eq!(d.threshold_step, Some(30));
    }

    #[test]
    fn divergence_nan_and_blowup() {
        let nan = [(0, 2.0), (1, 1.0), (2, f64::NAN)];
        let d = diagnose_series(&nan, &opts(Direction::Min));
        assert_eq!(
            (d.diverged, d.diverged_step, d.diverged_reason),
            (true, Some(2), Some("non-finite value"))
        );
        let blow = [(0, 2.0), (1, 1.0), (2, 0.5), (3, 3.0), (4, 9.0)];
        let d = diagnose_series(&blow, &opts(Direction::Min));
        assert_eq!(
            (d.diverged_step, d.diverged_reason),
            (Some(4), Some("blow-up"))
        );
        let healthy = [(0, 2.0), (1, 1.0), (2, 0.5), (3, 3.0)];
        assert!(!diagnose_series(&healthy, &opts(Direction::Min)).diverged);
        // A spike that recovers is not a divergence.
        let spike = [(0, 2.0), (1, 1.0), (2, 9.0), (3, 0.5)];
        assert!(!diagnose_series(&spike, &opts(Direction::Min)).diverged);
    }

    /// The case: `loss = 2·0.9^step`, 200 steps, once per seed scale.
    #[test]
    fn smooth_decay_is_not_a_blow_up() {
        for scale in [1.0, 2.0, 1000.0] {
            let s: Vec<(i64, f64)> = (0..200)
                .map(|i| (i, scale * 2.0 * 0.9f64.powi(i as i32)))
                .collect();
            let d = diagnose_series(&s, &opts(Direction::Min));
            assert!(!d.diverged, "{d:?}");
            assert!(d.converged_step.is_some() && d.plateau, "{d:?}");
            // The same series read as a score (higher is better) only gets worse, but never
            // falls past its start by the limit: a decay is not a blow-up either way.
            assert!(!diagnose_series(&s, &opts(Direction::Max)).diverged);
        }
    }

    /// A loss that trains, then explodes and stays up (a real blow-up), for either direction.
    #[test]
    fn known_blow_up_is_found() {
        let s: Vec<(i64, f64)> = (0..100)
            .map(|i| {
                let v = if i < 60 {
                    2.3 * 0.95f64.powi(i)
                } else {
                    0.2 * 1.2f64.powi(i - 60)
                };
                (i64::from(i), v)
            })
            .collect();
        let d = diagnose_series(&s, &opts(Direction::Min));
        assert_eq!(d.diverged_reason, Some("blow-up"), "{d:?}");
        // 0.2·1.2^k first exceeds 2·(median of the first 10 points) ≈ 3.65 at k = 16.
        assert_eq!(d.diverged_step, Some(76));
        let acc: Vec<(i64, f64)> = s.iter().map(|&(i, v)| (i, 10.0 - v)).collect();
        let d = diagnose_series(&acc, &opts(Direction::Max));
        assert_eq!(d.diverged_reason, Some("blow-up"), "{d:?}");
    }

    #[test]
    fn oscillation_detected() {
        let s: Vec<(i64, f64)> = (0..40)
            .map(|i| (i, if i % 2 == 0 { 1.0 } else { 2.0 }))
            .collect();
        let d = diagnose_series(&s, &opts(Direction::Min));
        assert!(d.oscillating, "{d:?}");
        let trend: Vec<(i64, f64)> = (0..40).map(|i| (i, 10.0 - i as f64 * 0.1)).collect();
        assert!(!diagnose_series(&trend, &opts(Direction::Min)).oscillating);
    }

    #[test]
    fn diminishing_and_pareto() {
        let d = diminishing_returns(
            &[(1.0, 0.70), (2.0, 0.80), (4.0, 0.805), (8.0, 0.806)],
            Direction::Max,
            0.01,
        )
        .unwrap();
        assert_eq!((d.best_level, d.smallest_sufficient_level), (8.0, 2.0));
        let front = pareto_front(
            &[(0.5, 10.0), (0.4, 20.0), (0.6, 5.0), (0.5, 30.0)],
            Direction::Min,
        );
        assert_eq!(front, vec![true, true, true, false]);
    }
}
