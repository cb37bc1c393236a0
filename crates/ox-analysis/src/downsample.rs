//! Series for drawing: min/max downsampling per pixel column, LTTB, TensorBoard's debiased
//! EMA, and the mean ± interval of runs aligned by step.
//!
//! A series is a slice of `(x, y)` points in increasing `x` (step or time). A non-finite `y`
//! (NaN, ±∞) is a **gap**: the line breaks there. Outputs mark a gap with one point whose `y`
//! is NaN, so a drawing breaks its path at every NaN and never joins across missing data.
//!
//! - [`min_max`]: the `x` range is cut into `columns` equal columns (one per pixel); each
//!   column keeps its first, minimum, maximum and last finite point, in `x` order, so the
//!   drawn envelope (and every spike) is exactly that of the full series. The first and last
//!   points of the series always survive. At most 4 points per column, plus 4 per gap.
//! - [`lttb`]: Largest-Triangle-Three-Buckets (Steinarsson 2013) to a fixed point budget,
//!   per run of finite points; keeps the shape, not every extreme.
//! - [`ema_debiased`]: TensorBoard's smoothing slider: `last = w·last + (1 − w)·y`, shown as
//!   `last / (1 − wⁿ)` after `n` finite points (the debiasing that keeps the start from
//!   being pulled to 0). Non-finite points pass through unchanged and do not update the
//!   average; a constant series is returned unchanged.
//! - [`aligned_band`]: at every `x` where at least one series has a finite value, the mean
//!   and the Student-t interval ([`t_interval`](crate::describe::t_interval)) of the values
//!   at that exact `x` — the same interval `ox stats` reports for a group.

use serde::Serialize;

use crate::describe::{describe, t_interval};

/// One point of a series: `(x, y)`; a NaN `y` is a gap.
pub type Point = (f64, f64);

/// Min/max downsampling of `points` (sorted by `x`) to `columns` pixel columns spanning the
/// series' own `x` range. Returns the points unchanged (gaps collapsed to one NaN each) when
/// the series is not longer than `4 · columns`.
pub fn min_max(points: &[Point], columns: usize) -> Vec<Point> {
    let range = x_range(points);
    match range {
        Some(r) => min_max_in(points, r, columns),
        None => collapse_gaps(points),
    }
}

/// Min/max downsampling of `points` (sorted by `x`) to `columns` equal columns of
/// `x_range` (the plot's x axis, shared by all series of a figure so their columns line up).
/// Points outside the range fall into the first or last column.
pub fn min_max_in(points: &[Point], x_range: (f64, f64), columns: usize) -> Vec<Point> {
    let columns = columns.max(1);
    if points.len() <= 4 * columns {
        return collapse_gaps(points);
    }
    let (x0, x1) = x_range;
    let width = x1 - x0;
    let scale = if width > 0.0 && width.is_finite() {
        columns as f64 / width
    } else {
        0.0
    };
    let column_of = |x: f64| -> usize {
        let c = (x - x0) * scale;
        if c.is_nan() || c < 0.0 {
            0
        } else {
            (c as usize).min(columns - 1)
        }
    };
    let mut out = Vec::with_capacity(4 * columns + 2);
    let mut bucket = Bucket::default();
    for &(x, y) in points {
        if !y.is_finite() {
            bucket.flush(&mut out);
            if out.last().is_some_and(|p: &Point| !p.1.is_nan()) {
                out.push((x, f64::NAN));
            }
            continue;
        }
        let col = column_of(x);
        if bucket.column != Some(col) {
            bucket.flush(&mut out);
            bucket.column = Some(col);
        }
        bucket.add(x, y);
    }
    bucket.flush(&mut out);
    out
}

/// The first, min, max and last finite points of one column.
#[derive(Default)]
struct Bucket {
    column: Option<usize>,
    first: Option<Point>,
    min: Point,
    max: Point,
    last: Point,
    min_at: usize,
    max_at: usize,
    count: usize,
}

impl Bucket {
    fn add(&mut self, x: f64, y: f64) {
        let p = (x, y);
        if self.first.is_none() {
            self.first = Some(p);
            self.min = p;
            self.max = p;
        } else {
            if y < self.min.1 {
                self.min = p;
                self.min_at = self.count;
            }
            if y > self.max.1 {
                self.max = p;
                self.max_at = self.count;
            }
        }
        self.last = p;
        self.count += 1;
    }

