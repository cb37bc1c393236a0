//! Structured metric files: a directory with `metrics.ndjson` (+ `params.ndjson`), single
//! JSON-lines metric files (torchtune's DiskLogger `log_<ts>.jsonl`, or any `.jsonl` /
//! `.ndjson` file named on the command line), and CSV files with a step column.
//!
//! `metrics.ndjson` lines are JSON objects, either wide (`{"step": 3, "loss": 0.5, …}`, every
//! numeric field but the step/time ones a metric) or long (`{"metric": "loss", "value": 0.5,
//! "step": 3}`); `NaN`/`Infinity` tokens are accepted. `params.ndjson` lines are objects
//! merged into the run's params.

use std::io::{BufRead, BufReader};
use std::path::Path;

use ox_core::{LineKind, parse_metric_line, parse_param_value};
use serde_json::{Map, Value};

use crate::patterns::parse_number;
use crate::{ImportedRun, IngestError, Source, SourceKind};

const STEP_FIELDS: [&str; 4] = ["step", "global_step", "iteration", "iter"];
const TIME_FIELDS: [&str; 4] = ["time", "timestamp", "wall_time", "_timestamp"];

fn source(kind: SourceKind, path: &Path) -> Source {
    let canonical = fs_err::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    Source {
        kind,
        key: format!("{}:{}", kind.as_str(), canonical.display()),
        path: canonical,
    }
}

fn dir_name(path: &Path) -> String {
    std::path::absolute(path)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "ndjson".into())
}

/// Imports a directory holding `metrics.ndjson` (and optionally `params.ndjson`).
pub(crate) fn import_ndjson_dir(dir: &Path) -> Result<ImportedRun, IngestError> {
    let name = dir_name(dir);
    let mut run = ImportedRun::new(source(SourceKind::Ndjson, dir), name.clone());
    run.name = Some(name);
    read_metrics_lines(&dir.join("metrics.ndjson"), &mut run)?;
    let params_path = dir.join("params.ndjson");
    if params_path.is_file() {
        let text = fs_err::read_to_string(&params_path)
            .map_err(|e| IngestError::io("read", &params_path, e))?;
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            match serde_json::from_str::<Map<String, Value>>(line) {
                Ok(obj) => {
                    // Wrapped forms ({"params": {...}} / {"config": {...}}) are unwrapped.
                    let inner = match (obj.get("params"), obj.get("config")) {
                        (Some(Value::Object(p)), _) | (None, Some(Value::Object(p))) => p.clone(),
                        _ => obj,
                    };
                    run.params.extend(inner);
                }
                Err(e) => run
                    .warnings
                    .push(format!("{}:{}: {e}", params_path.display(), i + 1)),
            }
        }
    }
    Ok(run)
}

/// Imports one JSON-lines metrics file: torchtune's DiskLogger with `output_fmt="jsonl"`
/// (`log_<ts>.jsonl`: study `torchtune`) or any `.jsonl`/`.ndjson` file of metric objects
/// named on the command line (study `ndjson`). The run is named after the file.
pub(crate) fn import_jsonl_file(path: &Path) -> Result<ImportedRun, IngestError> {
    let kind = if is_torchtune_jsonl_name(path) {
        SourceKind::Torchtune
    } else {
        SourceKind::Ndjson
    };
    let mut run = ImportedRun::new(source(kind, path), kind.as_str());
    run.name = path.file_stem().map(|n| n.to_string_lossy().into_owned());
    if kind == SourceKind::Torchtune {
        run.created = crate::text::disk_logger_start(path);
        run.started = run.created;
    }
    read_metrics_lines(path, &mut run)?;
    Ok(run)
}

