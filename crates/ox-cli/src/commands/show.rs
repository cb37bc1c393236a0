//! `ox show RUN`: everything about one run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use ox_core::{MetricsFileReader, Project, flatten_params};
use ox_render::{Cell, Table, format_number, sparkline};
use ox_store::RunView;
use serde::Serialize;

use crate::output::{Format, open_catalog};
use crate::runs_output::{RunJson, format_duration};
use crate::{CliError, Outcome};

/// Arguments of `ox show`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "RUN is a run id, a unique id prefix, a run name, or study/name.\n\nExamples:\n  ox show lr-3e4\n  ox show 01jd3k9x --format json"
)]
pub struct Args {
    /// The run: id, unique id prefix, name, or study/name.
    pub run: String,
    /// Output format (table or json).
    #[arg(long, value_parser = Format::only(&[Format::Table, Format::Json]))]
    pub format: Option<Format>,
}

/// `ox show --format json`: the run object of the contract plus the paths of its files.
#[derive(Serialize)]
struct ShowJson<'a> {
    #[serde(flatten)]
    run: RunJson<'a>,
    files: BTreeMap<&'static str, String>,
    /// Datasets and artifacts recorded by the run (run.json and its metrics file).
    provenance: ox_core::Provenance,
}

/// Prints one run.
pub fn run(args: Args) -> Result<Outcome, CliError> {
    let catalog = open_catalog()?;
    let view = catalog
        .run(&args.run)
        .map_err(|e| crate::output::run_error(&catalog, &args.run, e))?;
    let files = run_files(catalog.project(), &view);
    let mut out = std::io::stdout().lock();
    let text = match Format::or_default(args.format) {
        Format::Json => {
            let json = ShowJson {
                run: RunJson::from(&view),
                files,
                provenance: ox_core::provenance(
                    &view.run,
                    &catalog.project().metrics_path(&view.run.id),
                ),
            };
            serde_json::to_string_pretty(&json)
                .map_err(|e| CliError::failed(anyhow::Error::from(e)))?
                + "\n"
        }
        _ => render_text(catalog.project(), &view, &files),
    };
    out.write_all(text.as_bytes())
        .map_err(|e| CliError::failed(anyhow::Error::from(e)))?;
    Ok(Outcome::Success)
}

fn run_files(project: &Project, view: &RunView) -> BTreeMap<&'static str, String> {
    let id = &view.run.id;
    [
        ("run_json", project.run_json_path(id)),
        ("stdout_log", project.stdout_log_path(id)),
        ("metrics", project.metrics_path(id)),
        ("system", project.system_path(id)),
        ("samples", project.samples_path(id)),
    ]
    .into_iter()
    .filter(|(_, p)| p.exists())
    .map(|(k, p)| (k, p.display().to_string()))
    .collect()
}

