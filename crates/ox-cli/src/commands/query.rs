//! `ox query`: select runs with the query language; also the `--where` of other commands.

use std::io::Write;

use ox_query::ast::{Expr, Literal, Name, OrderKey, Query, Segment, Value};
use ox_query::{CmpOp, CompiledQuery, Field, KnownKeys, QueryError, Span, Summary};
use ox_store::{Catalog, RunView, StoreError};

use crate::output::{Format, RowsArgs, open_catalog, split_columns, store_error};
use crate::runs_output::{
    default_columns, fit_columns, hidden_params_note, print_runs, terminal_width,
};
use crate::{CliError, Outcome};

/// Arguments of `ox query`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  ox query \"study = 'sparse-attention' AND status = 'completed' ORDER BY lr\"
  ox query \"metrics.loss.min < 0.5 AND lr IN (1e-3, 3e-4) ORDER BY metrics.loss LIMIT 5\"
  ox query \"'baseline' IN tags AND created > '2026-01-01'\" --format json
  ox query \"metrics.\\`train/loss\\` < 0.3 AND duration > '10m'\"

Names: run fields (id name study status created started ended duration exit_code host
tags), params (params.model.layers, or bare lr), metrics (metrics.loss = last value;
metrics.loss.min|max|first|last|mean|count|last_step). Operators: = != <> < <= > >=, AND,
OR, NOT, IN (...), LIKE ('%' any, '_' one character), BETWEEN a AND b, IS [NOT] NULL.
A run lacking a field matches neither a comparison on it nor its NOT, and sorts last.")]
pub struct Args {
    /// The query (words are joined with spaces); empty selects all runs.
    #[arg(value_name = "EXPR")]
    pub expr: Vec<String>,
    #[command(flatten)]
    pub rows: RowsArgs,
}

/// Prints the runs the query selects.
pub fn run(args: Args) -> Result<Outcome, CliError> {
    let catalog = open_catalog()?;
    let expr = args.expr.join(" ");
    let selected = select_where(&catalog, &expr)?;
    print(&selected, &args.rows.columns, args.rows.format)
}

/// Runs selected by a query, with what is needed to print them.
pub struct Selected {
    pub views: Vec<RunView>,
    pub compiled: CompiledQuery,
    /// The catalog's names, for resolving `--columns` written in the query language.
    pub keys: KnownKeys,
}

/// Parses and runs `expr` (the `--where` of a command): the runs it selects, in its order.
pub fn select_where(catalog: &Catalog, expr: &str) -> Result<Selected, CliError> {
    let query = ox_query::parse(expr).map_err(|e| query_error(expr, e))?;
    select(catalog, &query, expr)
}

/// Prints the selected runs: `columns` when given, else identity, the params that vary, and
/// the metrics the query mentions.
pub fn print(
    selected: &Selected,
    columns: &[String],
    format: Option<Format>,
) -> Result<Outcome, CliError> {
    let views = &selected.views;
    let format = Format::or_default(format);
    if views.is_empty() && format == Format::Table {
        eprintln!("no runs match");
        return Ok(Outcome::Success);
    }
    // JSON has no columns; working out which params vary costs time on large results.
    let (columns, hidden) = match split_columns(columns) {
        c if !c.is_empty() || format == Format::Json => {
            (column_keys(&c, &selected.keys)?, Vec::new())
        }
        _ => fit_columns(
            views,
            default_columns(views, &metric_columns(&selected.compiled)),
            format,
            terminal_width(),
        ),
    };
    // Buffered: stdout is line-buffered, and pretty JSON has a line per field.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    print_runs(&mut out, views, format, &columns)
        .and_then(|()| out.flush())
        .map_err(|e| CliError::failed(anyhow::Error::from(e)))?;
    if let Some(note) = hidden_params_note(&hidden) {
        eprintln!("{note}");
    }
    Ok(Outcome::Success)
}

/// The metric columns a query mentions, as `RunView::value` keys (`metrics.train/loss.min`).
pub fn metric_columns(compiled: &CompiledQuery) -> Vec<String> {
    compiled
        .fields
        .iter()
        .filter_map(|f| match f {
            Field::Metric { .. } => Some(value_key(f)),
            _ => None,
        })
        .collect()
}

/// The `RunView::value` key of a field (`metrics.train/loss.min`, `params.model.layers`).
fn value_key(field: &Field) -> String {
    match field {
        Field::Run(f) => f.as_str().to_string(),
        Field::Tags => "tags".into(),
        Field::Param(k) => format!("params.{k}"),
        Field::Metric {
            key,
            summary: Summary::Last,
        } => format!("metrics.{key}"),
        Field::Metric { key, summary } => format!("metrics.{key}.{}", summary.as_str()),
    }
}

