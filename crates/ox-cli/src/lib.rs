//! The `ox` command line: clap definitions, dispatch to `commands/<verb>.rs`, and the one
//! place where errors become messages and exit codes (0 ok, 1 a run/import failed, 2 usage).

mod commands;
mod exit;
mod output;
mod runs_output;
mod selection;

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
    /// Figures for papers: `ox plot curves|bar|sweep|heatmap|box|pareto|system -o FILE.png|.svg`.
    Plot(commands::plot::Args),
    /// Run a command over a grid / random search / seeds, locally or as a SLURM array;
    /// `ox sweep status|ls|cancel`.
    Sweep(Box<commands::sweep::Args>),
    /// Run a small real sweep (3 learning rates × 3 seeds) in ./ox-demo and list it.
    Demo(commands::demo::Args),
    /// Import what other tools wrote (inspect-ai, TensorBoard, MLflow, W&B, SLURM/torchtune
    /// logs, NDJSON/CSV) as ox runs: `ox import PATH... [-s STUDY]`.
    Import(commands::import::Args),
    /// Serve the dashboard (runs, charts, compare, live runs) on a local web page.
    Ui(commands::ui::Args),
    /// Export runs, groups or full series as csv/json/md/latex/parquet:
    /// `ox export -s STUDY [--group-by P] [--series] --format F [-o FILE]`.
    Export(commands::export::Args),
    /// Write a study's analysis report (Markdown, self-contained HTML, tables, log):
    /// `ox report -s STUDY [--metric M]... [-o DIR]`.
    Report(commands::report::Args),
    /// Write an experiment record (experiments/YYYY-MM-DD_slug.md) from runs:
    /// `ox record RUN... [--title T]`; again, it refreshes only its generated blocks.
    Record(commands::record::Args),
    /// Refresh the results table of an experiment's NOTES.md (`ox notes RUN|STUDY`) or the
    /// key findings of a study's README (`ox notes --study S`).
    Notes(commands::notes::Args),
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
        Command::Plot(args) => commands::plot::run(args),
        Command::Sweep(args) => commands::sweep::run(*args),
        Command::Demo(args) => commands::demo::run(args),
        Command::Import(args) => commands::import::run(args),
        Command::Ui(args) => commands::ui::run(args),
        Command::Export(args) => commands::export::run(args),
        Command::Report(args) => commands::report::run(args),
        Command::Record(args) => commands::record::run(args),
        Command::Notes(args) => commands::notes::run(args),
    }
}
