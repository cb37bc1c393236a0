//! Catalog of runs: the SQLite cache (`.ox/ox.db`) derived from the files under `.ox/`,
//! refreshed incrementally.
//!
//! The files are the truth. Deleting `ox.db` loses nothing: [`Catalog::open`] rebuilds it.
//! Every read command opens the catalog, which re-reads only files whose size or
//! modification time changed (appended metrics files are resumed from the last offset).
//!
//! Schema (a contract for `ox-query`, which generates SQL against it; runs are aliased `r`):
//! - `runs(rid, id, name, study, status, created, started, ended, duration, exit_code, host,
//!   source_key, json)`: `status` is the effective status (a `running` run whose process is
//!   gone reads `crashed`); times are RFC 3339 UTC strings of fixed width
//!   (`2026-11-23T10:00:00.000000Z`, so text order is time order); `duration` is in seconds; `json`
//!   is the run.json object with declared params merged in.
//! - `tags(rid, tag)`.
//! - `params(rid, key, num, text)`: `key` is the dotted path; `num` the numeric value
//!   (numbers and numeric strings); `text` strings as-is, numbers as text, booleans
//!   `true`/`false`, arrays as JSON; a null param has both NULL.
//! - `metrics(rid, key, first, last, min, max, mean, count, last_step)`; NaN is stored NULL.

mod json;
mod liveness;
mod names;
mod query;
mod read;
mod refresh;
mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ox_core::{CoreError, MetricSummary, Project, Run};
use rusqlite::Connection;

pub use json::{MetricJson, RunJson};
pub use liveness::{LocalProcesses, ProcessRecord, ProcessTable, parse_start_ticks};
pub use names::runs_named;
pub use read::{FieldValue, RunFilter, SortKey, edit_distance};
pub use refresh::{RefreshReport, param_columns};

/// Errors of the catalog.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An SQLite error on the catalog file.
    #[error("catalog {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// Reading the project's files failed.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// No run matches the reference.
    #[error("no run matches {reference:?}")]
    NoSuchRun {
        reference: String,
        suggestions: Vec<String>,
    },
    /// Several runs match the reference.
    #[error("{reference:?} matches {} runs: {}", candidates.len(), candidates.join(", "))]
    AmbiguousRun {
        reference: String,
        candidates: Vec<String>,
    },
    /// A query (`--where`, `ox query`) does not parse or names unknown fields.
    #[error(transparent)]
    Query(#[from] ox_query::QueryError),
    /// A run in the catalog has a JSON column that no longer parses (a corrupt cache).
    #[error("catalog entry for run {id} is corrupt: {source}; run `ox reindex`")]
    CorruptEntry {
        id: String,
        #[source]
        source: serde_json::Error,
    },
}

