//! Where a run's command executes. [`LocalExecutor`] starts it as a child process in its own
//! process group; other executors (SLURM) and test doubles implement the same two traits.

use std::ffi::OsString;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

/// A pipe carrying one of the command's output streams.
pub type OutputPipe = Box<dyn Read + Send>;

/// Environment changes: set (`Some`) or remove (`None`) each variable.
pub type EnvChanges = Vec<(OsString, Option<OsString>)>;

/// What to start: program, arguments, working directory and environment changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    pub argv: Vec<OsString>,
    pub cwd: PathBuf,
    /// Variables to set (`Some`) or remove (`None`) on top of the inherited environment.
    pub env: EnvChanges,
}

/// How a command ended, as `wait` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitInfo {
    /// The exit status when the process exited normally.
    pub code: Option<i32>,
    /// The signal that terminated it, if one did.
    pub signal: Option<i32>,
    /// The largest resident set of the process (or of any descendant it waited for).
    pub max_rss_bytes: Option<u64>,
}

impl ExitInfo {
    /// The exit code a shell would report: the status, or 128 + signal.
    pub fn shell_code(&self) -> i32 {
        match (self.code, self.signal) {
            (Some(c), _) => c,
            (None, Some(s)) => 128 + s,
            (None, None) => 1,
        }
    }
}

/// Starts commands.
pub trait Executor: Send + Sync {
    /// Starts `spec`. An error means nothing was started (program not found, not
    /// executable, bad working directory).
    fn start(&self, spec: &CommandSpec) -> std::io::Result<Box<dyn Process>>;
}

/// A started command.
pub trait Process: Send {
    /// The pid of the command's main process.
    fn pid(&self) -> u32;
    /// The command's process group, shared by every process it starts (unless they leave it).
    fn group(&self) -> Arc<dyn ProcessGroup>;
    /// Takes the command's stdout and stderr pipes (once).
    fn take_output(&mut self) -> (Option<OutputPipe>, Option<OutputPipe>);
    /// Waits for the main process to end.
    fn wait(&mut self) -> std::io::Result<ExitInfo>;
}

/// The processes of a run, as one unit for signals.
pub trait ProcessGroup: Send + Sync {
    /// The group id (the main process's pid).
    fn id(&self) -> u32;
    /// Sends `signal` to every process in the group.
    fn signal(&self, signal: i32);
    /// Whether any process of the group is still running (zombies do not count).
    fn alive(&self) -> bool;
}

/// Runs commands as child processes of this one.
///
/// Each command gets its own process group (so signals reach everything it starts) and, on
/// Linux, `PR_SET_PDEATHSIG = SIGKILL`: if this process dies without cleaning up (SIGKILL),
/// the kernel kills the command too. The death signal fires when the *thread* that started
/// the command exits, so call [`Executor::start`] from a thread that outlives the command.
/// Stdin is inherited unless it is a terminal (a command outside the terminal's foreground
/// group that reads it would be stopped by SIGTTIN and hang the run), then it is `/dev/null`.
#[derive(Debug, Default, Clone)]
pub struct LocalExecutor {
    /// Program and arguments of a watchdog to start beside each command (see
    /// [`crate::watchdog`]); `--pgid N` is appended. `None`: no watchdog.
    watchdog: Option<Vec<OsString>>,
}

impl LocalExecutor {
    /// An executor that also starts `argv --pgid <group>` as the command's watchdog.
    pub fn with_watchdog(argv: Vec<OsString>) -> Self {
        LocalExecutor {
            watchdog: Some(argv),
        }
    }

    /// Starts the watchdog of group `pgid`: in a process group of its own (so a terminal's
    /// Ctrl-C does not reach it), reading a pipe only this process holds the other end of.
    /// Best effort: without it, PDEATHSIG still ends the command's direct child.
    fn start_watchdog(&self, pgid: u32) -> Option<(std::process::Child, std::process::ChildStdin)> {
        use std::os::unix::process::CommandExt;
        let (program, args) = self.watchdog.as_ref()?.split_first()?;
        let mut child = Command::new(program)
            .args(args)
            .arg("--pgid")
            .arg(pgid.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .ok()?;
        let link = child.stdin.take()?;
        Some((child, link))
    }
}

/// Arms `cmd` so that its process gets `signal` when the process that spawns it dies
/// (`PR_SET_PDEATHSIG`), and refuses to start it when that parent is already gone. Linux
/// only; elsewhere a no-op.
pub fn die_with_parent(cmd: &mut Command, signal: i32) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        let parent = std::process::id();
        // SAFETY: the closure runs in the forked child before exec and only makes
        // async-signal-safe calls (prctl, getppid) and builds an error without allocating.
        unsafe {
            cmd.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, signal as libc::c_ulong, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent died before the death signal was armed: do not run orphaned.
                if u32::try_from(libc::getppid()).ok() != Some(parent) {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (cmd, signal);
}

/// The process group `pgid` of this machine.
pub fn local_group(pgid: u32) -> Arc<dyn ProcessGroup> {
    Arc::new(LocalGroup { pgid })
}

impl Executor for LocalExecutor {
    fn start(&self, spec: &CommandSpec) -> std::io::Result<Box<dyn Process>> {
        use std::os::unix::process::CommandExt;
        let Some((program, args)) = spec.argv.split_first() else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "empty command",
            ));
        };
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(&spec.cwd)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        if std::io::stdin().is_terminal() {
            cmd.stdin(Stdio::null());
        }
        for (k, v) in &spec.env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        die_with_parent(&mut cmd, libc::SIGKILL);
        let mut child = cmd.spawn()?;
        let pid = child.id();
        let stdout = child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        let stderr = child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        let watchdog = self.start_watchdog(pid);
        Ok(Box::new(LocalProcess {
            pid,
            output: (stdout, stderr),
            group: Arc::new(LocalGroup { pgid: pid }),
            _child: child,
            _watchdog: watchdog,
        }))
    }
}

