//! Where the catalog database lives, and what to do when it cannot be used.
//!
//! The catalog is a cache, so nothing about it may stand in the user's way:
//! - a project this user can write keeps it in `.ox/ox.db`;
//! - a project this user cannot write (a shared results directory, another user's project, a
//!   read-only mount) keeps it in the user's cache directory, one file per project path
//!   (`$XDG_CACHE_HOME/ox/catalogs/<hash>.db`), or in memory when there is none. Nothing in
//!   the project is written or deleted;
//! - a database that does not open or is damaged (not a database, malformed pages, a schema
//!   from a newer ox) is deleted and rebuilt; something else in its place (a directory) is
//!   left alone and the catalog kept in the cache directory instead.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ox_core::{CoreError, Project};
use rusqlite::{Connection, ErrorCode};

use crate::{StoreError, schema, sql_err};

/// The place of a catalog database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A database file: `.ox/ox.db` or the cache directory's file for this project.
    File(PathBuf),
    /// An in-memory database, rebuilt by every command.
    Memory,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File(p) => write!(f, "{}", p.display()),
            Location::Memory => f.write_str("in memory"),
        }
    }
}

/// The location for this project, and the warning to show when the usual place is taken by
/// something that is not a file.
pub fn choose(project: &Project) -> (Location, Option<String>) {
    let db = project.db_path();
    // Followed: a link to a database file elsewhere (local disk under an NFS project) is kept.
    let meta = std::fs::metadata(&db);
    let in_place = match &meta {
        Ok(m) if !m.is_file() => {
            let elsewhere = cache_location(project);
            let warning = format!(
                "{} is not a file, so the catalog is kept {} (move it away to keep the catalog in the project)",
                db.display(),
                match &elsewhere {
                    Location::File(p) => format!("in {}", p.display()),
                    Location::Memory => "in memory".to_string(),
                }
            );
            return (elsewhere, Some(warning));
        }
        Ok(_) => writable(&db) && writable(project.ox_dir()),
        Err(_) => writable(project.ox_dir()),
    };
    if in_place {
        (Location::File(db), None)
    } else {
        (cache_location(project), None)
    }
}

/// Whether this process may write `path` (the permission bits and ownership as the kernel
/// sees them; a read-only mount counts as not writable).
fn writable(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 }
}

/// `$XDG_CACHE_HOME/ox/catalogs/<hash of the .ox path>.db` (or `~/.cache/...`) when that
/// directory can be created, else memory.
fn cache_location(project: &Project) -> Location {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        });
    let Some(base) = base else {
        return Location::Memory;
    };
    let dir = base.join("ox").join("catalogs");
    if std::fs::create_dir_all(&dir).is_err() || !writable(&dir) {
        return Location::Memory;
    }
    let key = project.ox_dir().as_os_str().as_encoded_bytes();
    Location::File(dir.join(format!("{:016x}.db", ox_core::hash::fnv1a(key))))
}

/// Whether an SQLite error means the database itself is unusable (rather than busy, locked,
/// out of space or not permitted), so that rebuilding it is the remedy.
pub fn is_damage(e: &rusqlite::Error) -> bool {
    let code = match e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.code),
        rusqlite::Error::SqlInputError { error, .. } => Some(error.code),
        _ => None,
    };
    match e {
        rusqlite::Error::SqliteFailure(..) | rusqlite::Error::SqlInputError { .. } => matches!(
            code,
            Some(
                ErrorCode::DatabaseCorrupt
                    | ErrorCode::NotADatabase
                    | ErrorCode::Unknown
                    | ErrorCode::SchemaChanged
                    | ErrorCode::TypeMismatch
                    | ErrorCode::ConstraintViolation
                    | ErrorCode::CannotOpen
            )
        ),
        rusqlite::Error::InvalidQuery
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::InvalidColumnName(_)
        | rusqlite::Error::InvalidColumnIndex(_)
        | rusqlite::Error::QueryReturnedNoRows => true,
        _ => false,
    }
}

impl Location {
    /// Opens the database (migrated to the current schema). With `fresh`, or when the one
    /// there is damaged, it is deleted first; the second value is then the warning to show
    /// (none for `fresh`, which the user asked for).
    pub fn open(
        &self,
        project: &Project,
        fresh: bool,
    ) -> Result<(Connection, Option<String>), StoreError> {
        let path = match self {
            Location::Memory => {
                let conn =
                    Connection::open_in_memory().map_err(|e| sql_err(&project.db_path(), e))?;
                return Ok((
                    prepare(conn).map_err(|e| sql_err(&project.db_path(), e))?,
                    None,
                ));
            }
            Location::File(path) => path,
        };
        if fresh {
            remove_db_files(path)?;
        }
        match open_db(path) {
            Ok(conn) => Ok((conn, None)),
            Err(e) if is_damage(&e) => {
                remove_db_files(path)?;
                let conn = open_db(path).map_err(|e| sql_err(path, e))?;
                Ok((
                    conn,
                    Some(format!(
                        "the catalog {} was unusable ({e}); rebuilt it from the run files",
                        path.display()
                    )),
                ))
            }
            Err(e) => Err(sql_err(path, e)),
        }
    }
}

fn open_db(db: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(db)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Reads through a memory map instead of one pread per page.
    conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
    prepare(conn)
}

/// The settings every catalog connection gets, and the schema.
fn prepare(mut conn: Connection) -> rusqlite::Result<Connection> {
    // A larger page cache keeps the param/metric indexes in memory while a big refresh
    // inserts into them (negative = KiB).
    conn.pragma_update(None, "cache_size", -65536)?;
    match schema::migrate(&mut conn)? {
        schema::MigrateOutcome::Ready => Ok(conn),
        schema::MigrateOutcome::TooNew => Err(rusqlite::Error::InvalidQuery),
    }
}

/// Deletes the database file and its WAL companions (only files: anything else is left).
fn remove_db_files(db: &Path) -> Result<(), StoreError> {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let path = PathBuf::from(name);
        if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            continue;
        }
        match fs_err::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(StoreError::Core(CoreError::Io {
                    op: "remove",
                    path,
                    source: e,
                }));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_name_depends_on_the_project_path_only() {
        use ox_core::hash::fnv1a;
        assert_eq!(fnv1a(b"/a/.ox"), fnv1a(b"/a/.ox"));
        assert_ne!(fnv1a(b"/a/.ox"), fnv1a(b"/b/.ox"));
    }

    #[test]
    fn busy_and_permission_errors_are_not_damage() {
        let fail = |code| {
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error {
                    code,
                    extended_code: 0,
                },
                None,
            )
        };
        assert!(is_damage(&fail(ErrorCode::DatabaseCorrupt)));
        assert!(is_damage(&fail(ErrorCode::NotADatabase)));
        assert!(!is_damage(&fail(ErrorCode::DatabaseBusy)));
        assert!(!is_damage(&fail(ErrorCode::ReadOnly)));
        assert!(!is_damage(&fail(ErrorCode::PermissionDenied)));
        assert!(!is_damage(&fail(ErrorCode::DiskFull)));
    }
}
