//! The `ox run` supervisor: records a run, starts its command with the run's environment,
//! shows and saves its output, samples its resources, forwards stop signals to its whole
//! process group, and writes the final status.
//!
//! Lifecycle of the files: `run.json` (status `running`, with this process's `pid`, `host`
//! and `pid_start_ticks`, so a reader can tell when the supervisor died without finishing)
//! and an empty metrics file exist before the command starts; `stdout.log` and
//! `<id>_system.jsonl` grow while it runs; `run.json` is replaced atomically at the end.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ox_core::{ProcessIdentity, Project, Run, RunId, Status};
use serde_json::{Map, Value};

use crate::executor::{CommandSpec, EnvChanges, Executor, ExitInfo, LocalExecutor, ProcessGroup};
use crate::gpu::GpuProbe;
use crate::output::{LineObserver, LineSink, Stream, pump};
use crate::procfs::{LinuxProcTable, ProcessTable};
use crate::sampler::{DEFAULT_INTERVAL, Peaks, SamplerThread, TreeSampler};
use crate::seams::{Clock, IdSource, SystemClock, UlidIds};
use crate::{ExecError, git, record};

/// Default time a stopped command gets between the forwarded signal and SIGKILL.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(10);

/// Signals that make the supervisor stop its command.
const STOP_SIGNALS: [i32; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// What to run and how to label it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunRequest {
    /// The study; `None` is the default study.
    pub study: Option<String>,
    pub name: Option<String>,
    /// Params, already nested (see `ox_core::set_param_spec`).
    pub params: Map<String, Value>,
    pub tags: Vec<String>,
    /// Program and arguments.
    pub command: Vec<String>,
    /// Working directory of the command (absolute).
    pub cwd: PathBuf,
    /// A run id chosen beforehand (a sweep names its members' runs before they start; a
    /// requeued SLURM task resumes the same run); `None`: a new id.
    pub id: Option<RunId>,
    /// The sweep this run is a member of (run.json `sweep`).
    pub sweep: Option<String>,
    /// The run this one is a step of (run.json `parent`).
    pub parent: Option<RunId>,
    /// More run.json fields (e.g. a sweep member's key and step).
    pub extra: Map<String, Value>,
    /// More environment for the command, on top of the run's own variables.
    pub env: Vec<(String, String)>,
}

type TableFactory = Box<dyn Fn() -> Box<dyn ProcessTable> + Send + Sync>;
/// Makes the live console writer for one of the command's streams.
pub type ConsoleFactory = Arc<dyn Fn(Stream) -> Box<dyn std::io::Write + Send> + Send + Sync>;
type GpuFactory = Arc<dyn Fn() -> Box<dyn GpuProbe> + Send + Sync>;

/// Settings and seams of supervision. [`Supervisor::default`] is what `ox run` uses.
pub struct Supervisor {
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    pub executor: Arc<dyn Executor>,
    /// Time between resource samples (and heartbeats).
    pub sample_interval: Duration,
    /// Time between the forwarded stop signal and SIGKILL.
    pub kill_grace: Duration,
    /// Where the command's output is shown live, per stream (`None`: only saved). `ox run`
    /// passes its own stdout and stderr; the library itself never prints.
    pub console: Option<ConsoleFactory>,
    /// Catch SIGINT/SIGTERM/SIGHUP and forward them to the command's group, and ignore
    /// SIGPIPE (process-wide settings: only for a process that supervises one run at a time,
    /// like `ox run`).
    pub handle_signals: bool,
    pub process_table: TableFactory,
    pub gpu: GpuFactory,
    /// Offer the Python client that ships in the binary at the end of the command's
    /// `PYTHONPATH` (see [`crate::python_client`]); an installed client still wins.
    pub offer_python_client: bool,
}

impl Default for Supervisor {
    fn default() -> Self {
        Supervisor {
            clock: Arc::new(SystemClock),
            ids: Arc::new(UlidIds),
            executor: Arc::new(LocalExecutor::default()),
            sample_interval: DEFAULT_INTERVAL,
            kill_grace: DEFAULT_KILL_GRACE,
            console: None,
            handle_signals: true,
            process_table: Box::new(|| Box::new(LinuxProcTable::default())),
            gpu: Arc::new(crate::gpu::detect),
            offer_python_client: true,
        }
    }
}

