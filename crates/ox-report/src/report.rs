//! `ox report`: the analysis report of a study (seed 001's structure): overview, training
//! results, evaluation results, statistical summary, key findings, recommendations,
//! limitations and a generated-by line.
//!
//! Every finding and recommendation is a sentence generated from an `ox-analysis` result
//! (a test, an interval, η², a diagnostic) and carries the number that backs it; when the
//! statistics do not support a claim (no significant difference), the report says so.

use std::collections::{BTreeMap, BTreeSet};

use ox_analysis::describe::{describe, t_interval};
use ox_analysis::diagnostics::SeriesDiagnostics;
use ox_analysis::group::describe_key;
use ox_analysis::report::GroupStats;
use ox_analysis::{Direction, StatsReport};
use ox_core::Status;
use ox_render::{Cell, Estimate, ResultCell, ResultsTable, format_number};
use serde_json::Value;

use crate::document::{Block, Document};
use crate::export::RunRecord;

/// The study's design file, when the project has one.
#[derive(Debug, Clone)]
pub struct Design {
    /// Path relative to the project root, as shown to the reader.
    pub file: String,
    pub text: String,
}

/// The statistics of one metric (from `ox_analysis::analyze`).
#[derive(Debug, Clone)]
pub struct MetricAnalysis {
    pub metric: String,
    /// The per-run summary used (`last`, `min`, …).
    pub summary: &'static str,
    pub direction: Direction,
    pub confidence: f64,
    pub alpha: f64,
    pub stats: StatsReport,
    /// `gpu_hours` or `duration_s` when the groups have a cost.
    pub cost_kind: Option<&'static str>,
}

/// Per-run diagnostics of the training curve (`ox stats`' diagnostics).
#[derive(Debug, Clone)]
pub struct TrainingCurves {
    pub metric: String,
    /// `(run id, diagnostics)`.
    pub runs: Vec<(String, SeriesDiagnostics)>,
}

/// Where a plot goes in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotSection {
    Training,
    Evaluation,
}

/// A plot file written beside the report.
#[derive(Debug, Clone)]
pub struct PlotRef {
    pub section: PlotSection,
    /// The metric whose subsection shows it (evaluation plots); `None`: the section's top.
    pub metric: Option<String>,
    /// Relative to the report (`plots/loss_curves.svg`).
    pub path: String,
    pub caption: String,
}

/// One run's per-sample scores (from its `samples.jsonl`).
#[derive(Debug, Clone)]
pub struct SampleScores {
    pub run_id: String,
    pub scorer: String,
    /// Numeric scores of the scored samples.
    pub scores: Vec<f64>,
    /// Samples without a numeric score.
    pub unscored: usize,
}

/// Two evaluations compared on the samples they share (`ox stats --paired`).
#[derive(Debug, Clone)]
pub struct PairedFinding {
    pub a: String,
    pub b: String,
    pub scorer: String,
    pub confidence: f64,
    pub result: ox_analysis::paired::PairedResult,
}

/// Everything the report is made from.
#[derive(Debug, Clone)]
pub struct ReportInput<'a> {
    pub title: String,
    /// Every selected run, completed or not.
    pub runs: Vec<RunRecord<'a>>,
    pub design: Option<Design>,
    /// Where a design file was looked for (said when none was found).
    pub design_searched: Vec<String>,
    /// The first is the primary metric.
    pub metrics: Vec<MetricAnalysis>,
    pub training: Option<TrainingCurves>,
    pub plots: Vec<PlotRef>,
    /// Per-sample score distributions, for runs that have samples.
    pub samples: Vec<SampleScores>,
    /// The two best runs with samples, compared sample by sample.
    pub paired: Option<PairedFinding>,
    /// Inputs that were missing or could not be read (also in `report.log`).
    pub problems: Vec<String>,
    /// `(time, ox version, command line)`.
    pub generated: (String, String, String),
}

/// The report and the tables written beside it.
#[derive(Debug, Clone)]
pub struct Report {
    pub document: Document,
    pub findings: Vec<String>,
    pub limitations: Vec<String>,
    /// `results_table.md`: configurations × metrics, mean ± interval, best in bold.
    pub results_table: ResultsTable,
}

fn fmt(v: f64) -> String {
    format_number(v)
}

fn fmt_p(p: f64) -> String {
    if p == 0.0 {
        "0".into()
    } else if p < 1e-3 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

fn better_word(d: Direction) -> &'static str {
    match d {
        Direction::Min => "lower is better",
        Direction::Max => "higher is better",
    }
}

