//! Incremental refresh: bring the catalog up to date with the files, reading only what
//! changed since the last refresh (by size and modification time), and resuming appended
//! metrics files from where the last read stopped.

use std::collections::{BTreeMap, HashSet};

use ox_core::StepEnvelope;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ox_core::{
    LineKind, MetricAccumulator, MetricsFileReader, Project, Run, RunId, Status, flatten_params,
    now_utc, parse_metric_line, parse_run_json,
};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::liveness::{Machine, ProcessRecord, is_gone};
use crate::{StoreError, sql_err};

/// What a refresh did, and the problems it met (a bad file never stops the others).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RefreshReport {
    /// Runs whose files were (re)read.
    pub updated: usize,
    /// Runs removed from the catalog because their directory is gone.
    pub removed: usize,
    /// Running runs found to be crashed in this refresh.
    pub crashed: usize,
    /// One line per problem: a run.json that does not parse, torn or bad metric lines.
    pub warnings: Vec<String>,
}

/// Size and modification time of a file, the change detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    size: i64,
    mtime_ns: i64,
}

fn stamp(path: &std::path::Path) -> Option<(Stamp, SystemTime)> {
    let meta = std::fs::metadata(path).ok()?;
    let mtime = meta.modified().ok()?;
    let mtime_ns = mtime
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0);
    Some((
        Stamp {
            size: meta.len() as i64,
            mtime_ns,
        },
        mtime,
    ))
}

/// The resumable state of a run's metrics file, stored in `file_state.metrics_state`.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct MetricsState {
    acc: BTreeMap<String, MetricAccumulator>,
    last_step: Option<i64>,
    #[serde(default)]
    params: Map<String, Value>,
}

/// The step of the last complete line, out of a stored [`MetricsState`].
pub(crate) fn stored_last_step(state_json: &str) -> Option<i64> {
    serde_json::from_str::<MetricsState>(state_json)
        .ok()
        .and_then(|s| s.last_step)
}

struct KnownState {
    json: Option<Stamp>,
    metrics: Option<Stamp>,
    metrics_offset: u64,
    metrics_state: Option<String>,
}

/// Which runs a refresh looks at.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// What may have changed: new and removed run directories (the `runs/` listing is read
    /// again only when that directory's mtime changed) and runs not yet final (`queued`,
    /// `running`), whose files are stat'ed; also run directories found broken before and
    /// runs marked in `.ox/reopened/`. A finished run's files are not looked at again
    /// otherwise: ox's own writers re-import through [`Scope::Runs`], and a hand edit needs
    /// `ox reindex RUN`.
    Changed,
    /// Every run, every file read again.
    All,
    /// These runs, read again whatever their stamps say.
    Runs(&'a [RunId]),
}

