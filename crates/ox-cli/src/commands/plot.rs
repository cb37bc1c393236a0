//! `ox plot KIND`: figures from the selected runs, written as SVG or PNG (`-o`), or the data
//! that would be drawn as JSON (`--format json`).
//!
//! This file parses the flags, selects runs and writes the output; `plot/series.rs` reads
//! metric and system series from the run files, `plot/figures.rs` turns runs into an
//! `ox_plot::Figure` plus its JSON data, one function per kind. Group means and intervals
//! come from `ox_analysis` (the numbers `ox stats` reports); drawing from `ox_plot`.

pub mod figures;
pub mod series;

use std::path::PathBuf;

use anyhow::anyhow;
use ox_analysis::Direction;
use ox_core::Status;
use ox_plot::Style;
use ox_store::RunView;

use crate::output::open_catalog;
use crate::{CliError, Outcome};

/// What to draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Metrics against step (or --x time), runs overlaid or group means with bands.
    Curves,
    /// A final metric per group with confidence-interval error bars, the best marked.
    Bar,
    /// A metric against one numeric param (--x) with error bars.
    Sweep,
    /// A metric over two params (--x, --y), each cell annotated with its mean.
    Heatmap,
    /// The distribution of a metric across seeds per group (or per-sample scores: --samples).
    Box,
    /// A metric against cost (duration or GPU-hours) with the Pareto front.
    Pareto,
    /// CPU, RSS, GPU utilization and memory over time from the runs' system samples.
    System,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Curves => "curves",
            Kind::Bar => "bar",
            Kind::Sweep => "sweep",
            Kind::Heatmap => "heatmap",
            Kind::Box => "box",
            Kind::Pareto => "pareto",
            Kind::System => "system",
        }
    }
}

/// Figure presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlotStyle {
    /// 6.4 × 4.4 in, 150 dpi, 10-pt labels.
    Default,
    /// One paper column: 3.3 × 2.5 in, 300 dpi, 8-pt text.
    Paper,
}

/// Output formats; without `--format`, `-o`'s extension decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlotFormat {
    Svg,
    Png,
    /// The data that would be drawn (series after downsampling, group means and intervals).
    Json,
}

/// Arguments of `ox plot`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  ox plot curves -s sweep --metric loss -o loss.png
  ox plot curves -s sweep --metric loss --group-by lr --smooth 0.6 --log-y -o loss.svg
  ox plot bar -s sweep --metric accuracy --group-by lr -o acc.png --style paper
  ox plot sweep -s sweep --metrics accuracy,f1 --x lr -o sweep.png
  ox plot heatmap -s sweep --metric accuracy --x lr --y lora_rank -o heat.png
  ox plot box -s evals --metric match --samples -o scores.png
  ox plot pareto -s sweep --metric accuracy -o pareto.png
  ox plot system --where \"name = 'big-run'\" -o system.png
  ox plot curves -s sweep --metric loss --format json")]
