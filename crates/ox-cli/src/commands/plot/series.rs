//! Reading what `ox plot` draws from the run files: metric series (several files read in
//! parallel), system samples and per-sample evaluation scores.

use std::path::{Path, PathBuf};

use ox_core::MetricsFileReader;

/// The points of one metric of one run: `(step, time, value)`; `time` is NaN when the line
/// had none.
pub type Points = Vec<(i64, f64, f64)>;

/// Reads `metrics` from each file, in parallel over files: per file, one series per metric
/// (empty when absent), or the error text of a file that could not be read. A missing file
/// is a run without metrics (empty series).
pub fn read_metric_series(
    files: &[PathBuf],
    metrics: &[String],
) -> Vec<Result<Vec<Points>, String>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 16)
        .min(files.len().max(1));
    let chunk = files.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|f| read_one(f, metrics))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec![Err("reader thread panicked".to_string())])
            })
            .collect()
    })
}

fn read_one(path: &Path, metrics: &[String]) -> Result<Vec<Points>, String> {
    let mut out: Vec<Points> = vec![Vec::new(); metrics.len()];
    if !path.exists() {
        return Ok(out);
    }
    MetricsFileReader::scan(path, 0, None, |step, line| {
        if line.kind != ox_core::LineKind::Metrics {
            return;
        }
        let time = line.time.unwrap_or(f64::NAN);
        for (name, value) in &line.values {
            if let Some(i) = metrics.iter().position(|m| m == name) {
                out[i].push((step, time, *value));
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
