//! Processes as Linux's `/proc/<pid>/stat` shows them, and the identity of a run's process.
//!
//! One parser of the stat line and one [`ProcessTable`] trait serve both the `ox run`
//! supervisor's resource sampler (`ox-exec`) and the catalog's crash detection (`ox-store`).
//! A pid alone does not identify a process (pids are reused): with its start time in clock
//! ticks since boot (field 22, written to `run.json` as `pid_start_ticks`) it does.

/// What is known about one process, from `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    pub pid: u32,
    pub ppid: u32,
    pub pgrp: u32,
    /// Field 3: `R`, `S`, `D`, `Z` (zombie), `X` (dead), …
    pub state: u8,
    /// User + system CPU time in clock ticks.
    pub cpu_ticks: u64,
    /// Start time after boot in clock ticks: with the pid, identifies a process across pid
    /// reuse.
    pub start_ticks: u64,
    /// Resident set size in pages.
    pub rss_pages: u64,
}

impl ProcStat {
    /// Whether the process has exited and only waits to be reaped (a zombie uses no memory
    /// and runs nothing).
    pub fn is_zombie(&self) -> bool {
        matches!(self.state, b'Z' | b'X' | b'x')
    }
}

/// Parses the text of `/proc/<pid>/stat`. The command name (field 2) is in parentheses and
/// may itself contain spaces and parentheses, so fields are counted after its last `)`.
pub fn parse_stat(text: &str) -> Option<ProcStat> {
    let open = text.find('(')?;
    let pid = text.get(..open)?.trim().parse().ok()?;
    let close = text.rfind(')')?;
    // Fields from 3 (state) on; index 0 here is field 3.
    let mut fields = text.get(close + 1..)?.split_ascii_whitespace();
    let state = *fields.next()?.as_bytes().first()?;
    let rest: Vec<&str> = fields.take(21).collect();
    let num = |field: usize| -> Option<u64> { rest.get(field - 4)?.parse().ok() };
    Some(ProcStat {
        pid,
        ppid: u32::try_from(num(4)?).ok()?,
        pgrp: u32::try_from(num(5)?).ok()?,
        state,
        cpu_ticks: num(14)? + num(15)?,
        start_ticks: num(22)?,
        rss_pages: num(24)?,
    })
}

/// The processes of a machine: the real `/proc` ([`LinuxProcTable`]), or a scripted table
/// in tests.
pub trait ProcessTable: Send {
    /// Every process visible now. Processes that vanish while being read are skipped.
    fn snapshot(&mut self) -> Vec<ProcStat>;
    /// One process; `None` when it does not exist.
    fn stat(&self, pid: u32) -> Option<ProcStat>;
    /// Whether this table can see the machine's processes at all (`/proc` exists). When it
    /// cannot, a missing process proves nothing.
    fn is_available(&self) -> bool {
        true
    }
}

/// The Linux `/proc` filesystem.
#[derive(Debug, Default)]
pub struct LinuxProcTable {
    buf: String,
}

impl ProcessTable for LinuxProcTable {
    fn snapshot(&mut self) -> Vec<ProcStat> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return out;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            else {
                continue;
            };
            if let Some(stat) = read_stat_into(pid, &mut self.buf) {
                out.push(stat);
            }
        }
        out
    }

    fn stat(&self, pid: u32) -> Option<ProcStat> {
        read_stat(pid)
    }

    fn is_available(&self) -> bool {
        std::path::Path::new("/proc/self/stat").exists()
    }
}

fn read_stat_into(pid: &str, buf: &mut String) -> Option<ProcStat> {
    use std::io::Read;
    buf.clear();
    let mut file = std::fs::File::open(format!("/proc/{pid}/stat")).ok()?;
    file.read_to_string(buf).ok()?;
    parse_stat(buf)
}

/// Reads one process's stat line (`None` when it does not exist or `/proc` is absent).
pub fn read_stat(pid: u32) -> Option<ProcStat> {
    read_stat_into(&pid.to_string(), &mut String::new())
}

/// A process as a run records it: pid and start time (`run.json`'s `pid` and
/// `pid_start_ticks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessIdentity {
    pub pid: u32,
    /// `None` where `/proc` is absent.
    pub start_ticks: Option<u64>,
}

impl ProcessIdentity {
    /// The identity of the calling process.
    pub fn current() -> Self {
        let pid = std::process::id();
        ProcessIdentity {
            pid,
            start_ticks: read_stat(pid).map(|s| s.start_ticks),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_command_names() {
        let line = "4242 (my (weird) prog) S 4000 4242 4000 34816 4242 4194304 110 0 0 0 \
                    7 3 0 0 20 0 1 0 987654 10000000 250 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.pid, 4242);
        assert_eq!(s.ppid, 4000);
        assert_eq!(s.pgrp, 4242);
        assert_eq!(s.state, b'S');
        assert_eq!(s.cpu_ticks, 10);
        assert_eq!(s.start_ticks, 987654);
        assert_eq!(s.rss_pages, 250);
        assert!(!s.is_zombie());
        assert!(parse_stat("12 (x) S 1 2").is_none());
        assert!(parse_stat("garbage").is_none());
        assert!(parse_stat("").is_none());
    }

    #[test]
    fn reads_own_stat_and_identity() {
        let table = LinuxProcTable::default();
        assert!(table.is_available());
        let me = table.stat(std::process::id()).unwrap();
        assert_eq!(me.pid, std::process::id());
        assert!(me.rss_pages > 0);
        let id = ProcessIdentity::current();
        assert_eq!(id.pid, me.pid);
        assert_eq!(id.start_ticks, Some(me.start_ticks));
        assert!(
            LinuxProcTable::default()
                .snapshot()
                .iter()
                .any(|p| p.pid == me.pid)
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_stat_text_never_panics(s in "\\PC*") {
            let _ = parse_stat(&s);
        }
    }
}
