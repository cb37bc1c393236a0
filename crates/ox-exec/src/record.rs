//! The run record around a supervised command: the final status from how the command ended,
//! params declared by the training process, the resource summary, and name clashes.

use std::path::Path;

use ox_core::{Run, Status};
use serde_json::{Map, Value};

use crate::executor::ExitInfo;
use crate::sampler::Peaks;

/// The status a run ends with: `killed` when the supervisor was asked to stop it or a signal
/// ended it, else `completed` on exit 0 and `failed` otherwise.
pub fn final_status(exit: &ExitInfo, interrupted: bool) -> Status {
    if interrupted || exit.signal.is_some() {
        Status::Killed
    } else if exit.code == Some(0) {
        Status::Completed
    } else {
        Status::Failed
    }
}

/// The params declared in `{"type": "params", ...}` lines of a metrics file, later lines
/// winning. A missing or unreadable file declares none. Streams the file and parses only
/// lines that mention `params`, so a run with gigabytes of metrics still ends quickly.
pub fn declared_params(metrics_path: &Path) -> Map<String, Value> {
    use std::io::BufRead;
    let mut out = Map::new();
    let Ok(file) = std::fs::File::open(metrics_path) else {
        return out;
    };
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let mut buf = Vec::with_capacity(256);
    let finder = memchr::memmem::Finder::new(b"params");
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if finder.find(&buf).is_none() {
            continue;
        }
        if let Ok(text) = std::str::from_utf8(&buf)
            && let Ok(line) = ox_core::parse_metric_line(text)
            && let ox_core::LineKind::Params(p) = &line.kind
        {
            ox_core::deep_merge(&mut out, p);
        }
    }
    out
}

/// Applies the end of a run to its record: status, end time, exit code, declared params
/// (the run's own params win on conflict) and the peak resource use in `summary`.
pub fn finish(
    run: &mut Run,
    exit: &ExitInfo,
    interrupted: bool,
    ended: chrono::DateTime<chrono::Utc>,
    declared: Map<String, Value>,
    peaks: Peaks,
) {
    run.status = final_status(exit, interrupted);
    run.ended = Some(ended);
    run.exit_code = Some(exit.shell_code());
    if let Some(sig) = exit.signal {
        run.extra.insert("signal".into(), Value::from(sig));
    }
    let mut params = declared;
    ox_core::deep_merge(&mut params, &run.params);
    run.params = params;
    let peak_rss = match (peaks.rss_bytes, exit.max_rss_bytes) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let summary = run
        .extra
        .entry("summary")
        .or_insert_with(|| Value::Object(Map::new()));
    if !summary.is_object() {
        *summary = Value::Object(Map::new());
    }
    if let Value::Object(s) = summary {
        s.insert(
            "peak_rss_bytes".into(),
            peak_rss.map_or(Value::Null, Value::from),
        );
        s.insert(
            "peak_gpu_mem_bytes".into(),
            peaks.gpu_mem_bytes.map_or(Value::Null, Value::from),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ox_core::RunId;
    use serde_json::json;

    fn exit(code: Option<i32>, signal: Option<i32>) -> ExitInfo {
        ExitInfo {
            code,
            signal,
            max_rss_bytes: Some(4096),
        }
    }

    #[test]
    fn status_follows_exit_and_interruption() {
        assert_eq!(final_status(&exit(Some(0), None), false), Status::Completed);
        assert_eq!(final_status(&exit(Some(2), None), false), Status::Failed);
        assert_eq!(final_status(&exit(None, Some(9)), false), Status::Killed);
        assert_eq!(final_status(&exit(Some(0), None), true), Status::Killed);
    }

    #[test]
    fn finish_merges_params_and_summary() {
        let mut run = Run::new(RunId::generate(), Status::Running);
        run.params = json!({"lr": 0.1, "model": {"layers": 12}})
            .as_object()
            .unwrap()
            .clone();
        run.extra.insert("summary".into(), json!({"note": "kept"}));
        let declared = json!({"lr": 0.5, "model": {"width": 64}, "seed": 3})
            .as_object()
            .unwrap()
            .clone();
        let peaks = Peaks {
            rss_bytes: Some(1000),
            gpu_mem_bytes: None,
        };
        let t = ox_core::now_utc();
        finish(&mut run, &exit(None, Some(15)), false, t, declared, peaks);
        assert_eq!(run.status, Status::Killed);
        assert_eq!(run.exit_code, Some(143));
        assert_eq!(run.ended, Some(t));
        assert_eq!(
            Value::Object(run.params.clone()),
            json!({"lr": 0.1, "model": {"layers": 12, "width": 64}, "seed": 3})
        );
        assert_eq!(
            run.extra["summary"],
            json!({"note": "kept", "peak_rss_bytes": 4096, "peak_gpu_mem_bytes": null})
        );
        assert_eq!(run.extra["signal"], 15);
    }

    #[test]
    fn declared_params_come_from_params_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.jsonl");
        std::fs::write(
            &p,
            "{\"type\":\"params\",\"params\":{\"a\":1,\"o\":{\"x\":1}}}\n{\"step\":0,\"loss\":1}\n\
             {\"type\":\"params\",\"params\":{\"o\":{\"y\":2}}}\n{\"type\":\"params\",\"params\":{\"b\":true}}",
        )
        .unwrap();
        assert_eq!(
            Value::Object(declared_params(&p)),
            json!({"a": 1, "o": {"x": 1, "y": 2}, "b": true})
        );
        assert!(declared_params(&dir.path().join("none")).is_empty());
    }
}
