//! Catalog of runs: the SQLite cache (`.ox/ox.db`) derived from the files under `.ox/`,
//! refreshed incrementally.
//!
//! The files are the truth. Deleting `ox.db` loses nothing: [`Catalog::open`] rebuilds it.
//! Every read command opens the catalog, which re-reads only files whose size or
//! modification time changed (appended metrics files are resumed from the last offset).
//!
//! Schema (a contract for `ox-query`, which generates SQL against it; runs are aliased `r`):
//! - `runs(rid, id, name, study, status, created, started, ended, duration, exit_code, host,
//!   source_key, json, written)`: `status` is the effective status (a `running` run whose
//!   process is gone reads `crashed`); `written` is the time (ns) of the refresh that last
//!   wrote the row; times are RFC 3339 UTC strings of fixed width
//!   (`2026-11-23T10:00:00.000000Z`, so text order is time order); `duration` is in seconds; `json`
//!   is the run.json object with declared params merged in.
//! - `tags(rid, tag)`.
//! - `params(rid, key, num, text)`: `key` is the dotted path; `num` the numeric value
//!   (numbers and numeric strings); `text` strings as-is, numbers as text, booleans
//!   `true`/`false`, arrays as JSON; a null param has both NULL.
//! - `metrics(rid, key, first, last, min, max, mean, count, last_step)`; NaN is stored NULL.
//! - `envelopes(id, key, bytes)`: the [`ox_core::StepEnvelope`] of each metric series longer
//!   than [`ENVELOPE_MIN_POINTS`], built during the same read (see [`Catalog::envelope`]).

mod json;
mod liveness;
mod location;
mod names;
mod query;
mod read;
mod refresh;
mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ox_core::{CoreError, MetricSummary, Project, Run, RunId};
use rusqlite::Connection;

pub use json::{MetricJson, RunJson};
pub use liveness::{LocalProcesses, Machine, ProcessRecord};
pub use names::runs_named;
pub use query::{CatalogFingerprint, RunStamp};
pub use read::{FieldValue, RunFilter, SortKey};
pub use refresh::{ENVELOPE_MIN_POINTS, RefreshReport, param_columns};

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
    #[error("{reference:?} matches {total} runs: {}{}", candidates.join(", "), if *total > candidates.len() { ", …" } else { "" })]
    AmbiguousRun {
        reference: String,
        /// How many runs match.
        total: usize,
        /// The first few, as `id (study/name)`.
        candidates: Vec<String>,
        /// Every match has the same study and name: only the id tells them apart.
        same_study_and_name: bool,
    },
    /// An id prefix shorter than [`MIN_ID_PREFIX`] characters.
    #[error(
        "{reference:?} is too short for an id prefix ({MIN_ID_PREFIX} characters at least); {matches} run ids start with it"
    )]
    PrefixTooShort { reference: String, matches: usize },
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

impl StoreError {
    /// Whether this error means the catalog database itself is damaged or not a catalog (not
    /// the user's doing): then deleting it and rebuilding from the files is the remedy.
    pub fn is_damaged_catalog(&self) -> bool {
        matches!(self, StoreError::Sqlite { source, .. } if location::is_damage(source))
            || matches!(self, StoreError::CorruptEntry { .. })
    }
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

/// The fewest characters of an id that `resolve` takes as a prefix.
pub const MIN_ID_PREFIX: usize = 4;

/// An open, refreshed catalog.
pub struct Catalog {
    conn: Connection,
    project: Project,
    processes: Box<dyn Machine>,
    stale_after: Duration,
    last_refresh: RefreshReport,
    progress: ProgressFn,
    location: location::Location,
    healed: Option<String>,
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
        processes: Box<dyn Machine>,
        stale_after: Duration,
    ) -> Result<Catalog, StoreError> {
        Self::build(project, processes, stale_after, Box::new(|_, _| {}))
    }