fn render_text(
    project: &Project,
    view: &RunView,
    files: &BTreeMap<&'static str, String>,
) -> String {
    let run = &view.run;
    let mut s = String::new();
    let _ = writeln!(s, "run       {}", run.id);
    if let Some(name) = &run.name {
        let _ = writeln!(s, "name      {name}");
    }
    let _ = writeln!(s, "study     {}", run.study);
    let exit = run
        .exit_code
        .map(|c| format!(" (exit code {c})"))
        .unwrap_or_default();
    let _ = writeln!(s, "status    {}{exit}", run.status);
    if let Some(d) = view.duration_s {
        let _ = writeln!(s, "duration  {}", format_duration(d));
    }
    let _ = writeln!(s, "created   {}", run.created.to_rfc3339());
    if !run.tags.is_empty() {
        let _ = writeln!(s, "tags      {}", run.tags.join(", "));
    }
    if !run.command.is_empty() {
        let _ = writeln!(s, "command   {}", ox_core::shell::join(&run.command));
    }
    if let Some(cwd) = &run.cwd {
        let _ = writeln!(s, "cwd       {cwd}");
    }
    if let Some(host) = &run.host {
        let pid = run.pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
        let _ = writeln!(s, "host      {host}{pid}");
    }
    if let Some(git) = &run.git {
        let _ = writeln!(
            s,
            "git       {} on {}{}",
            git.commit
                .as_deref()
                .map_or("?", |c| c.get(..12).unwrap_or(c)),
            git.branch.as_deref().unwrap_or("?"),
            if git.dirty { " (dirty)" } else { "" }
        );
    }
    if let Some(source) = &run.source {
        let _ = writeln!(
            s,
            "source    {}",
            source
                .get("path")
                .and_then(|p| p.as_str())
                .unwrap_or(&source.to_string())
        );
    }
    let params = flatten_params(&run.params);
    if !params.is_empty() {
        let _ = writeln!(s, "\nparams");
        for (k, v) in params {
            let shown = match v {
                serde_json::Value::String(t) => t.clone(),
                other => other.to_string(),
            };
            let _ = writeln!(s, "  {k} = {shown}");
        }
    }
    if !view.metrics.is_empty() {
        let series = MetricsFileReader::read_series(&project.metrics_path(&run.id))
            .map(|f| f.series.into_iter().collect::<BTreeMap<_, _>>())
            .unwrap_or_default();
        let mut t = Table::new([
            "metric",
            "first",
            "last",
            "min",
            "max",
            "mean",
            "count",
            "last_step",
            "trend",
        ]);
        for (name, m) in &view.metrics {
            let values: Vec<f64> = series
                .get(name)
                .map(|pts| pts.iter().map(|p| p.1).collect())
                .unwrap_or_default();
            t.push(vec![
                Cell::Text(name.clone()),
                m.first.into(),
                m.last.into(),
                m.min.into(),
                m.max.into(),
                m.mean.into(),
                (m.count as f64).into(),
                (m.last_step as f64).into(),
                Cell::Text(sparkline(&values, 24)),
            ]);
        }
        let _ = writeln!(s, "\nmetrics");
        for line in t.to_text().lines() {
            let _ = writeln!(s, "  {line}");
        }
    }
    if let Some(summary) = run.extra.get("summary").and_then(|v| v.as_object()) {
        let _ = writeln!(s, "\nresources");
        for (k, v) in summary.iter().filter(|(_, v)| !v.is_null()) {
            let shown = match v.as_f64() {
                Some(n) if k.ends_with("_bytes") => format!("{:.1} MiB", n / (1024.0 * 1024.0)),
                Some(n) => format_number(n),
                None => v.to_string(),
            };
            let _ = writeln!(s, "  {k} = {shown}");
        }
    }
    let prov = ox_core::provenance(run, &project.metrics_path(&run.id));
    for (title, list) in [("datasets", &prov.datasets), ("artifacts", &prov.artifacts)] {
        if list.is_empty() {
            continue;
        }
        let rows: Vec<Vec<Cell>> = list
            .iter()
            .map(|r| {
                vec![
                    r.name.clone().map_or(Cell::Empty, Cell::Text),
                    Cell::Text(r.path.clone()),
                    r.sha256.as_deref().map_or(Cell::Empty, |h| {
                        Cell::Text(h.get(..12).unwrap_or(h).to_string())
                    }),
                    r.bytes.map_or(Cell::Empty, |b| Cell::Text(human_bytes(b))),
                    r.rows.map_or(Cell::Empty, |n| Cell::Num(n as f64)),
                ]
            })
            .collect();
        // Only the columns something fills (artifacts have no name or rows).
        let keep: Vec<usize> = (0..5)
            .filter(|&i| {
                rows.iter()
                    .any(|r| r.get(i).is_some_and(|c| *c != Cell::Empty))
            })
            .collect();
        let names = ["name", "path", "sha256", "size", "rows"];
        let mut t = Table::new(keep.iter().filter_map(|&i| names.get(i).copied()));
        for r in rows {
            t.push(keep.iter().filter_map(|&i| r.get(i).cloned()).collect());
        }
        let _ = writeln!(s, "\n{title}");
        for line in t.to_text().lines() {
            let _ = writeln!(s, "  {line}");
        }
    }
    let _ = writeln!(s, "\nfiles");
    for (k, p) in files {
        let _ = writeln!(s, "  {k:<10} {p}");
    }
    s
}

/// A size for humans: `512 B`, `1.5 KiB`, `2.3 GiB`.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}
