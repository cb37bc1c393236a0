//! Importers against the real files in `testdata/corpora/` (written by the real tools), checked
//! against the values their READMEs and `expected*.json` list, plus corruption cases made
//! from them (truncated, bytes flipped).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use ox_core::Status;
use ox_ingest::{ImportUnit, ImportedRun, LogPatterns, UnitKind, discover, parse_unit};
use serde_json::Value;

/// The corpora directory: `testdata/corpora/` in this repository (`OX_CORPORA` overrides).
fn corpora() -> Option<PathBuf> {
    Some(ox_test_support::corpora())
}

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

fn last(run: &ImportedRun, metric: &str) -> (i64, f64) {
    let mut s = run.metrics.series(metric);
    s.sort_by_key(|p| p.0);
    *s.last()
        .unwrap_or_else(|| panic!("{:?} has no {metric}", run.name))
}

fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

#[test]
fn inspect_logs_match_expected_json() {
    let Some(c) = corpora() else { return };
    let expected: Vec<Value> =
        serde_json::from_slice(&std::fs::read(c.join("inspect/expected.json")).unwrap()).unwrap();
    let runs = import_all(&c.join("inspect/logs"));
    assert_eq!(runs.len(), 6);
    for exp in &expected {
        let file = exp["file"].as_str().unwrap();
        let run = runs
            .iter()
            .find(|r| r.source.path.ends_with(file))
            .unwrap_or_else(|| panic!("{file} not imported"));
        assert_eq!(
            run.source.key,
            format!("inspect:{}", exp["eval_id"].as_str().unwrap())
        );
        assert_eq!(run.name.as_deref(), exp["task"].as_str());
        assert_eq!(run.params["model"], exp["model"]);
        assert_eq!(run.params["epochs"], exp["epochs"]);
        let status = match exp["status"].as_str().unwrap() {
            "success" => Status::Completed,
            "error" => Status::Failed,
            "cancelled" => Status::Killed,
            other => panic!("{other}"),
        };
        assert_eq!(run.status, status, "{file}");
        for score in exp["scores"].as_array().into_iter().flatten() {
            let name = score["name"].as_str().unwrap();
            for (metric, value) in score["metrics"].as_object().unwrap() {
                let key = match score["reducer"].as_str() {
                    Some(r) => format!("{name}/{r}/{metric}"),
                    None => format!("{name}/{metric}"),
                };
                assert_eq!(
                    run.metrics.series(&key),
                    vec![(0, value.as_f64().unwrap())],
                    "{file} {key}"
                );
            }
        }
        let usage = &exp["model_usage"]["mockllm/model"];
        for field in ["input_tokens", "output_tokens", "total_tokens"] {
            assert_eq!(
                run.metrics.series(&format!("usage/{field}")),
                vec![(0, usage[field].as_f64().unwrap())]
            );
        }
        if let Some(total) = exp["total_samples"].as_f64() {
            assert_eq!(run.metrics.series("samples/total"), vec![(0, total)]);
            assert_eq!(
                run.metrics.series("samples/completed"),
                vec![(0, exp["completed_samples"].as_f64().unwrap())]
            );
        }
        // Every scored sample, with its id as the log has it (string or integer).
        for s in exp["samples"].as_array().unwrap() {
            for (scorer, value) in s["scores"].as_object().unwrap() {
                let got = run
                    .samples
                    .iter()
                    .find(|x| {
                        x.id == s["id"]
                            && x.epoch == s["epoch"].as_i64().unwrap()
                            && x.scorer == *scorer
                    })
                    .unwrap_or_else(|| {
                        panic!("{file}: sample {} epoch {} {scorer}", s["id"], s["epoch"])
                    });
                assert_eq!(&got.value, value);
                assert_eq!(got.answer.as_deref(), s["answer"].as_str());
                assert_eq!(got.target, s["target"]);
            }
        }
        let scored: usize = exp["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["scores"].as_object().map_or(0, |o| o.len()))
            .sum();
        assert_eq!(run.samples.len(), scored, "{file}");
    }
    let arith = runs
        .iter()
        .find(|r| r.name.as_deref() == Some("arith"))
        .unwrap();
    let letters: Vec<_> = arith
        .samples
        .iter()
        .map(|s| (s.id.as_str().unwrap(), s.score.unwrap()))
        .collect();
    assert_eq!(letters[0], ("a1", 0.0));
    assert_eq!(letters[1], ("a2", 1.0));
    let crash = runs
        .iter()
        .find(|r| r.name.as_deref() == Some("arith_crash"))
        .unwrap();
    assert!(
        crash.extra["error"]
            .as_str()
            .unwrap()
            .contains("simulated solver crash on sample a5")
    );
}

#[test]
fn tensorboard_runs_match_expected_json() {
    let Some(c) = corpora() else { return };
    let root = c.join("tensorboard/runs");
    let expected: Vec<Value> =
        serde_json::from_slice(&std::fs::read(c.join("tensorboard/expected.json")).unwrap())
            .unwrap();
    let runs = import_all(&root);
    let names: Vec<_> = runs.iter().map(|r| r.name.clone().unwrap()).collect();
    assert_eq!(
        names,
        [
            "tbwriter-tensor",
            "tbx-add-scalars",
            "tbx-add-scalars/loss/train",
            "tbx-add-scalars/loss/val",
            "tbx-mlp",
            "tf2-keras-style/train",
            "tf2-keras-style/validation"
        ]
    );
    for exp in &expected {
        let file = Path::new(exp["file"].as_str().unwrap());
        let dir = file
            .parent()
            .unwrap()
            .strip_prefix("runs")
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let run = runs
            .iter()
            .find(|r| r.name.as_deref() == Some(dir.as_str()))
            .unwrap();
        assert!(run.warnings.is_empty(), "{:?}", run.warnings);
        for (tag, s) in exp["scalars"].as_object().unwrap() {
            let series = run.metrics.series(tag);
            assert_eq!(series.len() as u64, s["n"].as_u64().unwrap(), "{dir} {tag}");
            let first = (
                s["first"]["step"].as_i64().unwrap(),
                s["first"]["value"].as_f64().unwrap(),
            );
            let last = (
                s["last"]["step"].as_i64().unwrap(),
                s["last"]["value"].as_f64().unwrap(),
            );
            assert_eq!(series.first(), Some(&first), "{dir} {tag}");
            assert_eq!(series.last(), Some(&last), "{dir} {tag}");
            let t = run
                .metrics
                .points()
                .iter()
                .find(|p| run.metrics.names()[p.metric as usize] == *tag)
                .unwrap()
                .time;
            assert_eq!(t, s["first"]["wall_time"].as_f64().unwrap());
        }
        // Histograms and text summaries are not metrics.
        assert_eq!(
            run.metrics.names().len(),
            exp["scalars"].as_object().unwrap().len(),
            "{dir}"
        );
    }
}

fn mlflow_check(runs: &[ImportedRun], expected: &Value) {
    let mut n = 0;
    for exp in expected["experiments"].as_array().unwrap() {
        for r in exp["runs"].as_array().unwrap() {
            n += 1;
            let id = r["run_id"].as_str().unwrap();
            let run = runs
                .iter()
                .find(|x| x.source.key == format!("mlflow:{id}"))
                .unwrap();
            assert_eq!(run.study, exp["name"].as_str().unwrap());
            assert_eq!(run.name.as_deref(), r["run_name"].as_str());
            let status = if r["status"] == "FAILED" {
                Status::Failed
            } else {
                Status::Completed
            };
            assert_eq!(run.status, status);
            assert_eq!(
                run.started.unwrap().timestamp_millis(),
                r["start_time"].as_i64().unwrap()
            );
            assert_eq!(
                run.ended.unwrap().timestamp_millis(),
                r["end_time"].as_i64().unwrap()
            );
            for (k, v) in r["params"].as_object().unwrap() {
                assert_eq!(
                    run.params[k],
                    ox_core::parse_param_value(v.as_str().unwrap()),
                    "{k}"
                );
            }
            assert_eq!(run.extra["mlflow"]["tags"], r["tags"]);
            for (key, h) in r["histories"].as_object().unwrap() {
                let series = run.metrics.series(key);
                assert_eq!(series.len() as u64, h["n"].as_u64().unwrap(), "{key}");
                let (step, value) = last(run, key);
                assert_eq!(step, h["max_step"].as_i64().unwrap());
                assert!(
                    approx(value, h["value_at_max_step"].as_f64().unwrap()),
                    "{key}"
                );
                assert_eq!(series.iter().map(|p| p.0).min(), h["min_step"].as_i64());
            }
        }
    }
    assert_eq!(runs.len(), n);
}

#[test]
fn mlflow_file_store_matches_expected_json() {
    let Some(c) = corpora() else { return };
    let expected: Value =
        serde_json::from_slice(&std::fs::read(c.join("mlflow/expected-filestore.json")).unwrap())
            .unwrap();
    let found = discover(&[c.join("mlflow/filestore")]);
    assert_eq!(found.units.len(), 1);
    assert_eq!(found.units[0].kind, UnitKind::MlflowFileStore);
    let runs = import_all(&c.join("mlflow/filestore"));
    mlflow_check(&runs, &expected);
    let child = runs
        .iter()
        .find(|r| r.name.as_deref() == Some("seed-1"))
        .unwrap();
    assert!(child.extra["mlflow"]["parent_run_id"].is_string());
    assert!(child.tags.contains(&"team=nlp".to_string()));
}

#[test]
fn mlflow_sqlite_matches_expected_json() {
    let Some(c) = corpora() else { return };
    let expected: Value =
        serde_json::from_slice(&std::fs::read(c.join("mlflow/expected-sqlite.json")).unwrap())
            .unwrap();
    // The sqlite folder also holds artifact directories: only the database is a unit.
    let found = discover(&[c.join("mlflow/sqlite")]);
    assert_eq!(
        found.units.iter().map(|u| u.kind).collect::<Vec<_>>(),
        [UnitKind::MlflowSqlite]
    );
    let runs = import_all(&c.join("mlflow/sqlite"));
    mlflow_check(&runs, &expected);
}

#[test]
fn wandb_offline_run_matches_expected_json() {
    let Some(c) = corpora() else { return };
    let exp: Value =
        serde_json::from_slice(&std::fs::read(c.join("wandb/expected.json")).unwrap()).unwrap();
    let runs = import_all(&c.join("wandb"));
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run.name.as_deref(), Some("mlp-lr3e-4"));
    assert_eq!(run.study, "ox-corpus");
    assert_eq!(run.status, Status::Completed);
    assert_eq!(run.exit_code, Some(0));
    assert_eq!(run.params["lr"], 0.0003);
    assert_eq!(run.params["model"]["layers"], 2);
    assert!(!run.params.contains_key("_wandb"));
    assert_eq!(run.tags, ["baseline", "corpus"]);
    assert_eq!(run.metrics.series("train/loss").len(), 100);
    assert_eq!(
        last(run, "train/loss"),
        (99, exp["history_last"]["train/loss"].as_f64().unwrap())
    );
    assert_eq!(last(run, "train/lr"), (99, 3.000000000000002e-06));
    assert_eq!(run.metrics.series("val/acc").len(), 10);
    assert_eq!(last(run, "val/acc").1, 0.90874455506584);
    // A summary-only value was never logged at a step: it stays a summary value.
    assert!(run.metrics.series("best_val_acc").is_empty());
    assert_eq!(
        run.extra["wandb"]["summary"]["best_val_acc"],
        0.90874455506584
    );
    assert!(run.metrics.series("_runtime").is_empty());
    assert_eq!(run.metrics.series("train/loss")[0], (0, 2.2));
    assert!(
        run.console_log
            .as_ref()
            .unwrap()
            .ends_with("files/output.log")
    );
}

