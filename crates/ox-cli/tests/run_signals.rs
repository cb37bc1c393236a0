//! `ox run` and signals: stop signals reach the command's whole process group and nothing is
//! left running; a supervisor killed with SIGKILL takes its command with it and leaves a
//! `running` record that readers can tell is dead (pid + pid_start_ticks).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod run_support;

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use run_support::*;

/// A shell whose background `sleep` is a grandchild of ox in the same process group.
const TREE: &str = "sleep 300 & echo $! > bg.pid; echo $$ > sh.pid; echo started; wait";

fn stop_with(signal: i32) -> (TestProject, std::process::ExitStatus, Duration) {
    let p = TestProject::new();
    let mut ox = p.spawn_ox(&["run", "--", "sh", "-c", TREE], &[("OX_KILL_GRACE", "30")]);
    let sh = pid_file(&p, "sh.pid");
    let bg = pid_file(&p, "bg.pid");
    assert!(is_running(sh) && is_running(bg));
    // While the supervisor lives, readers see the run as running (pid and start ticks match).
    let ls = p.ox(&["ls", "--format", "json"]).output().unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&ls.stdout).unwrap();
    assert_eq!(listed[0]["status"], "running", "{listed}");
    let sent = Instant::now();
    send_signal(ox.id(), signal);
    let status = wait_with_limit(&mut ox, Duration::from_secs(20));
    let took = sent.elapsed();
    assert!(
        gone_or_kill(&[sh, bg], Duration::from_secs(2)),
        "a process of the run survived"
    );
    (p, status, took)
}

#[test]
fn sigterm_stops_the_whole_group() {
    let (p, status, took) = stop_with(libc::SIGTERM);
    assert_eq!(status.code(), Some(128 + libc::SIGTERM));
    assert!(
        took < Duration::from_secs(10),
        "took {took:?}: waited for the grace period"
    );
    let run = p.only_run();
    assert_eq!(run["status"], "killed");
    assert_eq!(run["exit_code"], 128 + libc::SIGTERM);
    assert!(run["ended"].is_string());
    let log = p.read(&format!(
        ".ox/runs/{}/stdout.log",
        run["id"].as_str().unwrap()
    ));
    assert!(log.contains("started"));
}

#[test]
fn ctrl_c_stops_the_whole_group() {
    // The background sleep of a non-interactive shell ignores SIGINT; it must still be
    // stopped once the shell has gone, without waiting for the grace period.
    let (p, status, took) = stop_with(libc::SIGINT);
    assert_eq!(status.code(), Some(128 + libc::SIGINT));
    assert!(
        took < Duration::from_secs(10),
        "took {took:?}: waited for the grace period"
    );
    assert_eq!(p.only_run()["status"], "killed");
}

#[test]
fn hangup_stops_the_whole_group() {
    let (p, status, _) = stop_with(libc::SIGHUP);
    // SIGHUP is forwarded as SIGTERM.
    assert_eq!(status.code(), Some(128 + libc::SIGTERM));
    assert_eq!(p.only_run()["status"], "killed");
}

#[test]
fn a_command_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let p = TestProject::new();
    let script = "trap '' TERM INT; echo $$ > sh.pid; sleep 300; echo not reached";
    let mut ox = p.spawn_ox(
        &["run", "--", "sh", "-c", script],
        &[("OX_KILL_GRACE", "0.5")],
    );
    let sh = pid_file(&p, "sh.pid");
    std::thread::sleep(Duration::from_millis(100));
    let sent = Instant::now();
    send_signal(ox.id(), libc::SIGTERM);
    let status = wait_with_limit(&mut ox, Duration::from_secs(20));
    assert!(sent.elapsed() >= Duration::from_millis(500));
    assert_eq!(status.code(), Some(128 + libc::SIGKILL));
    assert!(gone_or_kill(&[sh], Duration::from_secs(2)));
    let run = p.only_run();
    assert_eq!(run["status"], "killed");
    assert_eq!(run["exit_code"], 128 + libc::SIGKILL);
}

