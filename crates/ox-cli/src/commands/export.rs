//! `ox export`: runs (or groups of runs, or their full series) as CSV, JSON, Markdown,
//! LaTeX or Parquet, for pandas, polars, spreadsheets, READMEs and papers.

use std::collections::BTreeSet;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, anyhow};
use ox_core::{MetricsFileReader, Status};
use ox_report::export::{
    self, MetricColumn, RunRecord, default_metric_columns, group_rows, groups_data_table,
    groups_results_table, runs_results_table, runs_table,
};
use ox_store::RunView;

use crate::output::open_catalog;
use crate::selection::{Selection, select};
use crate::{CliError, Outcome};

/// Output formats of `ox export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
    Md,
    Latex,
    Parquet,
}

/// Arguments of `ox export`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  ox export -s sweep1 --format csv -o runs.csv\n  ox export -s sweep1 --group-by lr --metrics val_loss,val_acc:max --format latex\n  ox export -s sweep1 --series --format parquet -o series.parquet   # run, name, step, metric, value"
)]
pub struct Args {
    /// Only runs of this study.
    #[arg(short, long)]
    pub study: Option<String>,
    /// Only runs matching this query (see `ox query`).
    #[arg(long = "where", value_name = "EXPR")]
    pub where_expr: Option<String>,
    /// Only runs with this status.
    #[arg(long)]
    pub status: Option<Status>,
    /// One row per group of these params (mean, std, interval, n per metric); only
    /// completed runs count unless --status or --where chooses statuses.
    #[arg(long, value_delimiter = ',', value_name = "KEYS")]
    pub group_by: Vec<String>,
    /// Metric columns, `M` (last value) or `M:first|last|min|max|mean|count`; default: every
    /// metric (last, min, max, mean in csv/json/parquet; last in md/latex).
    #[arg(long, value_delimiter = ',', value_name = "M[:AGG]")]
    pub metrics: Vec<String>,
    /// Export the full metric series in long format (run, name, step, metric, value).
    #[arg(long, conflicts_with = "group_by")]
    pub series: bool,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Write to this file instead of stdout (required for parquet).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Confidence level of the group intervals.
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,
}

/// Runs `ox export`.
pub fn run(args: Args) -> Result<Outcome, CliError> {
    if !(args.confidence > 0.0 && args.confidence < 1.0) {
        return Err(CliError::usage(anyhow!(
            "--confidence must be between 0 and 1, got {}",
            args.confidence
        ))
        .hint("e.g. --confidence 0.95"));
    }
    if args.format == ExportFormat::Parquet && args.output.is_none() {
        return Err(
            CliError::usage(anyhow!("Parquet is binary: it needs a file"))
                .hint("add -o FILE.parquet"),
        );
    }
    if args.series && matches!(args.format, ExportFormat::Md | ExportFormat::Latex) {
        return Err(
            CliError::usage(anyhow!("--series exports data points, not a table to read"))
                .hint("use --format csv, json or parquet with --series"),
        );
    }
    let catalog = open_catalog()?;
    let selection = Selection {
        study: args.study.clone(),
        status: args.status,
        where_expr: args.where_expr.clone(),
    };
    let selected = select(&catalog, &selection)?;
    if selected.views.is_empty() {
        return Err(CliError::usage(anyhow!("no runs selected"))
            .hint("`ox ls` lists the runs; check --study/--status/--where"));
    }
    let views = selected.views;
    let records: Vec<RunRecord<'_>> = views.iter().map(record).collect();
    let columns = metric_columns(&args, &records)?;
    let mut sink = Sink::open(args.output.as_ref())?;
    let rows = if args.series {
        write_series(&catalog, &views, &columns, args.format, &mut sink)?
    } else if !args.group_by.is_empty() {
        check_params(&args.group_by, &records)?;
        // A failed or unfinished run's metric is partial: it counts only when chosen.
        let counted: Vec<RunRecord<'_>> = records
            .iter()
            .copied()
            .filter(|r| selected.status_chosen || r.run.status == Status::Completed)
            .collect();
        let left_out = records.len() - counted.len();
        if left_out > 0 {
            eprintln!(
                "note: {left_out} run(s) not completed are left out of the groups (choose statuses with --status or --where)"
            );
        }
        let groups = group_rows(&counted, &args.group_by, &columns, args.confidence);
        let text = match args.format {
            ExportFormat::Md => {
                groups_results_table(&groups, &args.group_by, &columns).to_markdown()
            }
            ExportFormat::Latex => {
                groups_results_table(&groups, &args.group_by, &columns).to_latex()
            }
            ExportFormat::Csv => groups_data_table(&groups, &args.group_by, &columns).to_csv(),
            ExportFormat::Json => groups_data_table(&groups, &args.group_by, &columns).to_json(),
            ExportFormat::Parquet => {
                let table = groups_data_table(&groups, &args.group_by, &columns);
                sink.parquet_table(&table)?;
                String::new()
            }
        };
        sink.write(text.as_bytes())?;
        groups.len() as u64
    } else {
        let text = match args.format {
            ExportFormat::Md | ExportFormat::Latex => {
                let varying = crate::runs_output::ranked_params(&views);
                let t = runs_results_table(&records, &varying, &columns);
                if args.format == ExportFormat::Md {
                    t.to_markdown()
                } else {
                    t.to_latex()
                }
            }
            ExportFormat::Csv => runs_table(&records, &columns).to_csv(),
            ExportFormat::Json => runs_table(&records, &columns).to_json(),
            ExportFormat::Parquet => {
                sink.parquet_table(&runs_table(&records, &columns))?;
                String::new()
            }
        };
        sink.write(text.as_bytes())?;
        records.len() as u64
    };
    sink.finish()?;
    if let Some(path) = &args.output {
        let what = if args.series {
            "points"
        } else if args.group_by.is_empty() {
            "runs"
        } else {
            "groups"
        };
        eprintln!("wrote {rows} {what} to {}", path.display());
    }
    Ok(Outcome::Success)
}

