#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `ox ui`'s JSON API on the real binary: the runs of `ox ls --format json`, a bad query's
//! caret, series, files confined to the run's directory, the `Host` check and the token.

use ox_test_support::http::{UiServer, raw_request};
use ox_test_support::{TestProject, stdout};
use serde_json::Value;

fn sweep() -> TestProject {
    TestProject::sweep(env!("CARGO_BIN_EXE_ox"))
}

#[test]
fn runs_api_returns_what_ox_ls_json_prints() {
    let p = sweep();
    let ui = UiServer::start(&p, &[]);
    let api = ui.get("/api/runs?q=");
    assert_eq!(api.status, 200, "{}", api.text());
    let ls: Value = serde_json::from_str(&stdout(&p.ox(&["ls", "--format", "json"]))).unwrap();
    let mut by_api = api.json().as_array().unwrap().clone();
    let mut by_ls = ls.as_array().unwrap().clone();
    let key = |v: &Value| v["id"].as_str().unwrap().to_string();
    by_api.sort_by_key(key);
    by_ls.sort_by_key(key);
    // Durations of finished runs are fixed, so the objects are equal field by field.
    assert_eq!(by_api, by_ls);

    let filtered = ui.get("/api/runs?q=lr+%3C+0.05+ORDER+BY+name").json();
    let names: Vec<&str> = filtered
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["lr1-s1", "lr1-s2"]);
}

#[test]
fn a_bad_query_is_400_with_the_caret() {
    let p = sweep();
    let ui = UiServer::start(&p, &[]);
    let r = ui.get("/api/runs?q=lrr%20%3E%201");
    assert_eq!(r.status, 400);
    let e = r.json();
    assert!(e["error"].as_str().unwrap().contains("lrr"), "{e}");
    assert_eq!(e["span"]["start"], 0);
    assert_eq!(e["span"]["end"], 3);
    assert!(
        e["caret"].as_str().unwrap().ends_with("lrr > 1\n  ^^^"),
        "{e}"
    );
    assert!(e["hint"].as_str().unwrap().contains("lr"), "{e}");
    let r = ui.get("/api/runs?q=lr%20%3E");
    assert_eq!(r.status, 400, "{}", r.text());
}

