//! Reading what `ox plot` draws from the run files: metric series (several files read in
//! parallel), system samples and per-sample evaluation scores.

use std::path::{Path, PathBuf};

use ox_core::MetricsFileReader;
use serde_json::Value;

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

/// The system samples of a run, in file order; empty when the file is missing. Lines that
/// do not parse (a torn last line) are skipped.
pub fn read_system(path: &Path) -> Result<Vec<SystemPoint>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let mut out = Vec::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if v.get("type").and_then(Value::as_str) != Some("system") {
            continue;
        }
        let Some(time) = v.get("time").and_then(Value::as_f64) else {
            continue;
        };
        let num = |k: &str| v.get(k).and_then(Value::as_f64);
        out.push(SystemPoint {
            time,
            cpu_percent: num("cpu_percent"),
            rss_bytes: num("rss_bytes"),
            gpu_util_percent: num("gpu_util_percent"),
            gpu_mem_bytes: num("gpu_mem_bytes"),
        });
    }
    Ok(out)
}

/// The numeric scores of `samples.jsonl` for `scorer`, and the scorers the file has.
pub fn read_sample_scores(path: &Path, scorer: &str) -> Result<(Vec<f64>, Vec<String>), String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let mut scores = Vec::new();
    let mut scorers: Vec<String> = Vec::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(name) = v.get("scorer").and_then(Value::as_str) else {
            continue;
        };
        if !scorers.iter().any(|s| s == name) {
            scorers.push(name.to_string());
        }
        if name == scorer
            && let Some(score) = v.get("score").and_then(Value::as_f64)
        {
            scores.push(score);
        }
    }
    Ok((scores, scorers))
}