/// How a supervised run ended.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The final record, as written to run.json.
    pub run: Run,
    /// The command's exit code (128 + signal when a signal ended it): `ox run` exits with it.
    pub exit_code: i32,
    /// Things that went wrong without stopping the run (resource samples not written, ...).
    pub warnings: Vec<String>,
}

/// A run whose record exists (status `running`) and whose command has not started yet.
pub struct PreparedRun<'a> {
    sup: &'a Supervisor,
    project: Project,
    run: Run,
    signals: Option<signal_hook::iterator::Signals>,
    /// Set by the signal handler itself the moment a stop signal arrives: unlike the
    /// forwarding thread, it cannot lose a race with the command's own exit.
    stop_received: Arc<AtomicBool>,
    /// Where the bundled Python client was written (appended to `PYTHONPATH`).
    python_client: Option<PathBuf>,
    /// Why the client could not be offered, for the outcome's warnings.
    python_client_warning: Option<String>,
    env: Vec<(String, String)>,
    before_finish: Option<Box<dyn FnOnce() + Send>>,
}

impl Supervisor {
    /// Creates the run: writes run.json with status `running` and creates the empty metrics
    /// file. Stop signals are caught from here on, so a Ctrl-C between now and the start of
    /// the command stops the command as soon as it starts instead of orphaning the record.
    pub fn prepare(
        &self,
        project: &Project,
        req: RunRequest,
    ) -> Result<PreparedRun<'_>, ExecError> {
        if req.command.is_empty() {
            return Err(ExecError::EmptyCommand);
        }
        let id = req.id.clone().unwrap_or_else(|| self.ids.next_id());
        let signals = if self.handle_signals {
            // A closed console (`ox run ... | head`) must not kill the supervisor and orphan
            // the record: writes to it then fail with EPIPE, the output goes on being saved
            // and the command keeps running. The command itself gets the default back (std
            // resets SIGPIPE in the child).
            // SAFETY: setting a disposition to SIG_IGN has no preconditions.
            unsafe {
                libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            }
            Some(
                signal_hook::iterator::Signals::new(STOP_SIGNALS).map_err(|source| {
                    ExecError::Os {
                        run: id.clone(),
                        what: "install signal handlers",
                        source,
                    }
                })?,
            )
        } else {
            None
        };
        let stop_received = Arc::new(AtomicBool::new(false));
        if self.handle_signals {
            for sig in STOP_SIGNALS {
                signal_hook::flag::register(sig, Arc::clone(&stop_received)).map_err(|source| {
                    ExecError::Os {
                        run: id.clone(),
                        what: "install signal handlers",
                        source,
                    }
                })?;
            }
        }
        let mut run = Run::new(id.clone(), Status::Running);
        let now = self.clock.now();
        run.created = now;
        run.started = Some(now);
        if let Some(study) = req.study {
            run.study = study;
        }
        run.name = req.name;
        run.params = req.params;
        run.tags = req.tags;
        run.command = req.command;
        run.cwd = Some(req.cwd.to_string_lossy().into_owned());
        run.host = hostname::get()
            .ok()
            .map(|h| h.to_string_lossy().into_owned());
        run.set_process(ProcessIdentity::current());
        run.git = git::git_info(&req.cwd);
        run.sweep = req.sweep.map(Value::String);
        if let Some(parent) = req.parent {
            run.extra
                .insert("parent".into(), Value::String(parent.as_str().to_string()));
        }
        run.extra.extend(req.extra);
        project.write_run(&run).map_err(|source| ExecError::Core {
            run: id.clone(),
            source,
        })?;
        let metrics = project.metrics_path(&id);
        let metrics_dir = project.metrics_dir();
        fs_err::create_dir_all(&metrics_dir)
            .and_then(|()| {
                fs_err::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&metrics)
                    .map(drop)
            })
            .map_err(|source| io_error(&id, "create", &metrics, source))?;
        let (python_client, python_client_warning) = if self.offer_python_client {
            match crate::python_client::offer(project) {
                Ok(dir) => (Some(dir), None),
                Err(e) => (
                    None,
                    Some(format!("the bundled Python client is not offered ({e})")),
                ),
            }
        } else {
            (None, None)
        };
        Ok(PreparedRun {
            sup: self,
            project: project.clone(),
            run,
            signals,
            stop_received,
            python_client,
            python_client_warning,
            env: req.env,
            before_finish: None,
        })
    }
}

