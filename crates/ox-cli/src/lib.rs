//! The `ox` command line: clap definitions, dispatch to `commands/<verb>.rs`, and the one
//! place where errors become messages and exit codes (0 ok, 1 a run/import failed, 2 usage).

mod commands;
mod exit;
mod output;
mod runs_output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use exit::{CliError, Outcome};

/// Fast, local-first experiment tracking: run, track, query, import and analyze experiments.
#[derive(Debug, Parser)]
#[command(name = "ox", version, long_about = None, propagate_version = true)]
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
    #[command(name = "__watchdog", hide = true)]
    Watchdog(commands::run::WatchdogArgs),
    /// List runs.
    Ls(commands::ls::Args),
    /// Select runs with the query language: `ox query "lr < 1e-3 ORDER BY metrics.loss"`.
    Query(commands::query::Args),
    /// Show one run: params, metric summaries with trends, provenance, files.
    Show(commands::show::Args),
    /// Rebuild the catalog (`.ox/ox.db`) from the run files.
    Reindex(commands::reindex::Args),
    /// Statistics across seeds: intervals, tests against the best, what mattered, diagnostics.
    Stats(commands::stats::Args),
    /// Run a command over a grid / random search / seeds, locally or as a SLURM array;
    /// `ox sweep status|ls|cancel`.
    Sweep(Box<commands::sweep::Args>),
    /// Run a small real sweep (3 learning rates × 3 seeds) in ./ox-demo and list it.
    Demo(commands::demo::Args),
    /// Import what other tools wrote (inspect-ai, TensorBoard, MLflow, W&B, SLURM/torchtune
    /// logs, NDJSON/CSV) as ox runs: `ox import PATH... [-s STUDY]`.
    Import(commands::import::Args),
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
    let catalog_reader = matches!(
        cli.command,
        Command::Ls(_) | Command::Query(_) | Command::Show(_) | Command::Stats(_)
    );
    let result = dispatch(cli.command);
    let result = match result {
        // Damage that opening the catalog did not see (pages read only by this command): rebuild
        // it and run the command once more, on the same command line.
        Err(e) if catalog_reader && output::is_damaged_catalog(&e) => {
            match output::rebuild_damaged_catalog(&e) {
                Ok(()) => match Cli::try_parse() {
                    Ok(cli) => dispatch(cli.command),
                    Err(_) => Err(e),
                },
                Err(rebuild) => Err(rebuild),
            }
        }
        other => other,
    };
    exit::report(result)
}

fn dispatch(command: Command) -> Result<Outcome, CliError> {
    match command {
        Command::Init(args) => commands::init::run(args),
        Command::Run(args) => commands::run::run(args),
        Command::Watchdog(args) => commands::run::watchdog(args),
        Command::Ls(args) => commands::ls::run(args),
        Command::Query(args) => commands::query::run(args),
        Command::Show(args) => commands::show::run(args),
        Command::Reindex(args) => commands::reindex::run(args),
        Command::Stats(args) => commands::stats::run(args),
        Command::Sweep(args) => commands::sweep::run(*args),
        Command::Demo(args) => commands::demo::run(args),
        Command::Import(args) => commands::import::run(args),
    }
}
