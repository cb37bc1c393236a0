//! Human output of `ox stats`: a text report (table format), Markdown, LaTeX and CSV, all
//! pure functions of the computed statistics.

use std::fmt::Write;

use ox_analysis::Direction;
use ox_analysis::group::describe_key;
use ox_render::number::format_number;
use ox_render::table::{Cell, Table};
use serde_json::Value;

use ox_analysis::json::PairedJson;
use ox_analysis::runs::ModeSource;

use super::StatsRun;
use crate::output::Format;

fn value_cell(v: &Value) -> Cell {
    match v {
        Value::Number(n) => n.as_f64().map_or(Cell::Empty, Cell::Num),
        Value::String(s) => Cell::Text(s.clone()),
        Value::Null => Cell::Empty,
        other => Cell::Text(other.to_string()),
    }
}

fn fin(v: Option<f64>) -> Cell {
    v.filter(|x| x.is_finite()).map_or(Cell::Empty, Cell::Num)
}

/// One row per configuration, best first: key columns, descriptive statistics, intervals
/// and the comparison with the best.
pub fn groups_table(run: &StatsRun) -> Table {
    let r = &run.report;
    let mut columns: Vec<String> = vec!["rank".into()];
    columns.extend(r.group_by.iter().cloned());
    columns.extend(
        [
            "n", "mean", "std", "sem", "median", "min", "max", "ci_low", "ci_high",
        ]
        .map(String::from),
    );
    let with_boot = run.options.bootstrap.is_some();
    if with_boot {
        columns.extend(["boot_low", "boot_high"].map(String::from));
    }
    columns.extend(["welch_p", "mwu_p", "p_holm", "cohen_d", "flags"].map(String::from));
    let mut t = Table::new(columns);
    for (i, g) in r.groups.iter().enumerate() {
        let s = &g.stats;
        let mut row: Vec<Cell> = vec![Cell::Num((i + 1) as f64)];
        row.extend(g.key.iter().map(|(_, v)| value_cell(v)));
        row.push(Cell::Num(s.n as f64));
        row.extend([
            fin(s.mean),
            fin(s.std),
            fin(s.sem),
            fin(s.median),
            fin(s.min),
            fin(s.max),
        ]);
        row.extend([fin(g.ci.map(|c| c.0)), fin(g.ci.map(|c| c.1))]);
        if with_boot {
            row.extend([
                fin(g.bootstrap_ci.map(|c| c.0)),
                fin(g.bootstrap_ci.map(|c| c.1)),
            ]);
        }
        let vs = g.vs_best.as_ref();
        row.push(fin(vs.and_then(|v| v.welch).map(|w| w.p)));
        row.push(fin(vs.and_then(|v| v.mann_whitney).map(|m| m.p)));
        row.push(fin(vs.and_then(|v| v.p_holm)));
        row.push(fin(vs.and_then(|v| v.cohen_d)));
        let mut flags = Vec::new();
        if i == 0 {
            flags.push("best".to_string());
        }
        if s.n < 3 {
            flags.push(format!("n={}", s.n));
        }
        if !g.outliers.is_empty() {
            flags.push(format!(
                "outlier: {}",
                g.outliers
                    .iter()
                    .map(|o| o.name.as_deref().unwrap_or(&o.run_id))
                    .collect::<Vec<_>>()
                    .join(" ")
            ));
        }
        if g.pareto && run.cost_kind.is_some() && r.groups.len() > 1 {
            flags.push("pareto".to_string());
        }
        row.push(Cell::Text(flags.join(", ")));
        t.push(row);
    }
    t
}

fn heading(run: &StatsRun) -> String {
    let better = match run.options.direction {
        Direction::Min => "lower is better",
        Direction::Max => "higher is better",
    };
    let source = match run.mode_source {
        ModeSource::Flag => "--mode",
        ModeSource::MetricName => "from the metric's name",
    };
    let groups = if run.report.group_by.is_empty() {
        "all runs in one group (no param varies)".to_string()
    } else {
        format!("grouped by {}", run.report.group_by.join(", "))
    };
    format!(
        "{} ({} per run), {better} ({source}); {groups}; {}% t-intervals",
        run.metric,
        run.summary.name(),
        run.options.confidence * 100.0
    )
}

