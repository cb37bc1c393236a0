//! [`StepEnvelope`]: a bounded min/max overview of one metric over steps, built while a
//! metrics file is read, so a chart of a long run needs no second pass over the file.
//!
//! Steps are cut into columns of `width` steps (a power of two; column `k` holds steps
//! `k·width .. (k+1)·width`). Each column keeps its first, minimum, maximum and last finite
//! point, in step order, as `ox_analysis::downsample::min_max` does per pixel column, and a
//! non-finite value is kept as one gap point. When more than [`MAX_POINTS`] points are kept
//! the width doubles and neighbouring columns merge: the first/min/max/last of two columns
//! are found among their own kept points, so every extreme of the series survives any number
//! of merges. Points are `(step, time, value)`; `time` is NaN on lines without one.
//!
//! The catalog stores an envelope as bytes ([`StepEnvelope::to_bytes`]) and resumes it when
//! the file grows. A step lower than the one before (a restarted run) marks the envelope
//! unordered: readers then go back to the file.

/// One kept point: the step, the line's time (NaN when the line has none) and the value (NaN
/// for a gap).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnvelopePoint {
    pub step: i64,
    pub time: f64,
    pub value: f64,
}

/// Most points kept before neighbouring columns merge (about half as many remain).
pub const MAX_POINTS: usize = 4096;

/// The first version byte of [`StepEnvelope::to_bytes`].
const FORMAT: u8 = 1;
const HEADER: usize = 1 + 1 + 8 + 8;
const POINT: usize = 24;

/// A bounded min/max overview of one metric over steps (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct StepEnvelope {
    width: i64,
    /// Points of closed columns, in step order.
    points: Vec<EnvelopePoint>,
    open: Column,
    /// Points pushed (gaps included).
    count: u64,
    /// False once a step went back.
    ordered: bool,
    last_step: Option<i64>,
}

