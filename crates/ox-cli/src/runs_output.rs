//! Printing runs: the `--format json` contract for runs, and the table/CSV/Markdown views
//! shared by `ox ls`, `ox query` and `ox show`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use ox_core::{MetricSummary, Run, flatten_params};
use ox_render::{Cell, Table};
use ox_store::{FieldValue, RunView};
use serde::Serialize;

use crate::output::Format;

/// One run in `--format json` (contract, DESIGN.md): the run.json fields plus `duration_s`
/// and a summary per metric.
#[derive(Debug, Serialize)]
pub struct RunJson<'a> {
    #[serde(flatten)]
    pub run: &'a Run,
    pub duration_s: Option<f64>,
    pub metrics: BTreeMap<&'a str, MetricJson>,
}

/// A metric summary in JSON; non-finite values are `null`.
#[derive(Debug, Serialize)]
pub struct MetricJson {
    pub first: Option<f64>,
    pub last: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    pub count: u64,
    pub last_step: i64,
}

impl From<&MetricSummary> for MetricJson {
    fn from(s: &MetricSummary) -> Self {
        let f = |v: f64| v.is_finite().then_some(v);
        MetricJson {
            first: f(s.first),
            last: f(s.last),
            min: f(s.min),
            max: f(s.max),
            mean: f(s.mean),
            count: s.count,
            last_step: s.last_step,
        }
    }
}

impl<'a> From<&'a RunView> for RunJson<'a> {
    fn from(v: &'a RunView) -> Self {
        RunJson {
            run: &v.run,
            duration_s: v.duration_s,
            metrics: v
                .metrics
                .iter()
                .map(|(k, s)| (k.as_str(), s.into()))
                .collect(),
        }
    }
}

/// Columns shown when none are asked for: identity, status, duration, the params that vary
/// among `views` (most informative first, see [`ranked_params`]), then `metric_columns` (or,
/// when empty, up to four metrics the runs share). [`fit_columns`] cuts them to the terminal.
pub fn default_columns(views: &[RunView], metric_columns: &[String]) -> Vec<String> {
    let mut cols: Vec<String> = ["id", "name", "study", "status", "duration"]
        .map(String::from)
        .to_vec();
    let studies: BTreeSet<&str> = views.iter().map(|v| v.run.study.as_str()).collect();
    if studies.len() <= 1 {
        cols.retain(|c| c != "study");
    }
    cols.extend(
        ranked_params(views)
            .into_iter()
            .map(|k| format!("params.{k}")),
    );
    if metric_columns.is_empty() {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for v in views {
            for k in v.metrics.keys() {
                *counts.entry(k).or_default() += 1;
            }
        }
        let mut names: Vec<(&str, usize)> = counts.into_iter().collect();
        names.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        cols.extend(
            names
                .into_iter()
                .take(4)
                .map(|(k, _)| format!("metrics.{k}")),
        );
    } else {
        cols.extend(metric_columns.iter().cloned());
    }
    cols
}

/// Dotted param keys whose value is not the same in every run (including keys some runs
/// lack), in key order.
pub fn varying_params(views: &[RunView]) -> Vec<String> {
    // Per key: how many runs have it, and its distinct values (stopping at two).
    let mut seen: BTreeMap<String, (usize, BTreeSet<String>)> = BTreeMap::new();
    for v in views {
        for (k, val) in flatten_params(&v.run.params) {
            let (count, values) = seen.entry(k).or_default();
            *count += 1;
            if values.len() < 2 {
                values.insert(val.to_string());
            }
        }
    }
    seen.into_iter()
        .filter(|(_, (count, values))| values.len() > 1 || *count < views.len())
        .map(|(k, _)| k)
        .collect()
}