    /// Emits the kept points in `x` order and empties the bucket.
    fn flush(&mut self, out: &mut Vec<Point>) {
        if let Some(first) = self.first {
            out.push(first);
            let (a, b) = if self.min_at <= self.max_at {
                ((self.min, self.min_at), (self.max, self.max_at))
            } else {
                ((self.max, self.max_at), (self.min, self.min_at))
            };
            let last_at = self.count - 1;
            for (p, at) in [a, b] {
                if at != 0 && at != last_at && out.last() != Some(&p) {
                    out.push(p);
                }
            }
            if last_at != 0 {
                out.push(self.last);
            }
        }
        *self = Bucket::default();
    }
}

/// The `x` range of the points (NaN `x` ignored); `None` when there is none.
pub fn x_range(points: &[Point]) -> Option<(f64, f64)> {
    let mut xs = points.iter().map(|p| p.0).filter(|x| x.is_finite());
    let first = xs.next()?;
    let (lo, hi) = xs.fold((first, first), |(lo, hi), x| (lo.min(x), hi.max(x)));
    Some((lo, hi))
}

/// The points with every run of non-finite `y` replaced by one NaN point (none at the start).
fn collapse_gaps(points: &[Point]) -> Vec<Point> {
    let mut out: Vec<Point> = Vec::with_capacity(points.len());
    for &(x, y) in points {
        if y.is_finite() {
            out.push((x, y));
        } else if out.last().is_some_and(|p| !p.1.is_nan()) {
            out.push((x, f64::NAN));
        }
    }
    out
}

/// Largest-Triangle-Three-Buckets downsampling of `points` (sorted by `x`) to about
/// `threshold` points, applied to each run of finite points separately (the budget shared in
/// proportion to their lengths; each run keeps its first and last point). Gaps are marked
/// as in [`min_max`].
pub fn lttb(points: &[Point], threshold: usize) -> Vec<Point> {
    if points.len() <= threshold.max(3) {
        return collapse_gaps(points);
    }
    let finite_total = points.iter().filter(|p| p.1.is_finite()).count().max(1);
    let mut out = Vec::with_capacity(threshold + 8);
    for segment in points.split(|p| !p.1.is_finite()) {
        if segment.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push((segment[0].0, f64::NAN));
        }
        let share = (threshold * segment.len()).div_ceil(finite_total);
        lttb_segment(segment, share.max(2), &mut out);
    }
    out
}

fn lttb_segment(data: &[Point], threshold: usize, out: &mut Vec<Point>) {
    let n = data.len();
    if n <= threshold || threshold < 3 {
        if threshold < 3 && n > 2 {
            out.push(data[0]);
            out.push(data[n - 1]);
        } else {
            out.extend_from_slice(data);
        }
        return;
    }
    let every = (n - 2) as f64 / (threshold - 2) as f64;
    let mut a = 0usize;
    out.push(data[0]);
    for i in 0..threshold - 2 {
        let avg_start = ((i + 1) as f64 * every) as usize + 1;
        let avg_end = (((i + 2) as f64 * every) as usize + 1).min(n);
        // n > threshold makes `every` > 1, so both ranges below are non-empty.
        let avg = data.get(avg_start..avg_end).unwrap_or(&[]);
        let (mut ax, mut ay) = (0.0, 0.0);
        for p in avg {
            ax += p.0;
            ay += p.1;
        }
        let avg_len = avg.len().max(1) as f64;
        ax /= avg_len;
        ay /= avg_len;
        let range_start = (i as f64 * every) as usize + 1;
        let range_end = (((i + 1) as f64 * every) as usize + 1).min(n - 1);
        let (px, py) = data[a];
        let mut best = range_start;
        let mut best_area = -1.0;
        for (j, p) in data.iter().enumerate().take(range_end).skip(range_start) {
            let area = ((px - ax) * (p.1 - py) - (px - p.0) * (ay - py)).abs();
            if area > best_area {
                best_area = area;
                best = j;
            }
        }
        out.push(data[best]);
        a = best;
    }
    out.push(data[n - 1]);
}

