//! Helpers shared by the `ox run` integration tests: a temporary project and process checks.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A temporary directory with an initialised `.ox` project.
pub struct TestProject {
    dir: tempfile::TempDir,
}

impl TestProject {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let p = TestProject { dir };
        assert!(p.ox(&["init"]).output().unwrap().status.success());
        p
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `ox ARGS` in the project, with a clean ox environment and fast sampling.
    pub fn ox(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_ox"));
        cmd.current_dir(self.root()).args(args);
        for var in ox_test_support::OX_ENV_VARS {
            cmd.env_remove(var);
        }
        cmd.env("OX_SAMPLE_INTERVAL", "0.2");
        cmd
    }

    /// `ox ARGS` as a plain child process (for tests that signal it).
    pub fn spawn_ox(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Child {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ox"));
        cmd.current_dir(self.root())
            .args(args)
            .env_remove("OX_DIR")
            .env("OX_SAMPLE_INTERVAL", "0.2")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.spawn().unwrap()
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root().join(rel)).unwrap()
    }

    /// Waits until `rel` exists and is non-empty, then returns its content.
    pub fn wait_for_file(&self, rel: &str) -> String {
        let path = self.root().join(rel);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(text) = std::fs::read_to_string(&path)
                && text.ends_with('\n')
            {
                return text;
            }
            assert!(Instant::now() < deadline, "{rel} never appeared");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn run_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_dir(self.root().join(".ox/runs"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        ids.sort();
        ids
    }

    pub fn runs(&self) -> Vec<Value> {
        self.run_ids()
            .iter()
            .map(|id| serde_json::from_str(&self.read(&format!(".ox/runs/{id}/run.json"))).unwrap())
            .collect()
    }

    /// The single run of the project (fails when there is not exactly one).
    pub fn only_run(&self) -> Value {
        let mut runs = self.runs();
        assert_eq!(runs.len(), 1, "{runs:?}");
        runs.remove(0)
    }

    pub fn git(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .current_dir(self.root())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

pub fn git_available() -> bool {
    std::process::Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

pub fn hostname() -> String {
    let out = std::process::Command::new("hostname").output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => std::fs::read_to_string("/proc/sys/kernel/hostname")
            .unwrap()
            .trim()
            .to_string(),
    }
}

/// Whether process `pid` is running: it exists and is not a zombie waiting to be reaped.
pub fn is_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().chars().next());
            !matches!(state, Some(Some('Z' | 'X')))
        }
        Err(_) => false,
    }
}

/// Waits up to `limit` for every pid in `pids` to stop running.
pub fn wait_gone(pids: &[u32], limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if pids.iter().all(|&p| !is_running(p)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Like [`wait_gone`], but SIGKILLs survivors before reporting failure, so a failing test
/// leaves nothing running.
pub fn gone_or_kill(pids: &[u32], limit: Duration) -> bool {
    if wait_gone(pids, limit) {
        return true;
    }
    for &pid in pids {
        if is_running(pid) {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGKILL);
            }
        }
    }
    false
}

/// Waits for a child process with a time limit, killing it if it does not end.
pub fn wait_with_limit(
    child: &mut std::process::Child,
    limit: Duration,
) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ox did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `signal` to process `pid`.
pub fn send_signal(pid: u32, signal: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    let rc = unsafe { libc::kill(pid as libc::pid_t, signal) };
    assert_eq!(rc, 0, "kill({pid}, {signal})");
}

pub fn pid_file(p: &TestProject, rel: &str) -> u32 {
    p.wait_for_file(rel).trim().parse().unwrap()
}

pub fn path_of(p: &TestProject, rel: &str) -> PathBuf {
    p.root().join(rel)
}
