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
            eprintln!("error: {}", error_chain(&e.error));
            for hint in &e.hints {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(e.code)
        }
    }
}

/// The error and its causes joined with `: `, each thing said once: a cause whose text the
/// message already holds (libraries often print their source inside their own message) is
/// left out, and once the root cause has been said, so are the wrappers between.
pub fn error_chain(error: &anyhow::Error) -> String {
    // What an error says beyond the path an I/O error restates (see `ox_core::io_reason`).
    let gist = |e: &(dyn std::error::Error + 'static)| match e.downcast_ref::<std::io::Error>() {
        Some(io) => ox_core::io_reason(io),
        None => e.to_string(),
    };
    let root = gist(error.root_cause());
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if part.is_empty()
            || text.contains(&gist(cause))
            || (!root.is_empty() && text.contains(&root))
        {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Like a `thiserror` error that prints its source in its own message.
    #[derive(Debug)]
    struct Outer {
        source: std::io::Error,
    }
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "catalog /p/ox.db: {}", self.source)
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.source)
        }
    }

    #[test]
    fn a_cause_already_in_the_message_is_said_once() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "Permission denied");
        let e = anyhow::Error::from(Outer { source: io }).context("cannot list runs");
        assert_eq!(
            error_chain(&e),
            "cannot list runs: catalog /p/ox.db: Permission denied"
        );
    }

    #[test]
    fn wrappers_restating_the_root_cause_are_left_out() {
        let root = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "Permission denied");
        let wrapped =
            std::io::Error::new(std::io::ErrorKind::PermissionDenied, Outer { source: root });
        // "create /p/x: Permission denied", then fs_err-like "catalog /p/ox.db: Permission
        // denied", then "Permission denied": said once.
        let e = anyhow::Error::from(wrapped).context("create /p/x: Permission denied");
        assert_eq!(error_chain(&e), "create /p/x: Permission denied");
    }

    #[test]
    fn distinct_causes_are_all_said() {
        let e = anyhow::anyhow!("inner").context("middle").context("outer");
        assert_eq!(error_chain(&e), "outer: middle: inner");
    }
}
