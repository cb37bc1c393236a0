//! Resource sampling: CPU%, RSS and GPU use of a run's process tree, written every few
//! seconds to `metrics/<id>_system.jsonl`. The file's modification time doubles as the run's
//! heartbeat (other hosts use it to tell a live run from a crashed one).

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::gpu::GpuProbe;
use crate::procfs::{self, ProcessTable};
use crate::seams::{Clock, unix_secs};

/// Default time between two samples.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(2);

/// The longest wait for the first sample.
const FIRST_SAMPLE_AFTER: Duration = Duration::from_millis(500);

/// One line of the system file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemSample {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Seconds since the Unix epoch.
    pub time: f64,
    /// CPU use of the whole tree since the previous sample; 100 = one core busy.
    pub cpu_percent: f64,
    pub rss_bytes: u64,
    /// Number of live processes in the tree.
    pub processes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_util_percent: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_mem_bytes: Option<u64>,
}

/// The largest values seen over a run, stored in run.json's `summary`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Peaks {
    pub rss_bytes: Option<u64>,
    pub gpu_mem_bytes: Option<u64>,
}

impl Peaks {
    fn record(&mut self, s: &SystemSample) {
        if s.processes > 0 {
            self.rss_bytes = Some(self.rss_bytes.unwrap_or(0).max(s.rss_bytes));
        }
        if let Some(g) = s.gpu_mem_bytes {
            self.gpu_mem_bytes = Some(self.gpu_mem_bytes.unwrap_or(0).max(g));
        }
    }
}

/// Takes samples of one run's tree. Pure over its seams: the process table and the GPU probe.
pub struct TreeSampler {
    table: Box<dyn ProcessTable>,
    gpu: Box<dyn GpuProbe>,
    root: u32,
    pgid: u32,
    ticks_per_sec: f64,
    page_size: u64,
    /// CPU ticks per process (`(pid, start ticks)`) at the previous sample.
    prev_ticks: HashMap<(u32, u64), u64>,
    prev_secs: f64,
    pids: Vec<u32>,
    peaks: Peaks,
}

impl TreeSampler {
    /// A sampler for the tree rooted at `root` (process group `pgid`), started at
    /// `start_secs` (a monotonic reading in seconds; CPU% of the first sample counts from it).
    pub fn new(
        table: Box<dyn ProcessTable>,
        gpu: Box<dyn GpuProbe>,
        root: u32,
        pgid: u32,
        start_secs: f64,
    ) -> Self {
        TreeSampler {
            table,
            gpu,
            root,
            pgid,
            ticks_per_sec: procfs::clock_ticks_per_sec() as f64,
            page_size: procfs::page_size(),
            prev_ticks: HashMap::new(),
            prev_secs: start_secs,
            pids: Vec::new(),
            peaks: Peaks::default(),
        }
    }

    /// Overrides the clock-tick rate and page size (tests with scripted tables).
    pub fn with_units(mut self, ticks_per_sec: f64, page_size: u64) -> Self {
        self.ticks_per_sec = ticks_per_sec;
        self.page_size = page_size;
        self
    }

    /// Takes one sample at monotonic time `now_secs`, stamped with wall time `time`.
    pub fn sample(&mut self, now_secs: f64, time: f64) -> SystemSample {
        let table = self.table.snapshot();
        let tree = procfs::run_tree(&table, self.root, self.pgid);
        let mut ticks = HashMap::with_capacity(tree.len());
        let mut delta_ticks = 0u64;
        let mut rss_pages = 0u64;
        self.pids.clear();
        for p in &tree {
            let key = (p.pid, p.start_ticks);
            let before = self.prev_ticks.get(&key).copied().unwrap_or(0);
            delta_ticks += p.cpu_ticks.saturating_sub(before);
            rss_pages += p.rss_pages;
            ticks.insert(key, p.cpu_ticks);
            self.pids.push(p.pid);
        }
        self.prev_ticks = ticks;
        let elapsed = now_secs - self.prev_secs;
        self.prev_secs = now_secs;
        let cpu_percent = if elapsed > 0.0 && self.ticks_per_sec > 0.0 {
            let pct = delta_ticks as f64 / self.ticks_per_sec / elapsed * 100.0;
            (pct * 10.0).round() / 10.0
        } else {
            0.0
        };
        let gpu = self.gpu.sample(&self.pids);
        let sample = SystemSample {
            kind: "system",
            time,
            cpu_percent,
            rss_bytes: rss_pages * self.page_size,
            processes: tree.len(),
            gpu_util_percent: gpu.map(|g| g.util_percent),
            gpu_mem_bytes: gpu.map(|g| g.mem_bytes),
        };
        self.peaks.record(&sample);
        sample
    }

