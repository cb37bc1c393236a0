//! Downsampling of long series for drawing: per bucket of x, the first, the minimum, the
//! maximum and the last point, so spikes and dips survive.
//!
//! Stand-in until `ox_analysis::downsample` (the one `ox plot` uses) lands; then this module
//! re-exports it.

/// At most about `max_points` points of `points` (sorted by x), keeping each bucket's
/// extremes and the very first and last points. Non-finite y values are kept as they are
/// only when they are the bucket's first or last point.
pub fn downsample(points: &[(f64, f64)], max_points: usize) -> Vec<(f64, f64)> {
    if points.len() <= max_points.max(4) {
        return points.to_vec();
    }
    // Four points per bucket.
    let buckets = (max_points / 4).max(1);
    let mut out = Vec::with_capacity(buckets * 4);
    for b in 0..buckets {
        let start = b * points.len() / buckets;
        let end = ((b + 1) * points.len() / buckets).max(start + 1);
        let Some(chunk) = points.get(start..end) else {
            continue;
        };
        let mut lo: Option<usize> = None;
        let mut hi: Option<usize> = None;
        for (i, (_, y)) in chunk.iter().enumerate() {
            if !y.is_finite() {
                continue;
            }
            if lo.is_none_or(|l| *y < chunk[l].1) {
                lo = Some(i);
            }
            if hi.is_none_or(|h| *y > chunk[h].1) {
                hi = Some(i);
            }
        }
        let mut idx = vec![0, chunk.len() - 1];
        idx.extend(lo);
        idx.extend(hi);
        idx.sort_unstable();
        idx.dedup();
        out.extend(idx.into_iter().map(|i| chunk[i]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_series_are_kept_whole() {
        let p: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i), 1.0)).collect();
        assert_eq!(downsample(&p, 100), p);
    }

    #[test]
    fn extremes_first_and_last_survive() {
        let mut p: Vec<(f64, f64)> = (0..100_000).map(|i| (f64::from(i), 0.0)).collect();
        p[31_337].1 = 9.0;
        p[77_777].1 = -5.0;
        let d = downsample(&p, 1000);
        assert!(d.len() <= 1000, "{}", d.len());
        assert!(d.contains(&(31_337.0, 9.0)));
        assert!(d.contains(&(77_777.0, -5.0)));
        assert_eq!(d.first(), p.first());
        assert_eq!(d.last(), p.last());
        assert!(d.windows(2).all(|w| w[0].0 < w[1].0), "x stays sorted");
    }
}