pub(crate) fn sql_err(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

/// A run as commands show it: the record (params merged, effective status), its duration,
/// and the summary of each metric.
#[derive(Debug, Clone, PartialEq)]
pub struct RunView {
    pub run: Run,
    pub duration_s: Option<f64>,
    pub metrics: BTreeMap<String, MetricSummary>,
}

/// How long a `running` run on another host may go without any file changing before it
/// counts as crashed.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(600);

/// An open, refreshed catalog.
pub struct Catalog {
    conn: Connection,
    project: Project,
    processes: Box<dyn ProcessTable>,
    stale_after: Duration,
    last_refresh: RefreshReport,
    progress: ProgressFn,
}

/// Called during a large refresh with (runs read so far, runs to read).
pub type ProgressFn = Box<dyn FnMut(usize, usize)>;

impl Catalog {
    /// Opens (creating or rebuilding as needed) the catalog and refreshes it from the files.
    pub fn open(project: &Project) -> Result<Catalog, StoreError> {
        Self::open_with(
            project,
            Box::new(LocalProcesses::new()),
            DEFAULT_STALE_AFTER,
        )
    }

    /// [`Catalog::open`], reporting the progress of a large refresh (thousands of runs to
    /// read, e.g. the first open after `ox.db` was deleted).
    pub fn open_with_progress(
        project: &Project,
        progress: ProgressFn,
    ) -> Result<Catalog, StoreError> {
        Self::build(
            project,
            Box::new(LocalProcesses::new()),
            DEFAULT_STALE_AFTER,
            progress,
        )
    }

    /// [`Catalog::open`] with an injected process table and staleness limit (tests).
    pub fn open_with(
        project: &Project,
        processes: Box<dyn ProcessTable>,
        stale_after: Duration,
    ) -> Result<Catalog, StoreError> {
        Self::build(project, processes, stale_after, Box::new(|_, _| {}))
    }

    fn build(
        project: &Project,
        processes: Box<dyn ProcessTable>,
        stale_after: Duration,
        progress: ProgressFn,
    ) -> Result<Catalog, StoreError> {
        let db = project.db_path();
        let conn = match open_db(&db) {
            Ok(conn) => conn,
            Err(_) => {
                // The catalog is a cache: one that cannot be opened (corrupt, or from a newer
                // ox) is rebuilt from the files.
                remove_db_files(&db)?;
                open_db(&db).map_err(|e| sql_err(&db, e))?
            }
        };
        let mut catalog = Catalog {
            conn,
            project: project.clone(),
            processes,
            stale_after,
            last_refresh: RefreshReport::default(),
            progress,
        };
        catalog.refresh()?;
        Ok(catalog)
    }

    /// Re-reads what may have changed since the last refresh (see `refresh::Scope::Changed`):
    /// new and removed runs, and the files of runs not yet finished.
    pub fn refresh(&mut self) -> Result<RefreshReport, StoreError> {
        self.refresh_scope(refresh::Scope::Changed)
    }

    /// Re-reads these runs' files whatever their stamps say (for writers that replaced the
    /// files of finished runs, such as a re-import).
    pub fn refresh_runs(&mut self, ids: &[ox_core::RunId]) -> Result<RefreshReport, StoreError> {
        self.refresh_scope(refresh::Scope::Runs(ids))
    }

    fn refresh_scope(&mut self, scope: refresh::Scope<'_>) -> Result<RefreshReport, StoreError> {
        let report = refresh::refresh(
            &mut self.conn,
            &self.project,
            self.processes.as_ref(),
            self.stale_after,
            scope,
            &mut *self.progress,
        )?;
        self.last_refresh = report.clone();
        Ok(report)
    }

    /// Rebuilds the catalog from scratch, re-reading every file.
    pub fn reindex(&mut self) -> Result<RefreshReport, StoreError> {
        let db = self.project.db_path();
        self.conn
            .execute_batch(
                "DELETE FROM tags; DELETE FROM params; DELETE FROM metrics; DELETE FROM runs; DELETE FROM file_state; DELETE FROM meta;",
            )
            .map_err(|e| sql_err(&db, e))?;
        self.refresh_scope(refresh::Scope::All)
    }

    /// What the last refresh did (warnings included).
    pub fn last_refresh(&self) -> &RefreshReport {
        &self.last_refresh
    }

    /// The project this catalog belongs to.
    pub fn project(&self) -> &Project {
        &self.project
    }

    /// The SQLite connection, for running compiled queries.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

fn open_db(db: &Path) -> rusqlite::Result<Connection> {
    let mut conn = Connection::open(db)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // A larger page cache keeps the param/metric indexes in memory while a big refresh
    // inserts into them (negative = KiB).
    conn.pragma_update(None, "cache_size", -65536)?;
    // Reads through a memory map instead of one pread per page.
    conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
    match schema::migrate(&mut conn)? {
        schema::MigrateOutcome::Ready => Ok(conn),
        schema::MigrateOutcome::TooNew => Err(rusqlite::Error::InvalidQuery),
    }
}

fn remove_db_files(db: &Path) -> Result<(), StoreError> {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        match fs_err::remove_file(PathBuf::from(&name)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(StoreError::Core(CoreError::Io {
                    op: "remove",
                    path: PathBuf::from(name),
                    source: e,
                }));
            }
        }
    }
    Ok(())
}