/// [`varying_params`], most informative first: params every run has before those only some
/// have, then the axes of a sweep (few distinct values: `lr`, `optimizer`) before params
/// that take many values; text params whose every value is different (paths, ids,
/// timestamps: they name runs rather than explain them) come last.
pub fn ranked_params(views: &[RunView]) -> Vec<String> {
    const DISTINCT_CAP: usize = 64;
    let varying: BTreeSet<String> = varying_params(views).into_iter().collect();
    // Per key: runs having it, distinct values (up to the cap), whether all are numbers.
    let mut seen: BTreeMap<String, (usize, BTreeSet<String>, bool)> = BTreeMap::new();
    for v in views {
        for (k, val) in flatten_params(&v.run.params) {
            if !varying.contains(&k) {
                continue;
            }
            let (count, values, numeric) = seen.entry(k).or_insert((0, BTreeSet::new(), true));
            *count += 1;
            *numeric &= val.is_number();
            if values.len() < DISTINCT_CAP {
                values.insert(val.to_string());
            }
        }
    }
    let mut ranked: Vec<(bool, usize, usize, String)> = seen
        .into_iter()
        .map(|(k, (count, values, numeric))| {
            let names_runs = !numeric && count > 2 && values.len() == count.min(DISTINCT_CAP);
            (names_runs, count, values.len(), k)
        })
        .collect();
    ranked.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(b.1.cmp(&a.1))
            .then(a.2.cmp(&b.2))
            .then(a.3.cmp(&b.3))
    });
    ranked.into_iter().map(|(_, _, _, k)| k).collect()
}

/// Text cells and titles longer than this are shortened with an ellipsis in tables (never in
/// CSV or JSON).
pub const MAX_CELL_CHARS: usize = 28;

/// The width tables are fitted to: `COLUMNS` when set, else the terminal's (stdout, then
/// stderr), else 160.
pub fn terminal_width() -> usize {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|n| *n >= 20)
    {
        return n;
    }
    for fd in [libc::STDOUT_FILENO, libc::STDERR_FILENO] {
        let mut size = libc::winsize {
            ws_row: 0,
            ws_col: 0,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCGWINSZ writes one `winsize` into the struct we pass; `fd` is open.
        let ok = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut size) } == 0;
        if ok && size.ws_col >= 20 {
            return usize::from(size.ws_col);
        }
    }
    160
}

/// Default `columns` cut to `width` characters for a text table: identity and status stay,
/// metrics stay (at least the first), then params in the given order while they fit. Returns
/// the columns to show and the params left out. Other formats get every column.
pub fn fit_columns(
    views: &[RunView],
    columns: Vec<String>,
    format: Format,
    width: usize,
) -> (Vec<String>, Vec<String>) {
    if format != Format::Table {
        return (columns, Vec::new());
    }
    // Widths from a sample of the rows: every cell is capped at MAX_CELL_CHARS anyway.
    let step = (views.len() / 1000).max(1);
    let sample: Vec<&RunView> = views.iter().step_by(step).collect();
    let id_len = short_id_len(views);
    let width_of = |col: &str| -> usize {
        let title = col
            .strip_prefix("params.")
            .or_else(|| col.strip_prefix("metrics."))
            .unwrap_or(col)
            .chars()
            .count();
        sample
            .iter()
            .map(|v| cell(v, col, id_len, false).shown().chars().count())
            .fold(title, usize::max)
            .min(MAX_CELL_CHARS)
            + 2
    };
    let (params, mut fixed): (Vec<String>, Vec<String>) =
        columns.into_iter().partition(|c| c.starts_with("params."));
    let first_metric = fixed.iter().position(|c| c.starts_with("metrics."));
    let mut used: usize = fixed.iter().map(|c| width_of(c)).sum();
    // Metrics beyond the first go before identity does.
    while used > width
        && let Some(last) = fixed.last()
        && last.starts_with("metrics.")
        && first_metric.is_some_and(|f| fixed.len() > f + 1)
    {
        used -= width_of(last);
        fixed.pop();
    }
    let mut shown_params = Vec::new();
    let mut hidden = Vec::new();
    for p in params {
        let w = width_of(&p);
        if used + w <= width + 2 {
            used += w;
            shown_params.push(p);
        } else {
            hidden.push(p.trim_start_matches("params.").to_string());
        }
    }
    let at = first_metric.unwrap_or(fixed.len()).min(fixed.len());
    let mut out: Vec<String> = fixed[..at].to_vec();
    out.extend(shown_params);
    out.extend(fixed[at..].iter().cloned());
    (out, hidden)
}

