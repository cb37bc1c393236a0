//! inspect-ai evaluation logs: `.eval` (a ZIP of JSON members, zstd or deflate compressed)
//! and `.json` (one `EvalLog` object). One log is one run: task, model and eval settings as
//! params, every scorer's metrics as `<score>/<metric>` (or `<score>/<reducer>/<metric>`),
//! token usage and sample counts as metrics, and per-sample scores kept for paired tests.

use std::io::Read;
use std::path::Path;

use ox_core::{Status, json_number, nonfinite_tokens_as_strings};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::model::parse_time;
use crate::{ImportedRun, IngestError, SampleRecord, Source, SourceKind, score_of};

/// The parts of an `EvalLog` (or of `header.json` / `_journal/start.json`) we read.
#[derive(Debug, Deserialize)]
struct LogIn {
    #[serde(default)]
    status: Option<String>,
    eval: Map<String, Value>,
    /// The solver plan; its `config` holds the generation settings the eval ran with.
    #[serde(default)]
    plan: Option<Value>,
    #[serde(default)]
    results: Option<Value>,
    #[serde(default)]
    stats: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    samples: Option<Vec<SampleIn>>,
}

#[derive(Debug, Deserialize)]
struct SampleIn {
    id: Value,
    #[serde(default = "one")]
    epoch: i64,
    #[serde(default)]
    target: Value,
    #[serde(default)]
    output: Option<OutputIn>,
    #[serde(default)]
    scores: Option<Map<String, Value>>,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Deserialize)]
struct OutputIn {
    #[serde(default)]
    completion: Option<String>,
}

/// Parses inspect JSON (a `.json` log or a `.eval` member). inspect writes non-finite
/// floats (a `NaN` score) as Python's `json` does, as bare `NaN`/`Infinity` tokens: they are
/// read as the strings `"NaN"`/`"Infinity"`/`"-Infinity"` that [`json_number`] reads back.
fn from_inspect_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    serde_json::from_str(&nonfinite_tokens_as_strings(text)).map_err(|e| e.to_string())
}

/// Largest member we inflate (a guard against zip bombs).
const MAX_MEMBER_BYTES: u64 = 1 << 31;

/// Whether `head` (a file's first bytes) looks like an inspect `.json` log.
pub(crate) fn looks_like_json_log(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    text.trim_start().starts_with('{') && text.contains("\"eval\"") && text.contains("\"version\"")
}

/// Imports one log file, `.eval` (ZIP) or `.json`, by content.
pub(crate) fn parse_path(path: &Path) -> Result<ImportedRun, IngestError> {
    let mut file = fs_err::File::open(path).map_err(|e| IngestError::io("open", path, e))?;
    let mut magic = [0u8; 4];
    let n = file
        .read(&mut magic)
        .map_err(|e| IngestError::io("read", path, e))?;
    drop(file);
    if n == 4 && magic == *b"PK\x03\x04" {
        parse_eval_zip(path)
    } else {
        let bytes = fs_err::read(path).map_err(|e| IngestError::io("read", path, e))?;
        parse_json_log(path, &bytes)
    }
}

/// Parses a `.json` log's bytes.
pub(crate) fn parse_json_log(path: &Path, bytes: &[u8]) -> Result<ImportedRun, IngestError> {
    let mut log: LogIn = from_inspect_json(bytes)
        .map_err(|e| IngestError::invalid(path, format!("not an inspect log: {e}")))?;
    let samples = log.samples.take().unwrap_or_default();
    build_run(path, log, samples, Vec::new())
}

fn parse_eval_zip(path: &Path) -> Result<ImportedRun, IngestError> {
    let file = fs_err::File::open(path).map_err(|e| IngestError::io("open", path, e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| IngestError::invalid(path, format!("not a readable .eval (ZIP) file: {e}")))?;
    let mut warnings = Vec::new();
    let log: LogIn = match read_member(&mut zip, path, "header.json")? {
        Some(bytes) => from_inspect_json(&bytes)
            .map_err(|e| IngestError::invalid(path, format!("header.json: {e}")))?,
        None => match read_member(&mut zip, path, "_journal/start.json")? {
            Some(bytes) => {
                let mut log: LogIn = from_inspect_json(&bytes)
                    .map_err(|e| IngestError::invalid(path, format!("_journal/start.json: {e}")))?;
                // The eval never wrote its header: it was killed while running.
                log.status = Some("started".into());
                warnings
                    .push("no header.json: the evaluation did not finish (status started)".into());
                log
            }
            None => {
                return Err(IngestError::invalid(
                    path,
                    "a ZIP without header.json or _journal/start.json is not an inspect log",
                ));
            }
        },
    };
    let mut names: Vec<String> = zip
        .file_names()
        .filter(|n| n.starts_with("samples/") && n.ends_with(".json"))
        .map(str::to_string)
        .collect();
    names.sort();
    let mut samples = Vec::with_capacity(names.len());
    for name in names {
        let Some(bytes) = read_member(&mut zip, path, &name)? else {
            continue;
        };
        match from_inspect_json::<SampleIn>(&bytes) {
            Ok(s) => samples.push(s),
            Err(e) => warnings.push(format!("{name}: {e}")),
        }
    }
    samples.sort_by_key(|s| s.epoch);
    build_run(path, log, samples, warnings)
}

fn read_member<R: std::io::Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    path: &Path,
    name: &str,
) -> Result<Option<Vec<u8>>, IngestError> {
    let member = match zip.by_name(name) {
        Ok(m) => m,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(IngestError::invalid(path, format!("{name}: {e}"))),
    };
    let mut out = Vec::with_capacity(usize::try_from(member.size().min(1 << 24)).unwrap_or(0));
    member
        .take(MAX_MEMBER_BYTES)
        .read_to_end(&mut out)
        .map_err(|e| IngestError::invalid(path, format!("{name}: {e}")))?;
    Ok(Some(out))
}

