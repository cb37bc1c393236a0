#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The catalog against real project files: incremental refresh, rebuild equivalence,
//! crash detection and run references.

use std::io::Write;

use ox_core::{Project, Run, RunId, Status};
use ox_store::{Catalog, RunFilter, SortKey, StoreError};
use serde_json::json;

fn project() -> (tempfile::TempDir, Project) {
    let dir = tempfile::tempdir().unwrap();
    let p = Project::init(dir.path()).unwrap();
    (dir, p)
}

fn make_run(
    p: &Project,
    name: &str,
    status: Status,
    params: serde_json::Value,
    lines: &str,
) -> RunId {
    let mut run = Run::new(RunId::generate(), status);
    // A running run belongs to this (live) process, so it is not taken for crashed.
    run.pid = Some(std::process::id());
    run.host = hostname::get().ok().and_then(|h| h.into_string().ok());
    run.name = Some(name.to_string());
    run.study = "s".into();
    run.params = params.as_object().unwrap().clone();
    run.started = Some(run.created);
    run.ended = status
        .is_final()
        .then(|| run.created + chrono::Duration::seconds(5));
    p.write_run(&run).unwrap();
    std::fs::write(p.metrics_path(&run.id), lines).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2));
    run.id
}

fn append(p: &Project, id: &RunId, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(p.metrics_path(id))
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn snapshot(c: &Catalog) -> String {
    let views = c.runs(&RunFilter::default()).unwrap();
    format!("{views:?}")
}

#[test]
fn summaries_params_and_incremental_append() {
    let (_d, p) = project();
    let a = make_run(
        &p,
        "a",
        Status::Running,
        json!({"lr": 0.1, "model": {"layers": 2}}),
        "{\"step\":0,\"loss\":2}\n{\"step\":1,\"loss\":1}\n",
    );
    let mut c = Catalog::open(&p).unwrap();
    let v = c.run("a").unwrap();
    assert_eq!(v.run.id, a);
    assert_eq!(v.metrics["loss"].last, 1.0);
    assert_eq!(v.metrics["loss"].count, 2);
    assert_eq!(c.param_keys().unwrap(), ["lr", "model.layers"]);

    // Nothing changed: nothing is read.
    assert_eq!(c.refresh().unwrap().updated, 0);
    append(
        &p,
        &a,
        "{\"loss\":0.5}\n{\"type\":\"params\",\"params\":{\"batch\":32}}\n",
    );
    assert_eq!(c.refresh().unwrap().updated, 1);
    let v = c.run(a.as_str()).unwrap();
    let s = v.metrics["loss"];
    assert_eq!((s.last, s.min, s.count, s.last_step), (0.5, 0.5, 3, 2));
    assert_eq!(s.mean, 3.5 / 3.0);
    assert_eq!(v.run.params["batch"], 32, "declared params are merged");
    assert_eq!(v.run.params["lr"], 0.1);
}

#[test]
fn a_metric_ending_in_nan_survives_an_incremental_refresh() {
    let (_d, p) = project();
    let a = make_run(
        &p,
        "diverged",
        Status::Running,
        json!({}),
        "{\"step\":0,\"loss\":2,\"acc\":0.1}\n{\"step\":1,\"loss\":NaN,\"acc\":0.2}\n",
    );
    let mut c = Catalog::open(&p).unwrap();
    assert!(c.run("diverged").unwrap().metrics["loss"].last.is_nan());
    // The next read resumes from the stored state, in which the NaN was written as null.
    append(&p, &a, "{\"step\":2,\"acc\":0.3}\n");
    assert_eq!(c.refresh().unwrap().updated, 1);
    let v = c.run("diverged").unwrap();
    let loss = v.metrics.get("loss").expect("loss is still listed");
    assert!(loss.last.is_nan());
    assert_eq!(
        (loss.first, loss.min, loss.count, loss.last_step),
        (2.0, 2.0, 2, 1)
    );
    assert_eq!(v.metrics["acc"].last, 0.3);
}

#[test]
fn catalogs_hit_by_the_nan_state_bug_are_read_again() {
    let (_d, p) = project();
    make_run(
        &p,
        "diverged",
        Status::Completed,
        json!({}),
        "{\"step\":0,\"loss\":2}\n{\"step\":1,\"loss\":NaN}\n",
    );
    drop(Catalog::open(&p).unwrap());
    // What a catalog of schema 4 looked like after the bug: the metric row gone.
    {
        let conn = rusqlite::Connection::open(p.db_path()).unwrap();
        conn.execute("DELETE FROM metrics WHERE key = 'loss'", [])
            .unwrap();
        conn.pragma_update(None, "user_version", 4).unwrap();
    }
    let c = Catalog::open(&p).unwrap();
    let loss = c.run("diverged").unwrap().metrics.get("loss").copied();
    assert!(
        loss.is_some_and(|l| l.last.is_nan() && l.count == 2),
        "{loss:?}"
    );
}

#[test]
fn deleting_the_database_changes_nothing() {
    let (_d, p) = project();
    make_run(
        &p,
        "a",
        Status::Completed,
        json!({"lr": 0.1}),
        "{\"loss\":2}\n{\"loss\":NaN}\n",
    );
    let b = make_run(
        &p,
        "b",
        Status::Failed,
        json!({"lr": "3e-4"}),
        "{\"loss\":3}\n",
    );
    let mut c = Catalog::open(&p).unwrap();
    append(&p, &b, "{\"loss\":2.5}\n{\"loss\":2.");
    c.refresh_runs(std::slice::from_ref(&b)).unwrap();
    let before = snapshot(&c);
    drop(c);
    std::fs::remove_file(p.db_path()).unwrap();
    let c = Catalog::open(&p).unwrap();
    assert_eq!(snapshot(&c), before);
    let mut c2 = Catalog::open(&p).unwrap();
    c2.reindex().unwrap();
    assert_eq!(snapshot(&c2), before);
}

#[test]
fn corrupt_database_is_rebuilt() {
    let (_d, p) = project();
    make_run(&p, "a", Status::Completed, json!({}), "");
    drop(Catalog::open(&p).unwrap());
    std::fs::write(
        p.db_path(),
        b"this is not sqlite at all, just garbage bytes................",
    )
    .unwrap();
    let _ = std::fs::remove_file(p.ox_dir().join("ox.db-wal"));
    let c = Catalog::open(&p).unwrap();
    assert_eq!(c.runs(&RunFilter::default()).unwrap().len(), 1);
}

#[test]
fn running_run_with_dead_pid_is_crashed() {
    let (_d, p) = project();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = child.id();
    child.wait().unwrap();
    let mut run = Run::new(RunId::generate(), Status::Running);
    run.pid = Some(dead_pid);
    run.host = hostname::get().ok().and_then(|h| h.into_string().ok());
    run.started = Some(run.created);
    p.write_run(&run).unwrap();
    let mut alive = Run::new(RunId::generate(), Status::Running);
    alive.pid = Some(std::process::id());
    alive.host = run.host.clone();
    alive.started = Some(alive.created);
    p.write_run(&alive).unwrap();
    let c = Catalog::open(&p).unwrap();
    assert_eq!(c.last_refresh().crashed, 1);
    assert_eq!(c.run(run.id.as_str()).unwrap().run.status, Status::Crashed);
    assert_eq!(
        c.run(alive.id.as_str()).unwrap().run.status,
        Status::Running
    );
    // The file is not rewritten: the catalog derives the status.
    assert_eq!(p.read_run(&run.id).unwrap().status, Status::Running);
}

#[test]
fn references_filters_and_sorting() {
    let (_d, p) = project();
    let a = make_run(
        &p,
        "a",
        Status::Completed,
        json!({"lr": 0.3}),
        "{\"loss\":1}\n",
    );
    let b = make_run(
        &p,
        "b",
        Status::Failed,
        json!({"lr": 0.1}),
        "{\"loss\":3}\n",
    );
    let c_id = make_run(&p, "c", Status::Completed, json!({}), "{\"loss\":2}\n");
    let c = Catalog::open(&p).unwrap();
    assert_eq!(c.resolve(&a.as_str()[..20]).unwrap(), a);
    assert_eq!(c.resolve("s/b").unwrap(), b);
    assert!(matches!(
        c.resolve("zzzz"),
        Err(StoreError::NoSuchRun { .. })
    ));
    match c.resolve("aa") {
        Err(StoreError::NoSuchRun { suggestions, .. }) => assert_eq!(suggestions, ["a"]),
        other => panic!("{other:?}"),
    }
    // All ids of a single millisecond share a prefix: a short prefix is ambiguous, and the
    // error counts every match.
    assert!(matches!(
        c.resolve(&a.as_str()[..4]),
        Err(StoreError::AmbiguousRun { total, .. }) if total >= 2
    ));
    // Under 4 characters an id prefix is refused, saying how many ids it starts.
    assert!(matches!(
        c.resolve(&a.as_str()[..2]),
        Err(StoreError::PrefixTooShort { matches, .. }) if matches >= 2
    ));

    let ids = |f: RunFilter| {
        c.runs(&f)
            .unwrap()
            .into_iter()
            .map(|v| v.run.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(RunFilter {
            status: Some(Status::Completed),
            ..Default::default()
        }),
        [a.clone(), c_id.clone()]
    );
    assert_eq!(
        ids(RunFilter {
            sort: Some(SortKey::parse("lr")),
            ..Default::default()
        }),
        [b.clone(), a.clone(), c_id.clone()]
    );
    assert_eq!(
        ids(RunFilter {
            sort: Some(SortKey::parse("-lr")),
            ..Default::default()
        }),
        [a.clone(), b.clone(), c_id.clone()],
        "missing sorts last"
    );
    assert_eq!(
        ids(RunFilter {
            sort: Some(SortKey::parse("-metrics.loss")),
            limit: Some(2),
            ..Default::default()
        }),
        [b, c_id]
    );
}

#[test]
fn bad_run_json_is_a_warning_not_a_failure() {
    let (_d, p) = project();
    make_run(&p, "good", Status::Completed, json!({}), "");
    let bad = RunId::generate();
    std::fs::create_dir_all(p.run_dir(&bad)).unwrap();
    std::fs::write(p.run_json_path(&bad), "{not json").unwrap();
    let c = Catalog::open(&p).unwrap();
    assert_eq!(c.runs(&RunFilter::default()).unwrap().len(), 1);
    assert_eq!(
        c.last_refresh().warnings.len(),
        1,
        "{:?}",
        c.last_refresh().warnings
    );
}

#[test]
fn removed_runs_leave_the_catalog() {
    let (_d, p) = project();
    let a = make_run(&p, "a", Status::Completed, json!({}), "");
    let mut c = Catalog::open(&p).unwrap();
    std::fs::remove_dir_all(p.run_dir(&a)).unwrap();
    assert_eq!(c.refresh().unwrap().removed, 1);
    assert!(c.runs(&RunFilter::default()).unwrap().is_empty());
}

#[test]
fn finished_runs_are_not_stat_again_until_asked() {
    let (_d, p) = project();
    let a = make_run(&p, "a", Status::Completed, json!({}), "{\"loss\":1}\n");
    let mut c = Catalog::open(&p).unwrap();
    append(&p, &a, "{\"loss\":0.5}\n");
    // The cheap refresh looks only at new and unfinished runs...
    assert_eq!(c.refresh().unwrap().updated, 0);
    assert_eq!(c.run("a").unwrap().metrics["loss"].count, 1);
    // ...a writer that changed a finished run says so, and reindex re-reads everything.
    assert_eq!(c.refresh_runs(std::slice::from_ref(&a)).unwrap().updated, 1);
    assert_eq!(c.run("a").unwrap().metrics["loss"].count, 2);
    append(&p, &a, "{\"loss\":0.25}\n");
    c.reindex().unwrap();
    assert_eq!(c.run("a").unwrap().metrics["loss"].count, 3);
}

#[test]
fn a_finished_run_marked_reopened_is_looked_at_by_every_refresh() {
    let (_d, p) = project();
    let a = make_run(&p, "a", Status::Completed, json!({}), "{\"loss\":1}\n");
    let mut c = Catalog::open(&p).unwrap();
    std::fs::create_dir_all(p.reopened_dir()).unwrap();
    std::fs::write(p.reopened_dir().join(a.as_str()), "").unwrap();
    // Unchanged files: stat'ed, not read.
    assert_eq!(c.refresh().unwrap().updated, 0);
    append(&p, &a, "{\"eval\":0.5}\n");
    assert_eq!(c.refresh().unwrap().updated, 1);
    assert_eq!(c.run("a").unwrap().metrics["eval"].last, 0.5);
    // A later append too (the mark stays).
    append(&p, &a, "{\"eval\":0.75}\n");
    assert_eq!(c.refresh().unwrap().updated, 1);
    assert_eq!(c.run("a").unwrap().metrics["eval"].last, 0.75);
}

#[test]
fn a_broken_run_directory_is_reported_by_every_refresh_until_fixed() {
    let (_d, p) = project();
    let a = make_run(&p, "a", Status::Completed, json!({}), "{\"loss\":1}\n");
    let json = std::fs::read(p.run_json_path(&a)).unwrap();
    std::fs::write(p.run_json_path(&a), b"{nope").unwrap();
    let mut c = Catalog::open(&p).unwrap();
    assert_eq!(c.last_refresh().warnings.len(), 1);
    assert_eq!(c.refresh().unwrap().warnings.len(), 1);
    let (id, problem, files) = c.broken_run(&a.as_str()[..12]).unwrap().unwrap();
    assert_eq!(id, a);
    assert!(problem.contains("invalid JSON"), "{problem}");
    assert_eq!(files, [format!(".ox/metrics/{a}_metrics.jsonl")]);
    std::fs::write(p.run_json_path(&a), json).unwrap();
    let report = c.refresh().unwrap();
    assert_eq!((report.updated, report.warnings.len()), (1, 0));
    assert!(c.broken_run(a.as_str()).unwrap().is_none());
    assert_eq!(c.refresh().unwrap().warnings.len(), 0);
}

#[test]
fn a_run_directory_without_run_json_yet_is_picked_up_later() {
    let (_d, p) = project();
    let mut c = Catalog::open(&p).unwrap();
    let id = RunId::generate();
    std::fs::create_dir_all(p.run_dir(&id)).unwrap();
    assert_eq!(c.refresh().unwrap().updated, 0);
    let mut run = Run::new(id.clone(), Status::Completed);
    run.name = Some("late".into());
    p.write_run(&run).unwrap();
    assert_eq!(c.refresh().unwrap().updated, 1);
    assert_eq!(c.run("late").unwrap().run.id, id);
}

#[test]
fn sub_second_times_order_as_times() {
    let (_d, p) = project();
    let base = chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    for (name, ms) in [("whole", 1000), ("half", 500), ("zero", 0)] {
        let mut run = Run::new(RunId::generate(), Status::Completed);
        run.name = Some(name.into());
        run.created = base + chrono::Duration::milliseconds(ms);
        p.write_run(&run).unwrap();
    }
    let c = Catalog::open(&p).unwrap();
    let names = |q: &str| -> Vec<String> {
        c.query(q)
            .unwrap()
            .into_iter()
            .map(|v| v.run.name.unwrap())
            .collect()
    };
    assert_eq!(names("ORDER BY created"), ["zero", "half", "whole"]);
    assert_eq!(
        names("created > '2026-11-23T10:00:00Z' ORDER BY created"),
        ["half", "whole"]
    );
    assert_eq!(
        names("created >= '2026-11-23T10:00:00.5Z' ORDER BY created"),
        ["half", "whole"]
    );
}

#[test]
fn runs_named_reads_the_run_files_and_never_the_catalog() {
    let (_d, p) = project();
    let a = make_run(&p, "x", Status::Completed, json!({}), "");
    make_run(&p, "y", Status::Completed, json!({}), "");
    assert_eq!(ox_store::runs_named(&p, "s", "x"), vec![a.clone()]);
    assert!(ox_store::runs_named(&p, "other", "x").is_empty());
    // Whatever the catalog holds does not matter: it is not opened (not even created).
    assert!(!p.db_path().exists());
    drop(Catalog::open(&p).unwrap());
    std::fs::write(p.db_path(), b"not a database").unwrap();
    let b = make_run(&p, "x", Status::Completed, json!({}), "");
    let mut both = vec![a.clone(), b.clone()];
    both.sort();
    assert_eq!(ox_store::runs_named(&p, "s", "x"), both);
    assert_eq!(std::fs::read(p.db_path()).unwrap(), b"not a database");
    // A run whose run.json no longer parses, or whose directory is gone, is not reported.
    std::fs::write(p.run_json_path(&a), b"{garbage").unwrap();
    assert_eq!(ox_store::runs_named(&p, "s", "x"), vec![b.clone()]);
    std::fs::remove_dir_all(p.run_dir(&a)).unwrap();
    assert_eq!(ox_store::runs_named(&p, "s", "x"), vec![b]);
}

#[test]
fn nested_declared_params_merge_deeply_while_running() {
    // The same deep merge as the supervisor's at the end of the run (ox_core::deep_merge):
    // a running run shows the params it will show once finished.
    let (_d, p) = project();
    let id = make_run(
        &p,
        "nested",
        Status::Running,
        json!({"model": {"layers": 2}, "lr": 0.1}),
        concat!(
            "{\"type\":\"params\",\"params\":{\"model\":{\"width\":64,\"layers\":3}}}\n",
            "{\"type\":\"params\",\"params\":{\"model\":{\"width\":128},\"seed\":1}}\n",
        ),
    );
    let c = Catalog::open(&p).unwrap();
    let v = c.run(id.as_str()).unwrap();
    assert_eq!(
        serde_json::Value::Object(v.run.params.clone()),
        json!({"model": {"layers": 2, "width": 128}, "lr": 0.1, "seed": 1}),
        "declared params deep-merged, later lines winning, run.json's own params winning"
    );
}

#[test]
fn long_series_get_an_envelope_that_resumes_like_a_fresh_read() {
    let (_d, p) = project();
    let line = |s: i64| {
        format!(
            "{{\"step\":{s},\"time\":{},\"loss\":{},\"acc\":{}}}\n",
            1e9 + s as f64,
            ((s * 31) % 101) as f64,
            s % 7
        )
    };
    let lines = |r: std::ops::Range<i64>| r.map(line).collect::<String>();
    // Starts short (no envelope), grows past the threshold in appends.
    let a = make_run(&p, "a", Status::Running, json!({}), &lines(0..1000));
    let mut c = Catalog::open(&p).unwrap();
    assert!(
        c.envelope(&a, "loss").unwrap().is_none(),
        "short: no envelope"
    );
    append(&p, &a, &lines(1000..6000));
    c.refresh().unwrap();
    let grown = c
        .envelope(&a, "loss")
        .unwrap()
        .expect("an envelope once long");
    assert_eq!(grown.count(), 6000);
    append(&p, &a, &lines(6000..50_000));
    c.refresh().unwrap();
    let resumed = c.envelope(&a, "loss").unwrap().unwrap();
    assert_eq!(resumed.count(), 50_000);
    // The same as reading the whole file at once, and as a rebuilt catalog.
    let mut fresh = ox_core::StepEnvelope::default();
    for s in 0..50_000 {
        fresh.push(s, Some(1e9 + s as f64), ((s * 31) % 101) as f64);
    }
    assert_eq!(resumed.points(), fresh.points());
    drop(c);
    let rebuilt = Catalog::rebuild(&p, Box::new(|_, _| {})).unwrap();
    assert_eq!(
        rebuilt.envelope(&a, "loss").unwrap().unwrap().points(),
        fresh.points()
    );
    assert_eq!(
        rebuilt.envelope(&a, "acc").unwrap().unwrap().count(),
        50_000
    );
    assert!(rebuilt.envelope(&a, "nosuch").unwrap().is_none());
}
