//! Reading runs out of the catalog: listing with filters, resolving a run reference, and
//! loading the views (record + metric summaries) that commands print.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use ox_core::{MetricSummary, Run, RunId, Status};
use rusqlite::types::Value as SqlValue;
use rusqlite::{OptionalExtension, params_from_iter};

use crate::{Catalog, RunView, StoreError, sql_err};

/// From this many runs on, [`Catalog::select_views`] parses their records on a second thread.
const PARALLEL_PARSE_MIN: usize = 512;

type RunRow = (i64, String, String, String, Option<f64>);

/// Parses the `json` of catalog rows (rid, id, json, status, duration) into views without
/// metrics, in order; the catalog's status column (liveness applied) wins over the
/// recorded one.
fn parse_rows(rows: Vec<RunRow>) -> Result<Vec<RunView>, StoreError> {
    rows.into_iter()
        .map(|(_, id, json, status, duration)| {
            let mut run: Run = serde_json::from_str(&json)
                .map_err(|source| StoreError::CorruptEntry { id, source })?;
            run.status = status.parse().unwrap_or(run.status);
            Ok(RunView {
                run,
                duration_s: duration,
                metrics: BTreeMap::new(),
            })
        })
        .collect()
}

/// Filters of `ox ls`.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub study: Option<String>,
    pub status: Option<Status>,
    pub sort: Option<SortKey>,
    pub limit: Option<usize>,
}

/// A sort key of `ox ls --sort [-]KEY`: a run field, `params.KEY`, `metrics.NAME[.AGG]`, or
/// a bare name (a param when one has that name, else a metric's last value).
#[derive(Debug, Clone, PartialEq)]
pub struct SortKey {
    pub key: String,
    pub descending: bool,
}

impl SortKey {
    /// Parses `KEY` or `-KEY` (descending).
    pub fn parse(spec: &str) -> SortKey {
        match spec.strip_prefix('-') {
            Some(key) => SortKey {
                key: key.to_string(),
                descending: true,
            },
            None => SortKey {
                key: spec.to_string(),
                descending: false,
            },
        }
    }
}

/// The value of a named field of a run (see [`RunView::value`]).
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Num(f64),
    Text(String),
}

impl RunView {
    /// The value of `key`: a run field (`id name study status created started ended duration
    /// exit_code host`), `params.KEY`, `metrics.NAME[.first|last|min|max|mean|count|last_step]`,
    /// or a bare name (a param when one has that name, else a metric's last value).
    pub fn value(&self, key: &str) -> Option<FieldValue> {
        sort_value(self, key)
    }
}

fn sort_value(view: &RunView, key: &str) -> Option<FieldValue> {
    let run = &view.run;
    let text = |s: &str| Some(FieldValue::Text(s.to_string()));
    let time =
        |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| FieldValue::Text(t.to_rfc3339()));
    match key {
        "id" => return text(run.id.as_str()),
        "name" => return run.name.as_deref().and_then(text),
        "study" => return text(&run.study),
        "status" => return text(run.status.as_str()),
        "created" => return time(Some(run.created)),
        "started" => return time(run.started),
        "ended" => return time(run.ended),
        "duration" => return view.duration_s.map(FieldValue::Num),
        "exit_code" => return run.exit_code.map(|c| FieldValue::Num(c.into())),
        "host" => return run.host.as_deref().and_then(text),
        "sweep" => return run.sweep.as_ref().and_then(|v| v.as_str()).and_then(text),
        "parent" => {
            return run
                .extra
                .get("parent")
                .and_then(|v| v.as_str())
                .and_then(text);
        }
        _ => {}
    }
    if let Some(metric) = key.strip_prefix("metrics.") {
        return metric_value(&view.metrics, metric).map(FieldValue::Num);
    }
    let param_key = key.strip_prefix("params.").unwrap_or(key);
    if let Some(v) = param_value(&run.params, param_key) {
        return match v {
            serde_json::Value::Number(n) => n.as_f64().map(FieldValue::Num),
            serde_json::Value::String(s) => Some(FieldValue::Text(s.clone())),
            serde_json::Value::Null => None,
            other => Some(FieldValue::Text(other.to_string())),
        };
    }
    metric_value(&view.metrics, key).map(FieldValue::Num)
}