    /// Opens the catalog anew from the files, whatever was there before (`ox reindex`): the
    /// old catalog is never opened, so no damage in it can stand in the way.
    pub fn rebuild(project: &Project, progress: ProgressFn) -> Result<Catalog, StoreError> {
        let mut catalog = Self::connect(
            project,
            Box::new(LocalProcesses::new()),
            DEFAULT_STALE_AFTER,
            progress,
            true,
        )?;
        catalog.refresh_scope(refresh::Scope::All)?;
        Ok(catalog)
    }

    fn build(
        project: &Project,
        processes: Box<dyn Machine>,
        stale_after: Duration,
        progress: ProgressFn,
    ) -> Result<Catalog, StoreError> {
        let mut catalog = Self::connect(project, processes, stale_after, progress, false)?;
        match catalog.refresh() {
            Ok(_) => Ok(catalog),
            // A catalog that opened but fails while being read (damaged pages, tables of
            // another shape) is rebuilt from the files like one that does not open.
            Err(StoreError::Sqlite { source, .. }) if location::is_damage(&source) => {
                let Catalog {
                    conn,
                    project,
                    processes,
                    stale_after,
                    progress,
                    ..
                } = catalog;
                drop(conn);
                let mut catalog = Self::connect(&project, processes, stale_after, progress, true)?;
                catalog.healed = Some(format!(
                    "the catalog {} was unusable ({source}); rebuilt it from the run files",
                    catalog.location
                ));
                catalog.refresh()?;
                Ok(catalog)
            }
            Err(e) => Err(e),
        }
    }

    /// Opens the catalog's database where this project keeps it (see [`location`]); with
    /// `fresh`, or when the database there cannot be used, an empty one replaces it.
    fn connect(
        project: &Project,
        processes: Box<dyn Machine>,
        stale_after: Duration,
        progress: ProgressFn,
        fresh: bool,
    ) -> Result<Catalog, StoreError> {
        let (location, moved) = location::choose(project);
        let (conn, healed) = location.open(project, fresh)?;
        Ok(Catalog {
            conn,
            project: project.clone(),
            processes,
            stale_after,
            last_refresh: RefreshReport::default(),
            progress,
            location,
            healed: moved.or(healed),
        })
    }

    /// Re-reads what may have changed since the last refresh (see `refresh::Scope::Changed`):
    /// new and removed runs, and the files of runs not yet finished.
    pub fn refresh(&mut self) -> Result<RefreshReport, StoreError> {
        self.refresh_scope(refresh::Scope::Changed)
    }

    /// Re-reads these runs' files whatever their stamps say (for writers that replaced the
    /// files of finished runs, such as a re-import, and `ox reindex RUN` after a hand edit).
    pub fn refresh_runs(&mut self, ids: &[RunId]) -> Result<RefreshReport, StoreError> {
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

    /// Empties the open catalog and re-reads every file (see [`Catalog::rebuild`] for one
    /// that does not trust the old database at all).
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

    /// Where the catalog's database is (`.ox/ox.db`, a file in the user's cache directory
    /// for a project this user cannot write, or memory).
    pub fn location(&self) -> String {
        self.location.to_string()
    }

    /// The one warning to show when this open found the catalog unusable and rebuilt it (or
    /// had to keep it elsewhere), else `None`.
    pub fn healed(&self) -> Option<&str> {
        self.healed.as_deref()
    }

    /// A run directory named by `reference` (its id or an id prefix matching one) that the
    /// catalog leaves out because it cannot be read: its id, the problem, and its other files.
    pub fn broken_run(
        &self,
        reference: &str,
    ) -> Result<Option<(RunId, String, Vec<String>)>, StoreError> {
        let db = self.project.db_path();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, problem FROM broken_runs WHERE substr(id, 1, length(?1)) = ?1 LIMIT 2",
            )
            .map_err(|e| sql_err(&db, e))?;
        let found: Vec<(String, String)> = stmt
            .query_map([reference], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| sql_err(&db, e))?
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| sql_err(&db, e))?;
        Ok(match found.as_slice() {
            [(id, problem)] => RunId::parse(id).map(|id| {
                let files = refresh::orphaned_files(&self.project, &id);
                (id, problem.clone(), files)
            }),
            _ => None,
        })
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