/// Refreshes the catalog from the project's files inside one transaction.
pub fn refresh(
    conn: &mut Connection,
    project: &Project,
    processes: &dyn Machine,
    stale_after: Duration,
    scope: Scope<'_>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<RefreshReport, StoreError> {
    let db = project.db_path();
    let sql = |e| sql_err(&db, e);
    let mut report = RefreshReport::default();
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(sql)?;
    let runs_dir = project.runs_dir();
    // Stamp the directory before listing it: an entry added during the listing changes the
    // mtime again and is seen next time.
    let dir_stamp = stamp(&runs_dir).map(|(s, _)| s);
    let stored_dir_stamp = load_dir_stamp(&tx).map_err(sql)?;
    let forced = !matches!(scope, Scope::Changed);
    let (mut candidates, removed, listed) = match scope {
        Scope::Runs(ids) => (ids.to_vec(), Vec::new(), false),
        Scope::Changed if dir_stamp.is_some() && dir_stamp == stored_dir_stamp => {
            (unfinished_ids(&tx).map_err(sql)?, Vec::new(), false)
        }
        Scope::Changed | Scope::All => {
            let on_disk = list_run_dirs(&runs_dir)?;
            let known = known_ids(&tx).map_err(sql)?;
            let removed: Vec<String> = known
                .iter()
                .filter(|id| !on_disk.contains(id.as_str()))
                .cloned()
                .collect();
            let candidates: Vec<RunId> = if matches!(scope, Scope::All) {
                on_disk.iter().filter_map(|id| RunId::parse(id)).collect()
            } else {
                let mut c: Vec<RunId> = on_disk
                    .iter()
                    .filter(|id| !known.contains(id.as_str()))
                    .filter_map(|id| RunId::parse(id))
                    .collect();
                c.extend(unfinished_ids(&tx).map_err(sql)?);
                c
            };
            (candidates, removed, true)
        }
    };
    if matches!(scope, Scope::Changed) {
        // Broken run directories are looked at until fixed; reopened finished runs have their
        // stamps compared (a few stats each: there are few of both).
        candidates.extend(broken_ids(&tx).map_err(sql)?);
        candidates.extend(reopened_ids(project));
    }
    candidates.sort();
    candidates.dedup();
    // Past this many runs to read, dropping and rebuilding the secondary indexes wins.
    const BULK_THRESHOLD: usize = 2000;
    let bulk = candidates.len() >= BULK_THRESHOLD;
    if bulk {
        for (name, _) in crate::schema::BULK_INDEXES {
            tx.execute_batch(&format!("DROP INDEX IF EXISTS {name}"))
                .map_err(sql)?;
        }
    }
    let mut incomplete_dir = false;
    // Rows written now carry this refresh's time: (id, written) names what a row says.
    let written = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    let total = candidates.len();
    for (done, id) in candidates.into_iter().enumerate() {
        if total >= BULK_THRESHOLD && done % 512 == 0 {
            progress(done, total);
        }
        let json_path = project.run_json_path(&id);
        let Some((json_stamp, _)) = stamp(&json_path) else {
            let known = delete_run(&tx, id.as_str()).map_err(sql)?;
            if known {
                report.removed += 1;
            }
            let dir = project.run_dir(&id);
            if !dir.is_dir() {
                forget_broken(&tx, id.as_str()).map_err(sql)?;
            } else if !known && being_created(&dir) && !is_broken(&tx, id.as_str()).map_err(sql)? {
                // A run directory whose run.json is not written yet: list again next time.
                incomplete_dir = true;
            } else {
                let problem = "run.json is missing".to_string();
                report.warnings.push(broken_warning(project, &id, &problem));
                remember_broken(&tx, id.as_str(), &problem).map_err(sql)?;
            }
            continue;
        };
        let metrics_stamp = stamp(&project.metrics_path(&id)).map(|(s, _)| s);
        let prev = load_state(&tx, id.as_str()).map_err(sql)?;
        let unchanged = prev
            .as_ref()
            .is_some_and(|k| k.json == Some(json_stamp) && k.metrics == metrics_stamp);
        if unchanged && !forced {
            continue;
        }
        // Envelopes are resumed only when the metrics file changed (new lines to add).
        let stored_envelopes = match &prev {
            Some(k) if k.metrics_offset > 0 && k.metrics != metrics_stamp => {
                Some(load_envelopes(&tx, id.as_str()).map_err(sql)?)
            }
            _ => None,
        };
        match read_run(
            project,
            &id,
            &json_path,
            (prev, stored_envelopes),
            metrics_stamp,
            &mut report,
        ) {
            Ok(read) => {
                write_run(&tx, &read, json_stamp, metrics_stamp, written).map_err(sql)?;
                forget_broken(&tx, id.as_str()).map_err(sql)?;
                report.updated += 1;
            }
            Err(problem) => {
                report.warnings.push(broken_warning(project, &id, &problem));
                remember_broken(&tx, id.as_str(), &problem).map_err(sql)?;
            }
        }
    }
    if total >= BULK_THRESHOLD {
        progress(total, total);
    }
    if bulk {
        for (_, create) in crate::schema::BULK_INDEXES {
            tx.execute_batch(create).map_err(sql)?;
        }
    }
    for gone in &removed {
        if delete_run(&tx, gone).map_err(sql)? {
            report.removed += 1;
        }
        forget_broken(&tx, gone).map_err(sql)?;
    }
    if listed && !incomplete_dir {
        store_dir_stamp(&tx, dir_stamp).map_err(sql)?;
    }
    report.crashed = mark_crashed(&tx, project, processes, stale_after).map_err(sql)?;
    tx.commit().map_err(sql)?;
    Ok(report)
}

