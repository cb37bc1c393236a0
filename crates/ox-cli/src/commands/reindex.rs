//! `ox reindex [RUN...]`: rebuild the catalog from the files, or refresh just some runs.

use ox_core::RunId;

use crate::output::{
    find_project, open_catalog, print_refresh_warnings, refresh_progress, store_error,
};
use crate::{CliError, Outcome};

/// Arguments of `ox reindex`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Without RUN, the catalog (.ox/ox.db) is rebuilt from scratch: the old one is not even opened.\nWith RUNs, just those runs' files are read again (after editing a finished run's files by hand).\n\nExamples:\n  ox reindex\n  ox reindex lr-3e4 01jd3k9x"
)]
pub struct Args {
    /// Runs to read again (id, unique id prefix, name, or study/name); default: every run.
    pub runs: Vec<String>,
}

/// Re-reads every run's files into a fresh catalog, or the named runs' files.
pub fn run(args: Args) -> Result<Outcome, CliError> {
    if !args.runs.is_empty() {
        return refresh_runs(&args.runs);
    }
    let project = find_project()?;
    let catalog = ox_store::Catalog::rebuild(&project, refresh_progress()).map_err(store_error)?;
    if let Some(healed) = catalog.healed() {
        eprintln!("warning: {healed}");
    }
    let report = catalog.last_refresh();
    print_refresh_warnings(report);
    eprintln!(
        "reindexed {} runs{}",
        report.updated,
        problems(report.warnings.len())
    );
    Ok(Outcome::Success)
}

/// `ox reindex RUN...`: a run that the catalog knows is named as usual; a run directory the
/// catalog does not hold (its run.json was broken until now) by its full id.
fn refresh_runs(refs: &[String]) -> Result<Outcome, CliError> {
    let mut catalog = open_catalog()?;
    let mut ids = Vec::new();
    for reference in refs {
        let on_disk = RunId::parse(reference).filter(|id| catalog.project().run_dir(id).is_dir());
        match on_disk {
            Some(id) => ids.push(id),
            None => ids.push(catalog.resolve(reference).map_err(store_error)?),
        }
    }
    let report = catalog.refresh_runs(&ids).map_err(store_error)?;
    print_refresh_warnings(&report);
    eprintln!(
        "reindexed {} of {} runs{}",
        report.updated,
        ids.len(),
        problems(report.warnings.len())
    );
    Ok(if report.updated == ids.len() {
        Outcome::Success
    } else {
        Outcome::Failed
    })
}

fn problems(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => " (1 problem)".into(),
        n => format!(" ({n} problems)"),
    }
}