#[test]
fn slurm_array_outputs() {
    let Some(c) = corpora() else { return };
    let runs = import_all(&c.join("slurm"));
    let expected = [
        ("slurm-47_0", 0.3265, 0.8368, 0),
        ("slurm-47_1", 0.3043, 0.8479, 1),
        ("slurm-47_2", 0.3274, 0.8363, 2),
    ];
    assert_eq!(runs.len(), 3);
    for (name, loss, acc, seed) in expected {
        let run = runs
            .iter()
            .find(|r| r.name.as_deref() == Some(name))
            .unwrap();
        assert_eq!(run.study, "slurm");
        assert_eq!(run.status, Status::Completed);
        assert_eq!(run.metrics.series("loss").len(), 10);
        assert_eq!(last(run, "loss"), (1000, loss));
        assert_eq!(last(run, "val_acc"), (1000, acc));
        assert_eq!(run.params["seed"], seed);
        assert_eq!(run.params["batch_size"], 64);
    }
}

#[test]
fn torchtune_console_and_disk_logger() {
    let Some(c) = corpora() else { return };
    let runs = import_all(&c.join("torchtune/emulated"));
    assert_eq!(runs.len(), 2);
    let disk = runs.iter().find(|r| r.study == "torchtune").unwrap();
    assert_eq!(disk.name.as_deref(), Some("log_1795418615"));
    assert_eq!(
        disk.created.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-11-23T07:23:35+00:00"),
        "the DiskLogger's file name carries its start time"
    );
    let loss = disk.metrics.series("loss");
    assert_eq!(loss.len(), 60);
    assert_eq!(loss[0], (1, 2.7801239916148366));
    assert_eq!(loss[59], (60, 1.0805559700596359));
    assert_eq!(last(disk, "lr"), (60, 0.0));
    assert_eq!(disk.metrics.series("peak_memory_reserved").len(), 60);
    let console = runs.iter().find(|r| r.study == "slurm").unwrap();
    assert_eq!(console.name.as_deref(), Some("slurm-46"));
    let frames = console.metrics.series("loss");
    assert_eq!(frames.len(), 60);
    assert_eq!(frames[0], (1, 2.7801239916148366));
    assert_eq!(frames[59], (60, 1.0805559700596359));
    assert_eq!(console.params["model"]["lora_rank"], 8);
    assert_eq!(console.params["optimizer"]["lr"], 0.0003);
    assert_eq!(console.params["job"], 46);
    assert_eq!(console.status, Status::Completed);
}