/// Names of the entries of `runs/` that are valid run ids.
fn list_run_dirs(runs_dir: &std::path::Path) -> Result<HashSet<String>, StoreError> {
    let entries = match std::fs::read_dir(runs_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => {
            return Err(StoreError::Core(ox_core::CoreError::Io {
                op: "list",
                path: runs_dir.to_path_buf(),
                source: e,
            }));
        }
    };
    Ok(entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .filter(|n| RunId::is_safe(n))
                .map(String::from)
        })
        .collect())
}

/// How long a run directory without run.json counts as being created (`ox run` and the
/// Python client write run.json right after the directory) before it is reported broken.
const CREATION_GRACE: Duration = Duration::from_secs(60);

/// Whether a run directory without run.json is one a writer is creating: recent, and holding
/// nothing but the temporary file run.json is written through. One holding a log or other
/// files lost its run.json.
fn being_created(dir: &std::path::Path) -> bool {
    let young = stamp(dir)
        .and_then(|(_, mtime)| mtime.elapsed().ok())
        .is_some_and(|age| age < CREATION_GRACE);
    young
        && std::fs::read_dir(dir).is_ok_and(|entries| {
            entries
                .filter_map(Result::ok)
                .all(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        })
}

/// The warning for a run directory that cannot be read, naming the files left without a
/// run and what to do.
fn broken_warning(project: &Project, id: &RunId, problem: &str) -> String {
    let files = orphaned_files(project, id);
    let files = if files.is_empty() {
        String::new()
    } else {
        format!("; its files: {}", files.join(", "))
    };
    format!(
        "run {id} cannot be read ({problem}){files}; restore or fix its run.json and run `ox reindex {id}`, or delete the run's files"
    )
}

/// The files a run has besides its run.json, relative to the project root.
pub(crate) fn orphaned_files(project: &Project, id: &RunId) -> Vec<String> {
    let mut files: Vec<std::path::PathBuf> = [project.metrics_path(id), project.system_path(id)]
        .into_iter()
        .filter(|p| p.is_file())
        .collect();
    if let Ok(entries) = std::fs::read_dir(project.run_dir(id)) {
        let mut inside: Vec<std::path::PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.file_name().is_some_and(|n| n != "run.json"))
            .collect();
        inside.sort();
        files.extend(inside);
    }
    files
        .iter()
        .map(|p| {
            p.strip_prefix(project.root())
                .unwrap_or(p)
                .display()
                .to_string()
        })
        .collect()
}

fn broken_ids(tx: &Transaction<'_>) -> rusqlite::Result<Vec<RunId>> {
    let mut stmt = tx.prepare("SELECT id FROM broken_runs")?;
    let ids: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids.iter().filter_map(|id| RunId::parse(id)).collect())
}

fn is_broken(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<bool> {
    tx.prepare_cached("SELECT 1 FROM broken_runs WHERE id = ?1")?
        .exists([id])
}

fn remember_broken(tx: &Transaction<'_>, id: &str, problem: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT OR REPLACE INTO broken_runs (id, problem) VALUES (?1, ?2)")?
        .execute([id, problem])?;
    Ok(())
}

fn forget_broken(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("DELETE FROM broken_runs WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Runs marked in `.ox/reopened/` (finished runs a client reopened to log more).
fn reopened_ids(project: &Project) -> Vec<RunId> {
    let Ok(entries) = std::fs::read_dir(project.reopened_dir()) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().and_then(RunId::parse))
        .collect()
}

fn known_ids(tx: &Transaction<'_>) -> rusqlite::Result<HashSet<String>> {
    let mut stmt = tx.prepare("SELECT id FROM file_state")?;
    stmt.query_map([], |r| r.get(0))?.collect()
}

fn unfinished_ids(tx: &Transaction<'_>) -> rusqlite::Result<Vec<RunId>> {
    let mut stmt =
        tx.prepare("SELECT id FROM file_state WHERE raw_status IN ('queued', 'running')")?;
    let ids: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids.iter().filter_map(|id| RunId::parse(id)).collect())
}

const DIR_STAMP_KEY: &str = "runs_dir_stamp";

fn load_dir_stamp(tx: &Transaction<'_>) -> rusqlite::Result<Option<Stamp>> {
    let text: Option<String> = tx
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            [DIR_STAMP_KEY],
            |r| r.get(0),
        )
        .optional()?;
    Ok(text.and_then(|t| {
        let (size, mtime) = t.split_once(':')?;
        Some(Stamp {
            size: size.parse().ok()?,
            mtime_ns: mtime.parse().ok()?,
        })
    }))
}

