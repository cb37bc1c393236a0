//! Deciding whether a run that says `running` still has a live process.
//!
//! Same host: the recorded pid must exist and, when the run recorded it, have the same start
//! time (`pid_start_ticks`, field 22 of `/proc/<pid>/stat`, read by `ox_core::process`), so a
//! reused pid is not mistaken
//! for the run's process. Other host: the run's files must have changed within
//! `stale_after` (the supervisor appends a system sample every few seconds: a heartbeat).

use std::time::{Duration, SystemTime};

use ox_core::{LinuxProcTable, ProcessTable};

/// What is known about a `running` run's process.
#[derive(Debug, Clone)]
pub struct ProcessRecord<'a> {
    pub pid: Option<u32>,
    pub pid_start_ticks: Option<u64>,
    pub host: Option<&'a str>,
    /// Newest modification time of the run's files.
    pub heartbeat: Option<SystemTime>,
}

/// The machine a liveness decision runs on: its host name, clock and process table
/// (`ox_core::ProcessTable`, shared with the `ox run` sampler), injectable for tests.
pub trait Machine {
    /// This machine's host name.
    fn host(&self) -> Option<&str>;
    /// The current time.
    fn now(&self) -> SystemTime;
    /// The machine's processes.
    fn processes(&self) -> &dyn ProcessTable;
}

/// This machine: its host name, clock and `/proc`.
#[derive(Debug)]
pub struct LocalProcesses {
    host: Option<String>,
    table: LinuxProcTable,
}

impl LocalProcesses {
    /// Reads the host name once.
    pub fn new() -> Self {
        LocalProcesses {
            host: hostname::get().ok().and_then(|h| h.into_string().ok()),
            table: LinuxProcTable::default(),
        }
    }
}

impl Default for LocalProcesses {
    fn default() -> Self {
        Self::new()
    }
}

impl Machine for LocalProcesses {
    fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
    fn processes(&self) -> &dyn ProcessTable {
        &self.table
    }
}

/// Whether the process of a `running` run is gone.
pub fn is_gone(record: &ProcessRecord<'_>, machine: &dyn Machine, stale_after: Duration) -> bool {
    let same_host = match (record.host, machine.host()) {
        (Some(run_host), Some(here)) => run_host == here,
        // A run without a host was written here by something old or hand-made.
        (None, _) => true,
        (Some(_), None) => false,
    };
    if same_host && let Some(pid) = record.pid {
        let table = machine.processes();
        if !table.is_available() {
            // No /proc (not Linux): we cannot tell, so the process counts as alive.
            return false;
        }
        return match table.stat(pid) {
            None => true,
            // A zombie (killed, not yet reaped by its parent) has exited: it is gone.
            Some(stat) if stat.is_zombie() => true,
            Some(stat) => record
                .pid_start_ticks
                .is_some_and(|want| want != stat.start_ticks),
        };
    }
    match record.heartbeat {
        Some(beat) => machine
            .now()
            .duration_since(beat)
            .is_ok_and(|age| age > stale_after),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ox_core::ProcStat;

    struct FakeMachine {
        /// (pid, start ticks, state)
        pids: Vec<(u32, u64, u8)>,
        now: SystemTime,
        proc_available: bool,
    }
    impl ProcessTable for FakeMachine {
        fn snapshot(&mut self) -> Vec<ProcStat> {
            self.pids.iter().filter_map(|p| self.stat(p.0)).collect()
        }
        fn stat(&self, pid: u32) -> Option<ProcStat> {
            let &(pid, start_ticks, state) = self.pids.iter().find(|(p, _, _)| *p == pid)?;
            Some(ProcStat {
                pid,
                ppid: 1,
                pgrp: pid,
                state,
                cpu_ticks: 0,
                start_ticks,
                rss_pages: 0,
            })
        }
        fn is_available(&self) -> bool {
            self.proc_available
        }
    }
    impl Machine for FakeMachine {
        fn host(&self) -> Option<&str> {
            Some("here")
        }
        fn now(&self) -> SystemTime {
            self.now
        }
        fn processes(&self) -> &dyn ProcessTable {
            self
        }
    }

    #[test]
    fn decides_by_pid_on_same_host_and_by_heartbeat_elsewhere() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(10_000);
        let mut machine = FakeMachine {
            pids: vec![(10, 500, b'S'), (13, 700, b'Z')],
            now,
            proc_available: true,
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
            &machine,
            stale
        ));
        assert!(
            is_gone(&rec(10, Some(499), Some("here"), 0), &machine, stale),
            "pid reused"
        );
        assert!(
            !is_gone(&rec(10, None, Some("here"), 0), &machine, stale),
            "ticks not recorded"
        );
        assert!(
            is_gone(&rec(12, None, Some("here"), 0), &machine, stale),
            "pid dead"
        );
        assert!(
            is_gone(&rec(13, Some(700), Some("here"), 0), &machine, stale),
            "zombie"
        );
        assert!(
            !is_gone(&rec(12, None, Some("there"), 60), &machine, stale),
            "fresh heartbeat"
        );
        assert!(
            is_gone(&rec(12, None, Some("there"), 601), &machine, stale),
            "stale heartbeat"
        );
        machine.proc_available = false;
        assert!(
            !is_gone(&rec(12, None, Some("here"), 0), &machine, stale),
            "no /proc: cannot tell"
        );
    }

    #[test]
    fn a_zombie_is_gone() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        // Not waited for yet: the exited child stays a zombie until we reap it.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let machine = LocalProcesses::new();
        while !machine.processes().stat(pid).unwrap().is_zombie() {
            assert!(std::time::Instant::now() < deadline, "child did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
        let rec = ProcessRecord {
            pid: Some(pid),
            pid_start_ticks: None,
            host: machine.host(),
            heartbeat: None,
        };
        assert!(is_gone(&rec, &machine, Duration::from_secs(1)));
        child.wait().unwrap();
    }

    #[test]
    fn this_process_is_alive_here() {
        let machine = LocalProcesses::new();
        let me = ox_core::ProcessIdentity::current();
        let rec = ProcessRecord {
            pid: Some(me.pid),
            pid_start_ticks: me.start_ticks,
            host: machine.host(),
            heartbeat: None,
        };
        assert!(me.start_ticks.is_some());
        assert!(!is_gone(&rec, &machine, Duration::from_secs(1)));
    }
}