#[test]
fn whole_corpus_walk_has_no_failures_and_no_duplicates() {
    let Some(c) = corpora() else { return };
    let found = discover(std::slice::from_ref(&c));
    assert!(found.failures.is_empty(), "{:?}", found.failures);
    let mut keys = Vec::new();
    for u in &found.units {
        for r in parse_unit(u, &LogPatterns::default()).unwrap() {
            keys.push(r.source.key);
        }
    }
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n);
    // inspect, tensorboard, mlflow (2 stores), wandb, slurm, torchtune; then `edge/`:
    // 2 inspect, 2 tensorboard, 2 wandb, 1 slurm (its damaged SQLite file is skipped).
    assert_eq!(n, 6 + 7 + 12 + 1 + 3 + 2 + 7);
}

// ---- corruption cases made from the corpus files ----

fn copy_to(tmp: &Path, src: &Path, name: &str) -> PathBuf {
    let dst = tmp.join(name);
    std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
    std::fs::copy(src, &dst).unwrap();
    dst
}

fn unit(kind: UnitKind, path: &Path) -> ImportUnit {
    ImportUnit {
        kind,
        path: path.to_path_buf(),
        root: path.parent().unwrap().to_path_buf(),
    }
}

#[test]
fn truncated_tfevents_keep_the_records_before_the_damage() {
    let Some(c) = corpora() else { return };
    let src = c.join("tensorboard/runs/tbx-mlp/events.out.tfevents.1795418288.vm");
    let bytes = std::fs::read(&src).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("events.out.tfevents.1795418288.vm");
    for cut in [bytes.len() - 1, bytes.len() / 2, 13, 5] {
        std::fs::write(&file, &bytes[..cut]).unwrap();
        let result = parse_unit(&unit(UnitKind::TensorBoard, &dir), &LogPatterns::default());
        if cut < 40 {
            // Nothing whole is left: an error, not a panic.
            assert!(result.is_err(), "cut {cut}");
            continue;
        }
        let run = &result.unwrap()[0];
        assert_eq!(run.warnings.len(), 1, "cut {cut}");
        assert!(run.warnings[0].contains("truncated"));
        let n = run.metrics.series("train/loss").len();
        assert!(n > 0 && n <= 300);
    }
    // A flipped byte in the middle: records before it are kept, the CRC error is reported.
    let mut flipped = bytes.clone();
    let mid = bytes.len() / 2;
    flipped[mid] ^= 0x55;
    std::fs::write(&file, &flipped).unwrap();
    let run = &parse_unit(&unit(UnitKind::TensorBoard, &dir), &LogPatterns::default()).unwrap()[0];
    assert!(run.warnings[0].contains("CRC"), "{:?}", run.warnings);
    assert!(run.metrics.series("train/loss").len() < 300);
}

