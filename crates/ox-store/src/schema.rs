//! The catalog schema and its numbered migrations (`PRAGMA user_version`).
//!
//! The catalog is a cache: a database written by a newer ox, or one that fails to open, is
//! rebuilt from the files rather than repaired.

use rusqlite::Connection;

/// Migrations in order; `user_version` is the number applied so far.
pub const MIGRATIONS: &[&str] = &[
    // 1: runs, tags, params, metrics, and the per-run file state for incremental refresh.
    r#"
CREATE TABLE runs (
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  name TEXT,
  study TEXT NOT NULL,
  status TEXT NOT NULL,
  created TEXT NOT NULL,
  started TEXT,
  ended TEXT,
  duration REAL,
  exit_code INTEGER,
  host TEXT,
  source_key TEXT,
  json TEXT NOT NULL
);
CREATE INDEX runs_study_name ON runs(study, name);
CREATE INDEX runs_name ON runs(name);
CREATE INDEX runs_source_key ON runs(source_key);
CREATE TABLE tags (rid INTEGER NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (rid, tag)) WITHOUT ROWID;
CREATE INDEX tags_tag ON tags(tag);
CREATE TABLE params (rid INTEGER NOT NULL, key TEXT NOT NULL, num REAL, text TEXT,
  PRIMARY KEY (rid, key)) WITHOUT ROWID;
CREATE INDEX params_key_num ON params(key, num);
CREATE INDEX params_key_text ON params(key, text);
CREATE TABLE metrics (rid INTEGER NOT NULL, key TEXT NOT NULL, first REAL, last REAL, min REAL,
  max REAL, mean REAL, count INTEGER NOT NULL, last_step INTEGER, PRIMARY KEY (rid, key)) WITHOUT ROWID;
CREATE INDEX metrics_key_last ON metrics(key, last);
-- What the catalog has read of each run's files, so a refresh reads only what changed.
CREATE TABLE file_state (
  id TEXT PRIMARY KEY,
  json_size INTEGER, json_mtime_ns INTEGER,
  metrics_size INTEGER, metrics_mtime_ns INTEGER,
  metrics_offset INTEGER NOT NULL DEFAULT 0,
  metrics_state TEXT,
  raw_status TEXT NOT NULL,
  pid INTEGER, pid_start_ticks INTEGER, host TEXT
) WITHOUT ROWID;
"#,
    // 2: small key/value facts about the catalog itself (e.g. the runs/ directory stamp).
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;",
    // 3: the refresh's look-up of unfinished runs and the default listing order, without
    // scanning 100k rows.
    "CREATE INDEX file_state_unfinished ON file_state(raw_status) WHERE raw_status IN ('queued', 'running');
     CREATE INDEX runs_created ON runs(created, id);",
    // 4: times are now stored with a fixed width (microseconds), so text order is time
    // order; the cache is emptied and rebuilt from the files on this open.
    "DELETE FROM tags; DELETE FROM params; DELETE FROM metrics; DELETE FROM runs;
     DELETE FROM file_state; DELETE FROM meta;",
    // 5: a metric whose first or last value was NaN vanished after a resumed read (the
    // stored state wrote NaN as null, read back as "no point yet"). Forget the file state of
    // those runs and the runs/ stamp, so the next refresh reads them again from the start.
    r#"DELETE FROM file_state
       WHERE metrics_state LIKE '%"first":null%' OR metrics_state LIKE '%"last":null%';
     DELETE FROM meta WHERE key = 'runs_dir_stamp';"#,
    // 6: run directories that cannot be read (run.json missing or unparsable), so that every
    // refresh reports them again until they are fixed or removed.
    "CREATE TABLE IF NOT EXISTS broken_runs (id TEXT PRIMARY KEY, problem TEXT NOT NULL) WITHOUT ROWID;",
    // 7: min/max envelopes of long metric series (`ox_core::StepEnvelope` bytes), so a chart
    // of a long run is drawn without reading its file. Runs read before have none: forget
    // their file state so the next refresh reads them again from the start.
    "CREATE TABLE IF NOT EXISTS envelopes (id TEXT NOT NULL, key TEXT NOT NULL, bytes BLOB NOT NULL,
       PRIMARY KEY (id, key));
     DELETE FROM file_state; DELETE FROM meta WHERE key = 'runs_dir_stamp';",
    // 8: `runs.written`, the time (ns) of the refresh that last wrote the row, so a reader can
    // keep what it made of a run until the row changes (0 until then).
    "ALTER TABLE runs ADD COLUMN written INTEGER NOT NULL DEFAULT 0;",
];

/// Errors of opening or migrating the catalog database.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<MigrateOutcome> {
    let version: usize =
        conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))? as usize;
    if version > MIGRATIONS.len() {
        return Ok(MigrateOutcome::TooNew);
    }
    let tx = conn.transaction()?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    tx.commit()?;
    Ok(MigrateOutcome::Ready)
}

/// Result of [`migrate`].
#[derive(Debug, PartialEq, Eq)]
pub enum MigrateOutcome {
    /// The schema is current.
    Ready,
    /// The database was written by a newer ox; it must be rebuilt.
    TooNew,
}

/// Secondary indexes of the tables a refresh writes most (name, definition). A large
/// refresh drops them and builds them again afterwards: one sorted bulk build is far
/// cheaper than millions of random insertions into them.
pub const BULK_INDEXES: &[(&str, &str)] = &[
    (
        "params_key_num",
        "CREATE INDEX params_key_num ON params(key, num)",
    ),
    (
        "params_key_text",
        "CREATE INDEX params_key_text ON params(key, text)",
    ),
    (
        "metrics_key_last",
        "CREATE INDEX metrics_key_last ON metrics(key, last)",
    ),
    ("tags_tag", "CREATE INDEX tags_tag ON tags(tag)"),
];
