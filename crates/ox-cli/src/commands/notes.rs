//! `ox notes RUN|STUDY`: creates or refreshes the results table of seed 000 in the
//! experiment's `NOTES.md`; `ox notes --study S`: the key-findings block of the study's
//! `README.md`. Only the generated blocks change; everything a person wrote is kept.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use ox_analysis::Direction;
use ox_core::{MetricsFileReader, Project, RunId};
use ox_report::blocks;
use ox_report::export::MetricColumn;
use ox_report::notes::{
    MetricNote, RunNote, best_point, key_findings_block, notes_skeleton, run_results_block,
    study_results_block,
};
use ox_store::{RunFilter, RunView};

use super::export::record;
use super::report::{findings_of, metric_columns, slug, study_dirs};
use crate::output::{open_catalog, store_error};
use crate::{CliError, Outcome};

/// Arguments of `ox notes`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Files: a run's notes are <study dir>/<run name>/NOTES.md, a study's <study dir>/NOTES.md,\nits key findings go to <study dir>/README.md; the study dir is the first of studies/<S>,\n<S>/ and experiments/<S>/ that exists (else studies/<S> is created).\n\nExamples:\n  ox notes lr-3e4\n  ox notes sweep1\n  ox notes --study sweep1"
)]
pub struct Args {
    /// A run (id, prefix, name, study/name) or a study.
    #[arg(required_unless_present = "study", conflicts_with = "study")]
    pub target: Option<String>,
    /// Refresh the key-findings block of this study's README.md.
    #[arg(long, short)]
    pub study: Option<String>,
}

/// The study's own directory: the first that exists, else `studies/<study>`.
fn study_dir(root: &Path, study: &str) -> PathBuf {
    study_dirs(study)
        .into_iter()
        .map(|d| root.join(d))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| root.join("studies").join(study))
}

fn write_block(
    path: &Path,
    block: &str,
    name: &str,
    new_file: impl FnOnce() -> String,
) -> Result<&'static str, CliError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let (text, what) = match std::fs::read_to_string(path) {
        Ok(existing) => (blocks::upsert(&existing, name, block), "refreshed"),
        Err(_) => (new_file(), "created"),
    };
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(what)
}

/// Runs `ox notes`.
pub fn run(args: Args) -> Result<Outcome, CliError> {
    let catalog = open_catalog()?;
    let project = catalog.project().clone();
    let root = project.root().to_path_buf();
    if let Some(study) = &args.study {
        let views = study_runs(&catalog, study)?;
        let findings = findings_of(&catalog, &views, false, study)?;
        let path = study_dir(&root, study).join("README.md");
        let block = key_findings_block(&findings);
        let what = write_block(&path, &block, "key-findings", || {
            format!("# {study}\n\n## Key Findings\n\n{block}")
        })?;
        eprintln!(
            "{what} the key findings ({}) in {}",
            findings.len(),
            path.display()
        );
        println!("{}", path.display());
        return Ok(Outcome::Success);
    }
    let target = args.target.unwrap_or_default();
    let all = catalog.runs(&RunFilter::default()).map_err(store_error)?;
    let is_study = all.iter().any(|v| v.run.study == target);
    let (path, block, title) = if is_study {
        let views: Vec<RunView> = all.into_iter().filter(|v| v.run.study == target).collect();
        let notes = run_notes(&project, &views)?;
        (
            study_dir(&root, &target).join("NOTES.md"),
            study_results_block(&notes),
            target.clone(),
        )
    } else {
        let view = catalog.run(&target).map_err(store_error)?;
        let notes = run_notes(&project, std::slice::from_ref(&view))?;
        let label = view
            .run
            .name
            .clone()
            .unwrap_or_else(|| view.run.id.to_string());
        let block = notes.first().map(run_results_block).unwrap_or_default();
        (
            study_dir(&root, &view.run.study)
                .join(slug(&label))
                .join("NOTES.md"),
            block,
            label,
        )
    };
    let what = write_block(&path, &block, "results", || notes_skeleton(&title, &block))?;
    eprintln!("{what} the results table in {}", path.display());
    println!("{}", path.display());
    Ok(Outcome::Success)
}

fn study_runs(catalog: &ox_store::Catalog, study: &str) -> Result<Vec<RunView>, CliError> {
    let views = catalog
        .runs(&RunFilter {
            study: Some(study.to_string()),
            ..RunFilter::default()
        })
        .map_err(store_error)?;
    if views.is_empty() {
        return Err(CliError::usage(anyhow!("no runs in study {study:?}"))
            .hint("`ox ls` lists the runs and their studies"));
    }
    Ok(views)
}

/// Final and best values (with steps) of the compared metrics, wall time, GPU peak.
fn run_notes(project: &Project, views: &[RunView]) -> Result<Vec<RunNote>, CliError> {
    let records: Vec<_> = views.iter().map(record).collect();
    let columns: Vec<MetricColumn> = metric_columns(&[], &records)?;
    let mut out = Vec::new();
    for v in views {
        let series = read_series(project, &v.run.id);
        let metrics = columns
            .iter()
            .filter_map(|c| {
                let s = v.metrics.get(&c.metric)?;
                let direction = Direction::infer(&c.metric);
                let best = direction.and_then(|d| {
                    series
                        .iter()
                        .find(|(n, _)| *n == c.metric)
                        .and_then(|(_, pts)| best_point(pts, d))
                });
                Some(MetricNote {
                    metric: c.metric.clone(),
                    last: s.last,
                    last_step: s.last_step,
                    best,
                })
            })
            .collect();
        out.push(RunNote {
            label: v.run.name.clone().unwrap_or_else(|| v.run.id.to_string()),
            status: v.run.status.as_str().to_string(),
            metrics,
            wall_time_s: v.duration_s,
            peak_gpu_mem_bytes: v
                .run
                .extra
                .get("summary")
                .and_then(|s| s.get("peak_gpu_mem_bytes"))
                .and_then(serde_json::Value::as_f64)
                .filter(|b| *b > 0.0),
        });
    }
    Ok(out)
}

fn read_series(project: &Project, id: &RunId) -> Vec<(String, Vec<(i64, f64)>)> {
    MetricsFileReader::read_series(&project.metrics_path(id))
        .map(|f| f.series)
        .unwrap_or_default()
}