fn interval_text(g: &GroupStats) -> String {
    match (g.stats.mean, g.ci) {
        (Some(m), Some((lo, hi))) => {
            format!("{} [{}, {}] (n={})", fmt(m), fmt(lo), fmt(hi), g.stats.n)
        }
        (Some(m), None) => format!("{} (n={}, no interval)", fmt(m), g.stats.n),
        _ => "no value".into(),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

struct Labels(BTreeMap<String, String>);

impl Labels {
    fn of(&self, id: &str) -> String {
        self.0.get(id).cloned().unwrap_or_else(|| id.to_string())
    }
}

/// Builds the report.
pub fn build(input: &ReportInput<'_>) -> Report {
    let labels = Labels(
        input
            .runs
            .iter()
            .map(|r| (r.run.id.to_string(), r.label().to_string()))
            .collect(),
    );
    let mut doc = Document {
        title: format!("Experiment analysis: {}", input.title),
        blocks: Vec::new(),
    };
    overview(input, &mut doc);
    let diverged = training(input, &labels, &mut doc);
    evaluation(input, &mut doc);
    samples_section(input, &labels, &mut doc);
    statistical_summary(input, &mut doc);
    let findings = findings(input, &labels, &diverged);
    doc.push(Block::Heading(2, "Key findings".into()));
    doc.push(Block::Numbered(findings.clone()));
    doc.push(Block::Heading(2, "Recommendations".into()));
    doc.push(Block::Numbered(recommendations(input, &labels)));
    let limitations = limitations(input, &labels);
    doc.push(Block::Heading(2, "Limitations".into()));
    doc.push(Block::Bullets(limitations.clone()));
    doc.push(Block::Rule);
    let (time, version, command) = &input.generated;
    doc.push(Block::Paragraph(format!(
        "*Generated by ox {version} at {time} with `{command}`*"
    )));
    Report {
        document: doc,
        findings,
        limitations,
        results_table: results_table(input),
    }
}

fn status_counts(runs: &[RunRecord<'_>]) -> String {
    let mut parts = Vec::new();
    for s in Status::ALL {
        let n = runs.iter().filter(|r| r.run.status == s).count();
        if n > 0 {
            parts.push(format!("{n} {}", s.as_str()));
        }
    }
    parts.join(", ")
}

fn varying(runs: &[RunRecord<'_>]) -> Vec<(String, Vec<Value>)> {
    let mut levels: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for r in runs {
        for (k, v) in r.flat_params() {
            let l = levels.entry(k).or_default();
            if !l.contains(&v) {
                l.push(v);
            }
        }
    }
    levels
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(k, mut v)| {
            v.sort_by(|a, b| match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                _ => a.to_string().cmp(&b.to_string()),
            });
            (k, v)
        })
        .collect()
}

/// The design file's question and variables: the sections whose heading names a
/// question, hypothesis, goal or variables, else its first paragraph.
fn design_excerpt(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut keep = false;
    for line in text.lines() {
        let t = line.trim();
        if let Some(h) = t.strip_prefix('#') {
            let h = h.trim_start_matches('#').trim().to_ascii_lowercase();
            keep = ["question", "hypothes", "goal", "variable", "objective"]
                .iter()
                .any(|w| h.contains(w));
            continue;
        }
        if keep && !t.is_empty() {
            out.push(t.trim_start_matches(['-', '*']).trim().to_string());
        }
    }
    if out.is_empty() {
        out = text
            .split("\n\n")
            .map(str::trim)
            .find(|p| !p.is_empty() && !p.starts_with('#'))
            .map(|p| vec![p.replace('\n', " ")])
            .unwrap_or_default();
    }
    out.truncate(12);
    out
}

fn overview(input: &ReportInput<'_>, doc: &mut Document) {
    doc.push(Block::Heading(2, "Overview".into()));
    let mut items = Vec::new();
    match &input.design {
        Some(d) => {
            items.push(format!("Design: from `{}`", d.file));
        }
        None => {
            let mut dirs: Vec<&str> = Vec::new();
            let mut files: Vec<&str> = Vec::new();
            for p in &input.design_searched {
                let (d, f) = p.rsplit_once('/').unwrap_or(("", p.as_str()));
                if !dirs.contains(&d) {
                    dirs.push(d);
                }
                if !files.contains(&f) {
                    files.push(f);
                }
            }
            items.push(format!(
                "Design: no design file found (looked in {} for {})",
                dirs.iter()
                    .map(|d| format!("`{d}/`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                files
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))
        }
    }
    items.push(format!(
        "Runs: {} ({})",
        input.runs.len(),
        status_counts(&input.runs)
    ));
    let first = input.runs.iter().map(|r| r.run.created).min();
    let last = input
        .runs
        .iter()
        .map(|r| r.run.ended.unwrap_or(r.run.created))
        .max();
    if let (Some(a), Some(b)) = (first, last) {
        items.push(format!(
            "Dates: {} to {} (UTC)",
            a.format("%Y-%m-%d %H:%M"),
            b.format("%Y-%m-%d %H:%M")
        ));
    }
    let vary = varying(&input.runs);
    if vary.is_empty() {
        items.push("Params that vary: none".into());
    } else {
        items.push(format!(
            "Params that vary: {}",
            vary.iter()
                .map(|(k, v)| format!(
                    "`{k}` ({})",
                    v.iter().map(value_text).collect::<Vec<_>>().join(", ")
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if let Some(m) = input.metrics.first() {
        items.push(format!(
            "Primary metric: `{}` ({} per run, {})",
            m.metric,
            m.summary,
            better_word(m.direction)
        ));
    }
    doc.push(Block::Bullets(items));
    if let Some(d) = &input.design {
        let excerpt = design_excerpt(&d.text);
        if !excerpt.is_empty() {
            doc.push(Block::Paragraph(format!("From `{}`:", d.file)));
            doc.push(Block::Bullets(excerpt));
        }
    }
}

/// Returns the ids of diverged runs.
fn training(input: &ReportInput<'_>, labels: &Labels, doc: &mut Document) -> Vec<String> {
    doc.push(Block::Heading(2, "Training results".into()));
    let plots: Vec<&PlotRef> = input
        .plots
        .iter()
        .filter(|p| p.section == PlotSection::Training)
        .collect();
    let mut diverged_ids = Vec::new();
    if let Some(tc) = &input.training {
        for p in &plots {
            doc.push(Block::Image {
                path: p.path.clone(),
                alt: p.caption.clone(),
            });
        }
        let total = tc.runs.len();
        let converged: Vec<&(String, SeriesDiagnostics)> = tc
            .runs
            .iter()
            .filter(|(_, d)| d.converged_step.is_some() && !d.diverged)
            .collect();
        let diverged: Vec<&(String, SeriesDiagnostics)> =
            tc.runs.iter().filter(|(_, d)| d.diverged).collect();
        let oscillating: Vec<&(String, SeriesDiagnostics)> = tc
            .runs
            .iter()
            .filter(|(_, d)| d.oscillating && !d.diverged)
            .collect();
        diverged_ids = diverged.iter().map(|(id, _)| id.clone()).collect();
        doc.push(Block::Heading(3, format!("Convergence of `{}`", tc.metric)));
        let mut items = vec![format!(
            "{}/{total} runs converged (their `{}` settled into a plateau)",
            converged.len(),
            tc.metric
        )];
        if !diverged.is_empty() {
            items.push(format!(
                "Diverged: {}",
                diverged
                    .iter()
                    .map(|(id, d)| format!(
                        "{} ({}{})",
                        labels.of(id),
                        d.diverged_reason.unwrap_or("diverged"),
                        d.diverged_step
                            .map(|s| format!(" at step {s}"))
                            .unwrap_or_default()
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !oscillating.is_empty() {
            items.push(format!(
                "Oscillating: {}",
                oscillating
                    .iter()
                    .map(|(id, d)| format!(
                        "{} ({:.0}% sign changes over the last half)",
                        labels.of(id),
                        d.sign_change_ratio.unwrap_or(0.0) * 100.0
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        doc.push(Block::Bullets(items));
    } else {
        for p in &plots {
            doc.push(Block::Image {
                path: p.path.clone(),
                alt: p.caption.clone(),
            });
        }
        doc.push(Block::Paragraph(
            "No training curve to diagnose (no loss-like metric series).".into(),
        ));
    }
    let durations: Vec<f64> = input
        .runs
        .iter()
        .filter(|r| r.run.status == Status::Completed)
        .filter_map(|r| r.duration_s)
        .collect();
    doc.push(Block::Heading(3, "Training time".into()));
    let d = describe(&durations);
    match (d.mean, d.min, d.max) {
        (Some(mean), Some(lo), Some(hi)) => doc.push(Block::Bullets(vec![
            format!("Average: {} over {} completed runs", duration(mean), d.n),
            format!("Range: {} to {}", duration(lo), duration(hi)),
        ])),
        _ => doc.push(Block::Paragraph(
            "No completed run records its wall time.".into(),
        )),
    }
    let gpu: Vec<f64> = input
        .runs
        .iter()
        .filter_map(|r| {
            r.run
                .extra
                .get("summary")?
                .get("peak_gpu_mem_bytes")?
                .as_f64()
        })
        .filter(|b| *b > 0.0)
        .collect();
    let util: Vec<f64> = input
        .runs
        .iter()
        .filter_map(|r| {
            let s = r.run.extra.get("summary")?.as_object()?;
            s.iter()
                .find(|(k, _)| k.contains("gpu_util"))
                .and_then(|(_, v)| v.as_f64())
        })
        .collect();
    if !gpu.is_empty() || !util.is_empty() {
        doc.push(Block::Heading(3, "GPU".into()));
        let mut items = Vec::new();
        let g = describe(&gpu);
        if let (Some(mean), Some(max)) = (g.mean, g.max) {
            items.push(format!(
                "Peak GPU memory: {:.2} GiB on average, {:.2} GiB at most ({} runs)",
                mean / GIB,
                max / GIB,
                g.n
            ));
        }
        let u = describe(&util);
        if let Some(mean) = u.mean {
            items.push(format!(
                "GPU utilization: {mean:.0}% on average ({} runs)",
                u.n
            ));
        }
        doc.push(Block::Bullets(items));
    }
    diverged_ids
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// A human duration (`45.2 s`, `12.5 min`, `3.1 h`).
pub fn duration(secs: f64) -> String {
    if secs < 120.0 {
        format!("{} s", format_number(secs))
    } else if secs < 7200.0 {
        format!("{:.1} min", secs / 60.0)
    } else {
        format!("{:.1} h", secs / 3600.0)
    }
}

/// Rank, configuration, n, mean ± interval, std, Holm p and Cohen's d against the best.
fn comparison_table(m: &MetricAnalysis) -> ResultsTable {
    let r = &m.stats;
    let mut cols = vec!["rank".to_string()];
    cols.extend(r.group_by.iter().cloned());
    cols.extend(
        [
            "n",
            &format!("{} (mean ± {:.0}% CI)", m.metric, m.confidence * 100.0),
            "std",
            "Holm p vs rank 1",
            "Cohen's d",
        ]
        .map(String::from),
    );
    let mut t = ResultsTable::new(cols);
    for (i, g) in r.groups.iter().enumerate() {
        let mut row: Vec<ResultCell> = vec![Cell::Num((i + 1) as f64).into()];
        row.extend(g.key.iter().map(|(_, v)| match v {
            Value::Number(n) => n.as_f64().map_or(Cell::Empty, Cell::Num).into(),
            other => Cell::Text(value_text(other)).into(),
        }));
        row.push(Cell::Num(g.stats.n as f64).into());
        row.push(match g.stats.mean {
            Some(mean) => ResultCell::Estimate(Estimate {
                mean,
                half_width: g.ci.map(|(lo, hi)| (hi - lo) / 2.0),
            }),
            None => Cell::Empty.into(),
        });
        row.push(g.stats.std.map_or(Cell::Empty, Cell::Num).into());
        let vs = g.vs_best.as_ref();
        row.push(
            vs.and_then(|v| v.p_holm)
                .map_or(Cell::Empty, Cell::Num)
                .into(),
        );
        row.push(
            vs.and_then(|v| v.cohen_d)
                .filter(|d| d.is_finite())
                .map_or(Cell::Empty, Cell::Num)
                .into(),
        );
        t.rows.push(row);
    }
    if !r.groups.is_empty()
        && let Some(slot) = t.best.get_mut(r.group_by.len() + 2)
    {
        *slot = Some(0);
    }
    t
}

/// A pivot of mean values over two varied params (rows × columns), the best in bold.
fn heatmap_table(m: &MetricAnalysis) -> Option<ResultsTable> {
    let r = &m.stats;
    if r.group_by.len() != 2 {
        return None;
    }
    let mut rows: Vec<Value> = Vec::new();
    let mut cols: Vec<Value> = Vec::new();
    for g in &r.groups {
        let (a, b) = (g.key.first()?.1.clone(), g.key.get(1)?.1.clone());
        if !rows.contains(&a) {
            rows.push(a);
        }
        if !cols.contains(&b) {
            cols.push(b);
        }
    }
    let sort = |v: &mut Vec<Value>| {
        v.sort_by(|a, b| match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => a.to_string().cmp(&b.to_string()),
        })
    };
    sort(&mut rows);
    sort(&mut cols);
    let mut titles = vec![format!("{} \\ {}", r.group_by[0], r.group_by[1])];
    titles.extend(
        cols.iter()
            .map(|c| format!("{}={}", r.group_by[1], value_text(c))),
    );
    let mut t = ResultsTable::new(titles);
    let mut best: Option<(usize, usize, f64)> = None;
    for (ri, a) in rows.iter().enumerate() {
        let mut row: Vec<ResultCell> = vec![Cell::Text(value_text(a)).into()];
        for (ci, b) in cols.iter().enumerate() {
            let g = r.groups.iter().find(|g| {
                g.key.first().map(|k| &k.1) == Some(a) && g.key.get(1).map(|k| &k.1) == Some(b)
            });
            match g.and_then(|g| Some((g.stats.mean?, g))) {
                Some((mean, g)) => {
                    if best.is_none_or(|(_, _, bm)| m.direction.better(mean, bm)) {
                        best = Some((ri, ci + 1, mean));
                    }
                    row.push(ResultCell::Estimate(Estimate {
                        mean,
                        half_width: g.ci.map(|(lo, hi)| (hi - lo) / 2.0),
                    }));
                }
                None => row.push(Cell::Empty.into()),
            }
        }
        t.rows.push(row);
    }
    // Only one best cell: bold in its column, with the others of that column plain.
    if let Some((ri, ci, _)) = best
        && let Some(slot) = t.best.get_mut(ci)
    {
        *slot = Some(ri);
    }
    Some(t)
}

fn evaluation(input: &ReportInput<'_>, doc: &mut Document) {
    doc.push(Block::Heading(2, "Evaluation results".into()));
    for p in input
        .plots
        .iter()
        .filter(|p| p.section == PlotSection::Evaluation && p.metric.is_none())
    {
        doc.push(Block::Image {
            path: p.path.clone(),
            alt: p.caption.clone(),
        });
    }
    if input.metrics.is_empty() {
        doc.push(Block::Paragraph("No metric to compare.".into()));
    }
    for m in &input.metrics {
        let r = &m.stats;
        doc.push(Block::Heading(3, format!("`{}`", m.metric)));
        let counted: usize = r.groups.iter().map(|g| g.stats.n).sum();
        let grouping = if r.group_by.is_empty() {
            format!("all {counted} runs form one group (no param varies)")
        } else {
            format!(
                "{counted} runs in {} configurations of {}",
                r.groups.len(),
                r.group_by
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(" × ")
            )
        };
        doc.push(Block::Paragraph(format!(
            "The {} value per run, {}; {grouping}. Intervals are {:.0}% Student-t intervals of the mean; each configuration is compared with the best by Welch's t-test, Holm-corrected.",
            m.summary,
            better_word(m.direction),
            m.confidence * 100.0
        )));
        doc.push(Block::Table(comparison_table(m)));
        for p in input.plots.iter().filter(|p| {
            p.section == PlotSection::Evaluation && p.metric.as_deref() == Some(m.metric.as_str())
        }) {
            doc.push(Block::Image {
                path: p.path.clone(),
                alt: p.caption.clone(),
            });
        }
        if r.groups.len() > 1 {
            doc.push(Block::Paragraph("Best performers:".into()));
            doc.push(Block::Numbered(
                r.groups
                    .iter()
                    .take(3)
                    .map(|g| format!("{}: {}", describe_key(&g.key), interval_text(g)))
                    .collect(),
            ));
        }
        if let Some(h) = heatmap_table(m) {
            doc.push(Block::Paragraph(format!(
                "Mean `{}` by {} and {} (the best in bold):",
                m.metric, r.group_by[0], r.group_by[1]
            )));
            doc.push(Block::Table(h));
        }
    }
}

fn samples_section(input: &ReportInput<'_>, labels: &Labels, doc: &mut Document) {
    if input.samples.is_empty() {
        return;
    }
    doc.push(Block::Heading(3, "Per-sample scores".into()));
    let mut t = ResultsTable::new(
        [
            "run", "scorer", "samples", "mean", "q1", "median", "q3", "unscored",
        ]
        .map(String::from)
        .to_vec(),
    );
    for s in &input.samples {
        let mut sorted = s.scores.clone();
        sorted.sort_by(f64::total_cmp);
        let q = |p: f64| ox_analysis::describe::percentile_sorted(&sorted, p);
        let num = |v: Option<f64>| ResultCell::from(v.map_or(Cell::Empty, Cell::Num));
        t.rows.push(vec![
            Cell::Text(labels.of(&s.run_id)).into(),
            Cell::Text(s.scorer.clone()).into(),
            Cell::Num(s.scores.len() as f64).into(),
            num(ox_analysis::describe::mean(&s.scores)),
            num(q(0.25)),
            num(q(0.5)),
            num(q(0.75)),
            Cell::Num(s.unscored as f64).into(),
        ]);
    }
    doc.push(Block::Table(t));
    if let Some(p) = &input.paired {
        doc.push(Block::Paragraph(paired_sentence(p, labels)));
    }
}

fn paired_sentence(p: &PairedFinding, labels: &Labels) -> String {
    let r = &p.result;
    let (a, b) = (labels.of(&p.a), labels.of(&p.b));
    let diff = match (r.mean_diff, r.ci) {
        (Some(d), Some((lo, hi))) => format!(
            "{a} − {b} = {} [{}, {}] ({:.0}% bootstrap interval)",
            fmt(d),
            fmt(lo),
            fmt(hi),
            p.confidence * 100.0
        ),
        (Some(d), None) => format!("{a} − {b} = {}", fmt(d)),
        _ => format!("{a} and {b} cannot be compared"),
    };
    let perm = r
        .permutation_p
        .map(|x| format!(", sign-flip permutation p = {}", fmt_p(x)))
        .unwrap_or_default();
    let mcn = r
        .mcnemar
        .map(|m| format!(", McNemar b = {}, c = {}, p = {}", m.b, m.c, fmt_p(m.p)))
        .unwrap_or_default();
    let verdict = match r.permutation_p {
        Some(x) if x < 0.05 => "a significant difference on shared samples",
        Some(_) => "no significant difference on shared samples",
        None => "too few shared samples for a test",
    };
    format!(
        "Paired comparison on the {} samples both scored with `{}`: {diff}{perm}{mcn}: {verdict}.",
        r.n, p.scorer
    )
}

fn statistical_summary(input: &ReportInput<'_>, doc: &mut Document) {
    doc.push(Block::Heading(2, "Statistical summary".into()));
    if input.metrics.is_empty() {
        doc.push(Block::Paragraph("No metric analysed.".into()));
        return;
    }
    let confidence = input.metrics.first().map_or(0.95, |m| m.confidence);
    let mut t = ResultsTable::new(
        [
            "metric",
            "n",
            "mean",
            "std",
            "min",
            "max",
            &format!("{:.0}% CI", confidence * 100.0),
        ]
        .map(String::from)
        .to_vec(),
    );
    for m in &input.metrics {
        let values: Vec<f64> = m
            .stats
            .groups
            .iter()
            .flat_map(|g| g.runs.iter())
            .filter_map(|id| {
                let run = input.runs.iter().find(|r| r.run.id.as_str() == id)?;
                run.metrics.get(&m.metric)?.get(m.summary)
            })
            .collect();
        let d = describe(&values);
        let ci = match (d.mean, d.sem) {
            (Some(mean), Some(sem)) => t_interval(mean, sem, d.n, m.confidence),
            _ => None,
        };
        let num = |v: Option<f64>| ResultCell::from(v.map_or(Cell::Empty, Cell::Num));
        t.rows.push(vec![
            Cell::Text(format!("{} ({})", m.metric, m.summary)).into(),
            Cell::Num(d.n as f64).into(),
            num(d.mean),
            num(d.std),
            num(d.min),
            num(d.max),
            Cell::Text(ci.map_or(String::new(), |(lo, hi)| {
                format!("[{}, {}]", fmt(lo), fmt(hi))
            }))
            .into(),
        ]);
    }
    doc.push(Block::Table(t));
}

fn findings(input: &ReportInput<'_>, labels: &Labels, diverged: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, m) in input.metrics.iter().enumerate() {
        let r = &m.stats;
        let (Some(best), second) = (r.groups.first(), r.groups.get(1)) else {
            out.push(format!("`{}`: no run has a value.", m.metric));
            continue;
        };
        let b = describe_key(&best.key);
        match second {
            None => out.push(format!(
                "`{}`: only one configuration ({b}, {}); nothing to compare.",
                m.metric,
                interval_text(best)
            )),
            Some(s) => {
                let p = s.vs_best.as_ref().and_then(|v| v.p_holm);
                let sk = describe_key(&s.key);
                if r.clear_winner {
                    out.push(format!(
                        "**{b}** is the best for `{}`: {} vs the runner-up {sk} at {} (Holm-corrected Welch p = {} < α = {}).",
                        m.metric,
                        interval_text(best),
                        interval_text(s),
                        p.map_or("–".into(), fmt_p),
                        m.alpha
                    ));
                } else {
                    let why = match p {
                        Some(p) => {
                            format!("Holm-corrected Welch p = {} ≥ α = {}", fmt_p(p), m.alpha)
                        }
                        None => "too few runs per configuration for a test (n < 2)".to_string(),
                    };
                    out.push(format!(
                        "No clear winner for `{}`: the best mean is {b} at {}, but the runner-up {sk} at {} is not significantly different ({why}).",
                        m.metric,
                        interval_text(best),
                        interval_text(s)
                    ));
                }
            }
        }
        // What mattered, for the primary metric only (one list, not one per metric).
        if i == 0 {
            for imp in r.importance.iter().filter(|i| i.eta_squared.is_some()) {
                out.push(imp.sentence.clone());
            }
            for (param, d) in &r.diminishing_returns {
                if d.smallest_sufficient_level != d.best_level {
                    out.push(format!(
                        "Diminishing returns along `{param}`: {param}={} reaches {} for `{}`, within {} of the best {} at {param}={}.",
                        fmt(d.smallest_sufficient_level),
                        fmt(d.smallest_sufficient_mean),
                        m.metric,
                        fmt(d.tolerance),
                        fmt(d.best_mean),
                        fmt(d.best_level)
                    ));
                }
            }
            if let Some(kind) = m.cost_kind
                && r.groups.len() > 1
            {
                let front: Vec<String> = r
                    .groups
                    .iter()
                    .filter(|g| g.pareto)
                    .filter_map(|g| {
                        Some(
                            format!(
                                "{} ({} at {} {})",
                                describe_key(&g.key),
                                fmt(g.stats.mean?),
                                cost_text(g.cost?, kind),
                                ""
                            )
                            .replace(" )", ")"),
                        )
                    })
                    .collect();
                if !front.is_empty() {
                    out.push(format!(
                        "Cost–benefit (Pareto front of mean `{}` vs mean {}): {}.",
                        m.metric,
                        cost_name(kind),
                        front.join("; ")
                    ));
                }
            }
            let outliers: Vec<String> = r
                .groups
                .iter()
                .flat_map(|g| g.outliers.iter())
                .map(|o| {
                    format!(
                        "{} ({} = {}; Grubbs G = {:.2} > {:.2}, p = {})",
                        labels.of(&o.run_id),
                        m.metric,
                        fmt(o.value),
                        o.grubbs_g,
                        o.critical,
                        fmt_p(o.p)
                    )
                })
                .collect();
            if !outliers.is_empty() {
                out.push(format!(
                    "Outlier seeds to re-check (Grubbs' test within their configuration, α = {}): {}.",
                    ox_analysis::outliers::OUTLIER_ALPHA,
                    outliers.join(", ")
                ));
            }
        }
    }
    if let Some(p) = &input.paired {
        out.push(paired_sentence(p, labels));
    }
    if !diverged.is_empty() {
        out.push(format!(
            "{} run(s) diverged and should be re-checked: {}.",
            diverged.len(),
            diverged
                .iter()
                .map(|id| labels.of(id))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let broken: Vec<&RunRecord<'_>> = input
        .runs
        .iter()
        .filter(|r| {
            matches!(
                r.run.status,
                Status::Failed | Status::Crashed | Status::Killed
            )
        })
        .collect();
    if !broken.is_empty() {
        out.push(format!(
            "{} run(s) did not complete and are left out of the statistics: {}.",
            broken.len(),
            broken
                .iter()
                .map(|r| format!("{} ({})", r.label(), r.run.status))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out
}

fn cost_name(kind: &str) -> &'static str {
    if kind == "gpu_hours" {
        "GPU-hours"
    } else {
        "wall time"
    }
}

fn cost_text(cost: f64, kind: &str) -> String {
    if kind == "gpu_hours" {
        format!("{} GPU-h", fmt(cost))
    } else {
        duration(cost)
    }
}

fn recommendations(input: &ReportInput<'_>, labels: &Labels) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(m) = input.metrics.first()
        && let Some(best) = m.stats.groups.first()
    {
        let r = &m.stats;
        let b = describe_key(&best.key);
        if r.clear_winner {
            let runner_up = r.groups.get(1);
            out.push(format!(
                "Use **{b}**: `{}` {} is significantly better than the runner-up {} (Holm-corrected Welch p = {}).",
                m.metric,
                interval_text(best),
                runner_up.map_or("–".into(), |g| describe_key(&g.key)),
                runner_up
                    .and_then(|g| g.vs_best.as_ref()?.p_holm)
                    .map_or("–".into(), fmt_p)
            ));
        } else if r.groups.len() > 1 {
            // Configurations not shown to be worse than the best: choose among them on cost.
            let alpha = m.alpha;
            let tied: Vec<&GroupStats> = r
                .groups
                .iter()
                .filter(|g| {
                    g.vs_best
                        .as_ref()
                        .is_none_or(|v| v.p_holm.is_none_or(|p| p >= alpha))
                })
                .collect();
            let cheapest = m.cost_kind.and_then(|kind| {
                tied.iter()
                    .filter_map(|g| Some((g, g.cost?)))
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .map(|(g, c)| (g, c, kind))
            });
            match cheapest {
                Some((g, c, kind)) if tied.len() > 1 => out.push(format!(
                    "No configuration is significantly better at α = {alpha}; {} of them are indistinguishable from the best. The cheapest of those is **{}** ({} mean {}, `{}` {}).",
                    tied.len(),
                    describe_key(&g.key),
                    cost_name(kind),
                    cost_text(c, kind),
                    m.metric,
                    interval_text(g)
                )),
                _ => out.push(format!(
                    "No configuration is significantly better at α = {alpha}: treat {b} ({}) as a lead, not a result.",
                    interval_text(best)
                )),
            }
            if let Some(s) = r.groups.get(1) {
                out.push(format!(
                    "To separate {b} from {}, run more seeds: with n = {} per configuration the intervals overlap.",
                    describe_key(&s.key),
                    best.stats.n.min(s.stats.n)
                ));
            }
        }
        for (param, d) in &r.diminishing_returns {
            if d.smallest_sufficient_level != d.best_level {
                out.push(format!(
                    "Consider `{param}` = {} instead of {}: its mean `{}` is within {} of the best.",
                    fmt(d.smallest_sufficient_level),
                    fmt(d.best_level),
                    m.metric,
                    fmt(d.tolerance)
                ));
            }
        }
        let small: Vec<String> = r
            .groups
            .iter()
            .filter(|g| g.stats.n < 3)
            .map(|g| format!("{} (n={})", describe_key(&g.key), g.stats.n))
            .collect();
        if !small.is_empty() {
            out.push(format!(
                "Add seeds to configurations with fewer than 3 runs: {}.",
                small.join(", ")
            ));
        }
    }
    let rerun: Vec<String> = input
        .runs
        .iter()
        .filter(|r| matches!(r.run.status, Status::Failed | Status::Crashed))
        .map(|r| labels.of(r.run.id.as_str()))
        .collect();
    if !rerun.is_empty() {
        out.push(format!(
            "Re-run or inspect the failed/crashed runs: {}.",
            rerun.join(", ")
        ));
    }
    if out.is_empty() {
        out.push("Nothing to recommend: there is no metric to compare.".into());
    }
    out
}

fn limitations(input: &ReportInput<'_>, labels: &Labels) -> Vec<String> {
    let mut out = Vec::new();
    for m in &input.metrics {
        let mut reasons: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for e in &m.stats.excluded {
            let reason = if e.reason.starts_with("status ") {
                e.reason.split(" (").next().unwrap_or(&e.reason).to_string()
            } else {
                e.reason.clone()
            };
            reasons
                .entry(reason)
                .or_default()
                .push(labels.of(&e.run_id));
        }
        for (reason, runs) in reasons {
            out.push(format!(
                "`{}`: {} run(s) excluded ({reason}): {}.",
                m.metric,
                runs.len(),
                runs.join(", ")
            ));
        }
        let small: Vec<String> = m
            .stats
            .groups
            .iter()
            .filter(|g| g.stats.n < 3)
            .map(|g| format!("{} (n={})", describe_key(&g.key), g.stats.n))
            .collect();
        if !small.is_empty() {
            out.push(format!(
                "`{}`: {} configuration(s) have fewer than 3 runs, so their intervals are wide or missing: {}.",
                m.metric,
                small.len(),
                small.join(", ")
            ));
        }
    }
    let not_completed: Vec<String> = input
        .runs
        .iter()
        .filter(|r| r.run.status != Status::Completed)
        .map(|r| format!("{} ({})", r.label(), r.run.status))
        .collect();
    if !not_completed.is_empty() {
        out.push(format!(
            "{} run(s) did not complete and count in no statistic: {}.",
            not_completed.len(),
            not_completed.join(", ")
        ));
    }
    if input.metrics.is_empty() {
        out.push(
            "No metric was compared: none that most completed runs share says which way is better (pass --metric M[:SUMMARY]).".into(),
        );
    }
    out.extend(input.problems.iter().cloned());
    if out.is_empty() {
        out.push(
            "None found: every selected run was completed, readable and has every metric.".into(),
        );
    }
    out
}

/// Configurations × metrics: mean ± interval of each analysed metric, the best in bold
/// (the primary metric's grouping).
fn results_table(input: &ReportInput<'_>) -> ResultsTable {
    let Some(primary) = input.metrics.first() else {
        return ResultsTable::new(vec!["configuration".into()]);
    };
    let keys = &primary.stats.group_by;
    let mut cols: Vec<String> = keys.clone();
    if cols.is_empty() {
        cols.push("configuration".into());
    }
    cols.push("n".into());
    cols.extend(input.metrics.iter().map(|m| m.metric.clone()));
    let mut t = ResultsTable::new(cols);
    let configs: Vec<&GroupStats> = primary.stats.groups.iter().collect();
    let mut seen = BTreeSet::new();
    for g in &configs {
        if !seen.insert(describe_key(&g.key)) {
            continue;
        }
        let mut row: Vec<ResultCell> = if keys.is_empty() {
            vec![Cell::Text("all runs".into()).into()]
        } else {
            g.key
                .iter()
                .map(|(_, v)| match v {
                    Value::Number(n) => n.as_f64().map_or(Cell::Empty, Cell::Num).into(),
                    other => Cell::Text(value_text(other)).into(),
                })
                .collect()
        };
        row.push(Cell::Num(g.stats.n as f64).into());
        for m in &input.metrics {
            let same = m.stats.groups.iter().find(|h| h.key == g.key);
            row.push(match same.and_then(|h| Some((h.stats.mean?, h))) {
                Some((mean, h)) => ResultCell::Estimate(Estimate {
                    mean,
                    half_width: h.ci.map(|(lo, hi)| (hi - lo) / 2.0),
                }),
                None => Cell::Empty.into(),
            });
        }
        t.rows.push(row);
    }
    let first_metric_col = keys.len().max(1) + 1;
    for (i, m) in input.metrics.iter().enumerate() {
        let best_key = m.stats.groups.first().map(|g| &g.key);
        let row = configs.iter().position(|g| Some(&g.key) == best_key);
        if let Some(slot) = t.best.get_mut(first_metric_col + i) {
            *slot = row;
        }
    }
    t
}
