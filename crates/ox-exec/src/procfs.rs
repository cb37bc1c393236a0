//! Selecting the process tree of a run (descendants of its root, plus anything left in its
//! process group) from the process table (`ox_core::process`, which parses `/proc`), and the
//! clock-tick rate and page size that turn its numbers into seconds and bytes.

use std::collections::{HashMap, HashSet};

pub use ox_core::process::{LinuxProcTable, ProcStat, ProcessTable, parse_stat, read_stat};

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
