//! `ox import PATH... [-s STUDY]`: turn other tools' files into ox runs (see `ox_ingest`).

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::anyhow;
use ox_ingest::{LogPatterns, RunWriter, discover};

use crate::{CliError, Outcome, output};

/// Arguments of `ox import`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  ox import logs/                      # every known file under logs/, recursively\n  ox import mlruns/ mlflow.db -s sweep  # MLflow stores into study 'sweep'\n  ox import runs/tb/ wandb/ slurm-*.out\n\nFormats are detected from content: inspect-ai .eval/.json logs, TensorBoard event files,\nMLflow file stores and SQLite databases, W&B offline runs, SLURM/torchtune logs,\nmetrics.ndjson directories and CSV files with a step column. Importing a source again\nupdates its run."
)]
pub struct Args {
    /// Files or directories to import (directories are walked recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Put every imported run in this study (default: from the source, e.g. the MLflow
    /// experiment, else the format's name).
    #[arg(short, long)]
    pub study: Option<String>,
}

/// Imports every unit found; a failed file is reported and the rest still imported.
pub fn run(args: Args) -> Result<Outcome, CliError> {
    let project = output::find_project()?;
    let patterns = LogPatterns::from_config_file(&project.config_path()).map_err(|e| {
        CliError::usage(anyhow!("{e}")).hint("fix [[log_patterns]] in .ox/config.toml")
    })?;
    // Earlier imports are found through the catalog (`run_for_source`); when it cannot be
    // opened, by reading every run.json's source key.
    let mut catalog = ox_store::Catalog::open(&project).ok();
    let mut writer = match &catalog {
        Some(_) => RunWriter::without_scan(project),
        None => RunWriter::open(project).map_err(|e| CliError::failed(anyhow!("{e}")))?,
    };
    let found = discover(&args.paths);
    let mut failures: Vec<(PathBuf, String)> = found.failures;
    let (mut imported, mut updated) = (0u64, 0u64);
    let mut updated_ids = Vec::new();
    let bar = progress_bar(found.units.len() as u64);
    ox_ingest::parse_units(
        &found.units,
        &patterns,
        ox_ingest::default_threads(),
        |unit, result| {
            bar.set_message(unit.path.display().to_string());
            match result {
                Ok(runs) => {
                    for mut run in runs {
                        // The source's key, or a key an older ox gave it.
                        for key in std::iter::once(&run.source.key).chain(&run.legacy_keys) {
                            if writer.run_for_source(key).is_some() {
                                break;
                            }
                            if let Some(id) = catalog
                                .as_ref()
                                .and_then(|c| c.run_for_source(key).ok().flatten())
                            {
                                writer.remember(key, id);
                                break;
                            }
                        }
                        for warning in &run.warnings {
                            bar.suspend(|| eprintln!("warning: {warning}"));
                        }
                        match writer.write(&mut run, args.study.as_deref()) {
                            Ok(outcome) if outcome.created => imported += 1,
                            Ok(outcome) => {
                                updated += 1;
                                updated_ids.push(outcome.id);
                            }
                            Err(e) => failures.push((run.source.path.clone(), e.to_string())),
                        }
                    }
                }
                Err(e) => failures.push((unit.path.clone(), e.to_string())),
            }
            bar.inc(1);
        },
    );
    bar.finish_and_clear();
    // The catalog's cheap refresh does not look at finished runs again: tell it which ones
    // this import rewrote (new runs it finds by itself).
    if !updated_ids.is_empty() {
        let mut catalog = match catalog.take() {
            Some(c) => c,
            None => output::open_catalog()?,
        };
        catalog
            .refresh_runs(&updated_ids)
            .map_err(output::store_error)?;
    }
    // Workers finish in any order: report failures in path order.
    failures.sort();
    for (path, reason) in &failures {
        // Reasons from the importers usually start with the path already.
        let path_text = path.display().to_string();
        if reason.contains(&path_text) {
            eprintln!("failed: {reason}");
        } else {
            eprintln!("failed: {path_text}: {reason}");
        }
    }
    eprintln!(
        "imported {imported}, updated {updated}, failed {}",
        failures.len()
    );
    if found.units.is_empty() && failures.is_empty() {
        eprintln!("hint: nothing ox can import was found under the given paths");
    }
    Ok(if failures.is_empty() {
        Outcome::Success
    } else {
        Outcome::Failed
    })
}

fn progress_bar(len: u64) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() || len < 2 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {wide_msg}") {
        bar.set_style(style);
    }
    bar
}
