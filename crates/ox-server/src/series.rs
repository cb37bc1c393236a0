//! Metric series for charts: one metric of one run's metrics (or system) file, read once,
//! downsampled to the asked number of points, and cached until the file changes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use ox_core::{LineKind, MetricsFileReader, StepEnvelope};
use serde::Serialize;

use ox_analysis::downsample::min_max;

/// The x axis of a chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum XAxis {
    /// The training step.
    Step,
    /// Wall time: the line's `time` (Unix seconds); lines without one are left out.
    Time,
}

/// One run's curve of one metric, downsampled.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Series {
    pub x: Vec<f64>,
    /// `null` in JSON where the value is NaN or infinite.
    pub y: Vec<f64>,
    /// Points in the file (after the cursor asked from) before downsampling.
    pub total: usize,
    /// Where this answer stops in the file: ask again with it (`cursors=`) for the points
    /// added since.
    pub cursor: Cursor,
}

/// A place in a metrics file: the byte offset past the last complete line read, and that
/// line's step (lines without a `step` count on from it). Written `OFFSET:STEP` (`OFFSET:`
/// before any step).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    pub offset: u64,
    pub last_step: Option<i64>,
}

impl Cursor {
    /// Reads `OFFSET:STEP` or `OFFSET:`.
    pub fn parse(text: &str) -> Option<Cursor> {
        let (offset, step) = text.split_once(':')?;
        Some(Cursor {
            offset: offset.parse().ok()?,
            last_step: match step {
                "" => None,
                s => Some(s.parse().ok()?),
            },
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.last_step {
            Some(s) => write!(f, "{}:{s}", self.offset),
            None => write!(f, "{}:", self.offset),
        }
    }
}

impl Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

type Key = (PathBuf, String, XAxis, usize);
/// A file's size and modification time when it was read.
type Stamp = (u64, SystemTime);

/// Downsampled series by (file, metric, axis, points), valid while the file's size and
/// modification time stay the same.
#[derive(Default)]
pub struct SeriesCache {
    entries: Mutex<HashMap<Key, (Stamp, Arc<Series>)>>,
}

/// Most entries kept; beyond that the cache starts over (a chart of 100 runs × a few
/// metrics fits many times).
const MAX_ENTRIES: usize = 20_000;

impl SeriesCache {
    /// The series of `metric` in `path` with at most about `points` points. A missing file
    /// is an empty series.
    pub fn get(&self, path: &Path, metric: &str, x: XAxis, points: usize) -> Arc<Series> {
        let Ok(meta) = std::fs::metadata(path) else {
            return Arc::new(Series::default());
        };
        let stamp = (
            meta.len(),
            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        );
        let key = (path.to_path_buf(), metric.to_string(), x, points);
        if let Ok(entries) = self.entries.lock()
            && let Some((s, series)) = entries.get(&key)
            && *s == stamp
        {
            return Arc::clone(series);
        }
        let series = Arc::new(read_series(path, metric, x, points));
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (stamp, Arc::clone(&series)));
        }
        series
    }
}

/// The series of a stored envelope (see [`ox_core::StepEnvelope`]) downsampled to about
/// `points` points as [`read_series`] does; `None` when the envelope cannot stand in for the
/// file: steps went back, times are missing or go back (x = time), or its columns are
/// coarser than the asked resolution.
pub fn from_envelope(
    env: &StepEnvelope,
    x: XAxis,
    points: usize,
    cursor: Cursor,
) -> Option<Series> {
    if !env.is_ordered() {
        return None;
    }
    let kept = env.points();
    let (first, last) = (kept.first()?.step, kept.last()?.step);
    let env_columns = (last - first) / env.width() + 1;
    let columns = (points / 4).max(1);
    if env.width() > 1 && env_columns < columns as i64 {
        return None;
    }
    let raw: Vec<(f64, f64)> = match x {
        XAxis::Step => kept.iter().map(|p| (p.step as f64, p.value)).collect(),
        XAxis::Time => {
            let timed: Vec<(f64, f64)> = kept
                .iter()
                .filter(|p| !p.time.is_nan())
                .map(|p| (p.time, p.value))
                .collect();
            if timed.windows(2).any(|w| w[1].0 < w[0].0) {
                return None;
            }
            timed
        }
    };
    let kept = min_max(&raw, columns);
    Some(Series {
        x: kept.iter().map(|p| p.0).collect(),
        y: kept.iter().map(|p| p.1).collect(),
        total: usize::try_from(env.count()).unwrap_or(usize::MAX),
        cursor,
    })
}

