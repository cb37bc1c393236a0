//! `ox ls`: list runs.

use ox_core::Status;
use ox_store::{RunFilter, SortKey};

use crate::output::{Format, open_catalog, split_columns, store_error};
use crate::runs_output::{default_columns, print_runs};
use crate::{CliError, Outcome};

/// Arguments of `ox ls`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  ox ls -s sparse-attention --status completed\n  ox ls --sort -metrics.accuracy --limit 5\n  ox ls --columns id,name,lr,metrics.loss.min --format csv"
)]
pub struct Args {
    /// Only runs of this study.
    #[arg(short, long)]
    pub study: Option<String>,
    /// Only runs with this status (queued, running, completed, failed, killed, crashed).
    #[arg(long)]
    pub status: Option<Status>,
    /// Sort by KEY (a run field, param or metric); `-KEY` sorts descending.
    #[arg(long, value_name = "[-]KEY", allow_hyphen_values = true)]
    pub sort: Option<String>,
    /// Show at most N runs.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Columns to show, comma-separated (e.g. `id,name,lr,metrics.loss.min`).
    #[arg(long, value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// Lists runs matching the filters.
pub fn run(args: Args) -> Result<Outcome, CliError> {
    let catalog = open_catalog()?;
    let filter = RunFilter {
        study: args.study,
        status: args.status,
        sort: args.sort.as_deref().map(SortKey::parse),
        limit: args.limit,
    };
    let views = catalog.runs(&filter).map_err(store_error)?;
    let columns = match split_columns(&args.columns) {
        c if c.is_empty() => default_columns(&views, &[]),
        c => c,
    };
    let format = Format::or_default(args.format);
    if views.is_empty() && format == Format::Table {
        eprintln!("no runs found (start one with `ox run -- CMD`, or `ox import PATH`)");
        return Ok(Outcome::Success);
    }
    print_runs(&mut std::io::stdout().lock(), &views, format, &columns)
        .map_err(|e| CliError::failed(anyhow::Error::from(e)))?;
    Ok(Outcome::Success)
}
