//! Output helpers shared by commands: format selection and project discovery.

use std::io::IsTerminal;
use std::path::PathBuf;

use ox_core::{CoreError, OX_DIR_ENV, Project};

use crate::CliError;

/// `--format` values for commands that print rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    Md,
}

impl Format {
    /// The format to use: the one asked for, else a table on a terminal and JSON otherwise
    /// would surprise people piping to `head`, so a table everywhere by default.
    pub fn or_default(f: Option<Format>) -> Format {
        f.unwrap_or(Format::Table)
    }
}

/// Whether stdout is a terminal (colour, sparklines and progress bars only then).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Finds the project for the current directory (or `OX_DIR`), with a hint to run
/// `ox init` when there is none.
pub fn find_project() -> Result<Project, CliError> {
    let cwd = std::env::current_dir()
        .map_err(|e| CliError::failed(anyhow::anyhow!("cannot read the current directory: {e}")))?;
    let env = std::env::var_os(OX_DIR_ENV).map(PathBuf::from);
    Project::discover(&cwd, env.as_deref()).map_err(|e| match e {
        CoreError::NoProject { .. } => {
            CliError::usage(e).hint("run `ox init` in your project's top directory, or set OX_DIR")
        }
        other => CliError::usage(other),
    })
}