/// TensorBoard's debiased exponential moving average with weight `weight` in `[0, 1)`
/// (the smoothing slider; 0 = no smoothing). Returns one value per input value.
pub fn ema_debiased(values: &[f64], weight: f64) -> Vec<f64> {
    let weight = if weight.is_finite() {
        weight.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let constant = values
        .first()
        .is_some_and(|&v0| values.iter().all(|&v| v == v0));
    let mut last = 0.0;
    let mut accumulated = 0i32;
    values
        .iter()
        .map(|&y| {
            if constant || !y.is_finite() {
                return y;
            }
            last = last * weight + (1.0 - weight) * y;
            accumulated = accumulated.saturating_add(1);
            let debias = if weight < 1.0 {
                1.0 - weight.powi(accumulated)
            } else {
                1.0
            };
            last / debias
        })
        .collect()
}

/// One `x` of a group's aligned band.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BandPoint {
    pub x: f64,
    /// Number of series with a finite value at `x`.
    pub n: usize,
    pub mean: f64,
    /// Student-t interval of the mean; `None` when `n < 2`.
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

/// The mean and Student-t interval at `confidence` across `series` at every `x` where at
/// least one has a finite value (exact `x` match: runs logging the same steps align).
/// Each series must be sorted by `x`. Non-finite values are left out of that `x`.
pub fn aligned_band(series: &[&[Point]], confidence: f64) -> Vec<BandPoint> {
    let mut cursors = vec![0usize; series.len()];
    let mut out = Vec::new();
    let mut values = Vec::with_capacity(series.len());
    loop {
        // The smallest x not yet consumed by any series.
        let next = series
            .iter()
            .zip(&cursors)
            .filter_map(|(s, &c)| s.get(c).map(|p| p.0))
            .filter(|x| !x.is_nan())
            .min_by(f64::total_cmp);
        let Some(x) = next else { break };
        values.clear();
        for (s, c) in series.iter().zip(cursors.iter_mut()) {
            while let Some(&(px, py)) = s.get(*c) {
                if px.is_nan() {
                    *c += 1;
                    continue;
                }
                if px != x {
                    break;
                }
                if py.is_finite() {
                    values.push(py);
                }
                *c += 1;
            }
        }
        let d = describe(&values);
        let Some(mean) = d.mean else { continue };
        let ci = d
            .sem
            .and_then(|sem| t_interval(mean, sem, d.n, confidence))
            .or_else(|| (d.n >= 2).then_some((mean, mean)));
        out.push(BandPoint {
            x,
            n: d.n,
            mean,
            lo: ci.map(|c| c.0),
            hi: ci.map(|c| c.1),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn series(ys: &[f64]) -> Vec<Point> {
        ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect()
    }

    #[test]
    fn short_series_is_unchanged() {
        let s = series(&[1.0, 2.0, 3.0]);
        assert_eq!(min_max(&s, 10), s);
    }

    #[test]
    fn min_max_keeps_spike_first_and_last() {
        let mut ys = vec![0.0; 10_000];
        ys[4321] = 100.0;
        ys[777] = -5.0;
        ys[0] = 1.0;
        ys[9_999] = 2.0;
        let out = min_max(&series(&ys), 50);
        assert!(out.len() <= 200, "{} points", out.len());
        assert_eq!(out.first(), Some(&(0.0, 1.0)));
        assert_eq!(out.last(), Some(&(9_999.0, 2.0)));
        assert!(out.contains(&(4321.0, 100.0)));
        assert!(out.contains(&(777.0, -5.0)));
    }

    #[test]
    fn nan_and_infinity_leave_one_gap_each() {
        let mut ys: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        ys[500] = f64::NAN;
        ys[501] = f64::INFINITY;
        ys[800] = f64::NEG_INFINITY;
        let out = min_max(&series(&ys), 10);
        let gaps = out.iter().filter(|p| p.1.is_nan()).count();
        assert_eq!(gaps, 2);
        assert!(out.iter().all(|p| p.1.is_nan() || p.1.is_finite()));
        // The points on each side of a gap survive, so the line stops where the data stops.
        assert!(out.contains(&(499.0, 499.0)) && out.contains(&(502.0, 502.0)));
    }

    #[test]
    fn all_nan_series_draws_nothing() {
        let s = series(&[f64::NAN; 100]);
        assert!(min_max(&s, 5).is_empty());
        assert!(lttb(&s, 5).is_empty());
    }

    #[test]
    fn ema_matches_tensorboard() {
        // TensorBoard: last = 0.6·last + 0.4·y; smoothed = last / (1 − 0.6ⁿ).
        let out = ema_debiased(&[1.0, 2.0, f64::NAN, 4.0], 0.6);
        assert!((out[0] - 1.0).abs() < 1e-12);
        let last2 = 0.6 * 0.4 + 0.4 * 2.0;
        assert!((out[1] - last2 / (1.0 - 0.36)).abs() < 1e-12);
        assert!(out[2].is_nan());
        let last3 = 0.6 * last2 + 0.4 * 4.0;
        assert!((out[3] - last3 / (1.0 - 0.216)).abs() < 1e-12);
        assert_eq!(ema_debiased(&[3.0, 3.0], 0.9), vec![3.0, 3.0]);
        assert_eq!(ema_debiased(&[1.0, 5.0], 0.0), vec![1.0, 5.0]);
    }

    #[test]
    fn band_is_the_t_interval_at_each_step() {
        let a = series(&[1.0, 2.0, 3.0]);
        let b = series(&[3.0, 4.0]);
        let c = series(&[2.0, f64::NAN, 5.0]);
        let band = aligned_band(&[&a, &b, &c], 0.95);
        assert_eq!(band.len(), 3);
        let d = describe(&[1.0, 3.0, 2.0]);
        let ci = t_interval(2.0, d.sem.unwrap_or(0.0), 3, 0.95);
        assert_eq!(band[0].n, 3);
        assert_eq!((band[0].lo, band[0].hi), (ci.map(|c| c.0), ci.map(|c| c.1)));
        assert_eq!(band[1].n, 2);
        assert_eq!(band[2].n, 2);
        assert_eq!(band[2].mean, 4.0);
        let single = aligned_band(&[&a], 0.95);
        assert!(single.iter().all(|p| p.lo.is_none() && p.n == 1));
    }

    #[test]
    fn lttb_keeps_ends_and_budget() {
        let ys: Vec<f64> = (0..5000).map(|i| ((i as f64) / 100.0).sin()).collect();
        let out = lttb(&series(&ys), 300);
        assert!(out.len() <= 302 && out.len() >= 290, "{}", out.len());
        assert_eq!(out.first(), Some(&(0.0, ys[0])));
        assert_eq!(out.last(), Some(&(4999.0, ys[4999])));
    }

    fn arb_series() -> impl Strategy<Value = Vec<Point>> {
        proptest::collection::vec(
            prop_oneof![
                8 => -1e6f64..1e6,
                1 => Just(f64::NAN),
                1 => Just(f64::INFINITY),
            ],
            0..3000,
        )
        .prop_map(|ys| series(&ys))
    }

    proptest! {
        #[test]
        fn min_max_preserves_envelope_and_order(s in arb_series(), columns in 1usize..200) {
            let out = min_max(&s, columns);
            let gaps_in = s.iter().filter(|p| !p.1.is_finite()).count();
            prop_assert!(out.len() <= 4 * columns + 4 * gaps_in + 4);
            // Every output point is an input point or a gap marker at an input x.
            for p in &out {
                prop_assert!(s.iter().any(|q| q.0 == p.0 && (p.1.is_nan() || q.1 == p.1)));
            }
            // x never goes backwards.
            prop_assert!(out.windows(2).all(|w| w[0].0 <= w[1].0));
            // Global extremes, first and last finite points survive.
            let finite: Vec<Point> = s.iter().copied().filter(|p| p.1.is_finite()).collect();
            if let (Some(first), Some(last)) = (finite.first(), finite.last()) {
                prop_assert!(out.contains(first));
                prop_assert!(out.contains(last));
                let max = finite.iter().map(|p| p.1).fold(f64::MIN, f64::max);
                let min = finite.iter().map(|p| p.1).fold(f64::MAX, f64::min);
                prop_assert!(out.iter().any(|p| p.1 == max));
                prop_assert!(out.iter().any(|p| p.1 == min));
            }
            // A gap in the input is a gap in the output (unless at the very start).
            let outgaps = out.iter().filter(|p| p.1.is_nan()).count();
            prop_assert!(outgaps <= gaps_in);
            prop_assert!(out.first().is_none_or(|p| !p.1.is_nan()));
        }

        #[test]
        fn lttb_output_is_subset_in_order(s in arb_series(), threshold in 3usize..500) {
            let out = lttb(&s, threshold);
            for p in &out {
                prop_assert!(s.iter().any(|q| q.0 == p.0 && (p.1.is_nan() || q.1 == p.1)));
            }
            prop_assert!(out.windows(2).all(|w| w[0].0 <= w[1].0));
        }

        #[test]
        fn ema_stays_within_the_range(ys in proptest::collection::vec(-1e3f64..1e3, 1..200), w in 0.0f64..0.999) {
            let out = ema_debiased(&ys, w);
            let lo = ys.iter().copied().fold(f64::MAX, f64::min);
            let hi = ys.iter().copied().fold(f64::MIN, f64::max);
            prop_assert_eq!(out.len(), ys.len());
            for v in out {
                prop_assert!(v >= lo - 1e-6 && v <= hi + 1e-6);
            }
        }
    }
}