/// The note under a table whose default columns left params out.
pub fn hidden_params_note(hidden: &[String]) -> Option<String> {
    const NAMED: usize = 5;
    if hidden.is_empty() {
        return None;
    }
    let mut names = hidden
        .iter()
        .take(NAMED)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if hidden.len() > NAMED {
        names.push_str(", …");
    }
    Some(format!(
        "+{} more param{} ({names}): name them with --columns, or use --format csv/json",
        hidden.len(),
        if hidden.len() == 1 { "" } else { "s" }
    ))
}

/// A human duration: `850ms`, `12.3s`, `4m05s`, `2h03m`.
pub fn format_duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return String::new();
    }
    if secs < 1.0 {
        format!("{}ms", (secs * 1000.0).round() as u64)
    } else if secs < 60.0 {
        format!("{secs:.1}s")
    } else if secs < 3600.0 {
        let s = secs.round() as u64;
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        let m = (secs / 60.0).round() as u64;
        format!("{}h{:02}m", m / 60, m % 60)
    }
}

/// The shortest id prefix (at least 10 characters) that tells the runs apart.
fn short_id_len(views: &[RunView]) -> usize {
    let mut ids: Vec<&str> = views.iter().map(|v| v.run.id.as_str()).collect();
    ids.sort_unstable();
    let mut len = 10;
    for pair in ids.windows(2) {
        let common = pair[0]
            .bytes()
            .zip(pair[1].bytes())
            .take_while(|(a, b)| a == b)
            .count();
        len = len.max(common + 1);
    }
    len
}

/// Column titles: keys without their `params.`/`metrics.` prefix, unless two columns would
/// then read the same (a param and a metric both called `lr`).
fn header(columns: &[String]) -> Vec<String> {
    let short = |c: &str| {
        c.strip_prefix("params.")
            .or_else(|| c.strip_prefix("metrics."))
            .unwrap_or(c)
            .to_string()
    };
    columns
        .iter()
        .map(|c| {
            let s = short(c);
            let clashes = columns.iter().filter(|other| short(other) == s).count() > 1;
            if clashes { c.clone() } else { s }
        })
        .collect()
}

/// One cell of a runs table: ids cut to `id_len`; durations and times made readable unless
/// `exact` (CSV).
fn cell(v: &RunView, c: &str, id_len: usize, exact: bool) -> Cell {
    match c {
        "id" => Cell::Text(v.run.id.as_str().chars().take(id_len).collect()),
        "duration" if !exact => v.duration_s.map(format_duration).into(),
        "tags" => Cell::Text(v.run.tags.join(",")),
        "created" | "started" | "ended" if !exact => match v.value(c) {
            Some(FieldValue::Text(t)) => Cell::Text(t.get(..19).unwrap_or(&t).replace('T', " ")),
            _ => Cell::Empty,
        },
        _ => match v.value(c) {
            Some(FieldValue::Num(n)) => Cell::Num(n),
            Some(FieldValue::Text(t)) => Cell::Text(t),
            None => Cell::Empty,
        },
    }
}

/// Builds the table of `views` with the given column keys (as for [`RunView::value`]).
pub fn runs_table(views: &[RunView], columns: &[String], full_ids: bool) -> Table {
    let id_len = if full_ids {
        usize::MAX
    } else {
        short_id_len(views)
    };
    let table_header = header(columns);
    let mut table = Table::new(table_header);
    for v in views {
        let row = columns
            .iter()
            .map(|c| cell(v, c, id_len, full_ids))
            .collect();
        table.push(row);
    }
    table
}

