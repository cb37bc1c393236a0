//! Printing runs: the `--format json` contract for runs, and the table/CSV/Markdown views
//! shared by `ox ls`, `ox query` and `ox show`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use ox_core::flatten_params;
use ox_render::{Cell, Table};
pub use ox_store::RunJson;
use ox_store::{FieldValue, RunView};

use crate::output::Format;

/// Columns shown when none are asked for: identity, status, duration, the params that vary
/// among `views`, then `metric_columns` (or, when empty, up to four metrics the runs share).
pub fn default_columns(views: &[RunView], metric_columns: &[String]) -> Vec<String> {
    let mut cols: Vec<String> = ["id", "name", "study", "status", "duration"]
        .map(String::from)
        .to_vec();
    let studies: BTreeSet<&str> = views.iter().map(|v| v.run.study.as_str()).collect();
    if studies.len() <= 1 {
        cols.retain(|c| c != "study");
    }
    cols.extend(
        varying_params(views)
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
            .map(|c| match c.as_str() {
                "id" => Cell::Text(v.run.id.as_str().chars().take(id_len).collect()),
                "duration" if !full_ids => v.duration_s.map(format_duration).into(),
                "tags" => Cell::Text(v.run.tags.join(",")),
                "created" | "started" | "ended" if !full_ids => match v.value(c) {
                    Some(FieldValue::Text(t)) => {
                        Cell::Text(t.get(..19).unwrap_or(&t).replace('T', " "))
                    }
                    _ => Cell::Empty,
                },
                _ => match v.value(c) {
                    Some(FieldValue::Num(n)) => Cell::Num(n),
                    Some(FieldValue::Text(t)) => Cell::Text(t),
                    None => Cell::Empty,
                },
            })
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
        Format::Table => write!(out, "{}", runs_table(views, columns, false).to_text())?,
        Format::Csv => write!(out, "{}", runs_table(views, columns, true).to_csv())?,
        Format::Md => write!(out, "{}", runs_table(views, columns, false).to_markdown())?,
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ox_core::Run;

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
