//! Supervisor tests over a scripted executor (no real processes), plus the controller's
//! signal logic over a recording process group.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;

use super::*;
use crate::executor::{EnvChanges, OutputPipe, Process};
use crate::gpu::{GpuSample, NoGpu};
use crate::output::ObservedMetrics;
use crate::procfs::ProcStat;
use crate::seams::{FixedClock, ScriptedIds};

/// A group that records signals and dies on the first one in `fatal`.
#[derive(Default)]
struct FakeGroup {
    sent: Mutex<Vec<i32>>,
    fatal: Vec<i32>,
    dead: AtomicBool,
}

impl ProcessGroup for FakeGroup {
    fn id(&self) -> u32 {
        4242
    }
    fn signal(&self, signal: i32) {
        self.sent.lock().unwrap().push(signal);
        if self.fatal.contains(&signal) {
            self.dead.store(true, Ordering::SeqCst);
        }
    }
    fn alive(&self) -> bool {
        !self.dead.load(Ordering::SeqCst)
    }
}

struct FakeProcess {
    stdout: Option<Vec<u8>>,
    stderr: Option<Vec<u8>>,
    exit: ExitInfo,
    group: Arc<FakeGroup>,
    env_seen: Arc<Mutex<EnvChanges>>,
    spec_env: EnvChanges,
    metrics_line: Option<String>,
}

impl Process for FakeProcess {
    fn pid(&self) -> u32 {
        4242
    }
    fn group(&self) -> Arc<dyn ProcessGroup> {
        self.group.clone()
    }
    fn take_output(&mut self) -> (Option<OutputPipe>, Option<OutputPipe>) {
        let boxed = |v: Option<Vec<u8>>| {
            v.map(|v| Box::new(std::io::Cursor::new(v)) as Box<dyn Read + Send>)
        };
        (boxed(self.stdout.take()), boxed(self.stderr.take()))
    }
    fn wait(&mut self) -> std::io::Result<ExitInfo> {
        *self.env_seen.lock().unwrap() = self.spec_env.clone();
        // Like a training script using the Python client: declare params in the metrics file.
        if let Some(line) = &self.metrics_line {
            let path = self
                .spec_env
                .iter()
                .find(|(k, _)| k == "OX_METRICS_FILE")
                .and_then(|(_, v)| v.clone())
                .unwrap();
            let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
            std::io::Write::write_all(&mut f, line.as_bytes()).unwrap();
        }
        // Run long enough for a few resource samples.
        std::thread::sleep(Duration::from_millis(60));
        self.group.dead.store(true, Ordering::SeqCst);
        Ok(self.exit)
    }
}

struct FakeExecutor {
    script: Mutex<Option<FakeProcess>>,
    fail: Option<std::io::ErrorKind>,
}

impl Executor for FakeExecutor {
    fn start(&self, spec: &CommandSpec) -> std::io::Result<Box<dyn Process>> {
        if let Some(kind) = self.fail {
            return Err(kind.into());
        }
        let mut p = self.script.lock().unwrap().take().unwrap();
        p.spec_env = spec.env.clone();
        Ok(Box::new(p))
    }
}

/// Records what the supervisor shows on the console: (is stdout, bytes).
type Shown = Arc<Mutex<Vec<(bool, Vec<u8>)>>>;
struct Recorder(Shown, bool);
impl std::io::Write for Recorder {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().push((self.1, b.to_vec()));
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct OneProcessTable;
const ONE_PROCESS: ProcStat = ProcStat {
    pid: 4242,
    ppid: 1,
    pgrp: 4242,
    state: b'R',
    cpu_ticks: 5,
    start_ticks: 7,
    rss_pages: 10,
};
impl ProcessTable for OneProcessTable {
    fn snapshot(&mut self) -> Vec<ProcStat> {
        vec![ONE_PROCESS]
    }
    fn stat(&self, pid: u32) -> Option<ProcStat> {
        (pid == ONE_PROCESS.pid).then_some(ONE_PROCESS)
    }
}

struct SteadyGpu;
impl GpuProbe for SteadyGpu {
    fn sample(&mut self, _pids: &[u32]) -> Option<GpuSample> {
        Some(GpuSample {
            util_percent: 80.0,
            mem_bytes: 3 << 30,
        })
    }
}

fn fixed_time() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
        .unwrap()
        .to_utc()
}