fn build_run(
    path: &Path,
    log: LogIn,
    samples: Vec<SampleIn>,
    warnings: Vec<String>,
) -> Result<ImportedRun, IngestError> {
    let eval = &log.eval;
    let text = |k: &str| eval.get(k).and_then(Value::as_str).map(str::to_string);
    let key = text("eval_id")
        .map(|id| format!("inspect:{id}"))
        .unwrap_or_else(|| {
            format!(
                "inspect:{}",
                fs_err::canonicalize(path)
                    .unwrap_or_else(|_| path.to_path_buf())
                    .display()
            )
        });
    let mut run = ImportedRun::new(
        Source {
            kind: SourceKind::Inspect,
            key,
            path: std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
        },
        "inspect",
    );
    run.warnings = warnings;
    let task = text("task").unwrap_or_else(|| "inspect".into());
    run.name = Some(task.clone());
    run.status = match log.status.as_deref() {
        Some("success") => Status::Completed,
        Some("error") => Status::Failed,
        Some("cancelled") => Status::Killed,
        Some("started") | None => Status::Crashed,
        Some(other) => {
            run.warnings
                .push(format!("unknown status {other:?}, imported as crashed"));
            Status::Crashed
        }
    };
    run.params = params_of(eval, log.plan.as_ref(), task);
    run.created = text("created").as_deref().and_then(parse_time);
    if let Some(stats) = &log.stats {
        run.started = stats
            .get("started_at")
            .and_then(Value::as_str)
            .and_then(parse_time);
        run.ended = stats
            .get("completed_at")
            .and_then(Value::as_str)
            .and_then(parse_time);
    }
    // Metric summaries: one point each, at step 0.
    let time = run.ended.map(|t| t.timestamp_micros() as f64 / 1e6);
    let mut push = |name: &str, v: Option<f64>| {
        if let Some(v) = v {
            run.metrics.push_named(name, 0, time, v);
        }
    };
    if let Some(scores) = log
        .results
        .as_ref()
        .and_then(|r| r.get("scores"))
        .and_then(Value::as_array)
    {
        for score in scores {
            let name = score.get("name").and_then(Value::as_str).unwrap_or("score");
            let reducer = score.get("reducer").and_then(Value::as_str);
            let Some(metrics) = score.get("metrics").and_then(Value::as_object) else {
                continue;
            };
            for (metric, m) in metrics {
                let value = m.get("value").and_then(json_number);
                match reducer {
                    Some(r) => push(&format!("{name}/{r}/{metric}"), value),
                    None => push(&format!("{name}/{metric}"), value),
                }
            }
        }
    }
    if let Some(results) = &log.results {
        push(
            "samples/total",
            results.get("total_samples").and_then(Value::as_f64),
        );
        push(
            "samples/completed",
            results.get("completed_samples").and_then(Value::as_f64),
        );
    }
    if let Some(usage) = log
        .stats
        .as_ref()
        .and_then(|s| s.get("model_usage"))
        .and_then(Value::as_object)
    {
        for field in ["input_tokens", "output_tokens", "total_tokens"] {
            let sum: Option<f64> = usage
                .values()
                .filter_map(|u| u.get(field).and_then(Value::as_f64))
                .reduce(|a, b| a + b);
            push(&format!("usage/{field}"), sum);
        }
    }
    let mut info = Map::new();
    for k in ["eval_id", "run_id", "task_id", "task_version", "task_file"] {
        if let Some(v) = eval.get(k) {
            info.insert(k.into(), v.clone());
        }
    }
    if let Some(v) = eval.get("packages").and_then(|p| p.get("inspect_ai")) {
        info.insert("inspect_version".into(), v.clone());
    }
    if let Some(h) = log.results.as_ref().and_then(|r| r.get("headline")) {
        info.insert("headline".into(), h.clone());
    }
    if let Some(usage) = log.stats.as_ref().and_then(|s| s.get("model_usage")) {
        info.insert("model_usage".into(), usage.clone());
    }
    run.extra.insert("inspect".into(), Value::Object(info));
    if let Some(err) = log.error.as_ref().filter(|e| !e.is_null()) {
        let message = err.get("message").cloned().unwrap_or_else(|| err.clone());
        run.extra.insert("error".into(), message);
    }
    run.samples = sample_scores(samples);
    Ok(run)
}

