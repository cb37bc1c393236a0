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

/// The id of the run named `name` in the sweep fixture.
fn id_of(p: &TestProject, name: &str) -> String {
    let out = p.ox(&["show", name, "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    v["id"].as_str().unwrap().to_string()
}

fn listed_ids(p: &TestProject) -> Vec<String> {
    let out = p.ox(&["ls", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_run_directory_without_a_readable_run_json_is_reported_until_fixed() {
    let p = project();
    let id = id_of(&p, "lr0-s1");
    let json_path = p.root().join(format!(".ox/runs/{id}/run.json"));
    let original = std::fs::read(&json_path).unwrap();
    std::fs::write(p.root().join(format!(".ox/runs/{id}/stdout.log")), "hi\n").unwrap();
    std::fs::remove_file(&json_path).unwrap();

    let out = p.ox(&["reindex"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let w = warnings(&out);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains(&format!("run {id} cannot be read (run.json is missing)")),
        "{w:?}"
    );
    assert!(
        w[0].contains(&format!(".ox/metrics/{id}_metrics.jsonl"))
            && w[0].contains(&format!(".ox/runs/{id}/stdout.log")),
        "{w:?}"
    );
    assert!(
        stderr(&out).contains("reindexed 4 runs (1 problem)"),
        "{}",
        stderr(&out)
    );

    // `ox ls` keeps reporting it (not only the refresh that found it).
    for _ in 0..2 {
        let out = p.ox(&["ls"]);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(warnings(&out).len(), 1, "{}", stderr(&out));
        assert!(!stdout(&out).contains(&id[..10]));
    }
    let out = p.ox(&["show", &id[..12]]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "error: run {id} cannot be read: run.json is missing"
        )),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains(&format!("`ox reindex {id}`")));

    // A run.json that does not parse is reported the same way, with the parser's words.
    std::fs::write(&json_path, "{\"id\": ").unwrap();
    let out = p.ox(&["reindex", &id]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("EOF while parsing"),
        "{}",
        stderr(&out)
    );
    let out = p.ox(&["ls"]);
    assert!(
        stderr(&out).contains("EOF while parsing"),
        "{}",
        stderr(&out)
    );

    // Fixed: listed again, and quiet.
    std::fs::write(&json_path, original).unwrap();
    let out = p.ox(&["reindex", &id]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = p.ox(&["ls"]);
    assert_eq!(warnings(&out), Vec::<String>::new());
    assert!(listed_ids(&p).contains(&id));
}

#[test]
fn a_missing_run_json_is_reported_by_ls_on_a_new_catalog() {
    let p = project();
    let id = id_of(&p, "lr1-s2");
    std::fs::remove_file(p.root().join(format!(".ox/runs/{id}/run.json"))).unwrap();
    std::fs::write(p.root().join(format!(".ox/runs/{id}/stdout.log")), "hi\n").unwrap();
    std::fs::remove_file(p.project.db_path()).unwrap();
    let out = p.ox(&["ls"]);
    assert_eq!(out.status.code(), Some(0));
    let w = warnings(&out);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains(&format!("run {id} cannot be read")), "{w:?}");
}

#[test]
fn reindex_run_refreshes_a_hand_edited_finished_run() {
    let p = project();
    let id = id_of(&p, "lr0-s2");
    assert!(p.ox(&["ls"]).status.success());
    // A hand edit: an evaluation line appended, and a param changed in run.json.
    let metrics = p.root().join(format!(".ox/metrics/{id}_metrics.jsonl"));
    let mut text = std::fs::read_to_string(&metrics).unwrap();
    text.push_str("{\"type\": \"metrics\", \"step\": 9, \"eval/acc\": 0.5}\n");
    std::fs::write(&metrics, text).unwrap();
    let json_path = p.root().join(format!(".ox/runs/{id}/run.json"));
    let mut run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    run["params"]["note"] = "edited".into();
    std::fs::write(&json_path, run.to_string()).unwrap();

    let out = p.ox(&["reindex", "sweep/lr0-s2"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("reindexed 1 of 1 runs"),
        "{}",
        stderr(&out)
    );
    let shown = p.ox(&["show", &id, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&shown)).unwrap();
    assert_eq!(v["metrics"]["eval/acc"]["last"], 0.5);
    assert_eq!(v["metrics"]["eval/acc"]["last_step"], 9);
    assert_eq!(v["params"]["note"], "edited");
    // What a from-scratch rebuild says, the refresh of one run said too.
    let before = outputs(&p, tempfile::tempdir().unwrap().path());
    assert!(p.ox(&["reindex"]).status.success());
    assert_eq!(outputs(&p, tempfile::tempdir().unwrap().path()), before);

    let out = p.ox(&["reindex", "no-such-run"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// Every file and directory under `dir` with its size and modification time.
fn tree(dir: &Path) -> Vec<(String, u64, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            out.push((
                e.path().display().to_string(),
                m.len(),
                m.modified().unwrap(),
            ));
            if m.is_dir() {
                stack.push(e.path());
            }
        }
    }
    out.sort();
    out
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Read commands on a project this user cannot write: as the unprivileged user `nobody` when
/// the tests run as root (CI), else with the project's write permissions removed.
#[test]
fn a_read_only_project_is_read_without_writing_or_deleting_anything() {
    let p = project();
    let cache = tempfile::tempdir().unwrap();
    let commands: [&[&str]; 4] = [
        &["ls", "--format", "json"],
        &["show", "lr0-s1", "--format", "json"],
        &["query", "lr = 0.1 ORDER BY metrics.loss"],
        &["stats", "--metric", "loss", "--format", "json"],
    ];
    let expected: Vec<String> = commands
        .iter()
        .map(|args| stdout(&ox_in(&p, cache.path(), args)))
        .collect();
    let ox_dir = p.project.ox_dir().to_path_buf();
    let is_root = effective_uid() == 0;
    if is_root && !Path::new("/usr/bin/setpriv").exists() && !Path::new("/bin/setpriv").exists() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "setpriv (util-linux) is needed under CI to run as an unprivileged user"
        );
        eprintln!("skipped: running as root without setpriv to become an unprivileged user");
        return;
    }
    // Readable by everyone, writable by no one but root.
    set_mode(p.root(), 0o755);
    if !is_root {
        let mut dirs = vec![ox_dir.clone()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let e = e.unwrap();
                if e.file_type().unwrap().is_dir() {
                    dirs.push(e.path());
                } else {
                    set_mode(&e.path(), 0o444);
                }
            }
            set_mode(&d, 0o555);
        }
    }
    let before = tree(&ox_dir);
    let user_cache = tempfile::tempdir().unwrap();
    set_mode(user_cache.path(), 0o777);
    // A copy of the binary that `nobody` can reach (the build directory may not be).
    let bin_dir = tempfile::tempdir().unwrap();
    set_mode(bin_dir.path(), 0o755);
    let ox_copy = bin_dir.path().join("ox");
    std::fs::copy(env!("CARGO_BIN_EXE_ox"), &ox_copy).unwrap();
    set_mode(&ox_copy, 0o755);
    let run = |args: &[&str], cache: Option<&Path>| -> Output {
        let mut cmd = if is_root {
            let mut c = std::process::Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
                .arg(&ox_copy);
            c.current_dir(p.root());
            c
        } else {
            p.command()
        };
        cmd.env_remove("OX_DIR")
            .env("NO_COLOR", "1")
            .env("HOME", "/nonexistent");
        match cache {
            Some(c) => cmd.env("XDG_CACHE_HOME", c),
            None => cmd.env_remove("XDG_CACHE_HOME"),
        };
        cmd.args(args).output().unwrap()
    };
    // With a cache directory (the catalog goes there, reused by the next command), and
    // without one (in memory).
    for cache in [Some(user_cache.path()), Some(user_cache.path()), None] {
        for (args, want) in commands.iter().zip(&expected) {
            let out = run(args, cache);
            assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
            assert_eq!(stderr(&out), "", "{args:?}");
            assert_eq!(&stdout(&out), want, "{args:?}");
        }
    }
    // Writing is refused, and the error says so once (not once per layer of wrapping).
    let out = run(&["run", "--", "true"], Some(user_cache.path()));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).matches("Permission denied").count(),
        1,
        "{}",
        stderr(&out)
    );
    assert_eq!(
        stderr(&out).matches("/.ox/runs/").count(),
        1,
        "{}",
        stderr(&out)
    );
    assert_eq!(tree(&ox_dir), before, "nothing in the project changed");
    let cached: Vec<_> = std::fs::read_dir(user_cache.path().join("ox/catalogs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".db"))
        .collect();
    assert_eq!(cached.len(), 1, "{cached:?}");
    // Put the permissions back so the temporary directory can be removed.
    if !is_root {
        let mut dirs = vec![ox_dir.clone()];
        while let Some(d) = dirs.pop() {
            set_mode(&d, 0o755);
            for e in std::fs::read_dir(&d).unwrap() {
                let e = e.unwrap();
                if e.file_type().unwrap().is_dir() {
                    dirs.push(e.path());
                }
            }
        }
    }
}

/// The effective user id, from /proc (no unsafe code in tests).
fn effective_uid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|u| u.parse().ok())
        .unwrap()
}