fn store_dir_stamp(tx: &Transaction<'_>, stamp: Option<Stamp>) -> rusqlite::Result<()> {
    match stamp {
        Some(s) => tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            params![DIR_STAMP_KEY, format!("{}:{}", s.size, s.mtime_ns)],
        )?,
        None => tx.execute("DELETE FROM meta WHERE key = ?1", [DIR_STAMP_KEY])?,
    };
    Ok(())
}

fn load_state(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<Option<KnownState>> {
    let mut stmt = tx.prepare_cached(
        "SELECT json_size, json_mtime_ns, metrics_size, metrics_mtime_ns, metrics_offset, metrics_state
         FROM file_state WHERE id = ?1",
    )?;
    stmt.query_row([id], |r| {
        let pair = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(size), Some(mtime_ns)) => Some(Stamp { size, mtime_ns }),
            _ => None,
        };
        Ok(KnownState {
            json: pair(r.get(0)?, r.get(1)?),
            metrics: pair(r.get(2)?, r.get(3)?),
            metrics_offset: r.get::<_, i64>(4)? as u64,
            metrics_state: r.get(5)?,
        })
    })
    .optional()
}

/// Series longer than this many points get their envelope stored (shorter files are quick
/// to read whole, and their envelope would hold every point).
pub const ENVELOPE_MIN_POINTS: u64 = ox_core::envelope::MAX_POINTS as u64;

