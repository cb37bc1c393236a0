//! The JSON API (documented in `docs/api.md`): runs, one run, its log and files, series,
//! studies (with their reports) and sweeps.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

use ox_core::{RunId, shell};
use ox_store::{RunJson, StoreError};
use serde::Serialize;

use crate::files::{self, FileError};
use crate::http::{Reply, Request, Worker};
use crate::run_objects::RunsError;
use crate::series::{Cursor, Source, Window, XAxis};

/// Bytes of `stdout.log` sent when the page asks for the tail.
const LOG_TAIL_BYTES: u64 = 64 * 1024;
/// Most files listed for a run.
const MAX_FILES: usize = 1000;
/// Most runs in one series request, and most points per series.
const MAX_SERIES_RUNS: usize = 500;
const MAX_POINTS: usize = 20_000;

fn to_json(value: &impl Serialize) -> Reply {
    match serde_json::to_vec(value) {
        Ok(body) => Reply::json(body),
        Err(e) => Reply::error(500, format!("cannot encode the answer: {e}")),
    }
}

/// A catalog error as a reply: a bad query is 400 with the caret message, an unknown run 404.
fn store_reply(e: StoreError, query: &str) -> Reply {
    match e {
        StoreError::Query(q) => Reply::error_json(
            400,
            serde_json::json!({
                "error": q.message,
                "caret": q.render(query),
                "hint": q.hint,
                "span": {"start": q.span.start, "end": q.span.end},
            }),
        ),
        StoreError::NoSuchRun {
            ref suggestions, ..
        } => Reply::error_json(
            404,
            serde_json::json!({"error": e.to_string(), "suggestions": suggestions}),
        ),
        // The reference's fault, not the server's.
        StoreError::AmbiguousRun { .. } | StoreError::PrefixTooShort { .. } => {
            Reply::error(400, e.to_string())
        }
        e => Reply::error(500, e.to_string()),
    }
}

/// `GET /api/runs?q=QUERY`: the runs the query selects, as `ox ls --format json` prints them.
pub(crate) fn runs(state: &mut Worker<'_>, req: &Request) -> Reply {
    let q = req.param("q").unwrap_or("");
    let shared = state.shared;
    let catalog = match state.catalog() {
        Ok(c) => c,
        Err(e) => return store_reply(e, q),
    };
    match shared.run_objects.answer(catalog, q) {
        Ok(body) => Reply::json(body),
        Err(RunsError::Store(e)) => store_reply(e, q),
        Err(e) => Reply::error(500, e.to_string()),
    }
}

/// `GET /api/changes`: the catalog's fingerprint (runs per status, latest row write), after
/// a refresh; a page polls it and reloads only when it changed.
pub(crate) fn changes(state: &mut Worker<'_>) -> Reply {
    let catalog = match state.catalog() {
        Ok(c) => c,
        Err(e) => return store_reply(e, ""),
    };
    match catalog.fingerprint() {
        Ok(fp) => to_json(&fp),
        Err(e) => store_reply(e, ""),
    }
}

#[derive(Serialize)]
struct RunDetail<'a> {
    run: RunJson<'a>,
    /// Files in the run's directory (`stdout.log`, `artifacts/...`), with sizes.
    files: Vec<FileEntry>,
    /// A shell line that runs the same command again.
    reproduce: Option<String>,
    /// The run's notes (`notes` in run.json), if any.
    notes: Option<String>,
    /// Metrics in `metrics/<id>_system.jsonl` (CPU, RSS, GPU).
    system_metrics: Vec<String>,
}

#[derive(Serialize)]
struct FileEntry {
    path: String,
    bytes: u64,
}