/// A run view as the report crate's record.
pub fn record(v: &RunView) -> RunRecord<'_> {
    RunRecord {
        run: &v.run,
        duration_s: v.duration_s,
        metrics: &v.metrics,
    }
}

fn metric_columns(args: &Args, records: &[RunRecord<'_>]) -> Result<Vec<MetricColumn>, CliError> {
    if args.metrics.is_empty() {
        let detailed = !matches!(args.format, ExportFormat::Md | ExportFormat::Latex);
        return Ok(default_metric_columns(records, detailed));
    }
    // The metrics given: checked as `ox report` checks them.
    super::report::metric_columns(&args.metrics, records)
}

fn check_params(keys: &[String], records: &[RunRecord<'_>]) -> Result<(), CliError> {
    let known: BTreeSet<String> = records
        .iter()
        .flat_map(|r| r.flat_params().into_keys())
        .collect();
    if let Some(unknown) = keys.iter().find(|k| !known.contains(k.as_str())) {
        let closest = super::report::did_you_mean(
            unknown,
            known.iter().map(String::as_str),
            "params of the selected runs",
        );
        return Err(
            CliError::usage(anyhow!("no selected run has the param {unknown:?}")).hint(closest),
        );
    }
    Ok(())
}

/// Every run's series (only the metrics of `--metrics` when given), streamed to the sink.
fn write_series(
    catalog: &ox_store::Catalog,
    views: &[RunView],
    columns: &[MetricColumn],
    format: ExportFormat,
    sink: &mut Sink,
) -> Result<u64, CliError> {
    let wanted: Option<BTreeSet<&str>> =
        (!columns.is_empty()).then(|| columns.iter().map(|c| c.metric.as_str()).collect());
    let mut parquet = match format {
        ExportFormat::Parquet => Some(
            ox_report::parquet::SeriesParquetWriter::new(sink.take_file()?)
                .map_err(|e| CliError::failed(anyhow!(e)))?,
        ),
        _ => None,
    };
    let mut points = 0u64;
    let mut first = true;
    match format {
        ExportFormat::Csv => export::write_series_csv_header(sink).map_err(write_err)?,
        ExportFormat::Json => sink.write(b"[\n")?,
        _ => {}
    }
    for v in views {
        let path = catalog.project().metrics_path(&v.run.id);
        if !path.exists() {
            continue;
        }
        let file = match MetricsFileReader::read_series(&path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("warning: series of {} skipped: {e}", v.run.id);
                continue;
            }
        };
        let id = v.run.id.as_str();
        let name = v.run.name.as_deref().unwrap_or("");
        for (metric, pts) in &file.series {
            if wanted
                .as_ref()
                .is_some_and(|w| !w.contains(metric.as_str()))
            {
                continue;
            }
            points += pts.len() as u64;
            match (&mut parquet, format) {
                (Some(p), _) => p
                    .push(id, name, metric, pts)
                    .map_err(|e| CliError::failed(anyhow!(e)))?,
                (None, ExportFormat::Json) => {
                    let wrote = export::write_series_json(sink, first, id, name, metric, pts)
                        .map_err(write_err)?;
                    first = !wrote;
                }
                _ => export::write_series_csv(sink, id, name, metric, pts).map_err(write_err)?,
            }
        }
    }
    if let Some(p) = parquet {
        p.finish().map_err(|e| CliError::failed(anyhow!(e)))?;
    }
    if format == ExportFormat::Json {
        sink.write(b"\n]\n")?;
    }
    Ok(points)
}

fn write_err(e: std::io::Error) -> CliError {
    CliError::failed(anyhow!(e).context("cannot write the export"))
}

/// Where the export goes: a file (`-o`) or stdout, buffered.
enum Sink {
    File(Option<BufWriter<std::fs::File>>, PathBuf),
    Stdout(BufWriter<std::io::Stdout>),
}

impl Sink {
    fn open(path: Option<&PathBuf>) -> Result<Sink, CliError> {
        Ok(match path {
            Some(p) => {
                if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                }
                let f = std::fs::File::create(p)
                    .with_context(|| format!("cannot create {}", p.display()))?;
                Sink::File(Some(BufWriter::with_capacity(1 << 20, f)), p.clone())
            }
            None => Sink::Stdout(BufWriter::with_capacity(1 << 16, std::io::stdout())),
        })
    }

    fn take_file(&mut self) -> Result<BufWriter<std::fs::File>, CliError> {
        match self {
            Sink::File(f, p) => f
                .take()
                .ok_or_else(|| CliError::failed(anyhow!("{} is already written", p.display()))),
            Sink::Stdout(_) => Err(CliError::usage(anyhow!("Parquet needs -o FILE"))),
        }
    }

    fn parquet_table(&mut self, table: &ox_render::Table) -> Result<(), CliError> {
        let file = self.take_file()?;
        ox_report::parquet::write_table(table, file).map_err(|e| CliError::failed(anyhow!(e)))
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), CliError> {
        Write::write_all(self, bytes).map_err(write_err)
    }

    fn finish(mut self) -> Result<(), CliError> {
        self.flush().map_err(write_err)
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::File(Some(f), _) => f.write(buf),
            Sink::File(None, _) => Ok(buf.len()),
            Sink::Stdout(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::File(Some(f), _) => f.flush(),
            Sink::File(None, _) => Ok(()),
            Sink::Stdout(s) => s.flush(),
        }
    }
}
