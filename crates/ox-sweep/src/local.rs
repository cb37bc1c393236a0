//! The local executor: a pool that runs members' commands as child processes, at most
//! `max_parallel` at once, each member's steps in order, handing each member its own GPUs.
//!
//! Each command starts in its own process group with `PR_SET_PDEATHSIG = SIGTERM`, so a
//! terminal's Ctrl-C reaches only `ox sweep` (which then stops every member with SIGTERM and
//! waits for them) and a killed `ox sweep` still takes its members down. The commands are
//! `ox run` supervisors, which forward the signal to their own command's group and record
//! the run as `killed`.

use std::ffi::OsString;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One member for the pool: its commands (pipeline steps) in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolJob {
    pub commands: Vec<Vec<OsString>>,
}

/// Limits of the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolOptions {
    /// Members running at once (at least 1).
    pub max_parallel: usize,
    /// GPU ids to hand out; empty: none are assigned.
    pub gpus: Vec<String>,
    /// GPUs per member (with `gpus`).
    pub gpus_per_member: usize,
}

impl PoolOptions {
    /// The members that can run at once: `max_parallel`, and no more than the GPU groups.
    pub fn slots(&self) -> usize {
        let by_gpu = if self.gpus.is_empty() {
            usize::MAX
        } else {
            self.gpus.len() / self.gpus_per_member.max(1)
        };
        self.max_parallel.max(1).min(by_gpu.max(1))
    }
}

/// Something that happened to a job of the pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolEvent {
    /// Job `index` started its step `step` (with these GPUs, if any).
    Started {
        index: usize,
        step: usize,
        gpus: Option<String>,
    },
    /// Job `index` ended: all steps succeeded, or step `step` ended with `code` (`None`:
    /// it could not start or was killed by a signal).
    Finished {
        index: usize,
        ok: bool,
        step: usize,
        code: Option<i32>,
    },
}

/// Counts of the pool's progress, passed with every event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolCounts {
    pub total: usize,
    pub done: usize,
    pub failed: usize,
    pub running: usize,
}

struct Slot {
    index: usize,
    step: usize,
    child: Child,
    gpus: Vec<String>,
}

/// Runs `jobs` and returns the final counts. Once `stop` is set no job starts, the running
/// ones get SIGTERM (and their later steps are skipped), and the pool waits for them.
pub fn run_pool(
    jobs: &[PoolJob],
    options: &PoolOptions,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(&PoolEvent, &PoolCounts),
) -> PoolCounts {
    let slots = options.slots();
    let per_member = options.gpus_per_member.max(1);
    let mut free_gpus: Vec<String> = options.gpus.clone();
    let mut counts = PoolCounts {
        total: jobs.len(),
        ..PoolCounts::default()
    };
    let mut running: Vec<Slot> = Vec::new();
    let mut next = 0;
    let mut stopping = false;
    loop {
        if stop.load(Ordering::SeqCst) && !stopping {
            stopping = true;
            for slot in &running {
                terminate(&slot.child);
            }
        }
        while !stopping && running.len() < slots && next < jobs.len() {
            let gpus: Vec<String> = if options.gpus.is_empty() {
                Vec::new()
            } else {
                free_gpus.drain(..per_member.min(free_gpus.len())).collect()
            };
            let index = next;
            next += 1;
            match start(&jobs[index], 0, &gpus) {
                Ok(child) => {
                    counts.running += 1;
                    on_event(
                        &PoolEvent::Started {
                            index,
                            step: 0,
                            gpus: (!gpus.is_empty()).then(|| gpus.join(",")),
                        },
                        &counts,
                    );
                    running.push(Slot {
                        index,
                        step: 0,
                        child,
                        gpus,
                    });
                }
                Err(_) => {
                    free_gpus.extend(gpus);
                    counts.done += 1;
                    counts.failed += 1;
                    on_event(
                        &PoolEvent::Finished {
                            index,
                            ok: false,
                            step: 0,
                            code: None,
                        },
                        &counts,
                    );
                }
            }
        }
        if running.is_empty() && (stopping || next >= jobs.len()) {
            break;
        }
        let mut progressed = false;
        let mut i = 0;
        while i < running.len() {
            let status = match running[i].child.try_wait() {
                Ok(Some(s)) => Some(s),
                Ok(None) => None,
                // The child cannot be waited for (should not happen): count it as failed.
                Err(_) => Some(std::os::unix::process::ExitStatusExt::from_raw(1 << 8)),
            };
            let Some(status) = status else {
                i += 1;
                continue;
            };
            progressed = true;
            let slot = &mut running[i];
            let job = &jobs[slot.index];
            if status.success() && slot.step + 1 < job.commands.len() && !stopping {
                slot.step += 1;
                match start(job, slot.step, &slot.gpus) {
                    Ok(child) => {
                        slot.child = child;
                        on_event(
                            &PoolEvent::Started {
                                index: slot.index,
                                step: slot.step,
                                gpus: (!slot.gpus.is_empty()).then(|| slot.gpus.join(",")),
                            },
                            &counts,
                        );
                        i += 1;
                        continue;
                    }
                    Err(_) => {
                        let slot = running.swap_remove(i);
                        finish(&mut counts, &mut free_gpus, on_event, slot, false, None);
                        continue;
                    }
                }
            }
            let ok = status.success() && slot.step + 1 == job.commands.len();
            let slot = running.swap_remove(i);
            finish(
                &mut counts,
                &mut free_gpus,
                on_event,
                slot,
                ok,
                status.code(),
            );
        }
        if !progressed {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    counts
}

fn finish(
    counts: &mut PoolCounts,
    free_gpus: &mut Vec<String>,
    on_event: &mut dyn FnMut(&PoolEvent, &PoolCounts),
    slot: Slot,
    ok: bool,
    code: Option<i32>,
) {
    counts.running -= 1;
    counts.done += 1;
    if !ok {
        counts.failed += 1;
    }
    free_gpus.extend(slot.gpus);
    on_event(
        &PoolEvent::Finished {
            index: slot.index,
            ok,
            step: slot.step,
            code,
        },
        counts,
    );
}

fn terminate(child: &Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill has no memory-safety preconditions; the pid is our unreaped child.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }
}

fn start(job: &PoolJob, step: usize, gpus: &[String]) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    let Some((program, args)) = job.commands.get(step).and_then(|c| c.split_first()) else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "empty command",
        ));
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    if !gpus.is_empty() {
        cmd.env("CUDA_VISIBLE_DEVICES", gpus.join(","));
    }
    ox_exec::executor::die_with_parent(&mut cmd, libc::SIGTERM);
    cmd.spawn()
}