pub struct Args {
    /// What to draw.
    #[arg(value_enum)]
    pub kind: Kind,
    /// Only runs matching this query (see `ox query`).
    #[arg(long = "where", value_name = "EXPR")]
    pub where_expr: Option<String>,
    /// Only runs of this study.
    #[arg(short, long)]
    pub study: Option<String>,
    /// Only runs with this status (statistics use completed runs unless a status is chosen).
    #[arg(long)]
    pub status: Option<Status>,
    /// The metric; for bar/sweep/heatmap/box/pareto with the per-run summary:
    /// `M` (= `M:last`), `M:min`, `M:max`, `M:mean`, `M:first`.
    #[arg(long, value_name = "M[:SUMMARY]")]
    pub metric: Option<String>,
    /// Several metrics (comma-separated): panels of `curves`, series of `sweep`.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "M,M",
        conflicts_with = "metric"
    )]
    pub metrics: Vec<String>,
    /// Params that define a group (comma-separated); curves draw each group's mean with a
    /// confidence band; bar/box default to every varied non-seed param.
    #[arg(long, value_delimiter = ',', value_name = "KEYS")]
    pub group_by: Vec<String>,
    /// Horizontal axis: `step` or `time` (curves), a param (sweep, heatmap), `duration` or
    /// `gpu_hours` (pareto).
    #[arg(long, value_name = "X")]
    pub x: Option<String>,
    /// The second param of `heatmap` (its vertical axis).
    #[arg(long, value_name = "P")]
    pub y: Option<String>,
    /// EMA smoothing weight in [0, 1) for curves, like TensorBoard's slider (debiased).
    #[arg(long, value_name = "W")]
    pub smooth: Option<f64>,
    /// Logarithmic vertical axis.
    #[arg(long)]
    pub log_y: bool,
    /// Per-sample scores of evaluations (`box`): one box per run, `--metric` names the scorer.
    #[arg(long)]
    pub samples: bool,
    /// Whether lower (`min`) or higher (`max`) is better (the best bar, the Pareto front);
    /// default: from the metric's name.
    #[arg(long, value_name = "min|max")]
    pub mode: Option<String>,
    /// Confidence level of bands and error bars.
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,
    /// Params to treat as seeds (never grouped on), besides `seed` / `*_seed`.
    #[arg(long = "seed-key", value_delimiter = ',', value_name = "NAME")]
    pub seed_keys: Vec<String>,
    /// Figure preset.
    #[arg(long, value_enum, default_value = "default")]
    pub style: PlotStyle,
    /// Figure width in inches (default 6.4; paper 3.3).
    #[arg(long, value_name = "IN")]
    pub width: Option<f64>,
    /// Figure height in inches (default 4.4; paper 2.5).
    #[arg(long, value_name = "IN")]
    pub height: Option<f64>,
    /// PNG resolution in pixels per inch (default 150; paper 300).
    #[arg(long)]
    pub dpi: Option<f64>,
    /// Figure title (default: from the metric, the grouping and the query).
    #[arg(long)]
    pub title: Option<String>,
    /// Output file; its extension (.svg, .png, .json) picks the format.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Output format (overrides the extension; `json` prints to stdout without -o).
    #[arg(long, value_enum)]
    pub format: Option<PlotFormat>,
}

/// Runs `ox plot`.
pub fn run(args: Args) -> Result<Outcome, CliError> {
    let format = output_format(&args)?;
    let style = style(&args)?;
    if !(args.confidence > 0.0 && args.confidence < 1.0) {
        return Err(CliError::usage(anyhow!(
            "--confidence must be between 0 and 1, got {}",
            args.confidence
        ))
        .hint("e.g. --confidence 0.95"));
    }
    if let Some(w) = args.smooth
        && !(0.0..1.0).contains(&w)
    {
        return Err(
            CliError::usage(anyhow!("--smooth must be in [0, 1), got {w}"))
                .hint("0.6 smooths like TensorBoard's default slider; 0 draws the raw values"),
        );
    }
    let direction = match args.mode.as_deref() {
        Some(m) => Some(
            Direction::parse(m)
                .ok_or_else(|| CliError::usage(anyhow!("--mode must be min or max, got {m:?}")))?,
        ),
        None => None,
    };
    let catalog = open_catalog()?;
    let (views, status_chosen) = select_runs(&catalog, &args)?;
    if views.is_empty() {
        return Err(CliError::usage(anyhow!("no runs selected"))
            .hint("`ox ls` lists the runs; check --study/--status/--where"));
    }
    let request = figures::Request {
        args: &args,
        project: catalog.project(),
        catalog: &catalog,
        views: &views,
        status_chosen,
        style,
        direction,
        title_suffix: query_suffix(&args),
    };
    let plot = figures::build(&request)?;
    match format {
        PlotFormat::Json => {
            let mut text = serde_json::to_string_pretty(&plot.data)
                .map_err(|e| CliError::failed(anyhow!(e)))?;
            text.push('\n');
            match &args.output {
                Some(path) => write_file(path, text.as_bytes())?,
                None => print!("{text}"),
            }
        }
        PlotFormat::Svg | PlotFormat::Png => {
            let f = if format == PlotFormat::Svg {
                ox_plot::Format::Svg
            } else {
                ox_plot::Format::Png
            };
            let bytes = plot
                .figure
                .render(f)
                .map_err(|e| CliError::usage(anyhow!(e)).hint("check --width/--height/--dpi"))?;
            let Some(path) = &args.output else {
                return Err(CliError::usage(anyhow!("no output file")));
            };
            write_file(path, &bytes)?;
        }
    }
    Ok(Outcome::Success)
}

fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes)
        .map_err(|e| CliError::failed(anyhow!("cannot write {}: {e}", path.display())))
}

fn output_format(args: &Args) -> Result<PlotFormat, CliError> {
    if let Some(f) = args.format {
        if f != PlotFormat::Json && args.output.is_none() {
            return Err(CliError::usage(anyhow!("--format {f:?} needs -o FILE"))
                .hint("e.g. -o figure.png; --format json prints to stdout"));
        }
        return Ok(f);
    }
    let Some(path) = &args.output else {
        return Err(
            CliError::usage(anyhow!("where should the figure go? -o FILE is missing"))
                .hint("-o figure.png or -o figure.svg; --format json prints the data instead"),
        );
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "svg" => Ok(PlotFormat::Svg),
        "png" => Ok(PlotFormat::Png),
        "json" => Ok(PlotFormat::Json),
        _ => Err(CliError::usage(anyhow!(
            "cannot tell the format of {} from its extension",
            path.display()
        ))
        .hint("use a .svg, .png or .json file name, or --format svg|png|json")),
    }
}

fn style(args: &Args) -> Result<Style, CliError> {
    let mut s = match args.style {
        PlotStyle::Default => Style::default_style(),
        PlotStyle::Paper => Style::paper(),
    };
    for (name, value, lo, hi) in [
        ("--width", args.width, 1.0, 40.0),
        ("--height", args.height, 1.0, 40.0),
        ("--dpi", args.dpi, 30.0, 1200.0),
    ] {
        if let Some(v) = value
            && !(lo..=hi).contains(&v)
        {
            let unit = if name == "--dpi" { "" } else { " inches" };
            return Err(CliError::usage(anyhow!(
                "{name} must be between {lo} and {hi}{unit}, got {v}"
            ))
            .hint("sizes are in inches, like matplotlib's figsize; --dpi sets the PNG's pixels per inch"));
        }
    }
    if let Some(w) = args.width {
        s.width_in = w;
    }
    if let Some(h) = args.height {
        s.height_in = h;
    }
    if let Some(d) = args.dpi {
        s.dpi = d;
    }
    Ok(s)
}

/// The query part of the default title: ` · study sweep` / ` · lr < 0.01`.
fn query_suffix(args: &Args) -> String {
    let mut parts = Vec::new();
    if let Some(s) = &args.study {
        parts.push(format!("study {s}"));
    }
    if let Some(w) = &args.where_expr {
        parts.push(w.clone());
    }
    if let Some(s) = args.status {
        parts.push(format!("status {}", s.as_str()));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" · {}", parts.join(", "))
    }
}

/// The runs `args` select, and whether the user chose their statuses (`--status`, or a
/// `status` condition in `--where`): the one selection of `crate::selection`.
fn select_runs(catalog: &ox_store::Catalog, args: &Args) -> Result<(Vec<RunView>, bool), CliError> {
    let selected = crate::selection::select(
        catalog,
        &crate::selection::Selection {
            study: args.study.clone(),
            status: args.status,
            where_expr: args.where_expr.clone(),
        },
    )?;
    Ok((selected.views, selected.status_chosen))
}
