//! `ox ls`: list runs.

use ox_core::Status;
use ox_store::{RunFilter, SortKey};

use super::query;
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
    /// Show at most N runs (N ≥ 1).
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub limit: Option<u64>,
    #[command(flatten)]
    pub rows: RowsArgs,
}

/// `--limit N` with N ≥ 1: `--limit 0` would show nothing and claim there are no runs.
fn at_least_one(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(0) => {
            Err("--limit 0 would show no runs; give N ≥ 1 (or leave --limit out for all)".into())
        }
        Ok(n) => Ok(n),
        Err(_) => Err(format!("not a whole number: {s:?}")),
    }
}

/// Lists runs matching the filters.
pub fn run(args: Args) -> Result<Outcome, CliError> {
    let catalog = open_catalog()?;
    if let Some(expr) = &args.where_ {
        return run_where(&catalog, expr, &args);
    }
    // Names in --sort and --columns are checked the way --where checks them.
    let keys = catalog.known_keys().map_err(store_error)?;
    let sort = match &args.sort {
        Some(s) => Some(SortKey::parse(&query::sort_spec(s, &keys)?)),
        None => None,
    };
    let columns = query::column_keys(&split_columns(&args.rows.columns), &keys)?;
    let filtered = args.study.is_some() || args.status.is_some();
    let filter = RunFilter {
        study: args.study,
        status: args.status,
        sort,
        limit: args.limit.map(|l| usize::try_from(l).unwrap_or(usize::MAX)),
    };
    let views = catalog.runs(&filter).map_err(store_error)?;
    let format = Format::or_default(args.rows.format);
    let (columns, hidden) = match columns {
        c if c.is_empty() => fit_columns(
            &views,
            default_columns(&views, &[]),
            format,
            terminal_width(),
        ),
        c => (c, Vec::new()),
    };
    if views.is_empty() && format == Format::Table {
        if filtered {
            eprintln!("no runs match --study/--status");
        } else {
            eprintln!("no runs found (start one with `ox run -- CMD`, or `ox import PATH`)");
        }
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