fn supervisor(
    process: Option<FakeProcess>,
    fail: Option<std::io::ErrorKind>,
    gpu: bool,
) -> Supervisor {
    Supervisor {
        clock: Arc::new(FixedClock(fixed_time())),
        ids: Arc::new(ScriptedIds::new([RunId::parse("01testrun").unwrap()])),
        executor: Arc::new(FakeExecutor {
            script: Mutex::new(process),
            fail,
        }),
        sample_interval: Duration::from_millis(10),
        kill_grace: Duration::from_millis(200),
        console: None,
        handle_signals: false,
        process_table: Box::new(|| Box::new(OneProcessTable)),
        gpu: if gpu {
            Arc::new(|| Box::new(SteadyGpu))
        } else {
            Arc::new(|| Box::new(NoGpu))
        },
        offer_python_client: false,
    }
}

fn request() -> RunRequest {
    let mut params = Map::new();
    ox_core::set_param_spec(&mut params, "lr=3e-4").unwrap();
    ox_core::set_param_spec(&mut params, "model.layers=12").unwrap();
    RunRequest {
        study: Some("s1".into()),
        name: Some("first".into()),
        params,
        tags: vec!["baseline".into()],
        command: vec!["train".into(), "--fast".into()],
        cwd: std::env::temp_dir(),
        ..RunRequest::default()
    }
}

fn process(exit: ExitInfo, out: &[u8]) -> FakeProcess {
    FakeProcess {
        stdout: Some(out.to_vec()),
        stderr: Some(b"warn: slow\n".to_vec()),
        exit,
        group: Arc::new(FakeGroup::default()),
        env_seen: Arc::new(Mutex::new(Vec::new())),
        spec_env: Vec::new(),
        metrics_line: Some("{\"type\":\"params\",\"params\":{\"lr\":1,\"batch\":32}}\n".into()),
    }
}

