//! MLflow tracking stores: the file store (`mlruns/`) and the SQLite backend (`mlflow.db`).
//! Each active run of an active experiment becomes a run in a study named after the
//! experiment, with its params (typed like `-p` values), tags, status, start/end and every
//! metric's full history.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ox_core::{Status, parse_param_value, set_dotted};
use serde_json::{Map, Value, json};

use crate::model::time_from_millis;
use crate::{ImportedRun, IngestError, Source, SourceKind};

/// The fields of one MLflow run, whichever store it came from.
#[derive(Default)]
struct MlflowRun {
    run_id: String,
    name: Option<String>,
    experiment_id: String,
    experiment_name: String,
    status: String,
    start_ms: Option<i64>,
    end_ms: Option<i64>,
    params: Vec<(String, String)>,
    tags: BTreeMap<String, String>,
}

/// The top-level fields of a `meta.yaml` (MLflow writes it with PyYAML's `safe_dump`), read
/// with a YAML parser: scalars as text (a quoted `'110245998533986091'` as its digits),
/// lists and maps as JSON text, `null` left out.
fn read_meta_yaml(path: &Path) -> Result<BTreeMap<String, String>, IngestError> {
    let text = fs_err::read_to_string(path).map_err(|e| IngestError::io("read", path, e))?;
    let fields: BTreeMap<String, Value> = serde_norway::from_str(&text)
        .map_err(|e| IngestError::invalid(path, format!("not a YAML mapping: {e}")))?;
    Ok(fields
        .into_iter()
        .filter_map(|(k, v)| {
            let text = match v {
                Value::Null => return None,
                Value::String(s) => s,
                other => other.to_string(),
            };
            Some((k, text))
        })
        .collect())
}

/// Whether `dir` is an MLflow file store root: some child directory has an experiment
/// `meta.yaml` (one with `experiment_id` and no `run_id`).
pub(crate) fn is_file_store(dir: &Path) -> bool {
    let Ok(entries) = fs_err::read_dir(dir) else {
        return false;
    };
    entries.flatten().take(1000).any(|e| {
        let meta = e.path().join("meta.yaml");
        meta.is_file()
            && read_meta_yaml(&meta)
                .is_ok_and(|m| m.contains_key("experiment_id") && !m.contains_key("run_id"))
    })
}

/// Files under `dir` as `(key relative to dir with '/', path)`, for params/tags/metrics.
fn keyed_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            let rel = e.path().strip_prefix(dir).ok()?;
            let key = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            Some((key, e.path().to_path_buf()))
        })
        .collect();
    out.sort();
    out
}

/// Imports every active run of every active experiment of a file store.
pub(crate) fn import_file_store(root: &Path) -> Result<Vec<ImportedRun>, IngestError> {
    let mut runs = Vec::new();
    let mut exp_dirs: Vec<PathBuf> = fs_err::read_dir(root)
        .map_err(|e| IngestError::io("list", root, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("meta.yaml").is_file())
        .collect();
    exp_dirs.sort();
    for exp_dir in exp_dirs {
        let meta = read_meta_yaml(&exp_dir.join("meta.yaml"))?;
        if meta.get("lifecycle_stage").is_some_and(|s| s == "deleted")
            || meta.contains_key("run_id")
        {
            continue;
        }
        let exp_id = meta.get("experiment_id").cloned().unwrap_or_default();
        let exp_name = meta.get("name").cloned().unwrap_or_else(|| exp_id.clone());
        let mut run_dirs: Vec<PathBuf> = fs_err::read_dir(&exp_dir)
            .map_err(|e| IngestError::io("list", &exp_dir, e))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("meta.yaml").is_file())
            .collect();
        run_dirs.sort();
        for run_dir in run_dirs {
            let rmeta = read_meta_yaml(&run_dir.join("meta.yaml"))?;
            if rmeta.get("lifecycle_stage").is_some_and(|s| s == "deleted") {
                continue;
            }
            let Some(run_id) = rmeta
                .get("run_id")
                .or_else(|| rmeta.get("run_uuid"))
                .cloned()
            else {
                continue;
            };
            let status = match rmeta.get("status").map(String::as_str) {
                Some("1") => "RUNNING",
                Some("2") => "SCHEDULED",
                Some("3") => "FINISHED",
                Some("4") => "FAILED",
                Some("5") => "KILLED",
                Some(other) => other,
                None => "RUNNING",
            }
            .to_string();
            let read_value =
                |p: &Path| fs_err::read_to_string(p).map_err(|e| IngestError::io("read", p, e));
            let mut m = MlflowRun {
                run_id: run_id.clone(),
                name: rmeta.get("run_name").filter(|n| !n.is_empty()).cloned(),
                experiment_id: exp_id.clone(),
                experiment_name: exp_name.clone(),
                status,
                start_ms: rmeta.get("start_time").and_then(|t| t.parse().ok()),
                end_ms: rmeta.get("end_time").and_then(|t| t.parse().ok()),
                ..MlflowRun::default()
            };
            for (k, p) in keyed_files(&run_dir.join("params")) {
                m.params.push((k, read_value(&p)?));
            }
            for (k, p) in keyed_files(&run_dir.join("tags")) {
                m.tags.insert(k, read_value(&p)?);
            }
            let mut run = to_imported(m, &run_dir);
            for (key, p) in keyed_files(&run_dir.join("metrics")) {
                let text = read_value(&p)?;
                let id = run.metrics.metric_id(&key);
                for (i, line) in text.lines().enumerate() {
                    let mut parts = line.split_whitespace();
                    let parsed = (|| {
                        let ts: i64 = parts.next()?.parse().ok()?;
                        let value: f64 = parts.next()?.parse().ok()?;
                        let step: i64 = parts.next().map_or(Some(0), |s| s.parse().ok())?;
                        Some((ts, value, step))
                    })();
                    match parsed {
                        Some((ts, value, step)) => {
                            run.metrics.push(id, step, Some(ts as f64 / 1000.0), value)
                        }
                        None if line.trim().is_empty() => {}
                        None => run.warnings.push(format!(
                            "{}:{}: not a metric line: {line:?}",
                            p.display(),
                            i + 1
                        )),
                    }
                }
            }
            runs.push(run);
        }
    }
    Ok(runs)
}