/// `--columns` entries as `RunView::value` keys, each resolved like a name in a query
/// (``metrics.`train/loss`.min``, a bare param): an unknown name is a usage error with the
/// closest names, not an empty column.
pub fn column_keys(columns: &[String], keys: &KnownKeys) -> Result<Vec<String>, CliError> {
    columns
        .iter()
        .map(|c| check_name("--columns", c, keys).map(|f| value_key(&f)))
        .collect()
}

/// A `--sort [-]KEY` checked against the catalog's names, as a `RunView::value` sort spec.
pub fn sort_spec(spec: &str, keys: &KnownKeys) -> Result<String, CliError> {
    let (key, descending) = match spec.strip_prefix('-') {
        Some(k) => (k, "-"),
        None => (spec, ""),
    };
    Ok(format!(
        "{descending}{}",
        value_key(&check_name("--sort", key, keys)?)
    ))
}

/// Resolves one name given to a flag (`--sort`, `--columns`) the way a query resolves names:
/// the same errors and "did you mean" hints, exit 2.
pub fn check_name(flag: &str, name: &str, keys: &KnownKeys) -> Result<Field, CliError> {
    let text = format!("ORDER BY {name}");
    let flag_error = |e: QueryError| {
        let err = CliError::usage(anyhow::anyhow!("{flag} {name}: {}", e.message));
        match e.hint {
            Some(h) => err.hint(h),
            None => err,
        }
    };
    let parsed = ox_query::parse(&text).map_err(flag_error)?;
    match parsed.order_by.into_iter().next() {
        Some(k) if parsed.filter.is_none() && parsed.limit.is_none() && !k.descending => {
            ox_query::resolve(&k.name, keys).map_err(flag_error)
        }
        _ => Err(
            CliError::usage(anyhow::anyhow!("{flag} takes names, got {name:?}")).hint(
                "a run field, a param or metrics.NAME[.SUMMARY]; backticks around odd names: metrics.`train/loss`",
            ),
        ),
    }
}

/// Compiles `query` against the catalog's names and loads the runs it selects. `text` is
/// what the user typed, for errors.
pub fn select(catalog: &Catalog, query: &Query, text: &str) -> Result<Selected, CliError> {
    let keys = catalog.known_keys().map_err(store_error)?;
    let compiled = ox_query::compile_query(query, &keys).map_err(|e| query_error(text, e))?;
    let views = catalog.query_compiled(&compiled).map_err(|e| match e {
        StoreError::Query(e) => query_error(text, e),
        other => store_error(other),
    })?;
    Ok(Selected {
        views,
        compiled,
        keys,
    })
}

/// A query error as the user sees it: the message, the query with a caret under the
/// offending part, and a hint (exit 2).
pub fn query_error(text: &str, e: QueryError) -> CliError {
    let hint = e.hint.clone();
    let err = CliError::usage(anyhow::anyhow!("{}", e.render(text)));
    match hint {
        Some(h) => err.hint(h),
        None => err,
    }
}

/// Adds `field = value` to a query's condition (for `--study`/`--status` beside `--where`).
pub fn and_equals(query: &mut Query, field: &str, value: &str) {
    let span = Span::default();
    let cond = Expr::Compare {
        name: Name {
            segments: vec![Segment {
                text: field.to_string(),
                quoted: false,
                span,
            }],
            span,
        },
        op: CmpOp::Eq,
        value: Literal {
            value: Value::Str(value.to_string()),
            span,
        },
    };
    query.filter = Some(match query.filter.take() {
        None => cond,
        Some(Expr::And(mut parts)) => {
            parts.push(cond);
            Expr::And(parts)
        }
        Some(other) => Expr::And(vec![other, cond]),
    });
}

/// Parses a `--sort [-]KEY` into a sort key of the query language.
pub fn sort_key(spec: &str) -> Result<OrderKey, CliError> {
    let (key, descending) = match spec.strip_prefix('-') {
        Some(k) => (k, true),
        None => (spec, false),
    };
    let text = format!("ORDER BY {key}");
    let parsed = ox_query::parse(&text).map_err(|e| query_error(&text, e))?;
    match parsed.order_by.into_iter().next() {
        Some(k) if parsed.filter.is_none() && parsed.limit.is_none() => Ok(OrderKey {
            name: k.name,
            descending,
        }),
        _ => Err(CliError::usage(anyhow::anyhow!("bad --sort key {spec:?}"))
            .hint("--sort takes one name, `-` in front to sort descending: --sort -metrics.loss")),
    }
}