#[test]
fn one_run_its_series_and_its_studies() {
    let p = sweep();
    let ui = UiServer::start(&p, &[]);
    let run = ui.get("/api/runs/lr0-s1");
    assert_eq!(run.status, 200, "{}", run.text());
    let run = run.json();
    assert_eq!(run["run"]["name"], "lr0-s1");
    assert_eq!(run["run"]["metrics"]["loss"]["count"], 5);
    let id = run["run"]["id"].as_str().unwrap().to_string();

    let missing = ui.get("/api/runs/nosuchrun");
    assert_eq!(missing.status, 404);
    assert!(missing.text().contains("nosuchrun"));

    let s = ui
        .get(&format!(
            "/api/series?runs={id},lr1-s2&metric=loss&points=100"
        ))
        .json();
    assert_eq!(s["metric"], "loss");
    let series = s["series"].as_array().unwrap();
    assert_eq!(series.len(), 2);
    assert_eq!(series[0]["run"], id.as_str());
    assert_eq!(series[0]["x"], serde_json::json!([0.0, 1.0, 2.0, 3.0, 4.0]));
    assert_eq!(series[0]["total"], 5);
    assert_eq!(series[1]["name"], "lr1-s2");
    // NaN (as Python's json.dumps writes it) is null in JSON.
    let crashy = ui.get("/api/runs/crashy").json();
    let crashy_id = crashy["run"]["id"].as_str().unwrap();
    std::fs::write(
        p.root()
            .join(format!(".ox/metrics/{crashy_id}_metrics.jsonl")),
        "{\"type\":\"metrics\",\"step\":0,\"loss\":1.5}\n{\"step\":1,\"loss\":NaN}\n{\"step\":2,\"loss\":2.5}\n",
    )
    .unwrap();
    let crashy = ui.get("/api/series?runs=crashy&metric=loss").json();
    assert_eq!(
        crashy["series"][0]["y"],
        serde_json::json!([1.5, null, 2.5])
    );
    for bad in [
        "/api/series?runs=lr0-s1",
        "/api/series?metric=loss",
        "/api/series?runs=lr0-s1&metric=loss&points=1",
        "/api/series?runs=lr0-s1&metric=loss&x=epoch",
    ] {
        let r = ui.get(bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert!(r.json()["error"].is_string());
    }

    let st = ui.get("/api/studies").json();
    assert_eq!(st["studies"][0]["name"], "other");
    assert_eq!(st["studies"][0]["status"]["failed"], 1);
    assert_eq!(st["studies"][1]["name"], "sweep");
    assert_eq!(st["studies"][1]["runs"], 4);
}

#[test]
fn files_are_confined_to_the_run_directory() {
    let p = sweep();
    let id = {
        let runs: Value =
            serde_json::from_str(&stdout(&p.ox(&["ls", "--format", "json"]))).unwrap();
        runs[0]["id"].as_str().unwrap().to_string()
    };
    let run_dir = p.root().join(".ox/runs").join(&id);
    std::fs::create_dir_all(run_dir.join("artifacts")).unwrap();
    std::fs::write(run_dir.join("artifacts/model.txt"), "weights").unwrap();
    std::fs::write(run_dir.join("stdout.log"), "line 1\nline 2\n").unwrap();
    std::fs::write(p.root().join("secret.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(p.root().join("secret.txt"), run_dir.join("artifacts/out")).unwrap();
    let ui = UiServer::start(&p, &[]);

    let ok = ui.get(&format!("/api/runs/{id}/files/artifacts/model.txt"));
    assert_eq!(ok.status, 200);
    assert_eq!(ok.text(), "weights");
    assert!(
        ok.header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );

    for (path, status) in [
        ("artifacts/out", 403),
        ("../../../secret.txt", 403),
        ("artifacts/%2e%2e/%2e%2e/%2e%2e/%2e%2e/secret.txt", 403),
        ("%2Fetc%2Fpasswd", 403),
        ("artifacts/none", 404),
    ] {
        let r = ui.get(&format!("/api/runs/{id}/files/{path}"));
        assert_eq!(r.status, status, "{path}: {}", r.text());
        assert!(!r.text().contains("secret\""), "{path}");
        assert_ne!(r.text(), "secret");
    }

    let detail = ui.get(&format!("/api/runs/{id}")).json();
    let files: Vec<&str> = detail["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["artifacts/model.txt", "stdout.log"]);

    let log = ui.get(&format!("/api/runs/{id}/log")).json();
    assert_eq!(log["text"], "line 1\nline 2\n");
    assert_eq!(log["offset"], 14);
    std::fs::write(run_dir.join("stdout.log"), "line 1\nline 2\nline 3\n").unwrap();
    let more = ui.get(&format!("/api/runs/{id}/log?offset=14")).json();
    assert_eq!(more["text"], "line 3\n");
    assert_eq!(ui.get(&format!("/api/runs/{id}/log?offset=x")).status, 400);
}

#[test]
fn requests_for_another_host_are_refused() {
    let p = sweep();
    let ui = UiServer::start(&p, &[]);
    let port = ui.addr.rsplit(':').next().unwrap().to_string();
    assert_eq!(ui.get("/").status, 200);
    assert_eq!(
        ui.request("/", &[("Host", &format!("localhost:{port}"))])
            .status,
        200
    );
    for host in [
        format!("evil.example:{port}"),
        "127.0.0.1".to_string(),
        String::new(),
    ] {
        let r = ui.request("/api/runs", &[("Host", &host)]);
        assert_eq!(r.status, 421, "Host {host:?}");
        assert!(!r.text().contains("lr0-s1"));
    }
    let r = ui.request("/api/runs", &[]);
    assert_eq!(r.status, 421);
}

#[test]
fn beyond_loopback_every_request_needs_the_token() {
    let p = sweep();
    let ui = UiServer::start(&p, &["--host", "0.0.0.0"]);
    let token = ui.url.split("?token=").nth(1).expect("a printed token");
    assert_eq!(token.len(), 32);
    assert_eq!(ui.get("/api/runs").status, 401);
    assert_eq!(ui.get("/").status, 401);
    assert_eq!(ui.get("/api/runs?token=wrong").status, 401);
    let first = ui.get(&format!("/?token={token}"));
    assert_eq!(first.status, 200);
    let cookie = first.header("set-cookie").unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let cookie = cookie.split(';').next().unwrap();
    let by_cookie = ui.request("/api/runs", &[("Host", "x"), ("Cookie", cookie)]);
    assert_eq!(by_cookie.status, 200);
    let bearer = format!("Bearer {token}");
    let by_header = ui.request("/api/studies", &[("Authorization", &bearer)]);
    assert_eq!(by_header.status, 200);

    let given = UiServer::start(&p, &["--host", "0.0.0.0", "--token", "s3cret"]);
    assert!(given.url.ends_with("?token=s3cret"));
    assert_eq!(given.get("/api/runs?token=s3cret").status, 200);
}

#[test]
fn malformed_requests_get_4xx_not_a_crash() {
    let p = sweep();
    let ui = UiServer::start(&p, &[]);
    let host = [("Host", ui.addr.as_str())];
    for path in [
        "/api/nothing",
        "/nothing",
        "/api/runs/%ff%fe",
        "/api/runs?q=%ff",
        "/api/runs?q=(((((((",
        "/api/series?runs=,,,&metric=loss",
        "/api/runs/x/files/",
    ] {
        let r = ui.request(path, &host);
        assert!((400..500).contains(&r.status), "{path}: {}", r.status);
    }
    let post = raw_request(&ui.addr, "POST", "/api/runs", &host);
    assert_eq!(post.status, 405);
    // Still serving.
    assert_eq!(ui.get("/api/runs").status, 200);
}

#[test]
fn a_bad_port_or_a_missing_token_is_a_usage_error() {
    let p = sweep();
    let o = p.ox(&["ui", "--host", "0.0.0.0", "--token", ""]);
    assert_eq!(o.status.code(), Some(2));
    let ui = UiServer::start(&p, &[]);
    let port = ui.addr.rsplit(':').next().unwrap();
    let o = p.ox(&["ui", "--port", port]);
    assert_eq!(o.status.code(), Some(2));
    let err = ox_test_support::stderr(&o);
    assert!(err.contains("--port 0"), "{err}");
}

#[test]
fn stats_api_returns_what_ox_stats_json_prints() {
    let p = sweep();
    let ui = UiServer::start(&p, &[]);
    let q = "study = 'sweep'";
    let cli: Value = serde_json::from_str(&stdout(&p.ox(&[
        "stats", "--where", q, "--metric", "loss", "--format", "json",
    ])))
    .unwrap();
    let api = ui.get("/api/stats?q=study+%3D+%27sweep%27&metric=loss");
    assert_eq!(api.status, 200, "{}", api.text());
    assert_eq!(api.json(), cli);
    assert!(
        cli["groups"].as_array().is_some_and(|g| g.len() == 2),
        "{cli}"
    );

    let bad = ui.get("/api/stats?q=&metric=nosuch");
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"].as_str().unwrap().contains("nosuch"));
    assert_eq!(ui.get("/api/stats?q=lrr+%3E+1&metric=loss").status, 400);
    assert_eq!(ui.get("/api/stats?q=").status, 400);
}

#[test]
fn the_runs_answer_follows_new_runs() {
    let mut p = sweep();
    let ui = UiServer::start(&p, &[]);
    let count = |ui: &UiServer| ui.get("/api/runs?q=").json().as_array().unwrap().len();
    // Every worker answers (and keeps) the list before anything changes.
    for _ in 0..8 {
        assert_eq!(count(&ui), 5);
    }
    // The catalog notices new runs by runs/'s modification time: let the clock move on.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    p.add_run(
        "sweep",
        "late",
        ox_core::Status::Completed,
        serde_json::json!({"lr": 0.3}),
        &[(0, vec![("loss", 0.25)])],
    );
    // The first worker to look refreshes ox.db; the others must not answer from memory.
    for _ in 0..8 {
        assert_eq!(count(&ui), 6);
    }
    // Another query is not answered from the kept list.
    let late = ui.get("/api/runs?q=name+%3D+%27late%27").json();
    assert_eq!(late.as_array().unwrap().len(), 1);
    assert_eq!(late[0]["metrics"]["loss"]["last"], 0.25);
}

#[test]
fn a_changed_run_is_not_answered_from_the_kept_objects() {
    let p = sweep();
    let ui = UiServer::start(&p, &[]);
    let names = |ui: &UiServer| -> Vec<String> {
        let runs = ui.get("/api/runs?q=ORDER+BY+name").json();
        runs.as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    };
    for _ in 0..4 {
        assert!(names(&ui).contains(&"lr0-s1".to_string()));
    }
    // Rename a finished run by hand and reindex it, as a user would.
    let run = ui.get("/api/runs/lr0-s1").json();
    let id = run["run"]["id"].as_str().unwrap().to_string();
    let path = p.root().join(".ox/runs").join(&id).join("run.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("\"lr0-s1\"", "\"renamed\"")).unwrap();
    assert!(p.ox(&["reindex", &id]).status.success());
    for _ in 0..4 {
        let now = names(&ui);
        assert!(now.contains(&"renamed".to_string()), "{now:?}");
        assert!(!now.contains(&"lr0-s1".to_string()), "{now:?}");
    }
}

#[test]
fn long_series_come_from_the_catalog_and_cursors_bring_only_new_points() {
    let mut p = sweep();
    let points: Vec<(i64, Vec<(&str, f64)>)> = (0..20_000)
        .map(|s| {
            let v = match s {
                12_345 => 99.0,
                17_000 => -5.0,
                _ => (s % 10) as f64,
            };
            (s, vec![("loss", v)])
        })
        .collect();
    let id = p.add_run(
        "long",
        "long",
        ox_core::Status::Running,
        serde_json::json!({}),
        &points,
    );
    let ui = UiServer::start(&p, &[]);
    let s = ui
        .get(&format!("/api/series?runs={id}&metric=loss&points=1000"))
        .json();
    let one = &s["series"][0];
    assert_eq!(one["total"], 20_000);
    let ys: Vec<f64> = one["y"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(ys.len() <= 1000, "{}", ys.len());
    assert!(ys.contains(&99.0) && ys.contains(&-5.0), "extremes kept");
    let cursor = one["cursor"].as_str().unwrap().to_string();
    assert!(cursor.ends_with(":19999"), "{cursor}");
    // Two more lines: the cursor answer has exactly them.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(
            p.root()
                .join(".ox/metrics")
                .join(format!("{id}_metrics.jsonl")),
        )
        .unwrap();
    std::io::Write::write_all(
        &mut f,
        b"{\"type\": \"metrics\", \"step\": 20000, \"loss\": 0.5}\n{\"type\": \"metrics\", \"step\": 20001, \"loss\": 0.25}\n",
    )
    .unwrap();
    let next = ui
        .get(&format!(
            "/api/series?runs={id}&metric=loss&points=1000&cursors={cursor}"
        ))
        .json();
    assert_eq!(
        next["series"][0]["x"],
        serde_json::json!([20000.0, 20001.0])
    );
    assert_eq!(next["series"][0]["y"], serde_json::json!([0.5, 0.25]));
    assert!(
        next["series"][0]["cursor"]
            .as_str()
            .unwrap()
            .ends_with(":20001")
    );
    // Bad cursors are 400s that say what a cursor is.
    let bad = ui.get(&format!("/api/series?runs={id}&metric=loss&cursors=x"));
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("OFFSET:STEP"), "{}", bad.text());
    let two = ui.get(&format!("/api/series?runs={id}&metric=loss&cursors=1:,2:"));
    assert_eq!(two.status, 400);
}

#[test]
fn a_study_report_is_listed_and_served_confined_to_reports() {
    let p = sweep();
    let o = p.ox(&["report", "-s", "sweep"]);
    assert!(o.status.success(), "{}", ox_test_support::stderr(&o));
    let reports = p.root().join("reports");
    assert!(reports.join("sweep/report.html").is_file());
    std::fs::write(p.root().join("secret.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(
        p.root().join("secret.txt"),
        reports.join("sweep/plots/leak.png"),
    )
    .unwrap();
    std::os::unix::fs::symlink(p.root().join(".ox"), reports.join("ox")).unwrap();
    let ui = UiServer::start(&p, &[]);

    let st = ui.get("/api/studies").json();
    let study = |name: &str| {
        st["studies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()
            .clone()
    };
    let sweep = study("sweep");
    assert_eq!(sweep["report"]["url"], "/reports/sweep/report.html");
    let modified = sweep["report"]["modified"].as_str().unwrap();
    assert!(
        modified.len() == 20 && modified.ends_with('Z') && modified.contains('T'),
        "{modified}"
    );
    assert_eq!(study("other")["report"], Value::Null);
    assert_eq!(sweep["runs"], 4, "the counts stay: {sweep}");

    let page = ui.get("/reports/sweep/report.html");
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page.text().contains("<h1>"), "{}", page.text());
    // Its own policy: inline style and data: images, no script at all.
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(!csp.contains("script-src"), "{csp}");
    let png = std::fs::read_dir(reports.join("sweep/plots"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".png") && n != "leak.png")
        .expect("a figure");
    let fig = ui.get(&format!("/reports/sweep/plots/{png}"));
    assert_eq!(fig.status, 200);
    assert_eq!(fig.header("content-type"), Some("image/png"));
    assert!(fig.body.starts_with(b"\x89PNG"));
    // The dashboard keeps its own policy.
    let index = ui.get("/");
    assert!(
        index
            .header("content-security-policy")
            .unwrap()
            .starts_with("default-src 'self'")
    );

    for (path, status) in [
        ("/reports/other/report.html", 404),
        ("/reports/sweep/nothing.html", 404),
        ("/reports/sweep", 404),
        ("/reports/", 403),
        ("/reports/../secret.txt", 403),
        ("/reports/sweep/../../secret.txt", 403),
        ("/reports/sweep/%2e%2e/%2e%2e/secret.txt", 403),
        ("/reports/%2Fetc%2Fpasswd", 403),
        ("/reports/sweep/plots/leak.png", 403),
        ("/reports/ox/ox.db", 403),
    ] {
        let r = ui.get(path);
        assert_eq!(r.status, status, "{path}: {}", r.text());
        assert_ne!(r.text(), "secret", "{path}");
        assert!(r.json()["error"].is_string(), "{path}");
    }

    // The same access checks as the API.
    let port = ui.addr.rsplit(':').next().unwrap().to_string();
    let foreign = ui.request(
        "/reports/sweep/report.html",
        &[("Host", &format!("evil.example:{port}"))],
    );
    assert_eq!(foreign.status, 421);
    let public = UiServer::start(&p, &["--host", "0.0.0.0", "--token", "s3cret"]);
    assert_eq!(public.get("/reports/sweep/report.html").status, 401);
    assert_eq!(
        public.get("/reports/sweep/report.html?token=s3cret").status,
        200
    );
}

#[test]
fn the_fingerprint_changes_when_runs_come_or_change_status() {
    let mut p = sweep();
    let ui = UiServer::start(&p, &[]);
    let fp = |ui: &UiServer| ui.get("/api/changes").json();
    let before = fp(&ui);
    assert_eq!(before["runs"], 5);
    assert_eq!(before, fp(&ui), "nothing changed");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    p.add_run(
        "sweep",
        "late",
        ox_core::Status::Failed,
        serde_json::json!({"lr": 0.3}),
        &[(0, vec![("loss", 0.25)])],
    );
    let after = fp(&ui);
    assert_eq!(after["runs"], 6);
    assert_eq!(
        after["status"]["failed"],
        before["status"]["failed"].as_u64().unwrap_or(0) + 1
    );
    assert!(after["written"].as_i64() > before["written"].as_i64());
}