fn io_error(
    run: &RunId,
    op: &'static str,
    path: &std::path::Path,
    source: std::io::Error,
) -> ExecError {
    ExecError::Io {
        run: run.clone(),
        op,
        path: path.to_path_buf(),
        source,
    }
}

impl PreparedRun<'_> {
    /// The run record as written so far.
    pub fn run(&self) -> &Run {
        &self.run
    }

    /// Runs `f` once the command has ended, before the final record is written: whatever
    /// `f` adds to the run's files (e.g. attached evaluation logs) is there when the run
    /// reads as finished, so a reader that indexes finished runs once sees it.
    pub fn before_finish(&mut self, f: Box<dyn FnOnce() + Send>) {
        self.before_finish = Some(f);
    }

    /// The environment the command gets on top of the inherited one (DESIGN.md contract).
    pub fn environment(&self) -> EnvChanges {
        let p = &self.project;
        let id = &self.run.id;
        let params = serde_json::to_string(&self.run.params).unwrap_or_else(|_| "{}".into());
        let mut env: EnvChanges = vec![
            ("OX_DIR".into(), Some(p.ox_dir().into())),
            ("OX_RUN_ID".into(), Some(id.as_str().into())),
            ("OX_METRICS_FILE".into(), Some(p.metrics_path(id).into())),
            ("OX_STUDY".into(), Some(self.run.study.clone().into())),
            ("OX_RUN_NAME".into(), self.run.name.clone().map(Into::into)),
            ("OX_PARAMS".into(), Some(params.into())),
        ];
        env.extend(self.env.iter().map(|(k, v)| (k.into(), Some(v.into()))));
        if let Some(dir) = &self.python_client {
            // A PYTHONPATH the sweep set for this run counts as the existing one.
            let existing = self
                .env
                .iter()
                .find(|(k, _)| k == "PYTHONPATH")
                .map(|(_, v)| std::ffi::OsString::from(v))
                .or_else(|| std::env::var_os("PYTHONPATH"));
            env.push((
                "PYTHONPATH".into(),
                Some(crate::python_client::append_to_path(
                    existing.as_deref(),
                    dir,
                )),
            ));
        }
        env
    }

    /// Runs the command to its end and writes the final record. `observer` sees every line
    /// of output and may turn lines into metrics. A command that cannot start is recorded
    /// as failed (exit code 127 when not found, else 126) and returned as
    /// [`ExecError::Spawn`].
    pub fn execute(
        mut self,
        observer: Option<Box<dyn LineObserver>>,
    ) -> Result<RunOutcome, ExecError> {
        let sup = self.sup;
        let id = self.run.id.clone();
        let log_path = self.project.stdout_log_path(&id);
        let log = fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| io_error(&id, "create", &log_path, e))?;
        let metrics_path = self.project.metrics_path(&id);
        let metrics = match &observer {
            Some(_) => Some(Mutex::new(
                fs_err::OpenOptions::new()
                    .append(true)
                    .open(&metrics_path)
                    .map_err(|e| io_error(&id, "open", &metrics_path, e))?,
            )),
            None => None,
        };
        let sink = Arc::new(LineSink {
            log: Mutex::new(log),
            observer: observer.map(Mutex::new),
            metrics,
            clock: sup.clock.clone(),
        });
        let spec = CommandSpec {
            argv: self.run.command.iter().map(OsString::from).collect(),
            cwd: self.run.cwd.clone().map(PathBuf::from).unwrap_or_default(),
            env: self.environment(),
        };
        let mut process = match sup.executor.start(&spec) {
            Ok(p) => p,
            Err(source) => return Err(self.spawn_failed(&sink, source)),
        };
        let epoch = Instant::now();
        let mut warnings: Vec<String> = self.python_client_warning.take().into_iter().collect();
        let group = process.group();
        let (stdout, stderr) = process.take_output();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let mut pumps = 0;
        for (reader, stream) in [(stdout, Stream::Stdout), (stderr, Stream::Stderr)] {
            let Some(reader) = reader else { continue };
            let console = sup.console.as_ref().map(|make| make(stream));
            let sink = sink.clone();
            let done = done_tx.clone();
            let spawned = std::thread::Builder::new()
                .name("ox-output".into())
                .spawn(move || {
                    pump(reader, stream, console, &sink);
                    let _ = done.send(());
                });
            if spawned.is_ok() {
                pumps += 1;
            }
        }
        drop(done_tx);
        let gpu_factory = sup.gpu.clone();
        let sampler = TreeSampler::new(
            (sup.process_table)(),
            Box::new(crate::gpu::LazyGpu::new(move || gpu_factory())),
            process.pid(),
            group.id(),
            0.0,
        );
        let system_path = self.project.system_path(&id);
        let sampler = match SamplerThread::spawn(
            sampler,
            system_path,
            sup.sample_interval,
            sup.clock.clone(),
            epoch,
        ) {
            Ok(t) => Some(t),
            Err(e) => {
                warnings.push(format!("resource sampling is off: {e}"));
                None
            }
        };
        let (events, controller) = Controller::spawn(group.clone(), sup.kill_grace);
        let signal_thread = self
            .signals
            .take()
            .and_then(|signals| forward_signals(signals, events.clone()));
        let waited = process.wait();
        let _ = events.send(Event::CommandExited);
        let interrupted = controller.join().unwrap_or(None);
        if let Some((handle, thread)) = signal_thread {
            handle.close();
            let _ = thread.join();
        }
        // Output threads end when the last writer of the pipes exits; a process that left
        // the group could keep them open forever, so wait only a little after the group died.
        let deadline = Instant::now() + Duration::from_secs(2);
        for _ in 0..pumps {
            if done_rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .is_err()
            {
                break;
            }
        }
        let (peaks, sample_error) = sampler.map(SamplerThread::stop).unwrap_or_default();
        if let Some(e) = sample_error {
            warnings.push(format!("some resource samples were not written: {e}"));
        }
        let exit = waited.map_err(|source| ExecError::Os {
            run: id.clone(),
            what: "wait for the command",
            source,
        })?;
        // A stop signal sent to the whole job (SLURM's scancel, requeue or time limit) can end
        // the command before the forwarding thread has told the controller; the command's
        // death by such a signal then still means the run was stopped, not that it failed.
        let mut stopped = interrupted.is_some() || self.stop_received.load(Ordering::SeqCst);
        if !stopped && died_of_a_stop_signal(&exit) {
            let deadline = Instant::now() + Duration::from_millis(500);
            while !stopped && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
                stopped = self.stop_received.load(Ordering::SeqCst);
            }
        }
        if let Some(f) = self.before_finish.take() {
            f();
        }
        let run = self.finish(&exit, stopped, peaks)?;
        Ok(RunOutcome {
            run,
            exit_code: exit.shell_code(),
            warnings,
        })
    }

    /// Writes the final record, starting from what is on disk now (the training process may
    /// have added artifacts) and falling back to the record in memory.
    fn finish(&self, exit: &ExitInfo, interrupted: bool, peaks: Peaks) -> Result<Run, ExecError> {
        let id = &self.run.id;
        let mut run = match self.project.read_run(id) {
            Ok(r) if r.id == *id => r,
            _ => self.run.clone(),
        };
        let declared = record::declared_params(&self.project.metrics_path(id));
        record::finish(
            &mut run,
            exit,
            interrupted,
            self.sup.clock.now(),
            declared,
            peaks,
        );
        self.project
            .write_run(&run)
            .map_err(|source| ExecError::Core {
                run: id.clone(),
                source,
            })?;
        Ok(run)
    }

    fn spawn_failed(&self, sink: &LineSink, source: std::io::Error) -> ExecError {
        let id = self.run.id.clone();
        let exit_code = if source.kind() == std::io::ErrorKind::NotFound {
            127
        } else {
            126
        };
        let program = self.run.command.first().cloned().unwrap_or_default();
        let message = format!("ox: cannot start {program:?}: {source}\n");
        if let Ok(mut log) = sink.log.lock() {
            let _ = std::io::Write::write_all(&mut *log, message.as_bytes());
        }
        let exit = ExitInfo {
            code: Some(exit_code),
            signal: None,
            max_rss_bytes: None,
        };
        if let Err(e) = self.finish(&exit, false, Peaks::default()) {
            // The record could not be finished: that is the more serious problem.
            return e;
        }
        ExecError::Spawn {
            run: id,
            program,
            exit_code,
            source,
        }
    }
}