#[test]
fn completed_run_records_everything() {
    let dir = tempfile::tempdir().unwrap();
    let project = Project::init(dir.path()).unwrap();
    let exit = ExitInfo {
        code: Some(0),
        signal: None,
        max_rss_bytes: Some(1 << 20),
    };
    let p = process(exit, b"epoch 1 loss=0.5\nepoch 2 loss=0.25\n");
    let env_seen = p.env_seen.clone();
    let mut sup = supervisor(Some(p), None, true);
    let shown: Shown = Arc::default();
    let shown2 = shown.clone();
    sup.console = Some(Arc::new(move |stream| {
        Box::new(Recorder(shown2.clone(), stream == Stream::Stdout))
            as Box<dyn std::io::Write + Send>
    }));
    let prepared = sup.prepare(&project, request()).unwrap();
    let id = prepared.run().id.clone();
    assert_eq!(id.as_str(), "01testrun");
    // Before the command starts: a running record and an empty metrics file.
    let early = project.read_run(&id).unwrap();
    assert_eq!(early.status, Status::Running);
    assert_eq!(early.pid, Some(std::process::id()));
    assert!(early.pid_start_ticks.unwrap() > 0);
    assert_eq!(early.process(), Some(ox_core::ProcessIdentity::current()));
    assert_eq!(std::fs::read(project.metrics_path(&id)).unwrap(), b"");

    let observer = |_s: Stream, line: &str| {
        let v: f64 = line.split("loss=").nth(1)?.parse().ok()?;
        Some(ObservedMetrics {
            step: None,
            values: vec![("loss".into(), v)],
        })
    };
    let outcome = prepared.execute(Some(Box::new(observer))).unwrap();
    assert_eq!(outcome.exit_code, 0);
    let run = project.read_run(&id).unwrap();
    assert_eq!(run, outcome.run);
    assert_eq!(run.status, Status::Completed);
    assert_eq!(run.exit_code, Some(0));
    assert_eq!(run.study, "s1");
    assert_eq!(run.name.as_deref(), Some("first"));
    assert_eq!(run.tags, vec!["baseline"]);
    assert_eq!(run.command, vec!["train", "--fast"]);
    assert_eq!(run.started, Some(fixed_time()));
    assert_eq!(run.ended, Some(fixed_time()));
    // -p values win over params the process declared.
    assert_eq!(
        Value::Object(run.params.clone()),
        json!({"lr": 0.0003, "model": {"layers": 12}, "batch": 32})
    );
    assert_eq!(run.extra["summary"]["peak_gpu_mem_bytes"], 3u64 << 30);
    assert!(run.extra["summary"]["peak_rss_bytes"].as_u64().unwrap() >= 1 << 20);

    let shown = shown.lock().unwrap().clone();
    let stdout: Vec<u8> = shown
        .iter()
        .filter(|(o, _)| *o)
        .flat_map(|(_, b)| b.clone())
        .collect();
    let stderr: Vec<u8> = shown
        .iter()
        .filter(|(o, _)| !*o)
        .flat_map(|(_, b)| b.clone())
        .collect();
    assert_eq!(stdout, b"epoch 1 loss=0.5\nepoch 2 loss=0.25\n");
    assert_eq!(stderr, b"warn: slow\n");
    let system = std::fs::read_to_string(project.system_path(&id)).unwrap();
    assert!(system.lines().count() >= 1, "{system}");
    assert!(
        system
            .lines()
            .all(|l| l.contains("\"gpu_mem_bytes\":3221225472")),
        "{system}"
    );
    let log = std::fs::read_to_string(project.stdout_log_path(&id)).unwrap();
    assert!(
        log.contains("epoch 1 loss=0.5\n") && log.contains("warn: slow\n"),
        "{log}"
    );
    let series = ox_core::MetricsFileReader::read_series(&project.metrics_path(&id)).unwrap();
    assert_eq!(
        series.series,
        vec![("loss".to_string(), vec![(0, 0.5), (1, 0.25)])]
    );

    let env: Vec<(String, Option<String>)> = env_seen
        .lock()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.as_ref().map(|v| v.to_string_lossy().into_owned()),
            )
        })
        .collect();
    let get = |k: &str| {
        env.iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.clone())
    };
    assert_eq!(get("OX_RUN_ID").as_deref(), Some("01testrun"));
    assert_eq!(get("OX_STUDY").as_deref(), Some("s1"));
    assert_eq!(get("OX_RUN_NAME").as_deref(), Some("first"));
    assert_eq!(
        get("OX_DIR").map(PathBuf::from).as_deref(),
        Some(project.ox_dir())
    );
    assert_eq!(
        get("OX_METRICS_FILE").map(PathBuf::from),
        Some(project.metrics_path(&id))
    );
    let params: Value = serde_json::from_str(&get("OX_PARAMS").unwrap()).unwrap();
    assert_eq!(params, json!({"lr": 0.0003, "model": {"layers": 12}}));
}

#[test]
fn failing_and_signalled_commands() {
    let dir = tempfile::tempdir().unwrap();
    let project = Project::init(dir.path()).unwrap();
    for (exit, status, code) in [
        (
            ExitInfo {
                code: Some(3),
                signal: None,
                max_rss_bytes: None,
            },
            Status::Failed,
            3,
        ),
        (
            ExitInfo {
                code: None,
                signal: Some(9),
                max_rss_bytes: None,
            },
            Status::Killed,
            137,
        ),
    ] {
        let sup = supervisor(Some(process(exit, b"")), None, false);
        sup.ids.next_id(); // use a fresh id for the second run
        let mut req = request();
        req.name = None;
        let outcome = sup.prepare(&project, req).unwrap().execute(None).unwrap();
        assert_eq!(outcome.exit_code, code);
        assert_eq!(outcome.run.status, status);
        assert_eq!(outcome.run.exit_code, Some(code));
        assert_eq!(
            outcome.run.extra["summary"]["peak_gpu_mem_bytes"],
            Value::Null
        );
    }
}

#[test]
fn unstartable_command_is_a_failed_run() {
    let dir = tempfile::tempdir().unwrap();
    let project = Project::init(dir.path()).unwrap();
    let sup = supervisor(None, Some(std::io::ErrorKind::NotFound), false);
    let prepared = sup.prepare(&project, request()).unwrap();
    let id = prepared.run().id.clone();
    let err = prepared.execute(None).unwrap_err();
    assert!(
        matches!(err, ExecError::Spawn { exit_code: 127, .. }),
        "{err:?}"
    );
    let run = project.read_run(&id).unwrap();
    assert_eq!(run.status, Status::Failed);
    assert_eq!(run.exit_code, Some(127));
    let log = std::fs::read_to_string(project.stdout_log_path(&id)).unwrap();
    assert!(log.contains("cannot start \"train\""), "{log}");
}

