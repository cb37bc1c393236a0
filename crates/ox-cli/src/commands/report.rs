//! `ox report`: the analysis report of a study, written into a directory: `report.md`, a
//! self-contained `report.html`, `plots/`, `summary_table.csv`, `results_table.md`,
//! `metrics.csv` and `report.log` (what was read, what was skipped and why).
//!
//! This file reads (runs, series, the design file) and writes; `ox_report::report` builds
//! the document from `ox_analysis` results.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use ox_analysis::Direction;
use ox_analysis::diagnostics::{SeriesOptions, diagnose_series};
use ox_analysis::runs::{MetricSpec, RunInput, StatsRequest, stats_for_runs};
/// A file-name-safe form of a title (the rule `ox ui` also finds reports by).
pub use ox_core::slug;
use ox_core::{MetricsFileReader, Status};
use ox_report::export::{
    MetricColumn, RunRecord, default_metric_columns, group_rows, groups_data_table, runs_table,
};
use ox_report::report::{
    Design, MetricAnalysis, PairedFinding, PlotRef, PlotSection, ReportInput, SampleScores,
    TrainingCurves, build,
};
use ox_store::RunView;

use super::export::record;
use crate::output::open_catalog;
use crate::selection::{Selection, select};
use crate::{CliError, Outcome};

/// Arguments of `ox report`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  ox report -s sweep1\n  ox report -s sweep1 --metric val_loss --metric val_acc:max -o paper/results\n  ox report --where \"study = 'sweep1' AND lr < 0.1\" --open"
)]
pub struct Args {
    /// Only runs of this study.
    #[arg(short, long)]
    pub study: Option<String>,
    /// Only runs matching this query (see `ox query`).
    #[arg(long = "where", value_name = "EXPR")]
    pub where_expr: Option<String>,
    /// Metrics to compare, `M` or `M:SUMMARY` (first, last, min, max, mean); the first is
    /// the primary one. Default: up to four metrics whose name says which way is better.
    #[arg(long, value_name = "M[:SUMMARY]")]
    pub metric: Vec<String>,
    /// Directory to write into (default: `reports/<study>/` in the project).
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Open report.html in the browser afterwards.
    #[arg(long)]
    pub open: bool,
    /// Confidence level of the intervals.
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,
    /// Significance level for "clear winner".
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
}

/// Lines of `report.log`.
#[derive(Default)]
pub struct Log(Vec<String>);

impl Log {
    fn line(&mut self, s: impl Into<String>) {
        self.0.push(s.into());
    }
}

