//! `ox reindex`: rebuild the catalog from the files.

use crate::output::{find_project, print_refresh_warnings, refresh_progress, store_error};
use crate::{CliError, Outcome};

/// Arguments of `ox reindex`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Re-reads every run's files into a fresh catalog.
pub fn run(_args: Args) -> Result<Outcome, CliError> {
    let project = find_project()?;
    let mut catalog =
        ox_store::Catalog::open_with_progress(&project, refresh_progress()).map_err(store_error)?;
    let report = catalog.reindex().map_err(store_error)?;
    print_refresh_warnings(&report);
    eprintln!(
        "reindexed {} runs{}",
        report.updated,
        if report.warnings.is_empty() {
            String::new()
        } else {
            format!(" ({} problems)", report.warnings.len())
        }
    );
    Ok(Outcome::Success)
}