/// Whether `path` is named like torchtune's JSON-lines DiskLogger file (`log_<digits>.jsonl`).
pub(crate) fn is_torchtune_jsonl_name(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    name.strip_prefix("log_")
        .and_then(|rest| rest.strip_suffix(".jsonl"))
        .is_some_and(|ts| !ts.is_empty() && ts.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether the first non-empty line of `head` is a JSON object.
pub(crate) fn starts_with_json_object(head: &[u8]) -> bool {
    String::from_utf8_lossy(head)
        .lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|first| {
            let first = first.trim();
            first.starts_with('{') && parse_metric_line(first).is_ok()
        })
}

/// Reads the metric lines of a JSON-lines file into `run` (wide or long objects, see the
/// module docs). Bad lines are warnings; a file with no good line is an error.
fn read_metrics_lines(path: &Path, run: &mut ImportedRun) -> Result<(), IngestError> {
    let file = fs_err::File::open(path).map_err(|e| IngestError::io("open", path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut buf = String::new();
    let mut line_no = 0u64;
    let mut last_step: Option<i64> = None;
    let mut bad = 0u64;
    loop {
        buf.clear();
        let n = match reader.read_line(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(IngestError::invalid(
                    path,
                    format!("line {}: not UTF-8", line_no + 1),
                ));
            }
            Err(e) => return Err(IngestError::io("read", path, e)),
        };
        if n == 0 {
            break;
        }
        line_no += 1;
        if buf.trim().is_empty() {
            continue;
        }
        if !metrics_line(&buf, run, &mut last_step) {
            bad += 1;
            if bad <= 5 {
                run.warnings.push(format!(
                    "{}:{line_no}: not a JSON object, skipped",
                    path.display()
                ));
            }
        }
    }
    if bad > 5 {
        run.warnings
            .push(format!("{}: {bad} bad lines in all", path.display()));
    }
    if line_no > 0 && bad == line_no {
        return Err(IngestError::invalid(path, "no line is a JSON object"));
    }
    Ok(())
}

/// Adds one metrics.ndjson line; false when it is not a JSON object.
fn metrics_line(line: &str, run: &mut ImportedRun, last_step: &mut Option<i64>) -> bool {
    // The long form names the metric in a field.
    if line.contains("\"value\"")
        && let Ok(obj) = serde_json::from_str::<Map<String, Value>>(line)
        && let Some(name) = obj
            .get("metric")
            .or_else(|| obj.get("name"))
            .and_then(Value::as_str)
    {
        let value = obj.get("value").and_then(Value::as_f64).unwrap_or(f64::NAN);
        let step = STEP_FIELDS
            .iter()
            .find_map(|f| obj.get(*f).and_then(Value::as_i64));
        let time = TIME_FIELDS
            .iter()
            .find_map(|f| obj.get(*f).and_then(Value::as_f64));
        let step = step.unwrap_or_else(|| last_step.map_or(0, |s| s + 1));
        *last_step = Some(step);
        run.metrics.push_named(name, step, time, value);
        return true;
    }
    let Ok(parsed) = parse_metric_line(line) else {
        return false;
    };
    if parsed.kind != LineKind::Metrics {
        if let LineKind::Params(p) = parsed.kind {
            ox_core::deep_merge(&mut run.params, &p);
        }
        return true;
    }
    let mut step = parsed.step;
    let mut time = parsed.time;
    for (k, v) in &parsed.values {
        if step.is_none() && STEP_FIELDS.contains(&k.as_ref()) && v.fract() == 0.0 {
            step = Some(*v as i64);
        } else if time.is_none() && TIME_FIELDS.contains(&k.as_ref()) {
            time = Some(*v);
        }
    }
    let step = step.unwrap_or_else(|| last_step.map_or(0, |s| s + 1));
    *last_step = Some(step);
    for (k, v) in &parsed.values {
        if !STEP_FIELDS.contains(&k.as_ref()) && !TIME_FIELDS.contains(&k.as_ref()) {
            run.metrics.push_named(k, step, time, *v);
        }
    }
    true
}

/// The index of the step column in a CSV header, if it has one.
pub(crate) fn step_column(header: &[&str]) -> Option<usize> {
    header
        .iter()
        .position(|h| STEP_FIELDS.contains(&h.trim().to_ascii_lowercase().as_str()))
}

/// Imports a CSV file with a header row and a step column: every other numeric column is a
/// metric; empty cells are skipped; text cells in a column are ignored.
pub(crate) fn import_csv(path: &Path) -> Result<ImportedRun, IngestError> {
    let file = fs_err::File::open(path).map_err(|e| IngestError::io("open", path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(BufReader::new(file));
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| IngestError::invalid(path, format!("CSV header: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let refs: Vec<&str> = header.iter().map(String::as_str).collect();
    let Some(step_col) = step_column(&refs) else {
        return Err(IngestError::invalid(
            path,
            "CSV without a step column (step, global_step, iteration)",
        ));
    };
    let time_col = refs
        .iter()
        .position(|h| TIME_FIELDS.contains(&h.to_ascii_lowercase().as_str()));
    let stem = path
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut run = ImportedRun::new(source(SourceKind::Csv, path), "csv");
    run.name = Some(stem);
    let ids: Vec<u32> = header.iter().map(|h| run.metrics.metric_id(h)).collect();
    let mut record = csv::StringRecord::new();
    let mut row = 1u64;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                run.warnings.push(format!(
                    "{}: row {}: {e}; stopped there",
                    path.display(),
                    row + 1
                ));
                break;
            }
        }
        row += 1;
        let Some(step) = record
            .get(step_col)
            .and_then(parse_number)
            .filter(|s| s.fract() == 0.0)
        else {
            run.warnings
                .push(format!("{}: row {row}: no step, skipped", path.display()));
            continue;
        };
        let time = time_col.and_then(|c| record.get(c)).and_then(parse_number);
        for (i, cell) in record.iter().enumerate() {
            if i == step_col || Some(i) == time_col {
                continue;
            }
            if let (Some(v), Some(&id)) = (parse_number(cell), ids.get(i)) {
                run.metrics.push(id, step as i64, time, v);
            } else if !cell.trim().is_empty()
                && row == 2
                && let Some(h) = header.get(i)
            {
                // A text column in the first row is a constant-looking param.
                run.params.insert(h.clone(), parse_param_value(cell));
            }
        }
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_and_long_ndjson_lines_with_params() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("metrics.ndjson"),
            "{\"step\": 1, \"loss\": 2.0, \"split\": \"train\"}\n{\"metric\": \"acc\", \"value\": 0.5, \"step\": 1}\n{\"loss\": NaN}\nnot json\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("params.ndjson"),
            "{\"lr\": 0.1}\n{\"config\": {\"seed\": 3}}\n",
        )
        .unwrap();
        let run = import_ndjson_dir(dir.path()).unwrap();
        assert_eq!(run.metrics.series("loss")[0], (1, 2.0));
        assert_eq!(run.metrics.series("loss")[1].0, 2);
        assert_eq!(run.metrics.series("acc"), vec![(1, 0.5)]);
        assert_eq!(run.params["lr"], 0.1);
        assert_eq!(run.params["seed"], 3);
        assert_eq!(run.warnings.len(), 1);
    }

    #[test]
    fn csv_with_step_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log.csv");
        std::fs::write(&p, "step,loss,opt\n0,1.5,adam\n1,,adam\n2,0.5,adam\n").unwrap();
        let run = import_csv(&p).unwrap();
        assert_eq!(run.metrics.series("loss"), vec![(0, 1.5), (2, 0.5)]);
        assert_eq!(run.params["opt"], "adam");
        std::fs::write(&p, "a,b\n1,2\n").unwrap();
        assert!(import_csv(&p).is_err());
    }

    #[test]
    fn torchtune_jsonl_disk_logger_file() {
        // What torchtune's DiskLogger writes with output_fmt="jsonl" (FORMAT.md, section 2):
        // json.dump per call, NaN as a bare token, non-JSON values as str().
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log_1795418615.jsonl");
        std::fs::write(
            &p,
            "{\"step\": 1, \"loss\": 2.78, \"lr\": 0.0003, \"tokens_per_second_per_gpu\": 2857.42}\n\
             {\"step\": 2, \"loss\": NaN, \"lr\": 0.0003, \"device\": \"cuda:0\"}\n\
             {\"step\": 3, \"loss\": 1.08, \"lr\": 0.0}\n",
        )
        .unwrap();
        assert!(is_torchtune_jsonl_name(&p));
        let run = import_jsonl_file(&p).unwrap();
        assert_eq!(run.source.kind, SourceKind::Torchtune);
        assert_eq!(run.study, "torchtune");
        assert_eq!(run.name.as_deref(), Some("log_1795418615"));
        assert_eq!(
            run.created.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-11-23T07:23:35+00:00"),
            "created when the logger opened its file"
        );
        let loss = run.metrics.series("loss");
        assert_eq!((loss[0], loss[2]), ((1, 2.78), (3, 1.08)));
        assert!(loss[1].1.is_nan() && loss[1].0 == 2);
        assert_eq!(run.metrics.series("lr").len(), 3);
        assert!(
            run.metrics.series("device").is_empty(),
            "text values are not metrics"
        );

        let other = dir.path().join("eval.jsonl");
        std::fs::write(&other, "{\"step\": 0, \"acc\": 0.5}\n").unwrap();
        assert!(!is_torchtune_jsonl_name(&other));
        assert_eq!(
            import_jsonl_file(&other).unwrap().source.kind,
            SourceKind::Ndjson
        );
        std::fs::write(&other, "not json\n").unwrap();
        assert!(import_jsonl_file(&other).is_err());
    }
}