/// Runs `ox report`.
pub fn run(args: Args) -> Result<Outcome, CliError> {
    for (name, v) in [("--confidence", args.confidence), ("--alpha", args.alpha)] {
        if !(v > 0.0 && v < 1.0) {
            return Err(CliError::usage(anyhow!(
                "{name} must be between 0 and 1, got {v}"
            )));
        }
    }
    let catalog = open_catalog()?;
    let project = catalog.project().clone();
    let selection = Selection {
        study: args.study.clone(),
        status: None,
        where_expr: args.where_expr.clone(),
    };
    let selected = select(&catalog, &selection)?;
    if selected.views.is_empty() {
        return Err(CliError::usage(anyhow!("no runs selected"))
            .hint("`ox ls` lists the runs; check --study/--where"));
    }
    let views = &selected.views;
    let mut log = Log::default();
    let mut problems = Vec::new();
    for w in &catalog.last_refresh().warnings {
        log.line(format!("catalog: {w}"));
        problems.push(format!("Unreadable input: {w}."));
    }
    let title = report_title(&args, views);
    log.line(format!(
        "selected {} runs ({})",
        views.len(),
        selection_text(&args)
    ));
    let records: Vec<RunRecord<'_>> = views.iter().map(record).collect();

    let (design, searched) = find_design(project.root(), &title);
    match &design {
        Some(d) => log.line(format!("design file: {}", d.file)),
        None => log.line(format!(
            "design file: none (looked for {})",
            searched.join(", ")
        )),
    }
    let Analysis {
        columns,
        analyses,
        training,
    } = analyse(
        &catalog,
        views,
        selected.status_chosen,
        &args.metric,
        args.confidence,
        args.alpha,
        &mut log,
        &mut problems,
    )?;
    let (samples, paired) = sample_scores(
        catalog.project(),
        views,
        analyses.first(),
        args.confidence,
        &mut log,
        &mut problems,
    );
    let out_dir = args
        .output
        .clone()
        .unwrap_or_else(|| project.report_dir(&title));
    std::fs::create_dir_all(out_dir.join("plots"))
        .with_context(|| format!("cannot create {}", out_dir.join("plots").display()))?;
    let plots = draw_plots(
        &PlotContext {
            catalog: &catalog,
            views,
            status_chosen: selected.status_chosen,
            out_dir: &out_dir,
        },
        &analyses,
        training.as_ref().map(|t| t.metric.as_str()),
        !samples.is_empty(),
        &mut log,
    );
    let command = ox_core::shell::join(&std::env::args().collect::<Vec<_>>());
    let input = ReportInput {
        title: title.clone(),
        runs: records.clone(),
        design,
        design_searched: searched,
        metrics: analyses,
        training,
        plots,
        samples,
        paired,
        problems,
        generated: (
            chrono::Utc::now()
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
            command,
        ),
    };
    let report = build(&input);

    let write = |name: &str, bytes: &[u8]| -> Result<(), CliError> {
        let path = out_dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    };
    let markdown = report.document.to_markdown();
    write("report.md", markdown.as_bytes())?;
    let plots_dir = out_dir.clone();
    let html = report
        .document
        .to_html(&|path: &str| inline_image(&plots_dir, path));
    write("report.html", html.as_bytes())?;
    write(
        "results_table.md",
        report.results_table.to_markdown().as_bytes(),
    )?;
    let counted: Vec<RunRecord<'_>> = records
        .iter()
        .copied()
        .filter(|r| selected.status_chosen || r.run.status == Status::Completed)
        .collect();
    let keys = input
        .metrics
        .first()
        .map(|m| m.stats.group_by.clone())
        .unwrap_or_default();
    let summary = groups_data_table(
        &group_rows(&counted, &keys, &columns, args.confidence),
        &keys,
        &columns,
    );
    write("summary_table.csv", summary.to_csv().as_bytes())?;
    write(
        "metrics.csv",
        runs_table(&records, &default_metric_columns(&records, true))
            .to_csv()
            .as_bytes(),
    )?;
    log.line(format!(
        "wrote report.md, report.html, results_table.md, summary_table.csv, metrics.csv in {}",
        out_dir.display()
    ));
    let mut log_text = String::new();
    for l in &log.0 {
        let _ = writeln!(log_text, "{l}");
    }
    write("report.log", log_text.as_bytes())?;

    eprintln!(
        "{} findings from {} runs; {} limitation(s) noted",
        report.findings.len(),
        views.len(),
        report.limitations.len()
    );
    println!("{}", out_dir.join("report.html").display());
    println!("{}", out_dir.join("report.md").display());
    if args.open {
        let _ = std::process::Command::new("xdg-open")
            .arg(out_dir.join("report.html"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
    Ok(Outcome::Success)
}

/// What `ox report` and `ox notes --study` compute from the runs.
pub struct Analysis {
    pub columns: Vec<MetricColumn>,
    pub analyses: Vec<MetricAnalysis>,
    pub training: Option<TrainingCurves>,
}

/// The statistics of every compared metric (`ox_analysis::analyze`) and the diagnostics
/// of the training curves; what was counted and skipped goes to `log`.
#[allow(clippy::too_many_arguments)]
fn analyse(
    catalog: &ox_store::Catalog,
    views: &[RunView],
    status_chosen: bool,
    metric_specs: &[String],
    confidence: f64,
    alpha: f64,
    log: &mut Log,
    problems: &mut Vec<String>,
) -> Result<Analysis, CliError> {
    let records: Vec<RunRecord<'_>> = views.iter().map(record).collect();
    let columns = metric_columns(metric_specs, &records)?;
    if columns.is_empty() {
        log.line("no metric with a known direction (loss, acc, …): pass --metric M");
    }
    let inputs: Vec<RunInput<'_>> = views
        .iter()
        .map(|v| RunInput {
            run: &v.run,
            duration_s: v.duration_s,
            metrics: &v.metrics,
        })
        .collect();
    let mut analyses = Vec::new();
    for c in &columns {
        // Which runs count, their value and cost: ox-analysis decides, as for `ox stats`.
        let req = StatsRequest {
            metric: MetricSpec::parse(&format!("{}:{}", c.metric, c.aggregate)),
            direction: c.direction(),
            status_chosen,
            confidence,
            alpha,
            group_by: None,
            seed_like: Vec::new(),
            bootstrap: None,
            diminishing_tolerance: 0.01,
        };
        let stats = match stats_for_runs(&inputs, &req) {
            Ok(s) => s,
            Err(e) => {
                log.line(format!(
                    "metric {} ({}): not analysed: {e}",
                    c.metric, c.aggregate
                ));
                problems.push(format!("`{}` not analysed: {e}.", c.metric));
                continue;
            }
        };
        let counted: usize = stats.report.groups.iter().map(|g| g.stats.n).sum();
        log.line(format!(
            "metric {} ({}): {counted} runs counted, {} excluded",
            c.metric,
            c.aggregate,
            stats.report.excluded.len()
        ));
        for e in &stats.report.excluded {
            log.line(format!("  skipped {}: {}", e.run_id, e.reason));
        }
        analyses.push(MetricAnalysis {
            metric: c.metric.clone(),
            summary: c.aggregate,
            direction: stats.options.direction,
            confidence,
            alpha,
            cost_kind: stats.cost_kind.map(|k| k.as_str()),
            stats: stats.report,
        });
    }
    let training = training_curves(catalog, views, log, problems);
    Ok(Analysis {
        columns,
        analyses,
        training,
    })
}

/// The key findings of a selection of runs, as `ox report` writes them.
pub fn findings_of(
    catalog: &ox_store::Catalog,
    views: &[RunView],
    status_chosen: bool,
    title: &str,
) -> Result<Vec<String>, CliError> {
    let mut log = Log::default();
    let mut problems = Vec::new();
    let a = analyse(
        catalog,
        views,
        status_chosen,
        &[],
        0.95,
        0.05,
        &mut log,
        &mut problems,
    )?;
    let input = ReportInput {
        title: title.to_string(),
        runs: views.iter().map(record).collect(),
        design: None,
        design_searched: Vec::new(),
        metrics: a.analyses,
        training: a.training,
        plots: Vec::new(),
        samples: Vec::new(),
        paired: None,
        problems,
        generated: (String::new(), String::new(), String::new()),
    };
    Ok(build(&input).findings)
}

fn report_title(args: &Args, views: &[RunView]) -> String {
    if let Some(s) = &args.study {
        return s.clone();
    }
    let mut studies: Vec<&str> = views.iter().map(|v| v.run.study.as_str()).collect();
    studies.sort_unstable();
    studies.dedup();
    match studies.as_slice() {
        [one] => (*one).to_string(),
        _ => "selection".to_string(),
    }
}

fn selection_text(args: &Args) -> String {
    let mut parts = Vec::new();
    if let Some(s) = &args.study {
        parts.push(format!("study {s}"));
    }
    if let Some(w) = &args.where_expr {
        parts.push(format!("where {w}"));
    }
    if parts.is_empty() {
        "all runs".into()
    } else {
        parts.join(", ")
    }
}

/// A hint naming the closest of `known` to `wanted` (`ox_query::suggest`), and some of
/// the names there are.
pub fn did_you_mean<'a>(
    wanted: &str,
    known: impl Iterator<Item = &'a str> + Clone,
    what: &str,
) -> String {
    let list: Vec<&str> = known.clone().take(12).collect();
    if list.is_empty() {
        return format!("there are no {what}");
    }
    let close = ox_query::suggest::closest(wanted, known);
    if close.is_empty() {
        format!("{what}: {}", list.join(", "))
    } else {
        format!(
            "did you mean {}? {what}: {}",
            ox_query::suggest::or_list(&close),
            list.join(", ")
        )
    }
}

/// The study's design file: `experiment_summary.md` or `README.md` in `studies/<study>/`,
/// `<study>/` or `experiments/<study>/` of the project. Returns the places looked at too.
pub fn find_design(root: &Path, study: &str) -> (Option<Design>, Vec<String>) {
    let mut searched = Vec::new();
    for dir in study_dirs(study) {
        for file in ["experiment_summary.md", "README.md"] {
            let rel = format!("{dir}/{file}");
            searched.push(rel.clone());
            if let Ok(text) = std::fs::read_to_string(root.join(&rel)) {
                return (Some(Design { file: rel, text }), searched);
            }
        }
    }
    (None, searched)
}

/// Where a study's own files live, relative to the project root, most specific first.
pub fn study_dirs(study: &str) -> Vec<String> {
    vec![
        format!("studies/{study}"),
        study.to_string(),
        format!("experiments/{study}"),
    ]
}

/// The metrics to compare: `specs` when given (checked against the runs' metrics), else
/// up to four whose name says which way is better, evaluation-like names first.
pub fn metric_columns(
    specs: &[String],
    records: &[RunRecord<'_>],
) -> Result<Vec<MetricColumn>, CliError> {
    let count = |rs: &[&RunRecord<'_>]| {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for r in rs {
            for k in r.metrics.keys() {
                *m.entry(k.clone()).or_insert(0) += 1;
            }
        }
        m
    };
    let all: Vec<&RunRecord<'_>> = records.iter().collect();
    let known = count(&all);
    // Counted over completed runs (the ones statistics use), or all when none completed.
    let completed: Vec<&RunRecord<'_>> = records
        .iter()
        .filter(|r| r.run.status == Status::Completed)
        .collect();
    let basis = if completed.is_empty() { all } else { completed };
    let common = count(&basis);
    if !specs.is_empty() {
        let cols: Vec<MetricColumn> = specs.iter().map(|s| MetricColumn::parse(s)).collect();
        for c in &cols {
            if !known.contains_key(c.metric.as_str()) {
                let hint = did_you_mean(
                    &c.metric,
                    known.keys().map(String::as_str),
                    "metrics of the selected runs",
                );
                return Err(CliError::usage(anyhow!(
                    "no selected run has the metric {:?}",
                    c.metric
                ))
                .hint(hint));
            }
        }
        return Ok(cols);
    }
    // Evaluation-like names first (val/eval/test/acc), then the rest; only metrics most
    // runs have and whose name says which way is better.
    let half = basis.len().div_ceil(2);
    let mut names: Vec<&str> = common
        .iter()
        .filter(|(k, n)| **n >= half && Direction::infer(k).is_some())
        .map(|(k, _)| k.as_str())
        .collect();
    let rank = |k: &str| {
        let l = k.to_ascii_lowercase();
        if ["val", "eval", "test"].iter().any(|w| l.contains(w)) {
            0
        } else if l.contains("acc") || l.contains("score") {
            1
        } else {
            2
        }
    };
    names.sort_by_key(|k| (rank(k), *k));
    names.truncate(4);
    Ok(names.into_iter().map(MetricColumn::parse).collect())
}

/// The training curve: the first loss-like metric (`train` in its name preferred); every
/// run's series diagnosed (convergence, divergence, oscillation).
fn training_curves(
    catalog: &ox_store::Catalog,
    views: &[RunView],
    log: &mut Log,
    problems: &mut Vec<String>,
) -> Option<TrainingCurves> {
    let mut names: Vec<&String> = views.iter().flat_map(|v| v.metrics.keys()).collect();
    names.sort();
    names.dedup();
    let metric = names
        .iter()
        .filter(|n| n.to_ascii_lowercase().contains("loss"))
        .min_by_key(|n| {
            let l = n.to_ascii_lowercase();
            (
                !(l.contains("train") || l == "loss"),
                l.contains("val") || l.contains("eval") || l.contains("test"),
                l.len(),
            )
        })?
        .to_string();
    let opts = SeriesOptions {
        direction: Direction::Min,
        threshold: None,
        plateau_tolerance: 0.02,
    };
    let mut runs = Vec::new();
    for v in views.iter().filter(|v| v.metrics.contains_key(&metric)) {
        let path = catalog.project().metrics_path(&v.run.id);
        match MetricsFileReader::read_series(&path) {
            Ok(file) => {
                if !file.bad_lines.is_empty() {
                    let msg = format!(
                        "{}: {} unparseable line(s) in {} skipped",
                        v.run.id,
                        file.bad_lines.len(),
                        path.display()
                    );
                    log.line(msg.clone());
                    problems.push(format!("Damaged metrics file: {msg}."));
                }
                if let Some((_, pts)) = file.series.iter().find(|(n, _)| *n == metric) {
                    runs.push((v.run.id.to_string(), diagnose_series(pts, &opts)));
                }
            }
            Err(e) => {
                log.line(format!("{}: series not read: {e}", v.run.id));
                problems.push(format!("Unreadable metrics of {}: {e}.", v.run.id));
            }
        }
    }
    log.line(format!(
        "training curves: {metric} of {} runs diagnosed",
        runs.len()
    ));
    Some(TrainingCurves { metric, runs })
}

/// Per-sample scores of the runs that have `samples.jsonl` (the first scorer of each), and
/// the best of them and the best of another configuration compared sample by sample (as `ox stats
/// --paired` does) when they share a scorer.
fn sample_scores(
    project: &ox_core::Project,
    views: &[RunView],
    primary: Option<&MetricAnalysis>,
    confidence: f64,
    log: &mut Log,
    problems: &mut Vec<String>,
) -> (Vec<SampleScores>, Option<PairedFinding>) {
    type Scores = BTreeMap<String, BTreeMap<(String, i64), Option<f64>>>;
    let mut per_run: Vec<(&RunView, Vec<String>, Scores)> = Vec::new();
    for v in views {
        let path = project.samples_path(&v.run.id);
        if !path.exists() {
            continue;
        }
        match ox_core::read_samples(&path) {
            Ok(file) => {
                if file.bad_lines > 0 {
                    log.line(format!(
                        "{}: {} unreadable sample line(s) skipped",
                        v.run.id, file.bad_lines
                    ));
                    problems.push(format!(
                        "Damaged samples file of {}: {} unreadable line(s) skipped.",
                        v.run.id, file.bad_lines
                    ));
                }
                let mut scorers: Vec<String> = Vec::new();
                let mut scores: Scores = BTreeMap::new();
                for r in file.records {
                    if !scorers.contains(&r.scorer) {
                        scorers.push(r.scorer.clone());
                    }
                    scores
                        .entry(r.scorer.clone())
                        .or_default()
                        .insert((r.id_text(), r.epoch), r.score.filter(|x| x.is_finite()));
                }
                per_run.push((v, scorers, scores));
            }
            Err(e) => {
                log.line(format!("{}: samples not read: {e}", v.run.id));
                problems.push(format!("Unreadable samples of {}: {e}.", v.run.id));
            }
        }
    }
    let summaries: Vec<SampleScores> = per_run
        .iter()
        .filter_map(|(v, scorers, scores)| {
            let scorer = scorers.first()?;
            let map = scores.get(scorer)?;
            Some(SampleScores {
                run_id: v.run.id.to_string(),
                scorer: scorer.clone(),
                scores: map.values().filter_map(|x| *x).collect(),
                unscored: map.values().filter(|x| x.is_none()).count(),
            })
        })
        .collect();
    // The best run and the best of another configuration (completed, by the primary
    // metric), when they share a scorer.
    let paired = primary.and_then(|m| {
        let value = |v: &RunView| {
            v.metrics
                .get(&m.metric)
                .and_then(|s| s.get(m.summary))
                .filter(|x| x.is_finite())
        };
        let mut ranked: Vec<&(&RunView, Vec<String>, Scores)> = per_run
            .iter()
            .filter(|(v, _, _)| v.run.status == Status::Completed && value(v).is_some())
            .collect();
        ranked.sort_by(|a, b| {
            m.direction.cmp_best_first(
                value(a.0).unwrap_or(f64::NAN),
                value(b.0).unwrap_or(f64::NAN),
            )
        });
        // The best run, and the best run of another configuration.
        let group_of = |id: &str| {
            m.stats
                .groups
                .iter()
                .position(|g| g.runs.iter().any(|r| r == id))
        };
        let a = ranked.first()?;
        let ga = group_of(a.0.run.id.as_str());
        let b = ranked
            .iter()
            .skip(1)
            .find(|r| group_of(r.0.run.id.as_str()) != ga)?;
        let scorer = a.1.iter().find(|s| b.2.contains_key(*s))?;
        let joined = ox_analysis::paired::join_scores(a.2.get(scorer)?, b.2.get(scorer)?);
        if joined.pairs.is_empty() {
            return None;
        }
        let opts = ox_analysis::paired::PairedOptions {
            confidence,
            ..Default::default()
        };
        log.line(format!(
            "paired: {} vs {} on {} shared samples of scorer {scorer}",
            a.0.run.id,
            b.0.run.id,
            joined.pairs.len()
        ));
        Some(PairedFinding {
            a: a.0.run.id.to_string(),
            b: b.0.run.id.to_string(),
            scorer: scorer.clone(),
            confidence,
            result: ox_analysis::paired::paired_compare(&joined.pairs, &opts),
        })
    });
    (summaries, paired)
}

/// What drawing the report's figures needs.
struct PlotContext<'a> {
    catalog: &'a ox_store::Catalog,
    views: &'a [RunView],
    status_chosen: bool,
    out_dir: &'a Path,
}

/// `ox plot`'s arguments from a command line (the same parser, so the same defaults).
fn plot_args(argv: &[String]) -> Result<super::plot::Args, String> {
    use clap::{Args as _, FromArgMatches};
    let cmd = super::plot::Args::augment_args(clap::Command::new("plot"));
    let m = cmd
        .try_get_matches_from(std::iter::once("plot".to_string()).chain(argv.iter().cloned()))
        .map_err(|e| e.to_string())?;
    super::plot::Args::from_arg_matches(&m).map_err(|e| e.to_string())
}

/// Draws one figure with `ox plot`'s figure builder and writes `plots/NAME.png` and
/// `plots/NAME.svg`; a figure that cannot be drawn is logged and left out.
fn draw(
    ctx: &PlotContext<'_>,
    name: &str,
    argv: &[String],
    caption: String,
    section: PlotSection,
    metric: Option<&str>,
    log: &mut Log,
) -> Option<PlotRef> {
    let args = match plot_args(argv) {
        Ok(a) => a,
        Err(e) => {
            log.line(format!(
                "plot {name} skipped: {}",
                e.lines().next().unwrap_or("")
            ));
            return None;
        }
    };
    let request = super::plot::figures::Request {
        args: &args,
        project: ctx.catalog.project(),
        catalog: ctx.catalog,
        views: ctx.views,
        status_chosen: ctx.status_chosen,
        style: ox_plot::Style::default_style(),
        direction: None,
        title_suffix: String::new(),
    };
    let plot = match super::plot::figures::build(&request) {
        Ok(p) => p,
        Err(e) => {
            log.line(format!("plot {name} skipped: {:#}", e.error));
            return None;
        }
    };
    for (format, ext) in [(ox_plot::Format::Svg, "svg"), (ox_plot::Format::Png, "png")] {
        let path = ctx.out_dir.join("plots").join(format!("{name}.{ext}"));
        let written = plot
            .figure
            .render(format)
            .map_err(|e| e.to_string())
            .and_then(|bytes| std::fs::write(&path, bytes).map_err(|e| e.to_string()));
        if let Err(e) = written {
            log.line(format!("plot {name} skipped: {}: {e}", path.display()));
            return None;
        }
    }
    log.line(format!("plot {name}: `ox plot {}`", argv.join(" ")));
    Some(PlotRef {
        section,
        metric: metric.map(String::from),
        path: format!("plots/{name}.png"),
        caption,
    })
}

/// The report's figures: training curves (group means with bands when seeds repeat a
/// configuration), a bar chart per compared metric, a heatmap of a 2-D sweep, the cost
/// Pareto plot and per-sample score boxes.
fn draw_plots(
    ctx: &PlotContext<'_>,
    analyses: &[MetricAnalysis],
    training_metric: Option<&str>,
    has_samples: bool,
    log: &mut Log,
) -> Vec<PlotRef> {
    let s = |x: &str| x.to_string();
    let mut plots = Vec::new();
    let keys = analyses
        .first()
        .map(|m| m.stats.group_by.clone())
        .unwrap_or_default();
    let seeded = analyses
        .first()
        .is_some_and(|m| m.stats.groups.iter().any(|g| g.stats.n > 1));
    if let Some(metric) = training_metric {
        let mut argv = vec![s("curves"), s("--metric"), s(metric)];
        // More than a dozen configurations make an unreadable tangle: then group by the
        // param that explains most of the variance (η²) only.
        let configs = analyses.first().map_or(0, |m| m.stats.groups.len());
        let top = analyses
            .first()
            .and_then(|m| m.stats.importance.first())
            .map(|i| i.param.clone());
        let caption = if seeded && !keys.is_empty() && configs <= 12 {
            argv.extend([s("--group-by"), keys.join(",")]);
            format!("{metric} by step: mean of each configuration with its 95% band")
        } else if let Some(param) = top.filter(|_| configs > 12) {
            argv.extend([s("--group-by"), param.clone()]);
            format!(
                "{metric} by step: mean per {param} (the param that explains most of the variance) with its 95% band"
            )
        } else {
            format!("{metric} by step, one line per run")
        };
        plots.extend(draw(
            ctx,
            "training_curves",
            &argv,
            caption,
            PlotSection::Training,
            None,
            log,
        ));
    }
    for (i, m) in analyses.iter().enumerate().take(2) {
        let spec = format!("{}:{}", m.metric, m.summary);
        let name = format!("bar_{}", super::report::slug(&m.metric));
        let mut argv = vec![s("bar"), s("--metric"), spec.clone()];
        let caption = match m.stats.importance.first() {
            // As for the curves: a bar per configuration only while they stay readable.
            Some(top) if m.stats.groups.len() > 12 => {
                argv.extend([s("--group-by"), top.param.clone()]);
                format!(
                    "{} per {} (the param that explains most of its variance), mean with 95% interval",
                    m.metric, top.param
                )
            }
            _ => format!("{} per configuration, mean with 95% interval", m.metric),
        };
        plots.extend(draw(
            ctx,
            &name,
            &argv,
            caption,
            PlotSection::Evaluation,
            Some(&m.metric),
            log,
        ));
        if i == 0 && m.stats.group_by.len() == 2 {
            let (x, y) = (&m.stats.group_by[0], &m.stats.group_by[1]);
            plots.extend(draw(
                ctx,
                "heatmap",
                &[
                    s("heatmap"),
                    s("--metric"),
                    spec.clone(),
                    s("--x"),
                    x.clone(),
                    s("--y"),
                    y.clone(),
                ],
                format!("mean {} by {x} and {y}", m.metric),
                PlotSection::Evaluation,
                Some(&m.metric),
                log,
            ));
        }
        if i == 0 && m.cost_kind.is_some() && m.stats.groups.len() > 1 {
            plots.extend(draw(
                ctx,
                "pareto",
                &[s("pareto"), s("--metric"), spec.clone()],
                format!("{} against cost, the Pareto front drawn", m.metric),
                PlotSection::Evaluation,
                Some(&m.metric),
                log,
            ));
        }
    }
    if has_samples {
        // `box --samples` names the scorer with --metric; the first scorer is the usual one.
        let scorer = ctx.views.iter().find_map(|v| {
            let f = ox_core::read_samples(&ctx.catalog.project().samples_path(&v.run.id)).ok()?;
            f.records.first().map(|r| r.scorer.clone())
        });
        if let Some(scorer) = scorer {
            plots.extend(draw(
                ctx,
                "sample_scores",
                &[s("box"), s("--samples"), s("--metric"), scorer.clone()],
                format!("per-sample {scorer} scores, one box per run"),
                PlotSection::Evaluation,
                None,
                log,
            ));
        }
    }
    plots
}

/// An image for the HTML page: a PNG path is served from its SVG twin when there is one
/// (smaller and sharp at any zoom).
fn inline_image(dir: &Path, rel: &str) -> Option<ox_report::document::InlineImage> {
    if let Some(stem) = rel.strip_suffix(".png")
        && let Ok(bytes) = std::fs::read(dir.join(format!("{stem}.svg")))
    {
        return Some(ox_report::document::InlineImage {
            mime: "image/svg+xml",
            bytes,
        });
    }
    let mime = if rel.ends_with(".svg") {
        "image/svg+xml"
    } else if rel.ends_with(".png") {
        "image/png"
    } else {
        return None;
    };
    let bytes = std::fs::read(dir.join(rel)).ok()?;
    Some(ox_report::document::InlineImage { mime, bytes })
}
