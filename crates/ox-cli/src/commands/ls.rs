//! `ox ls`: list runs.

use ox_core::Status;
use ox_store::{RunFilter, SortKey};

use crate::output::{Format, RowsArgs, open_catalog, split_columns, store_error};
use crate::runs_output::{
    default_columns, fit_columns, hidden_params_note, print_runs, terminal_width,
};
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
    /// Only runs matching this query (the `ox query` language, ORDER BY and LIMIT included).
    #[arg(long = "where", value_name = "EXPR")]
    pub where_: Option<String>,
    /// Show at most N runs.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub rows: RowsArgs,
}

/// Lists runs matching the filters.
pub fn run(args: Args) -> Result<Outcome, CliError> {
    let catalog = open_catalog()?;
    if let Some(expr) = &args.where_ {
        return run_where(&catalog, expr, &args);
    }
    let filter = RunFilter {
        study: args.study,
        status: args.status,
        sort: args.sort.as_deref().map(SortKey::parse),
        limit: args.limit,
    };
    let views = catalog.runs(&filter).map_err(store_error)?;
    let format = Format::or_default(args.rows.format);
    let (columns, hidden) = match split_columns(&args.rows.columns) {
        c if c.is_empty() => fit_columns(
            &views,
            default_columns(&views, &[]),
            format,
            terminal_width(),
        ),
        c => (c, Vec::new()),
    };
    if views.is_empty() && format == Format::Table {
        eprintln!("no runs found (start one with `ox run -- CMD`, or `ox import PATH`)");
        return Ok(Outcome::Success);
    }
    print_runs(&mut std::io::stdout().lock(), &views, format, &columns)
        .map_err(|e| CliError::failed(anyhow::Error::from(e)))?;
    if let Some(note) = hidden_params_note(&hidden) {
        eprintln!("{note}");
    }
    Ok(Outcome::Success)
}

/// `ox ls --where EXPR`: the query, narrowed by `--study`/`--status`, sorted by `--sort`
/// unless the query has its own ORDER BY, and cut to the smaller of the limits.
fn run_where(catalog: &ox_store::Catalog, expr: &str, args: &Args) -> Result<Outcome, CliError> {
    use super::query;
    let mut q = ox_query::parse(expr).map_err(|e| query::query_error(expr, e))?;
    if let Some(study) = &args.study {
        query::and_equals(&mut q, "study", study);
    }
    if let Some(status) = args.status {
        query::and_equals(&mut q, "status", status.as_str());
    }
    if let Some(sort) = &args.sort {
        q.order_by.insert(0, query::sort_key(sort)?);
    }
    if let Some(limit) = args.limit {
        let limit = u64::try_from(limit).unwrap_or(u64::MAX);
        q.limit = Some(match q.limit {
            Some(l) if l.count < limit => l,
            _ => ox_query::ast::Limit {
                count: limit,
                span: ox_query::Span::default(),
            },
        });
    }
    let selected = query::select(catalog, &q, expr)?;
    query::print(&selected, &args.rows.columns, args.rows.format)
}
