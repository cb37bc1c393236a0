//! Importers against the real tool-written files of `testdata/corpora/edge/` (issue 10): what
//! inspect-ai, TensorFlow, W&B, Slurm and MLflow write in the cases the importers once
//! rejected or misread. Each file's provenance is in `testdata/corpora/edge/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use ox_core::Status;
use ox_ingest::{ImportedRun, LogPatterns, UnitKind, discover, parse_unit};
use serde_json::json;

fn edge() -> PathBuf {
    ox_test_support::corpora().join("edge")
}

/// Imports every unit under `path`, which must all parse.
fn import_all(path: &Path) -> Vec<ImportedRun> {
    let found = discover(&[path.to_path_buf()]);
    assert!(found.failures.is_empty(), "{:?}", found.failures);
    found
        .units
        .iter()
        .flat_map(|u| {
            parse_unit(u, &LogPatterns::default())
                .unwrap_or_else(|e| panic!("{}: {e}", u.path.display()))
        })
        .collect()
}

fn one(path: &Path) -> ImportedRun {
    let mut runs = import_all(path);
    assert_eq!(runs.len(), 1, "{}", path.display());
    runs.remove(0)
}

fn inspect_log(ext: &str) -> PathBuf {
    let dir = edge().join("inspect/logs");
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == ext))
        .unwrap()
}

#[test]
fn inspect_nan_and_infinite_scores_are_read_in_json_and_eval_logs() {
    for ext in ["json", "eval"] {
        let run = one(&inspect_log(ext));
        assert_eq!(run.status, Status::Completed, "{ext}");
        assert!(run.warnings.is_empty(), "{ext}: {:?}", run.warnings);
        // Four samples, none skipped: q1 a number, q2 NaN, q3 +inf, q4 -inf.
        let scores: Vec<(String, Option<f64>)> = run
            .samples
            .iter()
            .map(|s| (s.id.as_str().unwrap().to_string(), s.score))
            .collect();
        assert_eq!(scores.len(), 4, "{ext}");
        assert_eq!(scores[0], ("q1".into(), Some(1.0)));
        assert!(scores[1].1.unwrap().is_nan());
        assert_eq!(scores[2].1, Some(f64::INFINITY));
        assert_eq!(scores[3].1, Some(f64::NEG_INFINITY));
        // The scorer's metrics are NaN (a mean over NaN and ±inf): kept as NaN points.
        let mean = run.metrics.series("ratio/mean");
        assert_eq!(mean.len(), 1, "{ext}");
        assert!(mean[0].1.is_nan());
        assert_eq!(run.metrics.series("samples/completed"), vec![(0, 4.0)]);
    }
}

#[test]
fn inspect_plan_config_generation_settings_become_params_without_operational_keys() {
    for ext in ["json", "eval"] {
        let run = one(&inspect_log(ext));
        // `--temperature 0.7 --top-p 0.9 --max-tokens 64 --seed 7` are in plan.config
        // (model_generate_config is empty); --max-connections/--max-retries/--timeout are
        // how the eval ran, not what it computed.
        assert_eq!(
            run.params["generate"],
            json!({"max_tokens": 64, "seed": 7, "temperature": 0.7, "top_p": 0.9}),
            "{ext}"
        );
    }
}

#[test]
fn tf_summary_write_rank0_tensors_are_scalars_in_float32_and_float64() {
    let run = one(&edge().join("tensorboard/tf_summary_write"));
    for tag in ["loss32", "loss64", "acc"] {
        assert_eq!(run.metrics.series(tag).len(), 10, "{tag}");
    }
    let loss32 = run.metrics.series("loss32");
    let loss64 = run.metrics.series("loss64");
    for step in 0..10 {
        let exact = 2.0 * 0.9f64.powf(step as f64); // Python's `2 * 0.9 ** step`
        assert_eq!(loss64[step], (step as i64, exact));
        assert_eq!(loss32[step], (step as i64, f64::from(exact as f32)));
    }
}

#[test]
fn an_event_file_torn_before_its_first_record_does_not_abort_its_directory() {
    let run = one(&edge().join("tensorboard/torn_first_record"));
    assert_eq!(run.metrics.series("loss64").len(), 10);
    assert_eq!(run.warnings.len(), 1);
    assert!(run.warnings[0].contains("no record in it, skipped"));
    // Alone, the torn file is an error that names it.
    let tmp = tempfile::tempdir().unwrap();
    let torn = std::fs::read_dir(edge().join("tensorboard/torn_first_record"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| std::fs::metadata(p).unwrap().len() == 10)
        .unwrap();
    std::fs::copy(&torn, tmp.path().join(torn.file_name().unwrap())).unwrap();
    let found = discover(&[tmp.path().to_path_buf()]);
    let err = parse_unit(&found.units[0], &LogPatterns::default()).unwrap_err();
    assert!(err.to_string().contains("truncated record header"), "{err}");
}

#[test]
fn tensorboard_identity_survives_a_moved_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let src = edge().join("tensorboard/tf_summary_write");
    let moved = tmp.path().join("elsewhere/renamed");
    std::fs::create_dir_all(&moved).unwrap();
    for entry in std::fs::read_dir(&src).unwrap() {
        let p = entry.unwrap().path();
        std::fs::copy(&p, moved.join(p.file_name().unwrap())).unwrap();
    }
    let a = one(&src);
    let b = one(&moved);
    assert_eq!(a.source.key, b.source.key);
    assert!(a.source.key.starts_with("tensorboard:events.out.tfevents."));
    // Different runs never share a key, even tensorboardX sub-writers whose files have
    // the same name (tbx-add-scalars/loss/train and loss/val).
    let tbx = import_all(&ox_test_support::corpora().join("tensorboard/runs/tbx-add-scalars"));
    assert_eq!(tbx.len(), 3);
    let mut keys: Vec<_> = tbx.iter().map(|r| r.source.key.clone()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 3);
}