/// The stored envelopes of a run, by metric (unreadable ones left out: rebuilt when the
/// run is read from the start).
fn load_envelopes(
    tx: &Transaction<'_>,
    id: &str,
) -> rusqlite::Result<BTreeMap<String, StepEnvelope>> {
    let mut stmt = tx.prepare_cached("SELECT key, bytes FROM envelopes WHERE id = ?1")?;
    let rows = stmt.query_map([id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (key, bytes) = row?;
        if let Some(env) = StepEnvelope::from_bytes(&bytes) {
            out.insert(key, env);
        }
    }
    Ok(out)
}

/// Reads a run's files; on a bad run.json returns the warning to report. `prev` is what
/// the catalog holds of the run: its file state and its stored envelopes (`None`: not
/// loaded, as the metrics file did not change; they stay as stored).
fn read_run(
    project: &Project,
    id: &RunId,
    json_path: &std::path::Path,
    prev: (Option<KnownState>, Option<BTreeMap<String, StepEnvelope>>),
    metrics_stamp: Option<Stamp>,
    report: &mut RefreshReport,
) -> Result<ReadRun, String> {
    let (prev, stored_envelopes) = prev;
    let bytes = std::fs::read(json_path).map_err(|e| format!("{}: {e}", json_path.display()))?;
    let mut run = parse_run_json(json_path, &bytes).map_err(|e| e.to_string())?;
    if run.id != *id {
        return Err(format!(
            "{}: id {:?} does not match its directory {id}; skipped",
            json_path.display(),
            run.id.as_str()
        ));
    }
    // Resume the metrics scan when the file only grew since the last read.
    let (mut state, mut offset) = match prev {
        Some(k)
            if metrics_stamp.is_some_and(|s| s.size as u64 >= k.metrics_offset)
                && k.metrics.is_some() =>
        {
            let state = k
                .metrics_state
                .as_deref()
                .and_then(|s| serde_json::from_str::<MetricsState>(s).ok());
            match state {
                Some(s) => (s, k.metrics_offset),
                None => (MetricsState::default(), 0),
            }
        }
        _ => (MetricsState::default(), 0),
    };
    // Envelopes go on from the stored ones; a metric that had points but no stored envelope
    // (it was short) is rebuilt from the start below once it grows long. Not loaded (the
    // file did not change): nothing is added, the stored ones stay.
    let from_start = offset == 0;
    let track = from_start || stored_envelopes.is_some();
    let mut envelopes = if from_start {
        BTreeMap::new()
    } else {
        stored_envelopes.unwrap_or_default()
    };
    // What each envelope held before this read: only those that grew are written back.
    let counts_before: BTreeMap<String, u64> = envelopes
        .iter()
        .map(|(k, e)| (k.clone(), e.count()))
        .collect();
    let partial: HashSet<String> = if track {
        state
            .acc
            .keys()
            .filter(|k| !envelopes.contains_key(*k))
            .cloned()
            .collect()
    } else {
        HashSet::new()
    };
    let mut tail_acc = None;
    let metrics_path = project.metrics_path(id);
    if metrics_stamp.is_some() {
        let scan =
            MetricsFileReader::scan(
                &metrics_path,
                offset,
                state.last_step,
                |step, line| match &line.kind {
                    LineKind::Metrics => {
                        for (k, v) in &line.values {
                            match state.acc.get_mut(k.as_ref()) {
                                Some(acc) => acc.push(step, *v),
                                None => {
                                    let mut acc = MetricAccumulator::default();
                                    acc.push(step, *v);
                                    state.acc.insert(k.to_string(), acc);
                                }
                            }
                            if track && (partial.is_empty() || !partial.contains(k.as_ref())) {
                                match envelopes.get_mut(k.as_ref()) {
                                    Some(env) => env.push(step, line.time, *v),
                                    None => {
                                        let mut env = StepEnvelope::default();
                                        env.push(step, line.time, *v);
                                        envelopes.insert(k.to_string(), env);
                                    }
                                }
                            }
                        }
                    }
                    LineKind::Params(p) => ox_core::deep_merge(&mut state.params, p),
                    LineKind::Other => {}
                },
            );
        match scan {
            Ok(scan) => {
                offset = scan.end_offset;
                state.last_step = scan.last_step;
                for (line, err) in &scan.bad_lines {
                    report.warnings.push(format!(
                        "{}: skipped a bad line ({err}) near line {line} of the new data",
                        metrics_path.display()
                    ));
                }
                if scan.skipped_total > 0 {
                    let shown: Vec<String> = scan
                        .skipped_values
                        .iter()
                        .map(|(line, key, kind)| format!("'{key}' is {kind} (line {line})"))
                        .collect();
                    let more = scan.skipped_total - shown.len() as u64;
                    let more = if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    };
                    report.warnings.push(format!(
                        "{}: {} metric value(s) are not numbers and were skipped: {}{more} (log numbers, NaN or Infinity)",
                        metrics_path.display(),
                        scan.skipped_total,
                        shown.join(", ")
                    ));
                }
                if let Some(tail) = scan.tail {
                    match parse_metric_line(&tail) {
                        // A complete last line without its newline: counted, but not part of
                        // the resumable state, since the writer may still be appending to it.
                        Ok(line) if line.kind == LineKind::Metrics => {
                            let step = line.step.unwrap_or_else(|| state.last_step.map_or(0, |s| s + 1));
                            let mut acc = state.acc.clone();
                            for (k, v) in &line.values {
                                acc.entry(k.to_string()).or_default().push(step, *v);
                            }
                            tail_acc = Some(acc);
                        }
                        Ok(_) => {}
                        Err(_) if run.status.is_final() => report.warnings.push(format!(
                            "{}: the last line is torn (the writer stopped mid-line); it was skipped",
                            metrics_path.display()
                        )),
                        Err(_) => {}
                    }
                }
            }
            Err(e) => report.warnings.push(e.to_string()),
        }
    }
    let grown: HashSet<&str> = partial
        .iter()
        .filter(|k| {
            state
                .acc
                .get(k.as_str())
                .is_some_and(|a| a.count > ENVELOPE_MIN_POINTS)
        })
        .map(String::as_str)
        .collect();
    if !grown.is_empty() {
        let mut rebuilt: BTreeMap<String, StepEnvelope> = BTreeMap::new();
        let _ = MetricsFileReader::scan(&metrics_path, 0, None, |step, line| {
            if line.kind == LineKind::Metrics {
                for (k, v) in &line.values {
                    if grown.contains(k.as_ref()) {
                        rebuilt
                            .entry(k.to_string())
                            .or_default()
                            .push(step, line.time, *v);
                    }
                }
            }
        });
        envelopes.extend(rebuilt);
    }
    envelopes
        .retain(|k, e| e.count() > ENVELOPE_MIN_POINTS && counts_before.get(k) != Some(&e.count()));
    // Params declared by the training process fill in; run.json's own params win.
    let mut merged = state.params.clone();
    ox_core::deep_merge(&mut merged, &run.params);
    run.params = merged;
    let shown = tail_acc.unwrap_or_else(|| state.acc.clone());
    Ok(ReadRun {
        run,
        persisted: state,
        shown,
        offset,
        envelopes,
        from_start,
    })
}