/// `GET /api/runs/{id}`: one run (an id, a unique id prefix or a name).
pub(crate) fn run(state: &mut Worker<'_>, reference: &str) -> Reply {
    let catalog = match state.catalog() {
        Ok(c) => c,
        Err(e) => return store_reply(e, ""),
    };
    let view = match catalog.run(reference) {
        Ok(v) => v,
        Err(e) => return store_reply(e, ""),
    };
    let project = catalog.project();
    let run_dir = project.run_dir(&view.run.id);
    let files = files::list_files(&run_dir, MAX_FILES)
        .into_iter()
        .filter(|(p, _)| p != "run.json")
        .map(|(path, bytes)| FileEntry { path, bytes })
        .collect();
    let notes = match view.run.extra.get("notes") {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    let system_metrics = system_metric_names(&project.system_path(&view.run.id));
    let detail = RunDetail {
        reproduce: reproduce(&view.run),
        run: RunJson::from(&view),
        files,
        notes,
        system_metrics,
    };
    to_json(&detail)
}

/// The measurements a system file holds (CPU, RSS, processes; GPU when sampled), in the
/// order of `ox_core::SystemSample::values`.
fn system_metric_names(path: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for sample in ox_core::read_system(path).unwrap_or_default() {
        for (k, _) in sample.values() {
            if !names.iter().any(|n| n == k) {
                names.push(k.to_string());
            }
        }
    }
    names
}

/// `cd DIR && git checkout COMMIT && CMD`, quoted for a POSIX shell.
fn reproduce(run: &ox_core::Run) -> Option<String> {
    if run.command.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if let Some(cwd) = &run.cwd {
        parts.push(format!("cd {}", shell::quote(cwd)));
    }
    if let Some(commit) = run.git.as_ref().and_then(|g| g.commit.as_ref()) {
        parts.push(format!("git checkout {}", shell::quote(commit)));
    }
    let mut cmd = vec![
        "ox".to_string(),
        "run".into(),
        "-s".into(),
        run.study.clone(),
    ];
    if let Some(name) = &run.name {
        cmd.extend(["-n".into(), name.clone()]);
    }
    cmd.push("--".into());
    cmd.extend(run.command.iter().cloned());
    parts.push(shell::join(&cmd));
    Some(parts.join(" && "))
}

fn resolve(state: &mut Worker<'_>, reference: &str) -> Result<RunId, Reply> {
    let catalog = state.catalog().map_err(|e| store_reply(e, ""))?;
    catalog.resolve(reference).map_err(|e| store_reply(e, ""))
}

#[derive(Serialize)]
struct LogChunk {
    /// Byte offset of `text` in the file.
    start: u64,
    /// Where the next request should start (`?offset=`).
    offset: u64,
    text: String,
}

/// `GET /api/runs/{id}/log[?offset=N]`: `stdout.log` from byte N (or its last 64 KiB).
pub(crate) fn log(state: &mut Worker<'_>, reference: &str, req: &Request) -> Reply {
    let id = match resolve(state, reference) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let offset = match req.param("offset").map(str::parse::<u64>) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return Reply::error(400, "offset must be a byte count (?offset=0)"),
    };
    let path = state.shared.project.stdout_log_path(&id);
    let Ok(mut file) = std::fs::File::open(&path) else {
        return to_json(&LogChunk {
            start: 0,
            offset: 0,
            text: String::new(),
        });
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = offset
        .unwrap_or(len.saturating_sub(LOG_TAIL_BYTES))
        .min(len);
    // Never more than the tail size per answer; the page asks again.
    let end = len.min(start + LOG_TAIL_BYTES);
    let mut bytes = Vec::new();
    let read = file
        .seek(SeekFrom::Start(start))
        .and_then(|_| file.take(end - start).read_to_end(&mut bytes));
    if let Err(e) = read {
        return Reply::error(500, format!("reading {}: {e}", path.display()));
    }
    to_json(&LogChunk {
        start,
        offset: start + bytes.len() as u64,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// `GET /api/runs/{id}/files/PATH`: a file of the run, as a download.
pub(crate) fn file(state: &mut Worker<'_>, reference: &str, relative: &str) -> Reply {
    let id = match resolve(state, reference) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let run_dir = state.shared.project.run_dir(&id);
    let path = match files::confined_path(&run_dir, relative) {
        Ok(p) => p,
        Err(e @ FileError::NotFound(_)) => return Reply::error(404, e.to_string()),
        Err(e) => return Reply::error(403, e.to_string()),
    };
    match fs_err::read(&path) {
        Ok(body) => Reply::download(&path, body),
        Err(e) => Reply::error(500, e.to_string()),
    }
}

#[derive(Serialize)]
struct SeriesAnswer<'a> {
    metric: &'a str,
    x: &'static str,
    series: Vec<RunSeries<'a>>,
}

#[derive(Serialize)]
struct RunSeries<'a> {
    run: String,
    name: Option<String>,
    #[serde(flatten)]
    series: &'a crate::Series,
}

/// `GET /api/series?runs=ID,ID&metric=M&points=N[&x=step|time][&source=metrics|system]
/// [&cursors=C,C][&from=X&to=X]`.
pub(crate) fn series(state: &mut Worker<'_>, req: &Request) -> Reply {
    let Some(metric) = req.param("metric").filter(|m| !m.is_empty()) else {
        return Reply::error(400, "metric is required (?metric=loss)");
    };
    let refs: Vec<&str> = req
        .param("runs")
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .collect();
    if refs.is_empty() {
        return Reply::error(400, "runs is required (?runs=ID,ID)");
    }
    if refs.len() > MAX_SERIES_RUNS {
        return Reply::error(400, format!("at most {MAX_SERIES_RUNS} runs per request"));
    }
    let points = match req.param("points").map(str::parse::<usize>) {
        None => 1000,
        Some(Ok(n)) if (2..=MAX_POINTS).contains(&n) => n,
        _ => return Reply::error(400, format!("points must be 2 to {MAX_POINTS}")),
    };
    let (x, x_name) = match req.param("x").unwrap_or("step") {
        "step" => (XAxis::Step, "step"),
        "time" => (XAxis::Time, "time"),
        other => return Reply::error(400, format!("x must be step or time, not {other:?}")),
    };
    let source = match req.param("source").unwrap_or("metrics") {
        "metrics" => Source::Metrics,
        "system" => Source::System,
        other => {
            return Reply::error(
                400,
                format!("source must be metrics or system, not {other:?}"),
            );
        }
    };
    // `from=X&to=X`: a zoom, in x units.
    let range = match (req.param("from"), req.param("to")) {
        (None, None) => None,
        (Some(a), Some(b)) => match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(a), Ok(b)) if a.is_finite() && b.is_finite() && a < b => Some((a, b)),
            _ => {
                return Reply::error(
                    400,
                    "from and to must be numbers in x units with from < to (?from=100&to=200)",
                );
            }
        },
        _ => return Reply::error(400, "from and to go together (?from=100&to=200)"),
    };
    let window = Window { points, range };
    // `cursors=C,C`: one per run, from an earlier answer; only the points added since.
    let cursors: Option<Vec<Cursor>> = match req.param("cursors") {
        None => None,
        Some(text) => {
            let parsed: Option<Vec<Cursor>> = text.split(',').map(Cursor::parse).collect();
            match parsed {
                Some(c) if c.len() == refs.len() => Some(c),
                Some(_) => {
                    return Reply::error(
                        400,
                        "cursors needs one cursor per run, in the order of runs",
                    );
                }
                None => {
                    return Reply::error(
                        400,
                        "a cursor is OFFSET:STEP, as an earlier answer gave it (\"cursor\")",
                    );
                }
            }
        }
    };
    let catalog = match state.catalog() {
        Ok(c) => c,
        Err(e) => return store_reply(e, ""),
    };
    let mut runs = Vec::with_capacity(refs.len());
    for r in refs {
        match catalog.resolve(r) {
            Ok(id) => runs.push(id),
            Err(e) => return store_reply(e, ""),
        }
    }
    // The names as the refresh just read them (no run.json read per run and request).
    let names = match catalog.names(&runs) {
        Ok(n) => n,
        Err(e) => return store_reply(e, ""),
    };
    // Long series come from the envelopes the catalog stored while reading the files (no
    // second pass over them); short ones, system metrics and what an envelope cannot stand
    // in for are read from the files.
    let mut loaded: Vec<Option<Arc<crate::Series>>> = runs
        .iter()
        .map(|id| {
            if source == Source::System || cursors.is_some() {
                return None;
            }
            let env = catalog.envelope(id, metric).ok().flatten()?;
            let (offset, last_step) = catalog.metrics_read_position(id).ok().flatten()?;
            let cursor = Cursor { offset, last_step };
            crate::series::from_envelope(&env, x, window, cursor).map(Arc::new)
        })
        .collect();
    let project = &state.shared.project;
    let missing: Vec<(usize, std::path::PathBuf, Option<Cursor>)> = runs
        .iter()
        .enumerate()
        .filter(|(i, _)| loaded[*i].is_none())
        .map(|(i, id)| {
            let path = match source {
                Source::System => project.system_path(id),
                Source::Metrics => project.metrics_path(id),
            };
            (i, path, cursors.as_ref().map(|c| c[i]))
        })
        .collect();
    let cache = &state.shared.series;
    if !missing.is_empty() {
        // Reading long files is the cost: spread the runs over the cores.
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .min(missing.len());
        let chunk = missing.len().div_ceil(threads.max(1)).max(1);
        let read: Vec<(usize, Arc<crate::Series>)> = std::thread::scope(|s| {
            let handles: Vec<_> = missing
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|(i, p, from)| {
                                let series = match from {
                                    Some(from) => Arc::new(crate::series::read_series_from(
                                        p, source, metric, x, window, *from,
                                    )),
                                    None => cache.get(p, source, metric, x, window),
                                };
                                (*i, series)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        for (i, series) in read {
            loaded[i] = Some(series);
        }
    }
    let empty = Arc::new(crate::Series::default());
    let loaded: Vec<Arc<crate::Series>> = loaded
        .into_iter()
        .map(|s| s.unwrap_or_else(|| Arc::clone(&empty)))
        .collect();
    let series = runs
        .iter()
        .zip(&loaded)
        .map(|(id, series)| RunSeries {
            run: id.to_string(),
            name: names.get(id.as_str()).cloned(),
            series,
        })
        .collect();
    to_json(&SeriesAnswer {
        metric,
        x: x_name,
        series,
    })
}

#[derive(Serialize, Default)]
struct Group {
    name: String,
    runs: u64,
    /// Runs per status.
    status: BTreeMap<String, u64>,
}

/// A study: its counts and its latest `ox report`.
#[derive(Serialize)]
struct Study {
    #[serde(flatten)]
    group: Group,
    /// `reports/<slug>/report.html` when `ox report -s STUDY` has written it.
    report: Option<crate::reports::ReportRef>,
}

#[derive(Serialize)]
struct StudiesAnswer {
    studies: Vec<Study>,
    sweeps: Vec<Group>,
}

/// `GET /api/studies`: each study and each sweep with its run counts per status, and each
/// study's report.
pub(crate) fn studies(state: &mut Worker<'_>) -> Reply {
    let catalog = match state.catalog() {
        Ok(c) => c,
        Err(e) => return store_reply(e, ""),
    };
    let conn = catalog.connection();
    let count = |sql: &str| -> rusqlite::Result<Vec<Group>> {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })?;
        let mut groups: Vec<Group> = Vec::new();
        for row in rows {
            let (name, status, n) = row?;
            let n = u64::try_from(n).unwrap_or(0);
            if groups.last().is_none_or(|g| g.name != name) {
                groups.push(Group {
                    name,
                    ..Group::default()
                });
            }
            if let Some(g) = groups.last_mut() {
                g.runs += n;
                g.status.insert(status, n);
            }
        }
        Ok(groups)
    };
    let studies = count(
        "SELECT study, status, count(*) FROM runs GROUP BY study, status ORDER BY study, status",
    );
    let sweeps = count(
        "SELECT CAST(json_extract(json, '$.sweep') AS TEXT) AS s, status, count(*) FROM runs \
         WHERE s IS NOT NULL GROUP BY s, status ORDER BY s, status",
    );
    match (studies, sweeps) {
        (Ok(studies), Ok(sweeps)) => {
            let project = catalog.project();
            let studies = studies
                .into_iter()
                .map(|group| Study {
                    report: crate::reports::report_of(project, &group.name),
                    group,
                })
                .collect();
            to_json(&StudiesAnswer { studies, sweeps })
        }
        (Err(e), _) | (_, Err(e)) => Reply::error(500, e.to_string()),
    }
}

/// `GET /api/stats?q=QUERY&metric=M[:SUMMARY][&group_by=K,K][&mode=min|max]`: the
/// `ox stats --where QUERY --metric M --format json` object (with run diagnostics).
pub(crate) fn stats(state: &mut Worker<'_>, req: &Request) -> Reply {
    use ox_analysis::runs::MetricSpec;
    use ox_analysis::{Direction, RunInput, StatsRequest, stats_for_runs};

    let q = req.param("q").unwrap_or("");
    let Some(spec) = req.param("metric").filter(|m| !m.is_empty()) else {
        return Reply::error(400, "metric is required (?metric=loss or ?metric=acc:max)");
    };
    let direction = match req.param("mode").filter(|m| !m.is_empty()) {
        None => None,
        Some(m) => match Direction::parse(m) {
            Some(d) => Some(d),
            None => return Reply::error(400, format!("mode must be min or max, not {m:?}")),
        },
    };
    let group_by: Vec<String> = req
        .param("group_by")
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let catalog = match state.catalog() {
        Ok(c) => c,
        Err(e) => return store_reply(e, q),
    };
    let compiled = match catalog.compile_query(q) {
        Ok(c) => c,
        Err(e) => return store_reply(e, q),
    };
    let views = match catalog.query_compiled(&compiled) {
        Ok(v) => v,
        Err(e) => return store_reply(e, q),
    };
    // As in `ox stats --where`: a status condition in the query lets any status count.
    let status_chosen = compiled
        .fields
        .contains(&ox_query::Field::Run(ox_query::RunField::Status));
    let inputs: Vec<RunInput> = views
        .iter()
        .map(|v| RunInput {
            run: &v.run,
            duration_s: v.duration_s,
            metrics: &v.metrics,
        })
        .collect();
    let request = StatsRequest {
        metric: MetricSpec::parse(spec),
        direction,
        status_chosen,
        confidence: 0.95,
        alpha: 0.05,
        group_by: (!group_by.is_empty()).then_some(group_by),
        seed_like: Vec::new(),
        bootstrap: None,
        diminishing_tolerance: 0.01,
    };
    let mut stats = match stats_for_runs(&inputs, &request) {
        Ok(s) => s,
        Err(e) => return Reply::error(400, e.to_string()),
    };
    let ids: BTreeMap<String, &RunId> = views
        .iter()
        .map(|v| (v.run.id.to_string(), &v.run.id))
        .collect();
    for id in stats.runs_to_diagnose() {
        let Some(run_id) = ids.get(id.as_str()) else {
            continue;
        };
        let path = catalog.project().metrics_path(run_id);
        if let Ok(file) = ox_core::MetricsFileReader::read_series(&path)
            && let Some((_, points)) = file.series.iter().find(|(n, _)| *n == stats.metric)
        {
            stats.add_series(&id, points);
        }
    }
    to_json(&stats.to_json())
}