#[test]
fn inspect_identity_survives_a_moved_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let src = inspect_log("eval");
    let moved = tmp.path().join("copied.eval");
    std::fs::copy(&src, &moved).unwrap();
    assert_eq!(one(&src).source.key, one(&moved).source.key);
}

fn wandb_run(id: &str) -> ImportedRun {
    let dir = std::fs::read_dir(edge().join("wandb"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(id))
        .unwrap();
    one(&dir)
}

#[test]
fn wandb_header_only_file_is_a_crashed_run() {
    let run = wandb_run("u34pn0xd");
    assert_eq!(
        std::fs::metadata(&run.source.path).unwrap().len(),
        7,
        "the real file holds only W&B's header"
    );
    assert_eq!(run.status, Status::Crashed);
    assert_eq!(run.name.as_deref(), Some("u34pn0xd"));
    assert!(run.metrics.is_empty());
    assert_eq!(
        run.started.unwrap().to_rfc3339(),
        "2026-12-04T20:28:07+00:00"
    );
    assert!(run.warnings[0].contains("imported as crashed"));
}

#[test]
fn wandb_media_descriptors_are_not_metrics_and_summary_only_values_stay_summary() {
    let run = wandb_run("lgx5hpgx");
    let mut names: Vec<&str> = run.metrics.names().iter().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["acc", "loss"]);
    assert_eq!(run.metrics.series("loss").len(), 5);
    assert!(run.metrics.series("best_val_acc").is_empty());
    assert_eq!(run.extra["wandb"]["summary"]["best_val_acc"], 0.93);
    assert_eq!(run.params["layers"], json!([64, 32]));
    assert_eq!(run.params["opt"]["name"], "adam");
}

#[test]
fn slurm_output_named_with_a_space_is_found_in_its_directory() {
    let found = discover(&[edge().join("slurm")]);
    assert_eq!(found.units.len(), 1, "{found:?}");
    assert_eq!(found.units[0].kind, UnitKind::TextLog);
    let run = one(&edge().join("slurm"));
    assert_eq!(run.source.kind.as_str(), "slurm");
    assert_eq!(run.name.as_deref(), Some("slurm 47"));
    assert_eq!(run.metrics.series("loss").len(), 10);
}

#[test]
fn damaged_sqlite_is_reported_with_sqlites_diagnosis() {
    let found = discover(&[edge().join("mlflow/damaged.db")]);
    assert!(found.units.is_empty());
    let (_, reason) = &found.failures[0];
    assert!(
        reason.contains("database disk image is malformed"),
        "{reason}"
    );
    assert!(!reason.contains("without MLflow's tables"), "{reason}");
}

#[test]
fn unknown_text_files_named_explicitly_are_not_recognized() {
    let corpora = ox_test_support::corpora();
    for file in [
        corpora.join("slurm/seed-sweep/job_array.sbatch"),
        edge().join("wandb/offline-run-20261204_202802-lgx5hpgx/files/requirements.txt"),
    ] {
        let found = discover(std::slice::from_ref(&file));
        assert_eq!(found.units.len(), 1, "{}", file.display());
        let err = parse_unit(&found.units[0], &LogPatterns::default()).unwrap_err();
        assert!(err.to_string().contains("not recognized"), "{err}");
    }
}

#[test]
fn resolved_config_keeps_lists_and_quoted_values() {
    let file = edge().join("torchtune/lora-console.log");
    let found = discover(std::slice::from_ref(&file));
    let run = parse_unit(&found.units[0], &LogPatterns::default())
        .unwrap()
        .remove(0);
    assert!(run.warnings.is_empty(), "{:?}", run.warnings);
    assert_eq!(
        run.params["model"]["lora_attn_modules"],
        json!(["q_proj", "v_proj", "output_proj"])
    );
    assert_eq!(run.params["model"]["apply_lora_to_mlp"], true);
    assert_eq!(run.params["optimizer"]["betas"], json!([0.9, 0.999]));
    // Quoted YAML strings stay strings, even when they look like null or hold a colon.
    assert_eq!(run.params["tokenizer"]["prompt_template"], "null");
    assert_eq!(run.params["tokenizer"]["special"], "yes: really");
    assert_eq!(run.metrics.series("loss"), vec![(1, 2.5), (2, 2.25)]);
}