struct LocalProcess {
    pid: u32,
    output: (Option<OutputPipe>, Option<OutputPipe>),
    group: Arc<LocalGroup>,
    // Kept so std's handle is not dropped early; it is reaped by `wait` below, not by std.
    _child: std::process::Child,
    // Dropping the pipe's write end (with this value, or when this process dies) tells the
    // watchdog the supervisor is gone. The watchdog is not waited for: it exits on its own.
    _watchdog: Option<(std::process::Child, std::process::ChildStdin)>,
}

impl Process for LocalProcess {
    fn pid(&self) -> u32 {
        self.pid
    }
    fn group(&self) -> Arc<dyn ProcessGroup> {
        self.group.clone()
    }
    fn take_output(&mut self) -> (Option<OutputPipe>, Option<OutputPipe>) {
        (self.output.0.take(), self.output.1.take())
    }
    fn wait(&mut self) -> std::io::Result<ExitInfo> {
        let pid = libc::pid_t::try_from(self.pid).map_err(std::io::Error::other)?;
        let mut status: libc::c_int = 0;
        // SAFETY: rusage is plain data that wait4 fills in.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: valid out-pointers; `pid` is our own unreaped child. wait4 (rather than
            // std's wait) also reports the child's peak RSS.
            let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            if rc == pid {
                break;
            }
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
        let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
        let signal = libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status));
        // ru_maxrss is in KiB on Linux.
        let max_rss_bytes = u64::try_from(usage.ru_maxrss)
            .ok()
            .filter(|&k| k > 0)
            .map(|k| k * 1024);
        Ok(ExitInfo {
            code,
            signal,
            max_rss_bytes,
        })
    }
}

struct LocalGroup {
    pgid: u32,
}

impl ProcessGroup for LocalGroup {
    fn id(&self) -> u32 {
        self.pgid
    }
    fn signal(&self, signal: i32) {
        if let Ok(pgid) = libc::pid_t::try_from(self.pgid) {
            // SAFETY: kill has no memory-safety preconditions; a group that is gone gives
            // ESRCH, which is what we want to ignore.
            unsafe {
                libc::killpg(pgid, signal);
            }
        }
    }
    fn alive(&self) -> bool {
        let Ok(pgid) = libc::pid_t::try_from(self.pgid) else {
            return false;
        };
        // SAFETY: signal 0 only checks for existence.
        if unsafe { libc::killpg(pgid, 0) } != 0 {
            return false; // Nobody is left, not even a zombie.
        }
        // Zombies count as members for kill(2); on Linux look closer so that exited
        // processes waiting for a parent to reap them do not keep the run "alive".
        if cfg!(target_os = "linux") && std::path::Path::new("/proc/self/stat").exists() {
            let table = crate::procfs::ProcessTable::snapshot(
                &mut crate::procfs::LinuxProcTable::default(),
            );
            return crate::procfs::group_alive(&table, self.pgid);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(args: &[&str]) -> CommandSpec {
        CommandSpec {
            argv: args.iter().map(OsString::from).collect(),
            cwd: std::env::temp_dir(),
            env: vec![("OX_T".into(), Some("v".into()))],
        }
    }

    #[test]
    fn runs_in_own_group_and_reports_exit() {
        let mut p = LocalExecutor::default()
            .start(&spec(&["sh", "-c", "echo $OX_T; exit 3"]))
            .unwrap();
        assert_eq!(p.group().id(), p.pid());
        let (out, _) = p.take_output();
        let mut text = String::new();
        out.unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, "v\n");
        let exit = p.wait().unwrap();
        assert_eq!(exit.code, Some(3));
        assert_eq!(exit.shell_code(), 3);
        assert!(exit.max_rss_bytes.unwrap() > 0);
    }

    #[test]
    fn group_signal_terminates_and_is_seen() {
        let mut p = LocalExecutor::default()
            .start(&spec(&["sleep", "30"]))
            .unwrap();
        let g = p.group();
        assert!(g.alive());
        g.signal(libc::SIGTERM);
        let exit = p.wait().unwrap();
        assert_eq!(exit.signal, Some(libc::SIGTERM));
        assert_eq!(exit.shell_code(), 128 + libc::SIGTERM);
        assert!(!g.alive());
    }

    #[test]
    fn missing_program_is_not_found() {
        let err = LocalExecutor::default()
            .start(&spec(&["ox-no-such-program-xyz"]))
            .err()
            .unwrap();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }
}