#[test]
fn corrupt_eval_zips_are_errors() {
    let Some(c) = corpora() else { return };
    let src = c.join("inspect/logs/2026-11-23T07-11-00-00-00_arith_DsSMY83ixRju6CwmXXptZT.eval");
    let bytes = std::fs::read(&src).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = copy_to(tmp.path(), &src, "x.eval");
    for cut in [bytes.len() - 10, bytes.len() / 2, 100, 3, 0] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let r = parse_unit(&unit(UnitKind::Inspect, &path), &LogPatterns::default());
        assert!(r.is_err(), "cut {cut}");
    }
    // Flipping bytes inside compressed members gives an error (CRC or zstd), never a panic.
    for at in (200..bytes.len() - 200).step_by(997) {
        let mut b = bytes.clone();
        b[at] ^= 0xff;
        std::fs::write(&path, &b).unwrap();
        let _ = parse_unit(&unit(UnitKind::Inspect, &path), &LogPatterns::default());
    }
    let json =
        c.join("inspect/logs/2026-11-23T07-11-04-00-00_arith-epochs_3fJpQJHss7vFQFZP7mzJA6.json");
    let text = std::fs::read(&json).unwrap();
    let half = copy_to(tmp.path(), &json, "half.json");
    std::fs::write(&half, &text[..text.len() / 2]).unwrap();
    assert!(parse_unit(&unit(UnitKind::Inspect, &half), &LogPatterns::default()).is_err());
}