/// Whether a SQLite file has MLflow's tables; `Err` with SQLite's own diagnosis ("database
/// disk image is malformed", …) when the file cannot be read as a database.
pub(crate) fn is_mlflow_sqlite(path: &Path) -> Result<bool, String> {
    let conn = open_read_only(path).map_err(|e| e.to_string())?;
    let count: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('experiments', 'runs', 'metrics', 'params')",
            [],
            |r| r.get(0),
        )
        .map_err(|e| e.to_string())?;
    if count == 4 {
        return Ok(true);
    }
    // Few tables may also mean a damaged schema page: let SQLite say which it is.
    let check: String = conn
        .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if check == "ok" {
        Ok(false)
    } else {
        Err(format!("database disk image is malformed ({check})"))
    }
}

fn open_read_only(path: &Path) -> rusqlite::Result<rusqlite::Connection> {
    rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}

/// Imports every active run of every active experiment of an SQLite backend.
pub(crate) fn import_sqlite(path: &Path) -> Result<Vec<ImportedRun>, IngestError> {
    let sql_err = |e: rusqlite::Error| IngestError::invalid(path, format!("MLflow database: {e}"));
    let conn = open_read_only(path).map_err(sql_err)?;
    let mut stmt = conn
        .prepare(
            "SELECT r.run_uuid, r.name, r.status, r.start_time, r.end_time, e.experiment_id, e.name
             FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id
             WHERE r.lifecycle_stage = 'active' AND e.lifecycle_stage = 'active'
             ORDER BY e.experiment_id, r.start_time, r.run_uuid",
        )
        .map_err(sql_err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(MlflowRun {
                run_id: r.get(0)?,
                name: r.get::<_, Option<String>>(1)?.filter(|n| !n.is_empty()),
                status: r
                    .get::<_, Option<String>>(2)?
                    .unwrap_or_else(|| "RUNNING".into()),
                start_ms: r.get(3)?,
                end_ms: r.get(4)?,
                experiment_id: r.get::<_, i64>(5)?.to_string(),
                experiment_name: r.get(6)?,
                ..MlflowRun::default()
            })
        })
        .map_err(sql_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(sql_err)?;
    let mut params_stmt = conn
        .prepare("SELECT key, value FROM params WHERE run_uuid = ? ORDER BY key")
        .map_err(sql_err)?;
    let mut tags_stmt = conn
        .prepare("SELECT key, value FROM tags WHERE run_uuid = ?")
        .map_err(sql_err)?;
    let mut metrics_stmt = conn
        .prepare("SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ? ORDER BY timestamp, step")
        .map_err(sql_err)?;
    let mut runs = Vec::new();
    for mut m in rows {
        let id = m.run_id.clone();
        // `(key, value)` rows of the params or tags table for this run.
        let key_values = |stmt: &mut rusqlite::Statement<'_>| {
            stmt.query_map([&id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<(String, String)>>>())
            .map_err(sql_err)
        };
        m.params = key_values(&mut params_stmt)?;
        m.tags = key_values(&mut tags_stmt)?.into_iter().collect();
        let mut run = to_imported(m, path);
        run.source.key = format!("mlflow:{id}");
        let mut rows = metrics_stmt.query([&id]).map_err(sql_err)?;
        while let Some(r) = rows.next().map_err(sql_err)? {
            let key: String = r.get(0).map_err(sql_err)?;
            let value: Option<f64> = r.get(1).map_err(sql_err)?;
            let ts: Option<i64> = r.get(2).map_err(sql_err)?;
            let step: Option<i64> = r.get(3).map_err(sql_err)?;
            let is_nan: Option<bool> = r.get(4).map_err(sql_err)?;
            // NaN is stored as 0 with is_nan set; infinities are clamped to ±f64::MAX.
            let value = match (is_nan, value) {
                (Some(true), _) | (_, None) => f64::NAN,
                (_, Some(v)) if v >= f64::MAX => f64::INFINITY,
                (_, Some(v)) if v <= f64::MIN => f64::NEG_INFINITY,
                (_, Some(v)) => v,
            };
            run.metrics.push_named(
                &key,
                step.unwrap_or(0),
                ts.map(|t| t as f64 / 1000.0),
                value,
            );
        }
        runs.push(run);
    }
    Ok(runs)
}