    /// The peaks over all samples taken so far.
    pub fn peaks(&self) -> Peaks {
        self.peaks
    }
}

/// A sampler running on its own thread; [`SamplerThread::stop`] ends it and returns peaks.
pub struct SamplerThread {
    stop: mpsc::Sender<()>,
    handle: JoinHandle<(Peaks, Option<std::io::Error>)>,
}

impl SamplerThread {
    /// Starts sampling every `interval` into `path` (appending one line per sample). Write
    /// errors do not stop sampling (a full disk must not kill a training run); the first one
    /// is returned by [`SamplerThread::stop`].
    pub fn spawn(
        mut sampler: TreeSampler,
        path: PathBuf,
        interval: Duration,
        clock: Arc<dyn Clock>,
        epoch: Instant,
    ) -> std::io::Result<SamplerThread> {
        let mut file = fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        let (stop, rx) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new()
            .name("ox-sampler".into())
            .spawn(move || {
                let mut first_error = None;
                let mut line = Vec::with_capacity(256);
                // The first sample comes early so that short runs get one too.
                let mut next = Instant::now() + interval.min(FIRST_SAMPLE_AFTER);
                while let Err(RecvTimeoutError::Timeout) =
                    rx.recv_timeout(next.saturating_duration_since(Instant::now()))
                {
                    // After a suspend, go on from now instead of catching up.
                    next = (next + interval).max(Instant::now());
                    let sample =
                        sampler.sample(epoch.elapsed().as_secs_f64(), unix_secs(clock.now()));
                    line.clear();
                    if serde_json::to_writer(&mut line, &sample).is_ok() {
                        line.push(b'\n');
                        if let Err(e) = file.write_all(&line) {
                            first_error.get_or_insert(e);
                        }
                    }
                }
                (sampler.peaks(), first_error)
            })?;
        Ok(SamplerThread { stop, handle })
    }