/// What the controller reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Signal(i32),
    CommandExited,
}

/// Owns every signal sent to the command's group: forwards the first stop signal, escalates
/// to SIGKILL after the grace period or on a second signal, and once the main process has
/// exited, stops whatever it left behind in its group (nothing of a run outlives it).
struct Controller;

impl Controller {
    fn spawn(
        group: Arc<dyn ProcessGroup>,
        grace: Duration,
    ) -> (mpsc::Sender<Event>, JoinHandle<Option<i32>>) {
        let (tx, rx) = mpsc::channel::<Event>();
        let handle = std::thread::spawn(move || control(&*group, grace, &rx));
        (tx, handle)
    }
}

/// The controller's loop; returns the stop signal received, if any.
fn control(group: &dyn ProcessGroup, grace: Duration, rx: &mpsc::Receiver<Event>) -> Option<i32> {
    const POLL: Duration = Duration::from_millis(20);
    let mut interrupted: Option<i32> = None;
    let mut kill_at: Option<Instant> = None;
    let mut term_sent = false;
    let mut exited = false;
    loop {
        let event = if exited {
            match rx.recv_timeout(POLL) {
                Ok(e) => Some(e),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => {
                    // Nothing more will come; keep polling the group at the same pace.
                    std::thread::sleep(POLL);
                    None
                }
            }
        } else {
            let timeout = kill_at.map_or(Duration::from_secs(3600), |t| {
                t.saturating_duration_since(Instant::now())
            });
            match rx.recv_timeout(timeout) {
                Ok(e) => Some(e),
                Err(RecvTimeoutError::Timeout) => None,
                // The supervisor stopped waiting: treat it as the command's exit.
                Err(RecvTimeoutError::Disconnected) => Some(Event::CommandExited),
            }
        };
        match event {
            Some(Event::Signal(sig)) if interrupted.is_none() => {
                interrupted = Some(sig);
                // Ctrl-C stays a Ctrl-C (Python raises KeyboardInterrupt and cleans up);
                // SIGTERM and SIGHUP become SIGTERM (a hangup may be ignored, e.g. nohup).
                let forward = if sig == libc::SIGINT {
                    sig
                } else {
                    libc::SIGTERM
                };
                group.signal(forward);
                term_sent |= forward == libc::SIGTERM;
                kill_at = Some(Instant::now() + grace);
            }
            Some(Event::Signal(_)) => group.signal(libc::SIGKILL),
            Some(Event::CommandExited) if !exited => {
                exited = true;
                if !group.alive() {
                    return interrupted;
                }
                // The main process is gone but left processes behind (or they ignore the
                // forwarded SIGINT, as background jobs of a shell script do): stop them.
                if !term_sent {
                    group.signal(libc::SIGTERM);
                    term_sent = true;
                }
                kill_at = kill_at.or_else(|| Some(Instant::now() + grace));
            }
            Some(Event::CommandExited) | None => {}
        }
        let now = Instant::now();
        if kill_at.is_some_and(|t| now >= t) {
            group.signal(libc::SIGKILL);
            kill_at = None;
            if exited {
                // SIGKILL cannot be refused; give the kernel a moment, then stop watching.
                let until = now + Duration::from_secs(1);
                while group.alive() && Instant::now() < until {
                    std::thread::sleep(POLL);
                }
                return interrupted;
            }
        }
        if exited && !group.alive() {
            return interrupted;
        }
    }
}

type SignalThread = (signal_hook::iterator::Handle, JoinHandle<()>);

/// Whether the command ended the way a stop signal ends it: killed by SIGINT, SIGTERM,
/// SIGHUP or SIGKILL, or a shell that exited with 128 + one of those.
fn died_of_a_stop_signal(exit: &ExitInfo) -> bool {
    const ENDING: [i32; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGKILL];
    exit.signal.is_some_and(|s| ENDING.contains(&s))
        || exit
            .code
            .is_some_and(|c| ENDING.iter().any(|s| c == 128 + s))
}

fn forward_signals(
    mut signals: signal_hook::iterator::Signals,
    events: mpsc::Sender<Event>,
) -> Option<SignalThread> {
    let handle = signals.handle();
    let thread = std::thread::Builder::new()
        .name("ox-signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                if events.send(Event::Signal(sig)).is_err() {
                    break;
                }
            }
        })
        .ok()?;
    Some((handle, thread))
}

#[cfg(test)]
#[path = "supervisor_tests.rs"]
mod tests;