/// Generation settings that say how the eval was run, not what it computed: left out of the
/// params (connection limits, retries, timeouts, batching, caching).
const OPERATIONAL_GENERATE_KEYS: [&str; 11] = [
    "max_connections",
    "adaptive_connections",
    "max_retries",
    "timeout",
    "attempt_timeout",
    "stream_idle_timeout",
    "batch",
    "cache",
    "cache_prompt",
    "extra_headers",
    "fail_on_refusal",
];

/// The generation settings: the model's own (`eval.model_generate_config`) overridden by the
/// eval's (`plan.config`, where `inspect eval --temperature …` puts them), without the
/// operational keys and without unset (null) values.
fn generate_config(eval: &Map<String, Value>, plan: Option<&Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for config in [
        eval.get("model_generate_config"),
        plan.and_then(|p| p.get("config")),
    ]
    .into_iter()
    .flatten()
    .filter_map(Value::as_object)
    {
        for (k, v) in config {
            if !v.is_null() && !OPERATIONAL_GENERATE_KEYS.contains(&k.as_str()) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

fn params_of(eval: &Map<String, Value>, plan: Option<&Value>, task: String) -> Map<String, Value> {
    let mut params = Map::new();
    params.insert("task".into(), Value::String(task));
    let mut copy = |from: Option<&Value>, to: &str| {
        if let Some(v) = from.filter(|v| !v.is_null() && *v != &json!({})) {
            params.insert(to.into(), v.clone());
        }
    };
    copy(eval.get("model"), "model");
    let config = eval.get("config");
    copy(
        Some(
            config
                .and_then(|c| c.get("epochs"))
                .cloned()
                .unwrap_or(json!(1)),
        )
        .as_ref(),
        "epochs",
    );
    copy(
        config.and_then(|c| c.get("epochs_reducer")),
        "epochs_reducer",
    );
    copy(config.and_then(|c| c.get("limit")), "limit");
    copy(eval.get("dataset").and_then(|d| d.get("name")), "dataset");
    copy(
        eval.get("dataset").and_then(|d| d.get("samples")),
        "dataset_samples",
    );
    copy(
        Some(&Value::Object(generate_config(eval, plan))),
        "generate",
    );
    copy(eval.get("task_args"), "task_args");
    params
}

fn sample_scores(samples: Vec<SampleIn>) -> Vec<SampleRecord> {
    let mut out = Vec::new();
    for s in samples {
        let Some(scores) = s.scores else { continue };
        let completion = s.output.and_then(|o| o.completion);
        for (scorer, score) in scores {
            let value = score.get("value").cloned().unwrap_or(Value::Null);
            let answer = completion.clone().or_else(|| {
                score
                    .get("answer")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
            out.push(SampleRecord {
                id: s.id.clone(),
                epoch: s.epoch,
                scorer,
                score: score_of(&value),
                value,
                answer,
                target: s.target.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_log_minimal() {
        let text = br#"{"version":2,"status":"error","eval":{"eval_id":"E1","task":"t","model":"m","config":{"epochs":2}},
            "results":{"total_samples":2,"completed_samples":1,"scores":[{"name":"match","reducer":"mean","metrics":{"accuracy":{"value":0.5}}}]},
            "error":{"message":"boom"},
            "samples":[{"id":1,"epoch":2,"target":["a","b"],"scores":{"match":{"value":"P","answer":"x"}}}]}"#;
        let run = parse_json_log(Path::new("x.json"), text).unwrap();
        assert_eq!(run.status, Status::Failed);
        assert_eq!(run.source.key, "inspect:E1");
        assert_eq!(run.params["epochs"], 2);
        assert_eq!(run.metrics.series("match/mean/accuracy"), vec![(0, 0.5)]);
        assert_eq!(run.metrics.series("samples/completed"), vec![(0, 1.0)]);
        assert_eq!(run.extra["error"], "boom");
        assert_eq!(run.samples[0].score, Some(0.5));
        assert_eq!(run.samples[0].answer.as_deref(), Some("x"));
        assert_eq!(run.samples[0].target, json!(["a", "b"]));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_json_log(Path::new("x.json"), b"{\"eval\": 3}").is_err());
        assert!(parse_json_log(Path::new("x.json"), b"\xff\xfe").is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_json_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..256)) {
            let _ = parse_json_log(Path::new("x.json"), &data);
        }
    }
}