#[test]
fn corrupt_wandb_and_sqlite_files() {
    let Some(c) = corpora() else { return };
    let src = c.join("wandb/offline-run-20261123_072149-fvloo1gz/run-fvloo1gz.wandb");
    let bytes = std::fs::read(&src).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = copy_to(tmp.path(), &src, "run-x.wandb");
    std::fs::write(&path, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let run = &parse_unit(&unit(UnitKind::Wandb, &path), &LogPatterns::default()).unwrap()[0];
    assert_eq!(
        run.status,
        Status::Crashed,
        "no exit record: the process died"
    );
    assert!(!run.warnings.is_empty());
    assert!(!run.metrics.series("train/loss").is_empty());
    std::fs::write(&path, b"garbage").unwrap();
    assert!(parse_unit(&unit(UnitKind::Wandb, &path), &LogPatterns::default()).is_err());

    let db = c.join("mlflow/sqlite/mlflow.db");
    let bytes = std::fs::read(&db).unwrap();
    let path = copy_to(tmp.path(), &db, "mlflow.db");
    std::fs::write(&path, &bytes[..4096]).unwrap();
    assert!(
        parse_unit(
            &unit(UnitKind::MlflowSqlite, &path),
            &LogPatterns::default()
        )
        .is_err()
    );
}

#[test]
fn binary_garbage_and_user_patterns_in_text_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("slurm-9.out");
    std::fs::write(&path, [0u8, 159, 146, 150, 0, 1, 2]).unwrap();
    assert!(parse_unit(&unit(UnitKind::TextLog, &path), &LogPatterns::default()).is_err());
    std::fs::write(&path, "it 1 Loss: 0.52\nit 2 Loss: 0.40\n").unwrap();
    let patterns = LogPatterns::from_toml(
        "[[log_patterns]]\nregex = 'it (?P<step>\\d+) Loss: (?P<loss>[0-9.eE+-]+)'\n",
    )
    .unwrap();
    let run = &parse_unit(&unit(UnitKind::TextLog, &path), &patterns).unwrap()[0];
    assert_eq!(run.metrics.series("loss"), vec![(1, 0.52), (2, 0.40)]);
}

#[test]
fn eval_without_header_is_a_crashed_run_with_its_finished_samples() {
    let Some(c) = corpora() else { return };
    // What a killed eval leaves: the start journal and the finished samples, no header.
    let src = c.join("inspect/logs/2026-11-23T07-11-00-00-00_arith_DsSMY83ixRju6CwmXXptZT.eval");
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&src).unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("killed.eval");
    let mut out = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    for name in names {
        let keep = name == "_journal/start.json"
            || ["samples/a1_", "samples/a2_", "samples/a3_"]
                .iter()
                .any(|p| name.starts_with(p));
        if keep {
            out.raw_copy_file(zip.by_name(&name).unwrap()).unwrap();
        }
    }
    out.finish().unwrap();
    let run = &parse_unit(&unit(UnitKind::Inspect, &path), &LogPatterns::default()).unwrap()[0];
    assert_eq!(run.status, Status::Crashed);
    assert_eq!(run.name.as_deref(), Some("arith"));
    assert_eq!(run.samples.len(), 3);
    assert_eq!(run.samples[1].value, "C");
    assert!(run.metrics.series("match/accuracy").is_empty());
    assert!(!run.warnings.is_empty());
}