/// A run as read from its files: the record, the resumable metrics state (up to the last
/// complete line), and the summaries to show (which also count an unterminated last line).
struct ReadRun {
    run: Run,
    persisted: MetricsState,
    shown: BTreeMap<String, MetricAccumulator>,
    offset: u64,
    /// Envelopes to store: of the series longer than [`ENVELOPE_MIN_POINTS`] that got
    /// points in this read (the others stay as stored).
    envelopes: BTreeMap<String, StepEnvelope>,
    /// Whether the metrics file was read from its start (stored envelopes are replaced).
    from_start: bool,
}

fn write_run(
    tx: &Transaction<'_>,
    read: &ReadRun,
    json_stamp: Stamp,
    metrics_stamp: Option<Stamp>,
    written: i64,
) -> rusqlite::Result<()> {
    let ReadRun {
        run,
        persisted,
        shown,
        offset,
        envelopes,
        from_start,
    } = read;
    let json = serde_json::to_string(run).unwrap_or_default();
    let duration = run.duration_secs(now_utc());
    let source_key = run
        .source
        .as_ref()
        .and_then(|s| s.get("key"))
        .and_then(Value::as_str);
    let ts = |t: &Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
    };
    tx.prepare_cached(
        "INSERT INTO runs (id, name, study, status, created, started, ended, duration, exit_code, host, source_key, json, written)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT(id) DO UPDATE SET name=excluded.name, study=excluded.study, status=excluded.status,
           created=excluded.created, started=excluded.started, ended=excluded.ended, duration=excluded.duration,
           exit_code=excluded.exit_code, host=excluded.host, source_key=excluded.source_key, json=excluded.json,
           written=excluded.written",
        )?
        .execute(params![
            run.id.as_str(),
            run.name,
            run.study,
            run.status.as_str(),
            ts(&Some(run.created)),
            ts(&run.started),
            ts(&run.ended),
            duration,
            run.exit_code,
            run.host,
            source_key,
            json,
            written
        ],
    )?;
    let rid: i64 = tx
        .prepare_cached("SELECT rid FROM runs WHERE id = ?1")?
        .query_row([run.id.as_str()], |r| r.get(0))?;
    tx.prepare_cached("DELETE FROM tags WHERE rid = ?1")?
        .execute([rid])?;
    tx.prepare_cached("DELETE FROM params WHERE rid = ?1")?
        .execute([rid])?;
    tx.prepare_cached("DELETE FROM metrics WHERE rid = ?1")?
        .execute([rid])?;
    {
        let mut ins = tx.prepare_cached("INSERT OR IGNORE INTO tags (rid, tag) VALUES (?1, ?2)")?;
        for tag in &run.tags {
            ins.execute(params![rid, tag])?;
        }
    }
    {
        let mut ins = tx.prepare_cached(
            "INSERT OR REPLACE INTO params (rid, key, num, text) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (key, value) in flatten_params(&run.params) {
            let (num, text) = param_columns(value);
            ins.execute(params![rid, key, num, text])?;
        }
    }
    {
        let mut ins = tx.prepare_cached(
            "INSERT INTO metrics (rid, key, first, last, min, max, mean, count, last_step) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for (key, acc) in shown {
            if let Some(s) = acc.summary() {
                let finite = |v: f64| (!v.is_nan()).then_some(v);
                ins.execute(params![
                    rid,
                    key,
                    finite(s.first),
                    finite(s.last),
                    finite(s.min),
                    finite(s.max),
                    finite(s.mean),
                    s.count as i64,
                    s.last_step
                ])?;
            }
        }
    }
    if *from_start {
        tx.prepare_cached("DELETE FROM envelopes WHERE id = ?1")?
            .execute([run.id.as_str()])?;
    }
    {
        let mut ins = tx.prepare_cached(
            "INSERT OR REPLACE INTO envelopes (id, key, bytes) VALUES (?1, ?2, ?3)",
        )?;
        for (key, env) in envelopes {
            ins.execute(params![run.id.as_str(), key, env.to_bytes()])?;
        }
    }
    let pid_start_ticks = run.pid_start_ticks;
    tx.prepare_cached(
        "INSERT OR REPLACE INTO file_state (id, json_size, json_mtime_ns, metrics_size, metrics_mtime_ns, metrics_offset,
           metrics_state, raw_status, pid, pid_start_ticks, host)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?
        .execute(params![
            run.id.as_str(),
            json_stamp.size,
            json_stamp.mtime_ns,
            metrics_stamp.map(|s| s.size),
            metrics_stamp.map(|s| s.mtime_ns),
            *offset as i64,
            serde_json::to_string(persisted).ok(),
            run.status.as_str(),
            run.pid,
            pid_start_ticks.map(|t| t as i64),
            run.host
        ],
    )?;
    Ok(())
}