#[test]
fn leftovers_of_a_finished_command_are_stopped() {
    let p = TestProject::new();
    let started = Instant::now();
    let out = p
        .ox(&[
            "run",
            "--",
            "sh",
            "-c",
            "sleep 300 > /dev/null 2>&1 & echo $! > bg.pid; exit 0",
        ])
        .env("OX_KILL_GRACE", "30")
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert!(out.status.success());
    // SIGTERM right away, not SIGKILL after the grace period.
    assert!(started.elapsed() < Duration::from_secs(10));
    let bg = pid_file(&p, "bg.pid");
    assert!(
        gone_or_kill(&[bg], Duration::from_secs(2)),
        "the background sleep outlived the run"
    );
    assert_eq!(p.only_run()["status"], "completed");
}

#[test]
fn sigkill_of_the_supervisor_takes_the_command_with_it() {
    let p = TestProject::new();
    let mut ox = p.spawn_ox(
        &[
            "run",
            "--",
            "sh",
            "-c",
            "echo before; echo $$ > child.pid; exec sleep 300",
        ],
        &[],
    );
    let child = pid_file(&p, "child.pid");
    let ox_stat = std::fs::read_to_string(format!("/proc/{}/stat", ox.id())).unwrap();
    let ox_start_ticks: u64 = ox_stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap();
    let ox_pid = ox.id();
    // Output the supervisor has saved survives its crash. (Bytes still in the pipe when it
    // is killed cannot be saved by anyone, so wait until the line has reached the log.)
    let run_id = p.only_run()["id"].as_str().unwrap().to_string();
    let log_path = format!(".ox/runs/{run_id}/stdout.log");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !p.read(&log_path).contains("before\n") {
        assert!(
            Instant::now() < deadline,
            "the first line never reached stdout.log"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    send_signal(ox_pid, libc::SIGKILL);
    let status = wait_with_limit(&mut ox, Duration::from_secs(10));
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert!(
        gone_or_kill(&[child], Duration::from_secs(5)),
        "the command outlived its supervisor"
    );
    let run = p.only_run();
    // Nobody wrote a final status: readers see `running` with a dead pid and call it crashed.
    assert_eq!(run["status"], "running");
    assert_eq!(run["pid"], ox_pid);
    assert_eq!(run["pid_start_ticks"], ox_start_ticks);
    assert!(run["ended"].is_null());
    // ... which `ox ls` reports as crashed.
    let ls = p.ox(&["ls", "--format", "json"]).output().unwrap();
    assert!(
        ls.status.success(),
        "{}",
        String::from_utf8_lossy(&ls.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&ls.stdout).unwrap();
    assert_eq!(listed[0]["id"], run["id"]);
    assert_eq!(listed[0]["status"], "crashed", "{listed}");
    // Output saved before the crash is still on disk.
    let log = p.read(&log_path);
    assert!(log.contains("before\n"), "{log:?}");
}

#[test]
fn sigkill_of_the_supervisor_also_ends_grandchildren() {
    let p = TestProject::new();
    let mut ox = p.spawn_ox(&["run", "--", "sh", "-c", TREE], &[("OX_KILL_GRACE", "2")]);
    let sh = pid_file(&p, "sh.pid");
    let bg = pid_file(&p, "bg.pid");
    assert!(is_running(sh) && is_running(bg));
    send_signal(ox.id(), libc::SIGKILL);
    wait_with_limit(&mut ox, Duration::from_secs(10));
    // PDEATHSIG ends the shell; the watchdog ends its background sleep.
    assert!(
        gone_or_kill(&[sh, bg], Duration::from_secs(5)),
        "a grandchild outlived its killed supervisor"
    );
}

#[test]
fn a_closed_console_does_not_stop_the_run() {
    let p = TestProject::new();
    let mut ox = p.spawn_ox(
        &[
            "run",
            "--",
            "sh",
            "-c",
            "echo first; sleep 0.3; echo second; echo done > done.txt",
        ],
        &[],
    );
    // Like `ox run ... | head -1`: the reader goes away after the first line.
    let mut stdout = ox.stdout.take().unwrap();
    let mut first = [0u8; 6];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    assert_eq!(&first, b"first\n");
    drop(stdout);
    let status = wait_with_limit(&mut ox, Duration::from_secs(20));
    assert_eq!(status.code(), Some(0));
    assert_eq!(p.read("done.txt"), "done\n");
    let run = p.only_run();
    assert_eq!(run["status"], "completed");
    let log = p.read(&format!(
        ".ox/runs/{}/stdout.log",
        run["id"].as_str().unwrap()
    ));
    assert_eq!(log, "first\nsecond\n");
}