/// Prints runs in `format`. `columns` are the keys to show in table/CSV/Markdown output.
pub fn print_runs(
    out: &mut impl Write,
    views: &[RunView],
    format: Format,
    columns: &[String],
) -> std::io::Result<()> {
    // Pretty JSON is many short lines: unbuffered, a terminal's line-buffered stdout
    // would make one write per line.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    match format {
        Format::Json => {
            let rows: Vec<RunJson<'_>> = views.iter().map(RunJson::from).collect();
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        Format::Table => write!(
            out,
            "{}",
            runs_table(views, columns, false).to_text_within(MAX_CELL_CHARS)
        )?,
        Format::Csv => write!(out, "{}", runs_table(views, columns, true).to_csv())?,
        Format::Md => write!(out, "{}", runs_table(views, columns, false).to_markdown())?,
        Format::Latex => write!(out, "{}", runs_table(views, columns, false).to_latex())?,
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_param_varies_when_its_values_differ_or_some_run_lacks_it() {
        let view = |id: &str, params: serde_json::Value| {
            let mut run = Run::new(
                ox_core::RunId::parse(id).expect("valid id"),
                ox_core::Status::Completed,
            );
            run.params = params.as_object().cloned().unwrap_or_default();
            RunView {
                run,
                duration_s: None,
                metrics: BTreeMap::new(),
            }
        };
        let views = [
            view(
                "01aaaaaaaa",
                serde_json::json!({"lr": 0.1, "width": 64, "opt": {"name": "adam"}, "extra": 1}),
            ),
            view(
                "01aaaaaaab",
                serde_json::json!({"lr": 0.2, "width": 64, "opt": {"name": "adam"}}),
            ),
            view(
                "01aaaaaaac",
                serde_json::json!({"lr": 0.1, "width": 64, "opt": {"name": "sgd"}, "extra": 1}),
            ),
        ];
        assert_eq!(varying_params(&views), ["extra", "lr", "opt.name"]);
        assert!(varying_params(&views[..1]).is_empty());
    }

    fn view_with(id: &str, params: serde_json::Value) -> RunView {
        let mut run = Run::new(
            ox_core::RunId::parse(id).expect("valid id"),
            ox_core::Status::Completed,
        );
        run.params = params.as_object().cloned().unwrap_or_default();
        RunView {
            run,
            duration_s: Some(1.0),
            metrics: BTreeMap::new(),
        }
    }

    #[test]
    fn sweep_axes_rank_before_per_run_values_and_run_names_last() {
        let views: Vec<RunView> = (0..6)
            .map(|i| {
                let lr = [0.1, 0.2, 0.3][i % 3];
                let opt = ["adam", "sgd"][i % 2];
                let partial = if i < 3 { 1 } else { 2 };
                view_with(
                    &format!("01aaaaaaa{i}"),
                    serde_json::json!({
                        "seed": i, "lr": lr, "out": format!("/runs/{i}"),
                        "opt": opt, "flag": i == 0, "partial": partial,
                    }),
                )
            })
            .collect();
        assert_eq!(
            ranked_params(&views),
            ["flag", "opt", "partial", "lr", "seed", "out"]
        );
    }

    #[test]
    fn default_columns_fit_the_width_and_say_what_was_left_out() {
        let views: Vec<RunView> = (0..4)
            .map(|i| {
                let mut params = serde_json::Map::new();
                for k in 0..30 {
                    params.insert(format!("param_{k:02}"), (i * (k + 1)).into());
                }
                view_with(&format!("01aaaaaaa{i}"), serde_json::Value::Object(params))
            })
            .collect();
        let columns = default_columns(&views, &[]);
        assert_eq!(columns.len(), 4 + 30);
        let (shown, hidden) = fit_columns(&views, columns.clone(), Format::Table, 80);
        let text = runs_table(&views, &shown, false).to_text_within(MAX_CELL_CHARS);
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
        assert!(text.lines().any(|l| l.chars().count() > 70), "{text}");
        assert_eq!(shown.len() - 4 + hidden.len(), 30);
        assert_eq!(&shown[..4], ["id", "name", "status", "duration"]);
        assert!(
            hidden_params_note(&hidden)
                .is_some_and(|n| n.starts_with(&format!("+{} more params", hidden.len())))
        );
        // Other formats keep every column.
        assert_eq!(
            fit_columns(&views, columns.clone(), Format::Csv, 80).0,
            columns
        );
    }

    #[test]
    fn titles_drop_prefixes_unless_two_would_read_the_same() {
        let cols = [
            "id",
            "params.lr",
            "params.seed",
            "metrics.lr",
            "metrics.loss",
        ]
        .map(String::from);
        assert_eq!(
            header(&cols),
            ["id", "params.lr", "seed", "metrics.lr", "loss"]
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(0.25), "250ms");
        assert_eq!(format_duration(12.34), "12.3s");
        assert_eq!(format_duration(245.0), "4m05s");
        assert_eq!(format_duration(7380.0), "2h03m");
    }
}
