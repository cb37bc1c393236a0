//! Which runs already carry a name, for the warning of `ox run -n NAME`. Without writing the
//! catalog: the supervisor of a compute job never does.

use std::collections::HashSet;

use ox_core::{Project, RunId};
use rusqlite::{Connection, OpenFlags};

/// Runs of `study` named `name`, sorted by id. Names of runs the catalog already holds come
/// from it; only run directories it does not know yet (or every one, without a usable
/// catalog) have their run.json read. Runs whose directory is gone are not reported;
/// unreadable run.json files are skipped.
pub fn runs_named(project: &Project, study: &str, name: &str) -> Vec<RunId> {
    let indexed = indexed_names(project, study, name);
    let Ok(entries) = std::fs::read_dir(project.runs_dir()) else {
        return Vec::new();
    };
    let mut found: Vec<RunId> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str().and_then(RunId::parse))
        .filter(|id| match &indexed {
            Some(ix) if ix.all.contains(id.as_str()) => ix.named.contains(id.as_str()),
            _ => project
                .read_run(id)
                .is_ok_and(|r| r.study == study && r.name.as_deref() == Some(name)),
        })
        .collect();
    found.sort();
    found
}

/// What the catalog knows: every run id, and the ids of runs of `study` named `name`.
struct Indexed {
    all: HashSet<String>,
    named: HashSet<String>,
}

/// The catalog's answer, or `None` when there is no catalog or it cannot be read (an old
/// schema, a corrupt file): the caller then reads the run files.
fn indexed_names(project: &Project, study: &str, name: &str) -> Option<Indexed> {
    let db = project.db_path();
    if !db.is_file() {
        return None;
    }
    let conn = Connection::open_with_flags(
        &db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ok()?;
    let ids = |sql: &str, binds: &[&str]| -> Option<HashSet<String>> {
        let mut stmt = conn.prepare(sql).ok()?;
        stmt.query_map(rusqlite::params_from_iter(binds), |r| r.get(0))
            .ok()?
            .collect::<rusqlite::Result<HashSet<String>>>()
            .ok()
    };
    Some(Indexed {
        all: ids("SELECT id FROM runs", &[])?,
        named: ids(
            "SELECT id FROM runs WHERE study = ?1 AND name = ?2",
            &[study, name],
        )?,
    })
}