    /// Stops the thread and returns the peaks it saw and the first write error, if any.
    pub fn stop(self) -> (Peaks, Option<std::io::Error>) {
        let _ = self.stop.send(());
        self.handle.join().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gpu::{GpuSample, NoGpu};
    use crate::procfs::ProcStat;
    use std::sync::Mutex;

    fn stat(pid: u32, ppid: u32, cpu: u64, rss: u64) -> ProcStat {
        ProcStat {
            pid,
            ppid,
            pgrp: 10,
            state: b'R',
            cpu_ticks: cpu,
            start_ticks: 1000 + u64::from(pid),
            rss_pages: rss,
        }
    }

    /// Plays back a list of snapshots, repeating the last one.
    struct Script(Arc<Mutex<Vec<Vec<ProcStat>>>>);
    impl ProcessTable for Script {
        fn snapshot(&mut self) -> Vec<ProcStat> {
            let mut v = self.0.lock().unwrap();
            if v.len() > 1 {
                v.remove(0)
            } else {
                v.first().cloned().unwrap_or_default()
            }
        }
        fn stat(&self, pid: u32) -> Option<ProcStat> {
            let v = self.0.lock().unwrap();
            v.first()?.iter().find(|p| p.pid == pid).copied()
        }
    }

    struct FakeGpu(Vec<Option<u64>>);
    impl GpuProbe for FakeGpu {
        fn sample(&mut self, pids: &[u32]) -> Option<GpuSample> {
            assert!(pids.contains(&10));
            let mem = if self.0.len() > 1 {
                self.0.remove(0)
            } else {
                *self.0.first()?
            };
            mem.map(|m| GpuSample {
                util_percent: 50.0,
                mem_bytes: m,
            })
        }
    }

    fn script(snaps: Vec<Vec<ProcStat>>) -> Box<dyn ProcessTable> {
        Box::new(Script(Arc::new(Mutex::new(snaps))))
    }

    #[test]
    fn cpu_percent_counts_tree_ticks_between_samples() {
        let snaps = vec![
            vec![stat(10, 1, 100, 1000), stat(11, 10, 50, 500)],
            // 2 s later: root used 200 ticks (2 s of one core), child 100, a new child 20.
            vec![
                stat(10, 1, 300, 1000),
                stat(11, 10, 150, 2000),
                stat(12, 11, 20, 100),
            ],
            // The children exited; root used one more second.
            vec![stat(10, 1, 400, 800)],
        ];
        let mut s =
            TreeSampler::new(script(snaps), Box::new(NoGpu), 10, 10, 0.0).with_units(100.0, 4096);
        let a = s.sample(1.0, 1e9);
        assert_eq!(a.cpu_percent, 150.0); // 150 ticks over 1 s
        assert_eq!(a.rss_bytes, 1500 * 4096);
        assert_eq!(a.processes, 2);
        assert_eq!(a.gpu_mem_bytes, None);
        let b = s.sample(3.0, 1e9 + 2.0);
        assert_eq!(b.cpu_percent, 160.0); // (200 + 100 + 20) ticks over 2 s
        assert_eq!(b.rss_bytes, 3100 * 4096);
        let c = s.sample(4.0, 1e9 + 3.0);
        assert_eq!(c.cpu_percent, 100.0);
        assert_eq!(s.peaks().rss_bytes, Some(3100 * 4096));
        assert_eq!(s.peaks().gpu_mem_bytes, None);
        let line = serde_json::to_string(&c).unwrap();
        assert!(
            line.starts_with(r#"{"type":"system","time":1000000003.0,"cpu_percent":100.0"#),
            "{line}"
        );
        assert!(!line.contains("gpu"), "{line}");
    }

    #[test]
    fn pid_reuse_is_not_mistaken_for_the_same_process() {
        let mut reused = stat(11, 10, 30, 10);
        reused.start_ticks = 99_999;
        let snaps = vec![
            vec![stat(10, 1, 0, 1), stat(11, 10, 500, 1)],
            vec![stat(10, 1, 0, 1), reused],
        ];
        let mut s =
            TreeSampler::new(script(snaps), Box::new(NoGpu), 10, 10, 0.0).with_units(100.0, 4096);
        s.sample(1.0, 0.0);
        assert_eq!(s.sample(2.0, 0.0).cpu_percent, 30.0);
    }

    #[test]
    fn gpu_peaks_come_from_the_probe() {
        let snaps = vec![vec![stat(10, 1, 0, 1)]];
        let gpu = FakeGpu(vec![Some(3 << 30), None, Some(5 << 30), Some(1 << 30)]);
        let mut s = TreeSampler::new(script(snaps), Box::new(gpu), 10, 10, 0.0);
        let first = s.sample(1.0, 0.0);
        assert_eq!(first.gpu_mem_bytes, Some(3 << 30));
        assert_eq!(first.gpu_util_percent, Some(50.0));
        assert_eq!(s.sample(2.0, 0.0).gpu_mem_bytes, None);
        s.sample(3.0, 0.0);
        s.sample(4.0, 0.0);
        assert_eq!(s.peaks().gpu_mem_bytes, Some(5 << 30));
    }

    #[test]
    fn thread_writes_one_line_per_sample() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x_system.jsonl");
        let snaps = vec![vec![stat(10, 1, 0, 7)]];
        let sampler =
            TreeSampler::new(script(snaps), Box::new(NoGpu), 10, 10, 0.0).with_units(100.0, 1);
        let clock: Arc<dyn Clock> = Arc::new(crate::seams::SystemClock);
        let t = SamplerThread::spawn(
            sampler,
            path.clone(),
            Duration::from_millis(20),
            clock,
            Instant::now(),
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let (peaks, error) = t.stop();
        assert!(error.is_none());
        assert_eq!(peaks.rss_bytes, Some(7));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.lines().count() >= 3, "{text}");
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["type"], "system");
            assert_eq!(v["rss_bytes"], 7);
        }
    }

    #[test]
    fn stop_does_not_wait_for_the_next_sample() {
        let dir = tempfile::tempdir().unwrap();
        let sampler = TreeSampler::new(script(vec![vec![]]), Box::new(NoGpu), 10, 10, 0.0);
        let clock: Arc<dyn Clock> = Arc::new(crate::seams::SystemClock);
        let path = dir.path().join("y_system.jsonl");
        let t = SamplerThread::spawn(
            sampler,
            path,
            Duration::from_secs(60),
            clock,
            Instant::now(),
        )
        .unwrap();
        let started = Instant::now();
        let (peaks, _) = t.stop();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "waited for the interval"
        );
        assert_eq!(peaks, Peaks::default());
    }
}
