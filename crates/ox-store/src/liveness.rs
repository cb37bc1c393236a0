//! Deciding whether a run that says `running` still has a live process.
//!
//! Same host: the recorded pid must exist and, when the run recorded it, have the same start
//! time (`pid_start_ticks`, field 22 of `/proc/<pid>/stat`), so a reused pid is not mistaken
//! for the run's process. Other host: the run's files must have changed within
//! `stale_after` (the supervisor appends a system sample every few seconds: a heartbeat).

use std::path::Path;
use std::time::{Duration, SystemTime};

/// What is known about a `running` run's process.
#[derive(Debug, Clone)]
pub struct ProcessRecord<'a> {
    pub pid: Option<u32>,
    pub pid_start_ticks: Option<u64>,
    pub host: Option<&'a str>,
    /// Newest modification time of the run's files.
    pub heartbeat: Option<SystemTime>,
}

/// The facts a liveness decision depends on, injectable for tests.
pub trait ProcessTable {
    /// This machine's host name.
    fn host(&self) -> Option<&str>;
    /// Start time (clock ticks since boot) of a live process, `None` when there is none.
    /// `Some(None)` means the process exists but its start time is unknown.
    fn start_ticks(&self, pid: u32) -> Option<Option<u64>>;
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The real process table of this machine (Linux `/proc`).
#[derive(Debug)]
pub struct LocalProcesses {
    host: Option<String>,
}

impl LocalProcesses {
    /// Reads the host name once.
    pub fn new() -> Self {
        LocalProcesses {
            host: hostname::get().ok().and_then(|h| h.into_string().ok()),
        }
    }
}

impl Default for LocalProcesses {
    fn default() -> Self {
        Self::new()
    }
}

impl ProcessTable for LocalProcesses {
    fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }
    fn start_ticks(&self, pid: u32) -> Option<Option<u64>> {
        let proc_dir = Path::new("/proc");
        if !proc_dir.is_dir() {
            // No /proc (not Linux): we cannot tell, so the process counts as alive.
            return Some(None);
        }
        let stat = std::fs::read_to_string(proc_dir.join(pid.to_string()).join("stat")).ok()?;
        // A zombie (killed, not yet reaped by its parent) has exited: it is gone.
        if matches!(parse_state(&stat), Some('Z' | 'X' | 'x')) {
            return None;
        }
        Some(parse_start_ticks(&stat))
    }
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Field 22 (starttime) of a `/proc/<pid>/stat` line. The command name (field 2) is in
/// parentheses and may itself contain spaces and parentheses, so fields are counted from
/// the last `)`.
pub fn parse_start_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    // After the name come fields 3.. ; starttime is field 22, i.e. the 20th from here.
    after.split_whitespace().nth(19)?.parse().ok()
}

/// Field 3 (state: R, S, D, Z, ...) of a `/proc/<pid>/stat` line.
pub fn parse_state(stat: &str) -> Option<char> {
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .next()?
        .chars()
        .next()
}

/// Whether the process of a `running` run is gone.
pub fn is_gone(
    record: &ProcessRecord<'_>,
    table: &dyn ProcessTable,
    stale_after: Duration,
) -> bool {
    let same_host = match (record.host, table.host()) {
        (Some(run_host), Some(here)) => run_host == here,
        // A run without a host was written here by something old or hand-made.
        (None, _) => true,
        (Some(_), None) => false,
    };
    if same_host && let Some(pid) = record.pid {
        return match table.start_ticks(pid) {
            None => true,
            Some(Some(ticks)) => record.pid_start_ticks.is_some_and(|want| want != ticks),
            Some(None) => false,
        };
    }
    match record.heartbeat {
        Some(beat) => table
            .now()
            .duration_since(beat)
            .is_ok_and(|age| age > stale_after),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct FakeTable {
        pids: Vec<(u32, Option<u64>)>,
        now: SystemTime,
    }
    impl ProcessTable for FakeTable {
        fn host(&self) -> Option<&str> {
            Some("here")
        }
        fn start_ticks(&self, pid: u32) -> Option<Option<u64>> {
            self.pids.iter().find(|(p, _)| *p == pid).map(|(_, t)| *t)
        }
        fn now(&self) -> SystemTime {
            self.now
        }
    }

    #[test]
    fn parses_start_ticks_past_odd_command_names() {
        let stat = "1234 (we ird) (name)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100";
        assert_eq!(parse_start_ticks(stat), Some(987654));
        assert_eq!(parse_state(stat), Some('S'));
        assert_eq!(parse_start_ticks("garbage"), None);
    }

    #[test]
    fn decides_by_pid_on_same_host_and_by_heartbeat_elsewhere() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(10_000);
        let table = FakeTable {
            pids: vec![(10, Some(500)), (11, None)],
            now,
        };
        let stale = Duration::from_secs(600);
        let rec = |pid, ticks, host, beat_age: u64| ProcessRecord {
            pid: Some(pid),
            pid_start_ticks: ticks,
            host,
            heartbeat: Some(now - Duration::from_secs(beat_age)),
        };
        assert!(!is_gone(
            &rec(10, Some(500), Some("here"), 9999),
            &table,
            stale
        ));
        assert!(
            is_gone(&rec(10, Some(499), Some("here"), 0), &table, stale),
            "pid reused"
        );
        assert!(
            is_gone(&rec(12, None, Some("here"), 0), &table, stale),
            "pid dead"
        );
        assert!(
            !is_gone(&rec(11, Some(1), Some("here"), 0), &table, stale),
            "ticks unknown"
        );
        assert!(
            !is_gone(&rec(12, None, Some("there"), 60), &table, stale),
            "fresh heartbeat"
        );
        assert!(
            is_gone(&rec(12, None, Some("there"), 601), &table, stale),
            "stale heartbeat"
        );
    }

    #[test]
    fn a_zombie_is_gone() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        // Not waited for yet: the exited child stays a zombie until we reap it.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while parse_state(&std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap())
            != Some('Z')
        {
            assert!(std::time::Instant::now() < deadline, "child did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(LocalProcesses::new().start_ticks(pid), None);
        child.wait().unwrap();
    }

    #[test]
    fn this_process_is_alive_here() {
        let table = LocalProcesses::new();
        let me = std::process::id();
        let stat = std::fs::read_to_string(format!("/proc/{me}/stat")).unwrap();
        let rec = ProcessRecord {
            pid: Some(me),
            pid_start_ticks: parse_start_ticks(&stat),
            host: table.host(),
            heartbeat: None,
        };
        assert!(!is_gone(&rec, &table, Duration::from_secs(1)));
    }
}
