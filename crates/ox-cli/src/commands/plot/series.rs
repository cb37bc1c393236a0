//! Reading what `ox plot` draws from the run files: metric series (several files read in
//! parallel), system samples and per-sample evaluation scores.

use std::path::{Path, PathBuf};

use ox_analysis::downsample::Point;
use ox_core::MetricsFileReader;

/// Reads `metrics` from each file, in parallel over files, as `(x, value)` points with x
/// the step, or the line's `time` when `by_time` (lines without one are skipped); `finish`
/// turns one file's series (one per metric, empty when absent) into what the caller keeps,
/// on the reading thread, so raw points of all files need not be in memory at once.
/// Per file: that result, or the error text of a file that could not be read. A missing
/// file is a run without metrics.
pub fn read_metric_series<T: Send>(
    files: &[PathBuf],
    metrics: &[String],
    by_time: bool,
    finish: &(dyn Fn(Vec<Vec<Point>>) -> T + Sync),
) -> Vec<Result<T, String>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 16)
        .min(files.len().max(1));
    // Files are handed out one at a time, so a few long files do not idle the other threads.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, Result<T, String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(f) = files.get(i) else { break };
                        out.push((i, read_one(f, metrics, by_time).map(finish)));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    let mut out: Vec<Result<T, String>> = Vec::with_capacity(files.len());
    let mut it = results.into_iter().peekable();
    for i in 0..files.len() {
        match it.next_if(|(j, _)| *j == i) {
            Some((_, r)) => out.push(r),
            None => out.push(Err("reader thread panicked".to_string())),
        }
    }
    out
}

fn read_one(path: &Path, metrics: &[String], by_time: bool) -> Result<Vec<Vec<Point>>, String> {
    let mut out: Vec<Vec<Point>> = vec![Vec::new(); metrics.len()];
    if !path.exists() {
        return Ok(out);
    }
    // About 40 bytes a line: reserve once instead of growing through many copies.
    let lines = std::fs::metadata(path).map_or(0, |m| m.len() / 40) as usize;
    if let Some(first) = out.first_mut() {
        first.reserve(lines.min(50_000_000));
    }
    MetricsFileReader::scan(path, 0, None, |step, line| {
        if line.kind != ox_core::LineKind::Metrics {
            return;
        }
        let x = if by_time {
            match line.time {
                Some(t) if t.is_finite() => t,
                _ => return,
            }
        } else {
            step as f64
        };
        for (name, value) in &line.values {
            if let Some(i) = metrics.iter().position(|m| m == name) {
                out[i].push((x, *value));
            }
        }
    })
    .map_err(|e| e.to_string())?;
    Ok(out)
}

/// One line of `<id>_system.jsonl`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemPoint {
    pub time: f64,
    pub cpu_percent: Option<f64>,
    pub rss_bytes: Option<f64>,
    pub gpu_util_percent: Option<f64>,
    pub gpu_mem_bytes: Option<f64>,
}

/// The system samples of a run, in file order (read by the file's owner,
/// `ox_core::system`); empty when the file is missing. Lines that do not parse (a torn last
/// line) are skipped.
pub fn read_system(path: &Path) -> Result<Vec<SystemPoint>, String> {
    let samples = ox_core::read_system(path).map_err(|e| e.to_string())?;
    Ok(samples
        .into_iter()
        .map(|s| SystemPoint {
            time: s.time,
            cpu_percent: Some(s.cpu_percent),
            rss_bytes: Some(s.rss_bytes as f64),
            gpu_util_percent: s.gpu_util_percent,
            gpu_mem_bytes: s.gpu_mem_bytes.map(|b| b as f64),
        })
        .collect())
}

/// The numeric scores of `samples.jsonl` for `scorer`, and the scorers the file has (the
/// file read by its owner, `ox_core::samples`).
pub fn read_sample_scores(path: &Path, scorer: &str) -> Result<(Vec<f64>, Vec<String>), String> {
    if !path.exists() {
        return Ok((Vec::new(), Vec::new()));
    }
    let file = ox_core::read_samples(path).map_err(|e| e.to_string())?;
    let mut scores = Vec::new();
    let mut scorers: Vec<String> = Vec::new();
    for record in file.records {
        if !scorers.contains(&record.scorer) {
            scorers.push(record.scorer.clone());
        }
        if record.scorer == scorer
            && let Some(score) = record.score
        {
            scores.push(score);
        }
    }
    Ok((scores, scorers))
}