fn run_controller(
    group: Arc<FakeGroup>,
    grace: Duration,
    script: Vec<(u64, Event)>,
) -> Option<i32> {
    let g: Arc<dyn ProcessGroup> = group;
    let (tx, handle) = Controller::spawn(g, grace);
    for (delay_ms, event) in script {
        std::thread::sleep(Duration::from_millis(delay_ms));
        tx.send(event).unwrap();
    }
    handle.join().unwrap()
}

#[test]
fn controller_forwards_then_escalates() {
    // The command ignores SIGINT: after the grace period it gets SIGKILL.
    let group = Arc::new(FakeGroup {
        fatal: vec![libc::SIGKILL],
        ..FakeGroup::default()
    });
    let got = run_controller(
        group.clone(),
        Duration::from_millis(50),
        vec![
            (0, Event::Signal(libc::SIGINT)),
            (150, Event::CommandExited),
        ],
    );
    assert_eq!(got, Some(libc::SIGINT));
    assert_eq!(
        *group.sent.lock().unwrap(),
        vec![libc::SIGINT, libc::SIGKILL]
    );
}

#[test]
fn controller_maps_hangup_to_term_and_second_signal_kills() {
    let group = Arc::new(FakeGroup {
        fatal: vec![libc::SIGKILL],
        ..FakeGroup::default()
    });
    let got = run_controller(
        group.clone(),
        Duration::from_secs(60),
        vec![
            (0, Event::Signal(libc::SIGHUP)),
            (10, Event::Signal(libc::SIGINT)),
            (10, Event::CommandExited),
        ],
    );
    assert_eq!(got, Some(libc::SIGHUP));
    assert_eq!(
        *group.sent.lock().unwrap(),
        vec![libc::SIGTERM, libc::SIGKILL]
    );
}

#[test]
fn controller_stops_leftovers_after_a_normal_exit() {
    // The main process exited but left a process in the group that obeys SIGTERM.
    let group = Arc::new(FakeGroup {
        fatal: vec![libc::SIGTERM],
        ..FakeGroup::default()
    });
    let got = run_controller(
        group.clone(),
        Duration::from_secs(60),
        vec![(0, Event::CommandExited)],
    );
    assert_eq!(got, None);
    assert_eq!(*group.sent.lock().unwrap(), vec![libc::SIGTERM]);
    // Nothing left: no signal at all.
    let clean = Arc::new(FakeGroup::default());
    clean.dead.store(true, Ordering::SeqCst);
    assert_eq!(
        run_controller(
            clean.clone(),
            Duration::from_secs(60),
            vec![(0, Event::CommandExited)]
        ),
        None
    );
    assert!(clean.sent.lock().unwrap().is_empty());
}

#[test]
fn controller_terminates_leftovers_that_ignore_the_interrupt() {
    // Like `sh -c 'sleep 300 & wait'`: the background sleep ignores SIGINT, so once the
    // shell has exited, the leftover gets SIGTERM right away instead of waiting the grace.
    let group = Arc::new(FakeGroup {
        fatal: vec![libc::SIGTERM],
        ..FakeGroup::default()
    });
    let started = Instant::now();
    let got = run_controller(
        group.clone(),
        Duration::from_secs(60),
        vec![(0, Event::Signal(libc::SIGINT)), (10, Event::CommandExited)],
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(got, Some(libc::SIGINT));
    assert_eq!(
        *group.sent.lock().unwrap(),
        vec![libc::SIGINT, libc::SIGTERM]
    );
}

#[test]
fn a_command_ended_by_a_stop_signal_is_recognised_in_either_form() {
    let by = |code: Option<i32>, signal: Option<i32>| ExitInfo {
        code,
        signal,
        max_rss_bytes: None,
    };
    assert!(died_of_a_stop_signal(&by(None, Some(libc::SIGTERM))));
    assert!(died_of_a_stop_signal(&by(Some(143), None)));
    assert!(died_of_a_stop_signal(&by(Some(130), None)));
    assert!(!died_of_a_stop_signal(&by(Some(1), None)));
    assert!(!died_of_a_stop_signal(&by(None, Some(libc::SIGSEGV))));
}