/// Seconds left, from the mean time of the members done so far (the mean already
/// reflects the slots running in parallel).
pub fn eta(started: Instant, counts: &PoolCounts) -> Option<Duration> {
    if counts.done == 0 {
        return None;
    }
    let per = started.elapsed().as_secs_f64() / counts.done as f64;
    let left = counts.total.saturating_sub(counts.done) as f64;
    Some(Duration::from_secs_f64(per * left))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<OsString> {
        vec!["sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn never_runs_more_than_max_parallel() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        // Each job records its start and end; the max overlap is computed afterwards.
        let jobs: Vec<PoolJob> = (0..8)
            .map(|i| PoolJob {
                commands: vec![sh(&format!(
                    "date +%s%N > {d}/{i}.start; sleep 0.15; date +%s%N > {d}/{i}.end"
                ))],
            })
            .collect();
        let options = PoolOptions {
            max_parallel: 3,
            gpus: Vec::new(),
            gpus_per_member: 1,
        };
        let mut max_running = 0;
        let counts = run_pool(&jobs, &options, &AtomicBool::new(false), &mut |_, c| {
            max_running = max_running.max(c.running);
        });
        assert_eq!((counts.done, counts.failed), (8, 0));
        assert_eq!(max_running, 3);
        let read =
            |p: String| -> u128 { std::fs::read_to_string(p).unwrap().trim().parse().unwrap() };
        let spans: Vec<(u128, u128)> = (0..8)
            .map(|i| (read(format!("{d}/{i}.start")), read(format!("{d}/{i}.end"))))
            .collect();
        let overlap = spans
            .iter()
            .map(|(s, _)| spans.iter().filter(|(a, b)| a <= s && s < b).count())
            .max()
            .unwrap();
        assert!(overlap <= 3, "observed {overlap} at once");
    }

    #[test]
    fn gives_each_member_its_own_gpus_and_stops_failed_pipelines() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let jobs: Vec<PoolJob> = (0..4)
            .map(|i| PoolJob {
                commands: vec![
                    sh(&format!(
                        "echo $CUDA_VISIBLE_DEVICES > {d}/{i}.gpus; sleep 0.1; exit {}",
                        i % 2
                    )),
                    sh(&format!("touch {d}/{i}.second")),
                ],
            })
            .collect();
        let options = PoolOptions {
            max_parallel: 8,
            gpus: ["0", "1", "2", "3"].map(String::from).to_vec(),
            gpus_per_member: 2,
        };
        assert_eq!(options.slots(), 2);
        let counts = run_pool(&jobs, &options, &AtomicBool::new(false), &mut |_, _| {});
        assert_eq!((counts.done, counts.failed), (4, 2));
        let mut seen = Vec::new();
        for i in 0..4 {
            let g = std::fs::read_to_string(format!("{d}/{i}.gpus")).unwrap();
            assert!(["0,1", "2,3"].contains(&g.trim()), "{g}");
            seen.push(g);
            assert_eq!(
                std::path::Path::new(&format!("{d}/{i}.second")).exists(),
                i % 2 == 0
            );
        }
        // The two members running at once never shared a GPU.
        assert_ne!(seen[0], seen[1]);
    }

    #[test]
    fn stop_ends_running_members_and_starts_no_more() {
        let jobs: Vec<PoolJob> = (0..5)
            .map(|_| PoolJob {
                commands: vec![sh("sleep 30")],
            })
            .collect();
        let options = PoolOptions {
            max_parallel: 2,
            gpus: Vec::new(),
            gpus_per_member: 1,
        };
        let stop = AtomicBool::new(false);
        let started = Instant::now();
        let counts = run_pool(&jobs, &options, &stop, &mut |e, _| {
            if matches!(e, PoolEvent::Started { index: 1, .. }) {
                stop.store(true, Ordering::SeqCst);
            }
        });
        assert_eq!((counts.done, counts.running), (2, 0));
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
