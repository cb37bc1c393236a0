//! `ox init`: create `.ox/` in the current directory.

use anyhow::Context;

use crate::{CliError, Outcome};

/// Arguments of `ox init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to create the project in (default: the current directory).
    pub dir: Option<std::path::PathBuf>,
}

/// Creates the project directory layout; safe to run again.
pub fn run(args: Args) -> Result<Outcome, CliError> {
    let dir = match args.dir {
        Some(d) => d,
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let existed = dir.join(".ox").is_dir();
    let project = ox_core::Project::init(&dir).context("cannot create the project")?;
    if existed {
        eprintln!(
            "ox project already exists at {}",
            project.ox_dir().display()
        );
    } else {
        eprintln!("created {}", project.ox_dir().display());
    }
    Ok(Outcome::Success)
}
