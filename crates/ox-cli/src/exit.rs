//! Exit codes and error reporting: the only place that turns errors into stderr lines.

use std::process::ExitCode;

/// What a successful command wants the process to exit with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 1: the command ran, but a run or an import it handled failed.
    Failed,
    /// Exit with this code (`ox run` passes on its command's exit code).
    Code(u8),
}

/// An error with the exit code it should produce and optional `hint:` lines.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub error: anyhow::Error,
    pub hints: Vec<String>,
}

impl CliError {
    /// A usage error (exit 2): bad flag value, bad query, unknown run, no project.
    pub fn usage(error: impl Into<anyhow::Error>) -> Self {
        CliError {
            code: 2,
            error: error.into(),
            hints: Vec::new(),
        }
    }
    /// A failure while doing the work (exit 1).
    pub fn failed(error: impl Into<anyhow::Error>) -> Self {
        CliError {
            code: 1,
            error: error.into(),
            hints: Vec::new(),
        }
    }
    /// Adds a `hint:` line saying what to do.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

impl From<anyhow::Error> for CliError {
    fn from(error: anyhow::Error) -> Self {
        CliError::failed(error)
    }
}

/// Prints an error (with its causes and hints) and maps the result to an exit code.
pub fn report(result: Result<Outcome, CliError>) -> ExitCode {
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Ok(Outcome::Code(c)) => ExitCode::from(c),
        Err(e) => {
            eprintln!("error: {:#}", e.error);
            for hint in &e.hints {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(e.code)
        }
    }
}

/// Restores the default SIGPIPE action so that `ox ls | head` ends quietly instead of
/// panicking on a closed stdout.
pub fn reset_sigpipe() {
    #[cfg(unix)]
    // SAFETY: setting a signal disposition to SIG_DFL at start-up, before any threads exist.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
