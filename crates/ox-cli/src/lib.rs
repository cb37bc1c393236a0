//! The `ox` command line: clap definitions, dispatch to `commands/<verb>.rs`, and the one
//! place where errors become messages and exit codes (0 ok, 1 a run/import failed, 2 usage).

mod commands;
mod exit;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use exit::{CliError, Outcome};

/// Fast, local-first experiment tracking: run, track, query, import and analyze experiments.
#[derive(Debug, Parser)]
#[command(name = "ox", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a `.ox/` project in the current directory.
    Init(commands::init::Args),
    /// Run a command as a tracked run: `ox run [-s STUDY] [-n NAME] [-p K=V]... -- CMD...`.
    Run(commands::run::Args),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    exit::reset_sigpipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Init(args) => commands::init::run(args),
        Command::Run(args) => commands::run::run(args),
    };
    exit::report(result)
}
