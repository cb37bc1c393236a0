//! The process table as `/proc` shows it: parsing `/proc/<pid>/stat`, and selecting the
//! process tree of a run (descendants of its root, plus anything left in its process group).

use std::collections::{HashMap, HashSet};

/// What the sampler needs to know about one process, from `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    pub pid: u32,
    pub ppid: u32,
    pub pgrp: u32,
    /// `Z` (zombie) processes use no memory and are not "running".
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
    /// Whether the process has exited and only waits to be reaped.
    pub fn is_zombie(&self) -> bool {
        self.state == b'Z' || self.state == b'X'
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

/// A source of process snapshots: the real `/proc`, or a scripted table in tests.
pub trait ProcessTable: Send {
    /// Every process visible now. Processes that vanish while being read are skipped.
    fn snapshot(&mut self) -> Vec<ProcStat>;
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

/// Field 22 of `/proc/<pid>/stat` for `pid`: its start time in clock ticks since boot.
pub fn start_ticks(pid: u32) -> Option<u64> {
    read_stat(pid).map(|s| s.start_ticks)
}

/// The live (non-zombie) processes of a run: `root` and its descendants, plus members of
/// process group `pgid` that were orphaned (re-parented to init) but still belong to the run.
pub fn run_tree(table: &[ProcStat], root: u32, pgid: u32) -> Vec<ProcStat> {
    let mut children: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, p) in table.iter().enumerate() {
        children.entry(p.ppid).or_default().push(i);
    }
    let mut selected: HashSet<u32> = HashSet::new();
    let mut stack: Vec<u32> = table
        .iter()
        .filter(|p| p.pid == root || p.pgrp == pgid)
        .map(|p| p.pid)
        .collect();
    while let Some(pid) = stack.pop() {
        if !selected.insert(pid) {
            continue;
        }
        if let Some(kids) = children.get(&pid) {
            stack.extend(kids.iter().filter_map(|&i| table.get(i)).map(|p| p.pid));
        }
    }
    table
        .iter()
        .filter(|p| selected.contains(&p.pid) && !p.is_zombie())
        .copied()
        .collect()
}

/// Whether any live (non-zombie) process is still in process group `pgid`.
pub fn group_alive(table: &[ProcStat], pgid: u32) -> bool {
    table.iter().any(|p| p.pgrp == pgid && !p.is_zombie())
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`, 100 on virtually every Linux).
pub fn clock_ticks_per_sec() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(t).ok().filter(|&t| t > 0).unwrap_or(100)
}

/// The memory page size in bytes.
pub fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(p).ok().filter(|&p| p > 0).unwrap_or(4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn stat(pid: u32, ppid: u32, pgrp: u32, cpu: u64, rss: u64) -> ProcStat {
        ProcStat {
            pid,
            ppid,
            pgrp,
            state: b'S',
            cpu_ticks: cpu,
            start_ticks: u64::from(pid),
            rss_pages: rss,
        }
    }

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
        assert!(parse_stat("12 (x) S 1 2").is_none());
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn reads_own_stat() {
        let me = read_stat(std::process::id()).unwrap();
        assert_eq!(me.pid, std::process::id());
        assert!(me.rss_pages > 0);
        assert!(start_ticks(std::process::id()).is_some());
    }

    #[test]
    fn tree_follows_children_and_orphans_of_the_group() {
        let mut zombie = stat(13, 10, 10, 0, 0);
        zombie.state = b'Z';
        let table = vec![
            stat(1, 0, 1, 0, 0),
            stat(10, 5, 10, 1, 1),  // root
            stat(11, 10, 10, 1, 1), // child
            stat(12, 11, 99, 1, 1), // grandchild in another group
            zombie,                 // exited child: not counted
            stat(20, 1, 10, 1, 1),  // orphan still in the run's group
            stat(21, 20, 21, 1, 1), // its child
            stat(30, 1, 30, 1, 1),  // unrelated
        ];
        let mut pids: Vec<u32> = run_tree(&table, 10, 10).iter().map(|p| p.pid).collect();
        pids.sort_unstable();
        assert_eq!(pids, vec![10, 11, 12, 20, 21]);
        assert!(group_alive(&table, 10));
        assert!(!group_alive(&table, 99 + 1));
    }
}
