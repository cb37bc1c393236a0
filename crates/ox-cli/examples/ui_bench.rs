#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The `ox ui` figures of issue 14, printed (run by `bench/ui.sh`, which generates the
//! projects and builds in release mode):
//!
//! - `GET /api/runs` of a project of 10,000 runs (median of 20, target < 100 ms);
//! - `GET /api/series` of 100 runs × 100,000 steps at 1,000 points: the first request (files
//!   read and downsampled) and the following ones (cached), target < 300 ms;
//! - the runs page of 10,000 runs in headless Chromium: from navigation until the table has
//!   drawn its rows (median of 5, target < 1 s).
//!
//! usage: ui_bench OX_BINARY RUNS_PROJECT SERIES_PROJECT

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use ox_test_support::browser::Browser;
use ox_test_support::http::raw_request;

struct Ui {
    child: Child,
    addr: String,
}

impl Drop for Ui {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(ox: &Path, project: &Path) -> Ui {
    let mut child = Command::new(ox)
        .args(["ui", "--port", "0"])
        .current_dir(project)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    reader.read_line(&mut line).unwrap();
    // Keep the pipe open and drained while the server runs.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap();
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    Ui { child, addr }
}

fn get_ms(ui: &Ui, path: &str) -> (f64, usize) {
    let t = Instant::now();
    let r = raw_request(&ui.addr, "GET", path, &[("Host", &ui.addr)]);
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    (t.elapsed().as_secs_f64() * 1000.0, r.body.len())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, ox, runs_project, series_project] = args.as_slice() else {
        eprintln!("usage: ui_bench OX_BINARY RUNS_PROJECT SERIES_PROJECT");
        std::process::exit(2);
    };
    let ox = Path::new(ox);

    // The very first request races the server's own start-up filling of the run objects.
    let ui = start(ox, Path::new(runs_project));
    let (racing, _) = get_ms(&ui, "/api/runs?q=");
    drop(ui);
    // A user's first page load comes a moment after `ox ui` printed its URL.
    let ui = start(ox, Path::new(runs_project));
    std::thread::sleep(std::time::Duration::from_secs(3));
    let (first, bytes) = get_ms(&ui, "/api/runs?q=");
    println!(
        "GET /api/runs, 10,000 runs ({:.1} MB): first request 3 s after start {first:.0} ms; \
         at the very start (racing the start-up fill) {racing:.0} ms (target < 100 ms)",
        bytes as f64 / 1e6,
    );
    let times: Vec<f64> = (0..20).map(|_| get_ms(&ui, "/api/runs?q=").0).collect();
    println!(
        "GET /api/runs, 10,000 runs, the same query again: median {:.1} ms of 20",
        median(times)
    );
    // A different query each time: stamps looked up, kept run objects joined.
    let fresh: Vec<f64> = (0..10)
        .map(|i| get_ms(&ui, &format!("/api/runs?q=id+%21%3D+%27none{i}%27")).0)
        .collect();
    println!(
        "GET /api/runs, 10,000 runs, a new query each time: median {:.0} ms of 10",
        median(fresh)
    );
    let polls: Vec<f64> = (0..20).map(|_| get_ms(&ui, "/api/changes").0).collect();
    println!(
        "GET /api/changes (the pages' 2 s poll: refresh + fingerprint), 10,000 runs: median {:.1} ms of 20",
        median(polls)
    );
    let filtered: Vec<f64> = (0..20)
        .map(|_| {
            get_ms(
                &ui,
                "/api/runs?q=lr+%3C+1e-3+ORDER+BY+metrics.loss+LIMIT+50",
            )
            .0
        })
        .collect();
    println!(
        "GET /api/runs?q=lr < 1e-3 ORDER BY metrics.loss LIMIT 50: median {:.1} ms",
        median(filtered)
    );

    match Browser::launch(1280, 800) {
        Some(mut b) => {
            let url = format!("http://{}/", ui.addr);
            let mut drawn = Vec::new();
            for _ in 0..5 {
                b.goto("about:blank");
                let t = Instant::now();
                b.call("Page.navigate", serde_json::json!({"url": url}))
                    .unwrap();
                assert!(b.wait_for_within(
                    "document.body.dataset.loaded === 'runs' && document.querySelectorAll('#runs-grid .row').length > 10",
                    std::time::Duration::from_secs(30)
                ));
                drawn.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            let in_page = b.eval("window.oxRunsDrawnMs").as_f64().unwrap_or(f64::NAN);
            println!(
                "runs page of 10,000 runs in Chromium, navigation to rows drawn: median {:.0} ms of 5 (fetch + parse + draw inside the page: {in_page:.0} ms; target < 1 s)",
                median(drawn)
            );
        }
        None => println!("runs page in Chromium: skipped (no Chromium)"),
    }
    drop(ui);

    let ui = start(ox, Path::new(series_project));
    let runs = raw_request(&ui.addr, "GET", "/api/runs?q=", &[("Host", &ui.addr)]).json();
    let ids: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let path = format!("/api/series?runs={}&metric=loss&points=1000", ids.join(","));
    let (cold, bytes) = get_ms(&ui, &path);
    let warm: Vec<f64> = (0..10).map(|_| get_ms(&ui, &path).0).collect();
    println!(
        "GET /api/series, {} runs × 100,000 steps → 1,000 points each ({:.1} MB): first {cold:.0} ms \
         (from the catalog's envelopes), then median {:.1} ms of 10 (target < 300 ms)",
        ids.len(),
        bytes as f64 / 1e6,
        median(warm)
    );
    // A zoom into a tenth of the steps: still coarser in the envelopes than asked, so read.
    let zoom = format!(
        "/api/series?runs={}&metric=loss&points=1000&from=40000&to=50000",
        ids[..10].join(",")
    );
    let (zoomed, _) = get_ms(&ui, &zoom);
    println!(
        "GET /api/series, zoom to steps 40,000–50,000 of 10 of those runs: {zoomed:.0} ms (files read)"
    );
    // Finer than the envelopes (a deep zoom): the files are read.
    let fine = format!(
        "/api/series?runs={}&metric=loss&points=20000",
        ids.join(",")
    );
    let (file_read, bytes) = get_ms(&ui, &fine);
    println!(
        "GET /api/series, same runs at 20,000 points each ({:.1} MB): {file_read:.0} ms (files read and parsed)",
        bytes as f64 / 1e6
    );
}
