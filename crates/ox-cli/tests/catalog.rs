#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The catalog is a cache that never stands in the way: damaged catalogs are rebuilt with one
//! warning, `ox reindex` never opens the old one, and `ox init` keeps git status clean.

use std::path::Path;
use std::process::Output;

use ox_test_support::{TestProject, stderr, stdout};

fn project() -> TestProject {
    TestProject::sweep(env!("CARGO_BIN_EXE_ox"))
}

/// `ox ARGS` with the user's cache directory inside `cache`.
fn ox_in(p: &TestProject, cache: &Path, args: &[&str]) -> Output {
    p.command()
        .env("XDG_CACHE_HOME", cache)
        .args(args)
        .output()
        .unwrap()
}

/// The outputs every damaged catalog must still give: ls, show, query.
fn outputs(p: &TestProject, cache: &Path) -> Vec<String> {
    [
        vec!["ls", "--format", "json"],
        vec!["show", "lr0-s1", "--format", "json"],
        vec!["query", "lr = 0.1 ORDER BY metrics.loss"],
    ]
    .iter()
    .map(|args| {
        let out = ox_in(p, cache, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        stdout(&out)
    })
    .collect()
}

fn warnings(out: &Output) -> Vec<String> {
    stderr(out)
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .map(String::from)
        .collect()
}

/// Damages the catalog with `damage`, then checks that the next `ox ls` rebuilds it with
/// exactly one warning line saying why and that every output is as before.
fn heals(damage: impl Fn(&Path), why: &str) {
    let p = project();
    let cache = tempfile::tempdir().unwrap();
    let before = outputs(&p, cache.path());
    let db = p.project.db_path();
    damage(&db);
    let out = ox_in(&p, cache.path(), &["ls", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let w = warnings(&out);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains(why), "{w:?}");
    assert!(w[0].contains("rebuilt it from the run files"), "{w:?}");
    assert_eq!(outputs(&p, cache.path()), before);
    // Healed once, quiet after.
    let again = ox_in(&p, cache.path(), &["ls"]);
    assert_eq!(warnings(&again), Vec::<String>::new());
}

#[test]
fn garbage_pages_behind_an_intact_header_are_rebuilt() {
    heals(
        |db| {
            let mut bytes = std::fs::read(db).unwrap();
            assert!(bytes.len() > 8192, "the catalog has several pages");
            // Page 1 (the header and schema) stays; every later page becomes garbage.
            let mut x: u32 = 12345;
            for b in bytes.iter_mut().skip(4096) {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                *b = (x >> 16) as u8;
            }
            std::fs::write(db, bytes).unwrap();
            for side in ["ox.db-wal", "ox.db-shm"] {
                let _ = std::fs::remove_file(db.with_file_name(side));
            }
        },
        "malformed",
    );
}

#[test]
fn a_truncated_catalog_is_rebuilt() {
    heals(
        |db| {
            let f = std::fs::OpenOptions::new().write(true).open(db).unwrap();
            f.set_len(5000).unwrap();
            for side in ["ox.db-wal", "ox.db-shm"] {
                let _ = std::fs::remove_file(db.with_file_name(side));
            }
        },
        "malformed",
    );
}

#[test]
fn a_file_that_is_not_a_database_is_rebuilt() {
    heals(
        |db| {
            for side in ["ox.db-wal", "ox.db-shm"] {
                let _ = std::fs::remove_file(db.with_file_name(side));
            }
            std::fs::write(db, "not a database at all, just text\n".repeat(200)).unwrap();
        },
        "not a database",
    );
}

#[test]
fn a_catalog_of_another_shape_is_rebuilt() {
    heals(
        |db| {
            for side in ["", "-wal", "-shm"] {
                let mut name = db.as_os_str().to_owned();
                name.push(side);
                let _ = std::fs::remove_file(name);
            }
            // A database at a known schema version whose tables are not ours.
            let conn = rusqlite::Connection::open(db).unwrap();
            conn.execute_batch("CREATE TABLE runs (a); PRAGMA user_version = 5;")
                .unwrap();
        },
        "no such table",
    );
}

#[test]
fn a_directory_in_place_of_the_catalog_is_left_alone() {
    let p = project();
    let cache = tempfile::tempdir().unwrap();
    let before = outputs(&p, cache.path());
    let db = p.project.db_path();
    for side in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(side);
        let _ = std::fs::remove_file(name);
    }
    std::fs::create_dir(&db).unwrap();
    std::fs::write(db.join("keep.txt"), "mine").unwrap();
    let out = ox_in(&p, cache.path(), &["ls"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let w = warnings(&out);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("is not a file"), "{w:?}");
    assert_eq!(outputs(&p, cache.path()), before);
    assert_eq!(
        std::fs::read_to_string(db.join("keep.txt")).unwrap(),
        "mine"
    );
    let reindex = ox_in(&p, cache.path(), &["reindex"]);
    assert!(reindex.status.success(), "{}", stderr(&reindex));
    assert!(db.join("keep.txt").is_file());
}

#[test]
fn reindex_never_opens_the_old_catalog() {
    let p = project();
    let cache = tempfile::tempdir().unwrap();
    let before = outputs(&p, cache.path());
    let db = p.project.db_path();
    let mut bytes = std::fs::read(&db).unwrap();
    for b in bytes.iter_mut().skip(4096) {
        *b = 0xA5;
    }
    std::fs::write(&db, bytes).unwrap();
    let out = ox_in(&p, cache.path(), &["reindex"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(warnings(&out), Vec::<String>::new());
    assert!(
        stderr(&out).contains("reindexed 5 runs"),
        "{}",
        stderr(&out)
    );
    assert_eq!(outputs(&p, cache.path()), before);
}

#[test]
fn init_keeps_git_status_clean() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .current_dir(dir.path())
            .args(args)
            .output()
    };
    match git(&["init", "-q"]) {
        Ok(o) if o.status.success() => {}
        _ if std::env::var("CI").as_deref() == Ok("true") => panic!("git is needed under CI"),
        _ => {
            eprintln!("skipped: git is not installed");
            return;
        }
    }
    let ox_dir = dir.path().join(".ox");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ox"))
        .current_dir(dir.path())
        .env_remove("OX_DIR")
        .arg("init")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // A catalog and its WAL files, as any read command leaves them.
    for name in ["ox.db", "ox.db-wal", "ox.db-shm"] {
        std::fs::write(ox_dir.join(name), "x").unwrap();
    }
    std::fs::create_dir_all(ox_dir.join("python/ox")).unwrap();
    std::fs::write(ox_dir.join("python/ox/__init__.py"), "").unwrap();
    std::fs::write(ox_dir.join("config.toml"), "").unwrap();
    let status = git(&["status", "--porcelain", "--untracked-files=all"]).unwrap();
    let listed = stdout(&status);
    let mut lines: Vec<&str> = listed.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, vec!["?? .ox/.gitignore", "?? .ox/config.toml"]);
}

#[test]
fn ox_run_never_opens_the_catalog() {
    let p = project();
    let db = p.project.db_path();
    for side in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(side);
        let _ = std::fs::remove_file(name);
    }
    // Not a database: a run that opened it would fail or replace it.
    std::fs::write(&db, "not a database").unwrap();
    for _ in 0..2 {
        let out = p.ox(&["run", "-s", "sweep", "-n", "lr0-s1", "--", "true"]);
        assert!(out.status.success(), "{}", stderr(&out));
        // The duplicate name is found from the run files.
        assert!(
            stderr(&out).contains("already has a run named \"lr0-s1\""),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(std::fs::read_to_string(&db).unwrap(), "not a database");
    assert!(!db.with_file_name("ox.db-wal").exists());
    assert!(!db.with_file_name("ox.db-shm").exists());
}
