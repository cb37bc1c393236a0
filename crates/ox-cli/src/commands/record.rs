//! `ox record RUN... [--title T]`: writes `experiments/YYYY-MM-DD_slug.md` (seed 003's
//! template filled from the runs); run again, it refreshes only the generated blocks.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use ox_report::blocks;
use ox_report::record::{RecordRun, RunFiles, record_markdown};

use super::export::record;
use super::report::slug;
use crate::output::{open_catalog, store_error};
use crate::{CliError, Outcome};

/// Arguments of `ox record`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "RUN is a run id, a unique id prefix, a run name, or study/name.\n\nThe generated parts sit between `<!-- ox:begin … -->` and `<!-- ox:end … -->` markers:\nrunning `ox record` again refreshes them and keeps everything else you wrote.\n\nExamples:\n  ox record lr-3e4 --title \"LR 3e-4 baseline\"\n  ox record sweep1/lr0.1-s1 sweep1/lr0.1-s2 sweep1/lr0.1-s3 --title \"lr 0.1 over seeds\""
)]
pub struct Args {
    /// The runs the record is about.
    #[arg(required = true)]
    pub runs: Vec<String>,
    /// Title (default: the run's name, or the study of several runs).
    #[arg(long)]
    pub title: Option<String>,
    /// Directory of the records (default: `experiments/` in the project).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Confidence level of the result intervals.
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,
}

/// `to` relative to `from_dir` when both are inside `root` (`../.ox/runs/…`), else `to`.
pub fn relative(from_dir: &Path, to: &Path, root: &Path) -> String {
    match (from_dir.strip_prefix(root), to.strip_prefix(root)) {
        (Ok(from), Ok(rel)) => {
            let ups = from.components().count();
            let mut s = "../".repeat(ups);
            s.push_str(&rel.to_string_lossy());
            s
        }
        _ => to.display().to_string(),
    }
}

/// Runs `ox record`.
pub fn run(args: Args) -> Result<Outcome, CliError> {
    let catalog = open_catalog()?;
    let project = catalog.project().clone();
    let mut views = Vec::new();
    for name in &args.runs {
        let v = catalog.run(name).map_err(store_error)?;
        if !views
            .iter()
            .any(|x: &ox_store::RunView| x.run.id == v.run.id)
        {
            views.push(v);
        }
    }
    let title = match &args.title {
        Some(t) if !t.trim().is_empty() => t.trim().to_string(),
        Some(_) => {
            return Err(CliError::usage(anyhow!("--title is empty"))
                .hint("e.g. --title \"LR sweep baseline\""));
        }
        None => match views.as_slice() {
            [one] => one
                .run
                .name
                .clone()
                .unwrap_or_else(|| one.run.id.to_string()),
            many => many
                .first()
                .map_or_else(|| "experiment".into(), |v| v.run.study.clone()),
        },
    };
    let date = views.iter().map(|v| v.run.created).min().map_or_else(
        || chrono::Utc::now().format("%Y-%m-%d").to_string(),
        |d| d.format("%Y-%m-%d").to_string(),
    );
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| project.root().join("experiments"));
    let dir_abs = if dir.is_absolute() {
        dir.clone()
    } else {
        std::env::current_dir()
            .context("cannot read the current directory")?
            .join(&dir)
    };
    let root = project.root();
    let runs: Vec<RecordRun<'_>> = views
        .iter()
        .map(|v| {
            let id = &v.run.id;
            RecordRun {
                record: record(v),
                provenance: ox_core::provenance(&v.run, &project.metrics_path(id)),
                files: RunFiles {
                    run_json: relative(&dir_abs, &project.run_json_path(id), root),
                    metrics: relative(&dir_abs, &project.metrics_path(id), root),
                    run_dir: relative(&dir_abs, &project.run_dir(id), root),
                },
            }
        })
        .collect();
    let fresh = record_markdown(&title, &date, &runs, args.confidence);
    std::fs::create_dir_all(&dir_abs)
        .with_context(|| format!("cannot create {}", dir_abs.display()))?;
    let path = dir_abs.join(format!("{date}_{}.md", slug(&title).replace('.', "-")));
    let shown = relative(
        &std::env::current_dir().unwrap_or_default(),
        &path,
        &std::env::current_dir().unwrap_or_default(),
    );
    match std::fs::read_to_string(&path) {
        Ok(existing) => {
            let merged = blocks::merge(&existing, &fresh);
            if merged.replaced.is_empty() {
                eprintln!("{shown} has no generated blocks left: left unchanged");
                return Ok(Outcome::Success);
            }
            std::fs::write(&path, &merged.text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "refreshed {} generated block(s) of {shown}; your text outside them is kept{}",
                merged.replaced.len(),
                if merged.missing.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (removed blocks not re-added: {})",
                        merged.missing.join(", ")
                    )
                }
            );
        }
        Err(_) => {
            std::fs::write(&path, &fresh)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {shown}: fill in Goals, Analysis and Follow-ups");
        }
    }
    println!("{}", path.display());
    Ok(Outcome::Success)
}