impl Default for StepEnvelope {
    fn default() -> Self {
        StepEnvelope {
            width: 1,
            points: Vec::new(),
            open: Column::default(),
            count: 0,
            ordered: true,
            last_step: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Column {
    index: Option<i64>,
    first: Option<EnvelopePoint>,
    min: (usize, Option<EnvelopePoint>),
    max: (usize, Option<EnvelopePoint>),
    last: Option<EnvelopePoint>,
    len: usize,
}

impl Column {
    fn add(&mut self, p: EnvelopePoint) {
        if self.first.is_none() {
            self.first = Some(p);
        }
        if self.min.1.is_none_or(|m| p.value < m.value) {
            self.min = (self.len, Some(p));
        }
        if self.max.1.is_none_or(|m| p.value > m.value) {
            self.max = (self.len, Some(p));
        }
        self.last = Some(p);
        self.len += 1;
    }

    /// The kept points in step order, without repeats.
    fn kept(&self) -> Vec<EnvelopePoint> {
        let mut out = Vec::with_capacity(4);
        let Some(first) = self.first else {
            return out;
        };
        out.push(first);
        let (a, b) = if self.min.0 <= self.max.0 {
            (self.min, self.max)
        } else {
            (self.max, self.min)
        };
        let last_at = self.len - 1;
        for (at, p) in [a, b] {
            if let Some(p) = p
                && at != 0
                && at != last_at
                && out.last() != Some(&p)
            {
                out.push(p);
            }
        }
        if let Some(last) = self.last
            && self.len > 1
        {
            out.push(last);
        }
        out
    }
}

impl StepEnvelope {
    /// Adds one point (in file order).
    pub fn push(&mut self, step: i64, time: Option<f64>, value: f64) {
        self.count += 1;
        self.add(EnvelopePoint {
            step,
            time: time.unwrap_or(f64::NAN),
            value,
        });
    }

    fn add(&mut self, p: EnvelopePoint) {
        if self.last_step.is_some_and(|l| p.step < l) {
            self.ordered = false;
        }
        self.last_step = Some(p.step);
        if !p.value.is_finite() {
            self.close();
            self.push_gap(p);
            return;
        }
        // Closing may widen the columns (and leave the merged last one open): look again.
        loop {
            let index = p.step.div_euclid(self.width);
            match self.open.index {
                Some(open) if open != index => self.close(),
                _ => {
                    self.open.index = Some(index);
                    break;
                }
            }
        }
        self.open.add(p);
    }

    fn push_gap(&mut self, p: EnvelopePoint) {
        if self.points.last().is_none_or(|l| !l.value.is_nan()) {
            self.points.push(EnvelopePoint {
                value: f64::NAN,
                ..p
            });
        }
    }

    /// Moves the open column's points to the closed ones, merging columns when too many.
    fn close(&mut self) {
        let kept = self.open.kept();
        self.open = Column::default();
        self.points.extend(kept);
        if self.points.len() > MAX_POINTS {
            self.widen();
        }
    }

    /// Doubles the width until the points shrink by a quarter or more (once, with columns
    /// full: 4 points each; a few times while columns hold 1 or 2 points); the last column
    /// stays open. Columns then number at least an eighth of [`MAX_POINTS`] (512).
    fn widen(&mut self) {
        while self.width < i64::MAX / 2 {
            let before = self.points.len() + self.open.len;
            let points = std::mem::take(&mut self.points);
            let open = std::mem::take(&mut self.open).kept();
            self.width *= 2;
            for p in points.into_iter().chain(open) {
                // Re-adding kept points with a wider column merges neighbours exactly.
                self.add_kept(p);
            }
            if 4 * (self.points.len() + self.open.len) <= 3 * before {
                break;
            }
        }
    }

    /// Adds a point kept earlier (by a narrower or the same width), never widening; the last
    /// column stays open.
    fn add_kept(&mut self, p: EnvelopePoint) {
        self.last_step = Some(p.step);
        if !p.value.is_finite() {
            let kept = std::mem::take(&mut self.open).kept();
            self.points.extend(kept);
            self.push_gap(p);
            return;
        }
        let index = p.step.div_euclid(self.width);
        if self.open.index.is_some_and(|i| i != index) {
            let kept = std::mem::take(&mut self.open).kept();
            self.points.extend(kept);
        }
        self.open.index = Some(index);
        self.open.add(p);
    }

    /// Points pushed so far (gaps included).
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Steps per column.
    pub fn width(&self) -> i64 {
        self.width
    }

    /// Whether steps never went back (otherwise, read the file).
    pub fn is_ordered(&self) -> bool {
        self.ordered
    }

    /// The kept points in step order, the open column's included.
    pub fn points(&self) -> Vec<EnvelopePoint> {
        let mut out = self.points.clone();
        out.extend(self.open.kept());
        out
    }

    /// The kept points as `(x, value, step)` with x the step, or (`by_time`) the line's
    /// time, points without one left out; `None` when the envelope cannot stand for the
    /// series in that order: steps went back, or times go back.
    pub fn xy(&self, by_time: bool) -> Option<Vec<(f64, f64, i64)>> {
        if !self.ordered {
            return None;
        }
        let points: Vec<(f64, f64, i64)> = self
            .points()
            .into_iter()
            .filter_map(|p| {
                if by_time {
                    (!p.time.is_nan()).then_some((p.time, p.value, p.step))
                } else {
                    Some((p.step as f64, p.value, p.step))
                }
            })
            .collect();
        if by_time && points.windows(2).any(|w| w[1].0 < w[0].0) {
            return None;
        }
        Some(points)
    }

    /// How many columns steps `first..=last` span: the envelope's resolution there. A
    /// width of 1 holds every point, however few columns.
    pub fn columns_between(&self, first: i64, last: i64) -> i64 {
        if self.width == 1 {
            return i64::MAX;
        }
        (last - first) / self.width + 1
    }

    /// The envelope as bytes: a version, the ordered flag, the width, the count, then
    /// `(step i64, time f64, value f64)` little-endian per point.
    pub fn to_bytes(&self) -> Vec<u8> {
        let points = self.points();
        let mut out = Vec::with_capacity(HEADER + POINT * points.len());
        out.push(FORMAT);
        out.push(u8::from(self.ordered));
        out.extend_from_slice(&self.width.to_le_bytes());
        out.extend_from_slice(&self.count.to_le_bytes());
        for p in points {
            out.extend_from_slice(&p.step.to_le_bytes());
            out.extend_from_slice(&p.time.to_le_bytes());
            out.extend_from_slice(&p.value.to_le_bytes());
        }
        out
    }

    /// Reads [`to_bytes`](Self::to_bytes) back; `None` for bytes of another version or
    /// length.
    pub fn from_bytes(bytes: &[u8]) -> Option<StepEnvelope> {
        if bytes.len() < HEADER || bytes[0] != FORMAT || (bytes.len() - HEADER) % POINT != 0 {
            return None;
        }
        let word = |at: usize| -> Option<[u8; 8]> { bytes.get(at..at + 8)?.try_into().ok() };
        let width = i64::from_le_bytes(word(2)?);
        if width < 1 {
            return None;
        }
        let mut env = StepEnvelope {
            width,
            ordered: bytes[1] == 1,
            count: u64::from_le_bytes(word(10)?),
            ..StepEnvelope::default()
        };
        for at in (HEADER..bytes.len()).step_by(POINT) {
            let p = EnvelopePoint {
                step: i64::from_le_bytes(word(at)?),
                time: f64::from_le_bytes(word(at + 8)?),
                value: f64::from_le_bytes(word(at + 16)?),
            };
            // Kept points re-added at the same width rebuild the same columns, the last one
            // left open for the points still to come.
            env.add_kept(p);
        }
        Some(env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(values: impl IntoIterator<Item = (i64, f64)>) -> StepEnvelope {
        let mut e = StepEnvelope::default();
        for (s, v) in values {
            e.push(s, Some(1000.0 + s as f64), v);
        }
        e
    }

    #[test]
    fn short_series_are_kept_whole() {
        let e = envelope((0..100).map(|s| (s, (s as f64).sin())));
        let pts = e.points();
        assert_eq!(pts.len(), 100);
        assert_eq!(e.width(), 1);
        assert_eq!(pts[7].time, 1007.0);
        assert!(e.is_ordered());
    }

    #[test]
    fn long_series_stay_bounded_and_keep_every_extreme_first_and_last() {
        let n = 1_000_000i64;
        let value = |s: i64| match s {
            123_457 => 50.0,
            765_431 => -50.0,
            _ => ((s * 7919) % 1000) as f64 / 1000.0,
        };
        let e = envelope((0..n).map(|s| (s, value(s))));
        let pts = e.points();
        assert!(pts.len() <= MAX_POINTS, "{}", pts.len());
        assert!(pts.len() > MAX_POINTS / 8, "{}", pts.len());
        assert_eq!(e.count(), n as u64);
        assert!(pts.windows(2).all(|w| w[0].step < w[1].step));
        let at = |s: i64| pts.iter().find(|p| p.step == s).map(|p| p.value);
        assert_eq!(at(123_457), Some(50.0));
        assert_eq!(at(765_431), Some(-50.0));
        assert_eq!(at(0), Some(value(0)));
        assert_eq!(at(n - 1), Some(value(n - 1)));
        // Every column of the final width holds the true min and max of its steps.
        let w = e.width();
        for col in [0, 17, (n - 1) / w] {
            let steps = (col * w)..((col + 1) * w).min(n);
            let true_max = steps.clone().map(value).fold(f64::MIN, f64::max);
            let true_min = steps.clone().map(value).fold(f64::MAX, f64::min);
            let kept: Vec<f64> = pts
                .iter()
                .filter(|p| steps.contains(&p.step))
                .map(|p| p.value)
                .collect();
            assert_eq!(kept.iter().cloned().fold(f64::MIN, f64::max), true_max);
            assert_eq!(kept.iter().cloned().fold(f64::MAX, f64::min), true_min);
        }
    }

    #[test]
    fn a_widened_envelope_keeps_at_least_an_eighth_of_max_points_as_columns() {
        for n in [5_000i64, 20_000, 50_000, 100_000, 333_333, 1_000_000] {
            let e = envelope((0..n).map(|s| (s, ((s * 7919) % 100) as f64)));
            let pts = e.points();
            let columns = e.columns_between(pts[0].step, pts[pts.len() - 1].step);
            assert!(
                columns >= MAX_POINTS as i64 / 8 && pts.len() <= MAX_POINTS,
                "{n} steps: width {}, {columns} columns, {} points",
                e.width(),
                pts.len()
            );
        }
    }

    #[test]
    fn gaps_survive_as_one_nan_point() {
        let e = envelope((0..20_000).map(|s| {
            (
                s,
                if (10_000..10_010).contains(&s) {
                    f64::NAN
                } else {
                    1.0
                },
            )
        }));
        let gaps: Vec<_> = e
            .points()
            .into_iter()
            .filter(|p| p.value.is_nan())
            .collect();
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].step, 10_000);
    }

    #[test]
    fn bytes_round_trip_and_resume_as_if_never_stored() {
        let all: Vec<(i64, f64)> = (0..50_000).map(|s| (s, ((s % 97) as f64).sqrt())).collect();
        let whole = envelope(all.iter().copied());
        let mut resumed =
            StepEnvelope::from_bytes(&envelope(all[..31_337].iter().copied()).to_bytes()).unwrap();
        for &(s, v) in &all[31_337..] {
            resumed.push(s, Some(1000.0 + s as f64), v);
        }
        assert_eq!(resumed.points(), whole.points());
        assert_eq!(resumed.count(), whole.count());
        assert_eq!(
            StepEnvelope::from_bytes(&whole.to_bytes())
                .unwrap()
                .to_bytes(),
            whole.to_bytes()
        );
        assert!(StepEnvelope::from_bytes(b"\x02garbage").is_none());
        assert!(StepEnvelope::from_bytes(&whole.to_bytes()[..30]).is_none());
    }

    #[test]
    fn a_step_going_back_marks_it_unordered() {
        let mut e = envelope((0..10).map(|s| (s, 1.0)));
        assert!(e.is_ordered());
        e.push(3, None, 2.0);
        assert!(!e.is_ordered());
        let back = StepEnvelope::from_bytes(&e.to_bytes()).unwrap();
        assert!(!back.is_ordered());
        assert!(back.points().iter().any(|p| p.time.is_nan()));
    }
}