/// A param by dotted path.
pub(crate) fn param_value<'a>(
    params: &'a serde_json::Map<String, serde_json::Value>,
    dotted: &str,
) -> Option<&'a serde_json::Value> {
    if let Some(v) = params.get(dotted) {
        return Some(v);
    }
    let (head, rest) = dotted.split_once('.')?;
    match params.get(head)? {
        serde_json::Value::Object(inner) => param_value(inner, rest),
        _ => None,
    }
}

/// `NAME` (last value) or `NAME.AGG` of a metric.
fn metric_value(metrics: &BTreeMap<String, MetricSummary>, spec: &str) -> Option<f64> {
    if let Some(s) = metrics.get(spec) {
        return Some(s.last);
    }
    let (name, agg) = spec.rsplit_once('.')?;
    metrics.get(name)?.get(agg)
}

fn compare(a: &Option<FieldValue>, b: &Option<FieldValue>, descending: bool) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => {
            let ord = match (x, y) {
                (FieldValue::Num(x), FieldValue::Num(y)) => x.total_cmp(y),
                (FieldValue::Num(_), FieldValue::Text(_)) => Ordering::Less,
                (FieldValue::Text(_), FieldValue::Num(_)) => Ordering::Greater,
                (FieldValue::Text(x), FieldValue::Text(y)) => x.cmp(y),
            };
            if descending { ord.reverse() } else { ord }
        }
    }
}

impl Catalog {
    /// Runs matching `filter`, oldest first unless a sort key is given.
    pub fn runs(&self, filter: &RunFilter) -> Result<Vec<RunView>, StoreError> {
        let mut clauses = Vec::new();
        let mut binds = Vec::new();
        if let Some(study) = &filter.study {
            clauses.push("r.study = ?");
            binds.push(SqlValue::Text(study.clone()));
        }
        if let Some(status) = filter.status {
            clauses.push("r.status = ?");
            binds.push(SqlValue::Text(status.as_str().to_string()));
        }
        let where_sql = if clauses.is_empty() {
            "1".to_string()
        } else {
            clauses.join(" AND ")
        };
        let limit_in_sql = if filter.sort.is_none() {
            filter.limit
        } else {
            None
        };
        let mut views = self.select_views(&where_sql, "r.created, r.id", limit_in_sql, &binds)?;
        if let Some(sort) = &filter.sort {
            let mut keyed: Vec<(Option<FieldValue>, RunView)> = views
                .into_iter()
                .map(|v| (sort_value(&v, &sort.key), v))
                .collect();
            keyed.sort_by(|(a, _), (b, _)| compare(a, b, sort.descending));
            views = keyed.into_iter().map(|(_, v)| v).collect();
            if let Some(limit) = filter.limit {
                views.truncate(limit);
            }
        }
        Ok(views)
    }

