//! `ox stats --paired A B`: two evaluations compared on the samples they share.
//!
//! Reads `.ox/runs/<id>/samples.jsonl` of both runs (one line per sample, epoch and scorer,
//! with a numeric `score` or null) and hands one scorer's scores of both runs to
//! `ox_analysis::paired` to join on (sample id, epoch) and compare.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::anyhow;
use ox_analysis::paired::{PairedOptions, join_scores, paired_compare};

use super::Args;
use crate::output::{Format, open_catalog, store_error};
use crate::{CliError, Outcome};
use ox_analysis::json::{PairedContext, paired_json};

/// Monte-Carlo sign patterns when n > 20, and bootstrap resamples, unless `--bootstrap`.
const DEFAULT_RESAMPLES: usize = 10_000;

/// Scores of one run: scorer → (sample id, epoch) → score, scorers in file order.
struct Samples {
    scorers: Vec<String>,
    scores: HashMap<String, BTreeMap<(String, i64), Option<f64>>>,
    bad_lines: usize,
}

fn read_samples(path: &Path) -> Result<Samples, CliError> {
    let file = ox_core::read_samples(path).map_err(|e| {
        CliError::usage(anyhow!("no per-sample scores: {e}")).hint(
            "paired comparison needs per-sample scores: import inspect-ai logs with `ox import`",
        )
    })?;
    let mut out = Samples {
        scorers: Vec::new(),
        scores: HashMap::new(),
        bad_lines: file.bad_lines,
    };
    for record in file.records {
        let score = record.score.filter(|s| s.is_finite());
        let key = (record.id_text(), record.epoch);
        if !out.scores.contains_key(&record.scorer) {
            out.scorers.push(record.scorer.clone());
        }
        out.scores
            .entry(record.scorer)
            .or_default()
            .insert(key, score);
    }
    Ok(out)
}

/// Runs the paired comparison.
pub fn run(args: &Args) -> Result<Outcome, CliError> {
    let (Some(ref_a), Some(ref_b)) = (args.paired.first(), args.paired.get(1)) else {
        return Err(CliError::usage(anyhow!("--paired needs two runs")));
    };
    let catalog = open_catalog()?;
    let a = catalog.resolve(ref_a).map_err(store_error)?;
    let b = catalog.resolve(ref_b).map_err(store_error)?;
    let project = catalog.project();
    let sa = read_samples(&project.samples_path(&a))?;
    let sb = read_samples(&project.samples_path(&b))?;
    for (id, s) in [(&a, &sa), (&b, &sb)] {
        if s.bad_lines > 0 {
            eprintln!(
                "warning: {} unreadable line(s) in the samples of {id}",
                s.bad_lines
            );
        }
    }
    let scorer = match &args.scorer {
        Some(s) => {
            if !sa.scores.contains_key(s) || !sb.scores.contains_key(s) {
                return Err(CliError::usage(anyhow!(
                    "scorer {s:?} is not in the samples of both runs"
                ))
                .hint(format!(
                    "scorers: {a}: {}; {b}: {}",
                    sa.scorers.join(", "),
                    sb.scorers.join(", ")
                )));
            }
            s.clone()
        }
        None => sa
            .scorers
            .iter()
            .find(|s| sb.scores.contains_key(*s))
            .cloned()
            .ok_or_else(|| {
                CliError::usage(anyhow!("the two runs share no scorer")).hint(format!(
                    "scorers: {a}: {}; {b}: {}",
                    sa.scorers.join(", "),
                    sb.scorers.join(", ")
                ))
            })?,
    };
    if args.scorer.is_none()
        && sa
            .scorers
            .iter()
            .filter(|s| sb.scores.contains_key(*s))
            .count()
            > 1
    {
        eprintln!("note: comparing scorer '{scorer}' (choose another with --scorer)");
    }
    let empty = BTreeMap::new();
    let ma = sa.scores.get(&scorer).unwrap_or(&empty);
    let mb = sb.scores.get(&scorer).unwrap_or(&empty);
    let joined = join_scores(ma, mb);
    if joined.pairs.is_empty() {
        return Err(CliError::usage(anyhow!(
            "runs {a} and {b} share no scored samples for scorer '{scorer}'"
        )));
    }
    let opts = PairedOptions {
        confidence: args.confidence,
        bootstrap_resamples: args.bootstrap.unwrap_or(DEFAULT_RESAMPLES),
        permutation_resamples: DEFAULT_RESAMPLES,
        seed: args.seed,
    };
    let result = paired_compare(&joined.pairs, &opts);
    let json = paired_json(
        &result,
        PairedContext {
            a: a.to_string(),
            b: b.to_string(),
            scorer: scorer.clone(),
            confidence: args.confidence,
            permutation_resamples: opts.permutation_resamples,
            bootstrap_resamples: opts.bootstrap_resamples,
            seed: opts.seed,
            only_in_a: joined.only_in_a,
            only_in_b: joined.only_in_b,
            unscored: joined.unscored,
        },
    );
    let text = match args.format {
        Format::Json => {
            let mut s =
                serde_json::to_string_pretty(&json).map_err(|e| CliError::failed(anyhow!(e)))?;
            s.push('\n');
            s
        }
        format => super::render::paired(&json, format),
    };
    print!("{text}");
    Ok(Outcome::Success)
}