/// Reads `metric` out of a metrics file and downsamples it to about `points` points: min/max
/// per column (4 points per column, extremes kept), as `ox plot` does.
pub fn read_series(path: &Path, metric: &str, x: XAxis, points: usize) -> Series {
    read_series_from(path, metric, x, points, Cursor::default())
}

/// [`read_series`] of the lines after `from` only (a missing file reads empty, at `from`).
pub fn read_series_from(
    path: &Path,
    metric: &str,
    x: XAxis,
    points: usize,
    from: Cursor,
) -> Series {
    let mut raw: Vec<(f64, f64)> = Vec::new();
    let on_line = |step: i64, line: &ox_core::MetricLine<'_>| {
        if line.kind != LineKind::Metrics {
            return;
        }
        let Some((_, v)) = line.values.iter().find(|(k, _)| k == metric) else {
            return;
        };
        let xv = match x {
            XAxis::Step => step as f64,
            XAxis::Time => match line.time {
                Some(t) => t,
                None => return,
            },
        };
        raw.push((xv, *v));
    };
    // A file being written may end in a partial line; what is complete is drawn.
    let cursor = match MetricsFileReader::scan(path, from.offset, from.last_step, on_line) {
        Ok(scan) => Cursor {
            offset: scan.end_offset,
            last_step: scan.last_step,
        },
        Err(_) => from,
    };
    if raw.windows(2).any(|w| w[1].0 < w[0].0) {
        raw.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let total = raw.len();
    let kept = min_max(&raw, (points / 4).max(1));
    Series {
        x: kept.iter().map(|p| p.0).collect(),
        y: kept.iter().map(|p| p.1).collect(),
        total,
        cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_series_keep_their_extremes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        let text: String = (0..10_000)
            .map(|i| {
                let v = match i {
                    4321 => 99.0,
                    8765 => -7.0,
                    _ => 1.0,
                };
                format!("{{\"type\":\"metrics\",\"step\":{i},\"loss\":{v}}}\n")
            })
            .collect();
        std::fs::write(&path, text).unwrap();
        let s = read_series(&path, "loss", XAxis::Step, 400);
        assert_eq!(s.total, 10_000);
        assert!(s.x.len() <= 400, "{}", s.x.len());
        let at = |x: f64| s.x.iter().position(|v| *v == x).map(|i| s.y[i]);
        assert_eq!(at(4321.0), Some(99.0));
        assert_eq!(at(8765.0), Some(-7.0));
        assert_eq!(at(0.0), Some(1.0));
        assert_eq!(at(9999.0), Some(1.0));
    }

    #[test]
    fn a_cursor_reads_only_the_points_added_since() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        let complete = "{\"step\":0,\"loss\":3}\n{\"loss\":2}\n";
        std::fs::write(&path, format!("{complete}{{\"step\":2,")).unwrap();
        let first = read_series(&path, "loss", XAxis::Step, 100);
        assert_eq!(first.x, [0.0, 1.0]);
        let expected = format!("{}:1", complete.len());
        assert_eq!(first.cursor.to_string(), expected);
        assert_eq!(Cursor::parse(&expected), Some(first.cursor));
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::io::Write::write_all(&mut f, b"\"loss\":1}\n{\"loss\":0.5}\n").unwrap();
        let next = read_series_from(&path, "loss", XAxis::Step, 100, first.cursor);
        assert_eq!(next.x, [2.0, 3.0]);
        assert_eq!(next.y, [1.0, 0.5]);
        assert_eq!(next.total, 2);
        let again = read_series_from(&path, "loss", XAxis::Step, 100, next.cursor);
        assert!(again.x.is_empty());
        assert_eq!(again.cursor, next.cursor);
        assert_eq!(
            Cursor::parse("12:"),
            Some(Cursor {
                offset: 12,
                last_step: None
            })
        );
        assert_eq!(Cursor::parse("x:1"), None);
        assert_eq!(Cursor::parse("12"), None);
    }

    #[test]
    fn an_envelope_draws_what_the_file_draws() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        let value = |i: i64| match i {
            43_210 => 99.0,
            87_654 => -7.0,
            _ => (i % 13) as f64,
        };
        let mut env = StepEnvelope::default();
        let mut text = String::new();
        for i in 0..100_000i64 {
            env.push(i, Some(1e9 + i as f64), value(i));
            text.push_str(&format!(
                "{{\"type\":\"metrics\",\"step\":{i},\"time\":{},\"loss\":{}}}\n",
                1e9 + i as f64,
                value(i)
            ));
        }
        std::fs::write(&path, text).unwrap();
        for x in [XAxis::Step, XAxis::Time] {
            let file = read_series(&path, "loss", x, 1000);
            let quick = from_envelope(&env, x, 1000, Cursor::default()).unwrap();
            assert_eq!(quick.total, file.total);
            assert!(quick.x.len() <= 1000, "{}", quick.x.len());
            let extremes = |s: &Series| {
                let max = s.y.iter().cloned().fold(f64::MIN, f64::max);
                let min = s.y.iter().cloned().fold(f64::MAX, f64::min);
                let at = |v: f64| s.x[s.y.iter().position(|y| *y == v).unwrap()];
                (max, at(max), min, at(min))
            };
            assert_eq!(extremes(&quick), extremes(&file));
            assert_eq!(quick.x.first(), file.x.first());
            assert_eq!(quick.x.last(), file.x.last());
            assert_eq!(quick.y.last(), file.y.last());
        }
        // Finer than the envelope's columns: the file is read instead.
        assert!(from_envelope(&env, XAxis::Step, 20_000, Cursor::default()).is_none());
        env.push(5, None, 1.0);
        assert!(from_envelope(&env, XAxis::Step, 1000, Cursor::default()).is_none());
    }

    #[test]
    fn reads_one_metric_by_step_or_time_and_caches_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        std::fs::write(
            &path,
            "{\"type\":\"metrics\",\"step\":0,\"time\":100.5,\"loss\":1.0,\"acc\":0.1}\n\
             {\"type\":\"metrics\",\"loss\":NaN}\n\
             {\"type\":\"metrics\",\"step\":5,\"acc\":0.3}\n",
        )
        .unwrap();
        let s = read_series(&path, "loss", XAxis::Step, 100);
        assert_eq!(s.x, [0.0, 1.0]);
        assert!(s.y[1].is_nan());
        assert_eq!(s.total, 2);
        let t = read_series(&path, "loss", XAxis::Time, 100);
        assert_eq!(t.x, [100.5]);
        let cache = SeriesCache::default();
        assert_eq!(cache.get(&path, "acc", XAxis::Step, 100).x, [0.0, 5.0]);
        std::fs::write(&path, "{\"type\":\"metrics\",\"step\":9,\"acc\":1}\n").unwrap();
        assert_eq!(cache.get(&path, "acc", XAxis::Step, 100).x, [9.0]);
        assert_eq!(
            cache
                .get(&dir.path().join("none"), "acc", XAxis::Step, 9)
                .total,
            0
        );
    }
}