/// The `(num, text)` columns of a param value (see the schema in the crate docs).
pub fn param_columns(value: &Value) -> (Option<f64>, Option<String>) {
    match value {
        Value::Null => (None, None),
        Value::Bool(b) => (None, Some(b.to_string())),
        Value::Number(n) => (n.as_f64(), Some(n.to_string())),
        Value::String(s) => {
            let num = s.trim().parse::<f64>().ok().filter(|f| f.is_finite());
            (num, Some(s.clone()))
        }
        other => (None, Some(other.to_string())),
    }
}

/// Removes a run from the catalog; whether it was there.
fn delete_run(tx: &Transaction<'_>, id: &str) -> rusqlite::Result<bool> {
    if let Some(rid) = tx
        .query_row("SELECT rid FROM runs WHERE id = ?1", [id], |r| {
            r.get::<_, i64>(0)
        })
        .optional()?
    {
        for table in ["tags", "params", "metrics"] {
            tx.execute(&format!("DELETE FROM {table} WHERE rid = ?1"), [rid])?;
        }
        tx.execute("DELETE FROM runs WHERE rid = ?1", [rid])?;
    }
    tx.execute("DELETE FROM envelopes WHERE id = ?1", [id])?;
    Ok(tx.execute("DELETE FROM file_state WHERE id = ?1", [id])? > 0)
}

/// Re-checks every run whose file says `running`: a gone process makes it `crashed` in the
/// catalog; a live one gets its duration brought up to now.
fn mark_crashed(
    tx: &Transaction<'_>,
    project: &Project,
    processes: &dyn Machine,
    stale_after: Duration,
) -> rusqlite::Result<usize> {
    /// id, pid, pid_start_ticks, host, started
    type RunningRow = (
        String,
        Option<u32>,
        Option<i64>,
        Option<String>,
        Option<String>,
    );
    let running: Vec<RunningRow> = {
        let mut stmt = tx.prepare(
            "SELECT f.id, f.pid, f.pid_start_ticks, f.host, r.started FROM file_state f JOIN runs r ON r.id = f.id
             WHERE f.raw_status = 'running'",
        )?;
        stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?
    };
    let mut crashed = 0;
    for (id, pid, ticks, host, started) in running {
        let Some(run_id) = RunId::parse(&id) else {
            continue;
        };
        let heartbeat = [
            project.run_json_path(&run_id),
            project.metrics_path(&run_id),
            project.system_path(&run_id),
        ]
        .iter()
        .filter_map(|p| stamp(p).map(|(_, t)| t))
        .max();
        let record = ProcessRecord {
            pid,
            pid_start_ticks: ticks.map(|t| t as u64),
            host: host.as_deref(),
            heartbeat,
        };
        if is_gone(&record, processes, stale_after) {
            let prev: String =
                tx.query_row("SELECT status FROM runs WHERE id = ?1", [&id], |r| r.get(0))?;
            if prev != Status::Crashed.as_str() {
                crashed += 1;
            }
            tx.execute(
                "UPDATE runs SET status = 'crashed', duration = NULL WHERE id = ?1",
                [&id],
            )?;
        } else if let Some(started) =
            started.and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok())
        {
            let secs = (now_utc() - started.with_timezone(&chrono::Utc)).num_milliseconds() as f64
                / 1000.0;
            tx.execute(
                "UPDATE runs SET status = 'running', duration = ?2 WHERE id = ?1",
                params![id, secs],
            )?;
        }
    }
    Ok(crashed)
}
