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
    /// Points of the series in the file (after the cursor asked from), before downsampling
    /// and whatever the window.
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

/// What a chart asks for: about `points` points (min/max in `points / 4` columns), of the
/// whole series or of an x range (a zoom).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub points: usize,
    /// `[from, to]` in x units (steps, or Unix seconds for x = time); `None`: all of it.
    pub range: Option<(f64, f64)>,
}

impl Window {
    /// The whole series at about `points` points.
    pub fn whole(points: usize) -> Window {
        Window {
            points,
            range: None,
        }
    }

    fn columns(&self) -> usize {
        (self.points / 4).max(1)
    }

    /// Of points sorted by x, those inside the range and the one on each side of it (so a
    /// zoomed line reaches the chart's edges); all of them without a range.
    fn cut<'a, T>(&self, points: &'a [T], x_of: impl Fn(&T) -> f64) -> &'a [T] {
        let Some((from, to)) = self.range else {
            return points;
        };
        let start = points.partition_point(|p| x_of(p) < from).saturating_sub(1);
        let end = (points.partition_point(|p| x_of(p) <= to) + 1).min(points.len());
        points.get(start..end).unwrap_or(&[])
    }

    fn key(&self) -> (usize, Option<(u64, u64)>) {
        (
            self.points,
            self.range.map(|(a, b)| (a.to_bits(), b.to_bits())),
        )
    }
}

type Key = (PathBuf, String, XAxis, (usize, Option<(u64, u64)>));
/// A file's size and modification time when it was read.
type Stamp = (u64, SystemTime);

/// Downsampled series by (file, metric, axis, window), valid while the file's size and
/// modification time stay the same.
#[derive(Default)]
pub struct SeriesCache {
    entries: Mutex<HashMap<Key, (Stamp, Arc<Series>)>>,
}

/// Most entries kept; beyond that the cache starts over (a chart of 100 runs × a few
/// metrics fits many times).
const MAX_ENTRIES: usize = 20_000;

impl SeriesCache {
    /// The series of `metric` in `path` (a file of `source`) in `window`. A missing file is
    /// an empty series.
    pub fn get(
        &self,
        path: &Path,
        source: Source,
        metric: &str,
        x: XAxis,
        window: Window,
    ) -> Arc<Series> {
        let Ok(meta) = std::fs::metadata(path) else {
            return Arc::new(Series::default());
        };
        let stamp = (
            meta.len(),
            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        );
        let key = (path.to_path_buf(), metric.to_string(), x, window.key());
        if let Ok(entries) = self.entries.lock()
            && let Some((s, series)) = entries.get(&key)
            && *s == stamp
        {
            return Arc::clone(series);
        }
        let series = Arc::new(read_series_from(
            path,
            source,
            metric,
            x,
            window,
            Cursor::default(),
        ));
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (stamp, Arc::clone(&series)));
        }
        series
    }
}

/// The series of a stored envelope (see [`ox_core::StepEnvelope`]) in `window`, downsampled
/// as [`read_series_from`] does; `None` when the envelope cannot stand in for the file: steps went
/// back, times go back (x = time), or its columns over the window are coarser than the asked
/// resolution (a deep zoom).
pub fn from_envelope(
    env: &StepEnvelope,
    x: XAxis,
    window: Window,
    cursor: Cursor,
) -> Option<Series> {
    let all = env.xy(x == XAxis::Time)?;
    let cut = window.cut(&all, |p| p.0);
    let columns = window.columns();
    let (first, last) = (cut.first()?.2, cut.last()?.2);
    if env.columns_between(first, last) < columns as i64 {
        return None;
    }
    let raw: Vec<(f64, f64)> = cut.iter().map(|p| (p.0, p.1)).collect();
    let kept = min_max(&raw, columns);
    Some(Series {
        x: kept.iter().map(|p| p.0).collect(),
        y: kept.iter().map(|p| p.1).collect(),
        total: usize::try_from(env.count()).unwrap_or(usize::MAX),
        cursor,
    })
}

/// Which file of a run a series is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `metrics/<id>_metrics.jsonl`, read by `ox_core::MetricsFileReader`.
    Metrics,
    /// `metrics/<id>_system.jsonl` (CPU, RSS, GPU samples), read by `ox_core::system`; the
    /// step of a sample is its index in the file.
    System,
}