    /// Loads the views of runs selected by an SQL condition over `runs r` with bound
    /// values, in the given order. `where_sql` and `order_sql` must come from trusted code
    /// (ox-query's compiler), never from user text.
    pub fn select_views(
        &self,
        where_sql: &str,
        order_sql: &str,
        limit: Option<usize>,
        binds: &[SqlValue],
    ) -> Result<Vec<RunView>, StoreError> {
        let db = self.project.db_path();
        let limit_sql = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
        let sql = format!(
            "SELECT r.rid, r.id, r.json, r.status, r.duration FROM runs r WHERE {where_sql} ORDER BY {order_sql}{limit_sql}"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| sql_err(&db, e))?;
        let rows = stmt
            .query_map(params_from_iter(binds.iter()), |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<f64>>(4)?,
                ))
            })
            .map_err(|e| sql_err(&db, e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| sql_err(&db, e))?;
        let rids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        // Parsing the records and loading their metric summaries are independent: with
        // many runs, parse on a second thread while this one reads the metrics.
        let (parsed, metrics) = if rows.len() >= PARALLEL_PARSE_MIN {
            std::thread::scope(|scope| {
                let parser = scope.spawn(|| parse_rows(rows));
                let metrics = self.metrics_for(rids.iter().copied());
                let parsed = parser
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (parsed, metrics)
            })
        } else {
            (parse_rows(rows), self.metrics_for(rids.iter().copied()))
        };
        let mut metrics = metrics?;
        let mut views = parsed?;
        for (view, rid) in views.iter_mut().zip(rids) {
            view.metrics = metrics.remove(&rid).unwrap_or_default();
        }
        Ok(views)
    }

    fn metrics_for(
        &self,
        rids: impl Iterator<Item = i64>,
    ) -> Result<HashMap<i64, BTreeMap<String, MetricSummary>>, StoreError> {
        let db = self.project.db_path();
        let rids: Vec<i64> = rids.collect();
        let mut out: HashMap<i64, BTreeMap<String, MetricSummary>> =
            HashMap::with_capacity(rids.len());
        let mut push = |r: &rusqlite::Row<'_>| -> rusqlite::Result<()> {
            let nan = |v: Option<f64>| v.unwrap_or(f64::NAN);
            let summary = MetricSummary {
                first: nan(r.get(2)?),
                last: nan(r.get(3)?),
                min: nan(r.get(4)?),
                max: nan(r.get(5)?),
                mean: nan(r.get(6)?),
                count: r.get::<_, i64>(7)? as u64,
                last_step: r.get::<_, Option<i64>>(8)?.unwrap_or(0),
            };
            out.entry(r.get(0)?).or_default().insert(r.get(1)?, summary);
            Ok(())
        };
        const COLS: &str = "rid, key, first, last, min, max, mean, count, last_step";
        for chunk in rids.chunks(500) {
            let placeholders = vec!["?"; chunk.len()].join(",");
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT {COLS} FROM metrics WHERE rid IN ({placeholders})"
                ))
                .map_err(|e| sql_err(&db, e))?;
            let mut rows = stmt
                .query(params_from_iter(chunk))
                .map_err(|e| sql_err(&db, e))?;
            while let Some(row) = rows.next().map_err(|e| sql_err(&db, e))? {
                push(row).map_err(|e| sql_err(&db, e))?;
            }
        }
        Ok(out)
    }

    /// The run named by `reference`: an id, a unique id prefix, a name (unique across
    /// studies), or `study/name`.
    pub fn run(&self, reference: &str) -> Result<RunView, StoreError> {
        let id = self.resolve(reference)?;
        let mut views =
            self.select_views("r.id = ?", "r.id", None, &[SqlValue::Text(id.to_string())])?;
        views.pop().ok_or_else(|| StoreError::NoSuchRun {
            reference: reference.to_string(),
            suggestions: Vec::new(),
        })
    }

    /// Resolves a run reference to an id (see [`Catalog::run`]).
    pub fn resolve(&self, reference: &str) -> Result<RunId, StoreError> {
        let db = self.project.db_path();
        let query = |sql: &str,
                     binds: &[&str]|
         -> Result<Vec<(String, String, Option<String>)>, StoreError> {
            let mut stmt = self.conn.prepare_cached(sql).map_err(|e| sql_err(&db, e))?;
            stmt.query_map(params_from_iter(binds.iter()), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(|e| sql_err(&db, e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| sql_err(&db, e))
        };
        let pick =
            |found: Vec<(String, String, Option<String>)>| -> Result<Option<RunId>, StoreError> {
                match found.len() {
                    0 => Ok(None),
                    1 => Ok(found
                        .into_iter()
                        .next()
                        .and_then(|(id, _, _)| RunId::parse(&id))),
                    total => {
                        let same_study_and_name = found
                            .windows(2)
                            .all(|w| w[0].1 == w[1].1 && w[0].2 == w[1].2);
                        Err(StoreError::AmbiguousRun {
                            reference: reference.to_string(),
                            total,
                            candidates: found
                                .into_iter()
                                .take(10)
                                .map(|(id, study, name)| {
                                    format!("{id} ({study}/{})", name.unwrap_or_default())
                                })
                                .collect(),
                            same_study_and_name,
                        })
                    }
                }
            };
        const COLS: &str = "SELECT id, study, name FROM runs";
        if let Some(id) = pick(query(&format!("{COLS} WHERE id = ?1"), &[reference])?)? {
            return Ok(id);
        }
        if let Some(id) = pick(query(&format!("{COLS} WHERE name = ?1"), &[reference])?)? {
            return Ok(id);
        }
        if let Some((study, name)) = reference.split_once('/')
            && let Some(id) = pick(query(
                &format!("{COLS} WHERE study = ?1 AND name = ?2"),
                &[study, name],
            )?)?
        {
            return Ok(id);
        }
        if RunId::is_safe(reference) {
            let pattern = format!("{reference}*");
            let found = query(&format!("{COLS} WHERE id GLOB ?1 ORDER BY id"), &[&pattern])?;
            if reference.len() < crate::MIN_ID_PREFIX {
                if !found.is_empty() {
                    return Err(StoreError::PrefixTooShort {
                        reference: reference.to_string(),
                        matches: found.len(),
                    });
                }
            } else if let Some(id) = pick(found)? {
                return Ok(id);
            }
        }
        Err(StoreError::NoSuchRun {
            reference: reference.to_string(),
            suggestions: self.similar_names(reference)?,
        })
    }

    fn similar_names(&self, reference: &str) -> Result<Vec<String>, StoreError> {
        let db = self.project.db_path();
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT name FROM runs WHERE name IS NOT NULL")
            .map_err(|e| sql_err(&db, e))?;
        let names: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .map_err(|e| sql_err(&db, e))?
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| sql_err(&db, e))?;
        Ok(
            ox_query::suggest::closest(reference, names.iter().map(String::as_str))
                .into_iter()
                .map(String::from)
                .collect(),
        )
    }

    /// The id of the run imported from `source_key`, if any.
    pub fn run_for_source(&self, source_key: &str) -> Result<Option<RunId>, StoreError> {
        let db = self.project.db_path();
        self.conn
            .query_row(
                "SELECT id FROM runs WHERE source_key = ?1 ORDER BY id LIMIT 1",
                [source_key],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map(|id| id.and_then(|id| RunId::parse(&id)))
            .map_err(|e| sql_err(&db, e))
    }

    /// The names of these runs (runs without one, or not in the catalog, left out).
    pub fn names(&self, ids: &[RunId]) -> Result<HashMap<String, String>, StoreError> {
        let db = self.project.db_path();
        let mut out = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let placeholders = vec!["?"; chunk.len()].join(",");
            let mut stmt = self
                .conn
                .prepare_cached(&format!(
                    "SELECT id, name FROM runs WHERE name IS NOT NULL AND id IN ({placeholders})"
                ))
                .map_err(|e| sql_err(&db, e))?;
            let rows = stmt
                .query_map(params_from_iter(chunk.iter().map(RunId::as_str)), |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(|e| sql_err(&db, e))?;
            for row in rows {
                let (id, name) = row.map_err(|e| sql_err(&db, e))?;
                out.insert(id, name);
            }
        }
        Ok(out)
    }

    /// Every param key (dotted) in the catalog, sorted.
    pub fn param_keys(&self) -> Result<Vec<String>, StoreError> {
        self.distinct("SELECT DISTINCT key FROM params ORDER BY key")
    }

    /// Every metric name in the catalog, sorted.
    pub fn metric_keys(&self) -> Result<Vec<String>, StoreError> {
        self.distinct("SELECT DISTINCT key FROM metrics ORDER BY key")
    }

    /// The stored min/max envelope of `metric` in a run's metrics file, when the series is
    /// longer than [`ENVELOPE_MIN_POINTS`](crate::ENVELOPE_MIN_POINTS) points (as of the last
    /// refresh); `None` for shorter series, which are quick to read from the file.
    pub fn envelope(
        &self,
        id: &RunId,
        metric: &str,
    ) -> Result<Option<ox_core::StepEnvelope>, StoreError> {
        let db = self.project.db_path();
        let bytes: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT bytes FROM envelopes WHERE id = ?1 AND key = ?2")
            .and_then(|mut s| s.query_row([id.as_str(), metric], |r| r.get(0)).optional())
            .map_err(|e| sql_err(&db, e))?;
        Ok(bytes.and_then(|b| ox_core::StepEnvelope::from_bytes(&b)))
    }

    /// How far the catalog has read a run's metrics file: the byte offset past the last
    /// complete line and that line's step (`None` for a run not read yet). Reading the file
    /// on from there gives exactly the points added since.
    pub fn metrics_read_position(
        &self,
        id: &RunId,
    ) -> Result<Option<(u64, Option<i64>)>, StoreError> {
        let db = self.project.db_path();
        let row: Option<(i64, Option<String>)> = self
            .conn
            .prepare_cached("SELECT metrics_offset, metrics_state FROM file_state WHERE id = ?1")
            .and_then(|mut s| {
                s.query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(|e| sql_err(&db, e))?;
        Ok(row.map(|(offset, state)| {
            (
                u64::try_from(offset).unwrap_or(0),
                state.as_deref().and_then(crate::refresh::stored_last_step),
            )
        }))
    }

    fn distinct(&self, sql: &str) -> Result<Vec<String>, StoreError> {
        let db = self.project.db_path();
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| sql_err(&db, e))?;
        stmt.query_map([], |r| r.get(0))
            .map_err(|e| sql_err(&db, e))?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(|e| sql_err(&db, e))
    }
}