fn to_imported(m: MlflowRun, path: &Path) -> ImportedRun {
    let mut run = ImportedRun::new(
        Source {
            kind: SourceKind::Mlflow,
            key: format!("mlflow:{}", m.run_id),
            path: std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
        },
        m.experiment_name.clone(),
    );
    run.name = m
        .name
        .or_else(|| m.tags.get("mlflow.runName").cloned())
        .or_else(|| Some(m.run_id.clone()));
    run.started = m.start_ms.and_then(time_from_millis);
    run.ended = m.end_ms.and_then(time_from_millis);
    run.status = match m.status.as_str() {
        "FINISHED" => Status::Completed,
        "FAILED" => Status::Failed,
        "KILLED" => Status::Killed,
        "SCHEDULED" => Status::Queued,
        _ if run.ended.is_some() => Status::Crashed,
        _ => Status::Running,
    };
    let mut params = Map::new();
    for (k, v) in &m.params {
        let value = parse_param_value(v);
        if set_dotted(&mut params, k, value.clone()).is_err() {
            params.insert(k.clone(), value);
        }
    }
    run.params = params;
    run.tags = m
        .tags
        .iter()
        .filter(|(k, _)| !k.starts_with("mlflow."))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mut info = Map::new();
    info.insert("run_id".into(), json!(m.run_id));
    info.insert("experiment_id".into(), json!(m.experiment_id));
    info.insert("status".into(), json!(m.status));
    if let Some(parent) = m.tags.get("mlflow.parentRunId") {
        info.insert("parent_run_id".into(), json!(parent));
    }
    info.insert(
        "tags".into(),
        Value::Object(
            m.tags
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        ),
    );
    run.extra.insert("mlflow".into(), Value::Object(info));
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_yaml_reads_quoted_lists_and_null_values() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("meta.yaml");
        std::fs::write(
            &p,
            "experiment_id: '12'\nname: 'it''s: \"a\" run'\nend_time: null\nstatus: 3\n\
             tags:\n- a\n- b\nrun_name: >-\n  folded\n  name\n",
        )
        .unwrap();
        let m = read_meta_yaml(&p).unwrap();
        assert_eq!(m["experiment_id"], "12");
        assert_eq!(m["name"], "it's: \"a\" run");
        assert_eq!(m["status"], "3");
        assert_eq!(m["tags"], r#"["a","b"]"#);
        assert_eq!(m["run_name"], "folded name");
        assert!(!m.contains_key("end_time"));
        std::fs::write(&p, "a: [unclosed\n").unwrap();
        assert!(read_meta_yaml(&p).is_err());
    }

    #[test]
    fn status_mapping() {
        let mk = |status: &str, end| {
            to_imported(
                MlflowRun {
                    run_id: "r".into(),
                    status: status.into(),
                    end_ms: end,
                    params: vec![
                        ("model.layers".into(), "12".into()),
                        ("opt".into(), "adam".into()),
                    ],
                    ..MlflowRun::default()
                },
                Path::new("x"),
            )
        };
        assert_eq!(mk("FINISHED", None).status, Status::Completed);
        assert_eq!(mk("KILLED", None).status, Status::Killed);
        assert_eq!(mk("RUNNING", None).status, Status::Running);
        assert_eq!(mk("RUNNING", Some(5)).status, Status::Crashed);
        assert_eq!(
            Value::Object(mk("FAILED", None).params),
            json!({"model": {"layers": 12}, "opt": "adam"})
        );
    }
}