/// Reads `metric` and downsamples it in `window`: min/max per column (4 points per column,
/// extremes kept), as `ox plot` does; only the lines after `from`, from a file of `source` (a missing file
/// reads empty, at `from`).
pub fn read_series_from(
    path: &Path,
    source: Source,
    metric: &str,
    x: XAxis,
    window: Window,
    from: Cursor,
) -> Series {
    let (mut raw, cursor) = match source {
        Source::Metrics => metric_points(path, metric, x, from),
        Source::System => system_points(path, metric, x, from),
    };
    if raw.windows(2).any(|w| w[1].0 < w[0].0) {
        raw.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let total = raw.len();
    let kept = min_max(window.cut(&raw, |p| p.0), window.columns());
    Series {
        x: kept.iter().map(|p| p.0).collect(),
        y: kept.iter().map(|p| p.1).collect(),
        total,
        cursor,
    }
}

/// The `(x, value)` points of `metric` after `from` in a system file, and where they stop.
fn system_points(path: &Path, metric: &str, x: XAxis, from: Cursor) -> (Vec<(f64, f64)>, Cursor) {
    let Ok((samples, end)) = ox_core::read_system_from(path, from.offset) else {
        return (Vec::new(), from);
    };
    let first = from.last_step.map_or(0, |s| s + 1);
    let raw = samples
        .iter()
        .zip(first..)
        .filter_map(|(sample, index)| {
            let (_, v) = sample.values().into_iter().find(|(k, _)| *k == metric)?;
            let xv = match x {
                XAxis::Step => index as f64,
                XAxis::Time => sample.time,
            };
            Some((xv, v))
        })
        .collect();
    let last = first + samples.len() as i64 - 1;
    let cursor = Cursor {
        offset: end,
        last_step: if samples.is_empty() {
            from.last_step
        } else {
            Some(last)
        },
    };
    (raw, cursor)
}

/// The `(x, value)` points of `metric` after `from` in a metrics file, and where they stop.
fn metric_points(path: &Path, metric: &str, x: XAxis, from: Cursor) -> (Vec<(f64, f64)>, Cursor) {
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
    (raw, cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `metric` out of a metrics file and downsamples it in `window`: min/max per column
    /// (4 points per column, extremes kept), as `ox plot` does.
    fn read_series(path: &Path, metric: &str, x: XAxis, window: Window) -> Series {
        read_series_from(path, Source::Metrics, metric, x, window, Cursor::default())
    }

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
        let s = read_series(&path, "loss", XAxis::Step, Window::whole(400));
        assert_eq!(s.total, 10_000);
        assert!(s.x.len() <= 400, "{}", s.x.len());
        let at = |x: f64| s.x.iter().position(|v| *v == x).map(|i| s.y[i]);
        assert_eq!(at(4321.0), Some(99.0));
        assert_eq!(at(8765.0), Some(-7.0));
        assert_eq!(at(0.0), Some(1.0));
        assert_eq!(at(9999.0), Some(1.0));
    }

    #[test]
    fn system_samples_are_series_by_index_or_time_and_follow_a_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x_system.jsonl");
        let sample = |t: f64, cpu: f64| {
            let s = ox_core::SystemSample {
                time: t,
                cpu_percent: cpu,
                rss_bytes: 1 << 20,
                processes: 1,
                gpu_util_percent: None,
                gpu_mem_bytes: None,
            };
            s.to_line().unwrap()
        };
        let mut bytes = sample(100.0, 50.0);
        bytes.extend(sample(102.0, 150.0));
        std::fs::write(&path, &bytes).unwrap();
        let read = |x, from| {
            read_series_from(
                &path,
                Source::System,
                "cpu_percent",
                x,
                Window::whole(100),
                from,
            )
        };
        let by_index = read(XAxis::Step, Cursor::default());
        assert_eq!(by_index.x, [0.0, 1.0]);
        assert_eq!(by_index.y, [50.0, 150.0]);
        assert_eq!(read(XAxis::Time, Cursor::default()).x, [100.0, 102.0]);
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::io::Write::write_all(&mut f, &sample(104.0, 75.0)).unwrap();
        let next = read(XAxis::Step, by_index.cursor);
        assert_eq!((next.x, next.y), (vec![2.0], vec![75.0]));
        assert!(
            read_series_from(
                &path,
                Source::System,
                "gpu_util_percent",
                XAxis::Step,
                Window::whole(9),
                Cursor::default()
            )
            .x
            .is_empty()
        );
    }

    #[test]
    fn a_cursor_reads_only_the_points_added_since() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        let complete = "{\"step\":0,\"loss\":3}\n{\"loss\":2}\n";
        std::fs::write(&path, format!("{complete}{{\"step\":2,")).unwrap();
        let first = read_series(&path, "loss", XAxis::Step, Window::whole(100));
        assert_eq!(first.x, [0.0, 1.0]);
        let expected = format!("{}:1", complete.len());
        assert_eq!(first.cursor.to_string(), expected);
        assert_eq!(Cursor::parse(&expected), Some(first.cursor));
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::io::Write::write_all(&mut f, b"\"loss\":1}\n{\"loss\":0.5}\n").unwrap();
        let next = read_series_from(
            &path,
            Source::Metrics,
            "loss",
            XAxis::Step,
            Window::whole(100),
            first.cursor,
        );
        assert_eq!(next.x, [2.0, 3.0]);
        assert_eq!(next.y, [1.0, 0.5]);
        assert_eq!(next.total, 2);
        let again = read_series_from(
            &path,
            Source::Metrics,
            "loss",
            XAxis::Step,
            Window::whole(100),
            next.cursor,
        );
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
            let file = read_series(&path, "loss", x, Window::whole(1000));
            let quick = from_envelope(&env, x, Window::whole(1000), Cursor::default()).unwrap();
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
        let whole = |n| Window::whole(n);
        assert!(from_envelope(&env, XAxis::Step, whole(20_000), Cursor::default()).is_none());
        // A wide zoom is drawn from the envelope, a deep one is not; both keep the extreme
        // inside them and reach the window's edges.
        let zoom = |a: f64, b: f64| Window {
            points: 200,
            range: Some((a, b)),
        };
        let wide = from_envelope(
            &env,
            XAxis::Step,
            zoom(40_000.0, 90_000.0),
            Cursor::default(),
        )
        .unwrap();
        assert!(wide.y.contains(&99.0) && wide.y.contains(&-7.0));
        assert!(wide.x[0] <= 40_000.0 && *wide.x.last().unwrap() >= 90_000.0);
        assert!(wide.x[1] > 40_000.0 - 1000.0, "{:?}", &wide.x[..3]);
        assert!(
            from_envelope(
                &env,
                XAxis::Step,
                zoom(43_000.0, 43_500.0),
                Cursor::default()
            )
            .is_none()
        );
        let deep = read_series(&path, "loss", XAxis::Step, zoom(43_000.0, 43_500.0));
        assert_eq!(deep.x.first(), Some(&42_999.0));
        assert_eq!(deep.x.last(), Some(&43_501.0));
        assert!(deep.y.contains(&99.0));
        assert_eq!(deep.total, 100_000);
        env.push(5, None, 1.0);
        assert!(from_envelope(&env, XAxis::Step, whole(1000), Cursor::default()).is_none());
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
        let s = read_series(&path, "loss", XAxis::Step, Window::whole(100));
        assert_eq!(s.x, [0.0, 1.0]);
        assert!(s.y[1].is_nan());
        assert_eq!(s.total, 2);
        let t = read_series(&path, "loss", XAxis::Time, Window::whole(100));
        assert_eq!(t.x, [100.5]);
        let cache = SeriesCache::default();
        assert_eq!(
            cache
                .get(
                    &path,
                    Source::Metrics,
                    "acc",
                    XAxis::Step,
                    Window::whole(100)
                )
                .x,
            [0.0, 5.0]
        );
        std::fs::write(&path, "{\"type\":\"metrics\",\"step\":9,\"acc\":1}\n").unwrap();
        assert_eq!(
            cache
                .get(
                    &path,
                    Source::Metrics,
                    "acc",
                    XAxis::Step,
                    Window::whole(100)
                )
                .x,
            [9.0]
        );
        assert_eq!(
            cache
                .get(
                    &dir.path().join("none"),
                    Source::Metrics,
                    "acc",
                    XAxis::Step,
                    Window::whole(9)
                )
                .total,
            0
        );
    }
}