/// Plain sentences about everything besides the table: verdict, what mattered, diminishing
/// returns, Pareto set, outliers, diagnostics and exclusions.
fn findings(run: &StatsRun) -> Vec<String> {
    let r = &run.report;
    let mut out = vec![r.verdict.clone()];
    let fragile = r.groups.iter().filter(|g| g.stats.n < 3).count();
    if fragile > 0 {
        out.push(format!("{fragile} configuration(s) have fewer than 3 runs: their intervals are fragile (n = 1 has none)."));
    }
    for i in &r.importance {
        out.push(i.sentence.clone());
    }
    for (param, d) in &r.diminishing_returns {
        if d.smallest_sufficient_level != d.best_level {
            out.push(format!(
                "Diminishing returns in {param}: {param}={} reaches {} (within {} of the best, {} at {param}={}).",
                format_number(d.smallest_sufficient_level),
                format_number(d.smallest_sufficient_mean),
                format_number(d.tolerance),
                format_number(d.best_mean),
                format_number(d.best_level)
            ));
        }
    }
    if let Some(kind) = run.cost_kind
        && r.groups.len() > 1
    {
        let front: Vec<String> = r
            .groups
            .iter()
            .filter(|g| g.pareto)
            .map(|g| describe_key(&g.key))
            .collect();
        if !front.is_empty() {
            out.push(format!(
                "Pareto set of {} vs {kind}: {}.",
                run.metric,
                front.join("; ")
            ));
        }
    }
    for g in &r.groups {
        for o in &g.outliers {
            out.push(format!(
                "Run {} is an outlier in {}: {} = {} (Grubbs G = {} > {}, p = {}).",
                run.run_label(&o.run_id),
                describe_key(&g.key),
                run.metric,
                format_number(o.value),
                format_number(o.grubbs_g),
                format_number(o.critical),
                format_number(o.p)
            ));
        }
    }
    for (id, d) in &run.diagnostics {
        if d.diverged {
            out.push(format!(
                "Run {} diverged at step {} ({}).",
                run.run_label(id),
                d.diverged_step.map_or("?".into(), |s| s.to_string()),
                d.diverged_reason.unwrap_or("")
            ));
        } else if d.oscillating {
            out.push(format!(
                "Run {}'s {} oscillates.",
                run.run_label(id),
                run.metric
            ));
        }
    }
    let plateaued = run.diagnostics.iter().filter(|(_, d)| d.plateau).count();
    if plateaued > 0 {
        out.push(format!("{plateaued} run(s) plateaued in the first half of training (see --format json, diagnostics)."));
    }
    if let Some(threshold) = run.threshold {
        let steps: Vec<f64> = run
            .diagnostics
            .iter()
            .filter_map(|(_, d)| d.threshold_step)
            .map(|s| s as f64)
            .collect();
        let median = ox_analysis::describe::median(&steps).map_or(String::new(), |m| {
            format!(", after a median of {} steps", format_number(m))
        });
        out.push(format!(
            "{} of {} run(s) reached {} = {}{median}.",
            steps.len(),
            run.diagnostics.len(),
            run.metric,
            format_number(threshold)
        ));
    }
    for e in &r.excluded {
        out.push(format!(
            "Excluded {}: {}.",
            run.run_label(&e.run_id),
            e.reason
        ));
    }
    out
}

/// The `table` format: heading, groups table, findings.
pub fn text(run: &StatsRun) -> String {
    let mut s = heading(run);
    s.push_str("\n\n");
    s.push_str(&groups_table(run).to_text());
    s.push('\n');
    for line in findings(run) {
        let _ = writeln!(s, "{line}");
    }
    s
}

/// Markdown: heading, table, findings as a list.
pub fn markdown(run: &StatsRun) -> String {
    let mut s = format!("**{}**\n\n", heading(run));
    s.push_str(&groups_table(run).to_markdown());
    s.push('\n');
    for line in findings(run) {
        let _ = writeln!(s, "- {line}");
    }
    s
}

/// LaTeX: the groups table as a booktabs `tabular`, with the heading and verdict as comments.
pub fn latex(run: &StatsRun) -> String {
    let mut s = format!("% {}\n% {}\n", heading(run), run.report.verdict);
    s.push_str(&groups_table(run).to_latex());
    s
}

/// Non-JSON output of `ox stats --paired`.
pub fn paired(j: &PairedJson, format: Format) -> String {
    let mut t = Table::new(["statistic", "value"]);
    t.push(vec!["n".into(), Cell::Num(j.n as f64)]);
    t.push(vec!["mean_diff (A − B)".into(), fin(j.mean_diff)]);
    t.push(vec![
        format!("ci_low ({}%)", j.confidence * 100.0).into(),
        fin(j.ci.map(|c| c[0])),
    ]);
    t.push(vec![
        format!("ci_high ({}%)", j.confidence * 100.0).into(),
        fin(j.ci.map(|c| c[1])),
    ]);
    t.push(vec![
        format!("permutation_p ({})", j.permutation_method).into(),
        fin(j.permutation_p),
    ]);
    if let Some(m) = &j.mcnemar {
        t.push(vec![
            "mcnemar_b (A right, B wrong)".into(),
            Cell::Num(m.b as f64),
        ]);
        t.push(vec![
            "mcnemar_c (B right, A wrong)".into(),
            Cell::Num(m.c as f64),
        ]);
        t.push(vec!["mcnemar_p".into(), Cell::Num(m.p)]);
    }
    let head = format!("A = {}, B = {}, scorer '{}'", j.a, j.b, j.scorer);
    let notes = format!(
        "{} sample(s) only in A, {} only in B, {} without a numeric score.",
        j.only_in_a, j.only_in_b, j.unscored
    );
    match format {
        Format::Csv => t.to_csv(),
        Format::Md => format!("**{head}**\n\n{}\n{notes}\n", t.to_markdown()),
        Format::Latex => format!("% {head}\n{}", t.to_latex()),
        _ => format!("{head}\n\n{}\n{notes}\n", t.to_text()),
    }
}
