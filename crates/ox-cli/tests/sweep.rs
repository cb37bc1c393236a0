//! `ox sweep` end to end with the local executor: expansion, placeholders, pipelines,
//! resume, the parallelism limit, Ctrl-C, GPU assignment, inspect logs collated into member
//! runs. The SLURM executor against a real cluster is in `sweep_slurm.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod run_support;

use std::time::{Duration, Instant};

use run_support::*;
use serde_json::Value;

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn runs(p: &TestProject) -> Vec<Value> {
    p.run_ids()
        .iter()
        .map(|id| serde_json::from_str(&p.read(&format!(".ox/runs/{id}/run.json"))).unwrap())
        .collect()
}

#[test]
fn grid_and_seeds_fill_placeholders_and_the_environment_then_collate_with_ls() {
    let p = TestProject::new();
    let out = p
        .ox(&[
            "sweep", "-s", "lr-study", "--grid", "lr=1e-4,5e-5", "--grid", "model.layers=6,12",
            "--seeds", "1,2", "--max-parallel", "4", "--",
            "sh", "-c",
            "echo \"lr={lr} layers={model.layers} seed={seed} $OX_PARAMS\"; echo '{\"type\":\"metrics\",\"acc\":0.5}' >> $OX_METRICS_FILE",
        ])
        .output()
        .unwrap();
    ok(&out);
    let all = runs(&p);
    assert_eq!(all.len(), 8);
    for run in &all {
        assert_eq!(run["status"], "completed");
        assert_eq!(run["sweep"], "lr-study");
        assert_eq!(run["study"], "lr-study");
        let log = p.read(&format!(
            ".ox/runs/{}/stdout.log",
            run["id"].as_str().unwrap()
        ));
        let params = &run["params"];
        let want = format!(
            "lr={} layers={} seed={} ",
            params["lr"], params["model"]["layers"], params["seed"]
        );
        assert!(log.starts_with(&want), "{log:?} vs {want:?}");
        let env_params: Value = serde_json::from_str(log.trim_start_matches(&want).trim()).unwrap();
        assert_eq!(&env_params, params);
    }
    let csv = ok(&p
        .ox(&[
            "ls",
            "--where",
            "sweep = 'lr-study'",
            "--columns",
            "lr,model.layers,seed,metrics.acc",
            "--format",
            "csv",
        ])
        .output()
        .unwrap());
    assert_eq!(csv.lines().count(), 9, "{csv}");
    assert_eq!(csv.lines().next().unwrap(), "lr,model.layers,seed,acc");
}

#[test]
fn spec_errors_exit_2_before_anything_starts() {
    let p = TestProject::new();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--grid", "lr=1", "--", "echo", "{lrr}"],
            "unknown placeholder {lrr}",
        ),
        (
            &["--grid", "lr=", "--", "echo", "{lr}"],
            "grid \"lr\" has no values",
        ),
        (
            &[
                "--random",
                "lr=loguniform:0,1",
                "--samples",
                "2",
                "--",
                "echo",
            ],
            "positive lower bound",
        ),
        (&["--grid", "lr=1"], "no command"),
    ];
    for (args, want) in cases {
        let mut all = vec!["sweep", "-s", "bad"];
        all.extend_from_slice(args);
        let out = p.ox(&all).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    assert!(p.run_ids().is_empty());
}

#[test]
fn random_search_draws_the_same_members_for_a_sampling_seed() {
    let p = TestProject::new();
    std::fs::write(
        p.root().join("rs.toml"),
        "command = [\"true\"]\n[random]\nsamples = 5\nsampling_seed = 3\nlr = { loguniform = [1e-5, 1e-2] }\nopt = { choice = [\"adam\", \"sgd\"] }\n",
    )
    .unwrap();
    let dry = |p: &TestProject| ok(&p.ox(&["sweep", "rs.toml", "--dry-run"]).output().unwrap());
    let first = dry(&p);
    assert_eq!(
        first.lines().filter(|l| l.starts_with("lr=")).count(),
        5,
        "{first}"
    );
    assert_eq!(first, dry(&p));
    assert!(p.run_ids().is_empty(), "a dry run starts nothing");
}

#[test]
fn pipelines_link_steps_and_a_failing_step_stops_its_member() {
    let p = TestProject::new();
    std::fs::write(
        p.root().join("pipe.toml"),
        r#"
study = "pipe"
[grid]
lr = [1, 2]
[[steps]]
name = "train"
command = "echo model-{lr} > $OX_DIR/runs/$OX_RUN_ID/model.txt; test {lr} = 1"
[[steps]]
name = "eval"
command = "cat {steps.train.dir}/model.txt; echo {steps.train.id}"
"#,
    )
    .unwrap();
    let out = p.ox(&["sweep", "pipe.toml"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = runs(&p);
    assert_eq!(all.len(), 3, "lr=2's train fails, so its eval never runs");
    let train = all
        .iter()
        .find(|r| r["step"] == "train" && r["params"]["lr"] == 1)
        .unwrap();
    let eval = all.iter().find(|r| r["step"] == "eval").unwrap();
    assert_eq!(eval["parent"], train["id"]);
    assert_eq!(eval["name"], "lr=1/eval");
    let log = p.read(&format!(
        ".ox/runs/{}/stdout.log",
        eval["id"].as_str().unwrap()
    ));
    assert_eq!(log, format!("model-1\n{}\n", train["id"].as_str().unwrap()));
    let status = ok(&p.ox(&["sweep", "status", "pipe"]).output().unwrap());
    assert!(status.contains("completed 1 · failed 1"), "{status}");
    assert!(status.contains("failed lr=2  step train"), "{status}");
}

#[test]
fn a_rerun_resumes_skipping_completed_members_and_keeps_identity_under_new_grid_values() {
    let p = TestProject::new();
    let cmd = ["--", "sh", "-c", "test ! -f fail-{lr} && echo {lr}"];
    std::fs::write(p.root().join("fail-2"), "").unwrap();
    let sweep = |extra: &[&str], grid: &str| {
        let mut args = vec!["sweep", "-s", "r", "--grid", grid];
        args.extend_from_slice(extra);
        args.extend_from_slice(&cmd);
        p.ox(&args).output().unwrap()
    };
    let first = sweep(&[], "lr=1,2");
    assert_eq!(first.status.code(), Some(1));
    assert_eq!(p.run_ids().len(), 2);
    // A new grid value: only it runs; the failed member is kept without --retry-failed.
    let second = sweep(&[], "lr=3,1,2");
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("3 members, 1 to run, 1 already completed, 1 failed before"),
        "{err}"
    );
    assert_eq!(p.run_ids().len(), 3);
    std::fs::remove_file(p.root().join("fail-2")).unwrap();
    let third = sweep(&["--retry-failed"], "lr=1,2,3");
    assert!(String::from_utf8_lossy(&third.stderr).contains("1 to run, 2 already completed"));
    assert!(third.status.success());
    let json: Value = serde_json::from_str(&ok(&p
        .ox(&["sweep", "status", "r", "--format", "json"])
        .output()
        .unwrap()))
    .unwrap();
    assert_eq!(json["counts"], serde_json::json!({"completed": 3}));
    let ls: Value = serde_json::from_str(&ok(&p
        .ox(&["sweep", "ls", "--format", "json"])
        .output()
        .unwrap()))
    .unwrap();
    assert_eq!(ls[0]["id"], "r");
    assert_eq!(ls[0]["members"], 3);
}

#[test]
fn max_parallel_holds_and_gpus_are_handed_out_without_sharing() {
    let p = TestProject::new();
    let out = p
        .ox(&[
            "sweep", "-s", "g", "--seeds", "1,2,3,4,5,6", "--max-parallel", "3",
            "--gpus", "0,1,2,3", "--gpus-per-member", "2", "--",
            "sh", "-c",
            "date +%s%N > start-{seed}; echo $CUDA_VISIBLE_DEVICES > gpus-{seed}; sleep 0.3; date +%s%N > end-{seed}",
        ])
        .output()
        .unwrap();
    ok(&out);
    let num = |f: String| -> u128 { p.read(&f).trim().parse().unwrap() };
    let spans: Vec<(u128, u128, String)> = (1..=6)
        .map(|s| {
            (
                num(format!("start-{s}")),
                num(format!("end-{s}")),
                p.read(&format!("gpus-{s}")).trim().to_string(),
            )
        })
        .collect();
    for (start, _, gpus) in &spans {
        assert!(["0,1", "2,3"].contains(&gpus.as_str()), "{gpus}");
        let at_once: Vec<&String> = spans
            .iter()
            .filter(|(a, b, _)| a <= start && start < b)
            .map(|(_, _, g)| g)
            .collect();
        // Four GPUs in pairs allow two members at once, below --max-parallel 3.
        assert!(at_once.len() <= 2, "{} members at once", at_once.len());
        let distinct: std::collections::BTreeSet<_> = at_once.iter().collect();
        assert_eq!(
            distinct.len(),
            at_once.len(),
            "members running together shared GPUs"
        );
    }
}

/// The processes running exactly `marker` (`sleep N`: the members' commands, not the
/// `ox` processes whose arguments merely contain it).
fn pids_with(marker: &str) -> Vec<String> {
    let exact = format!("{}\0", marker.replace(' ', "\0"));
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline"))
            && String::from_utf8_lossy(&cmd) == exact
        {
            found.push(name);
        }
    }
    found
}

#[test]
fn ctrl_c_kills_every_member_and_the_next_launch_resumes() {
    let p = TestProject::new();
    let marker = format!("sleep 3{}", std::process::id() % 1000 + 1000);
    let script = format!("test -f go || {marker}");
    let args = [
        "sweep",
        "-s",
        "c",
        "--seeds",
        "1,2,3,4",
        "--max-parallel",
        "2",
        "--",
        "sh",
        "-c",
        &script,
    ];
    let mut child = p.spawn_ox(&args, &[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while pids_with(&marker).len() < 2 {
        assert!(Instant::now() < deadline, "members never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        pids_with(&marker).is_empty(),
        "a member's process outlived the sweep"
    );
    let all = runs(&p);
    assert_eq!(all.len(), 2, "no member starts after Ctrl-C");
    assert!(all.iter().all(|r| r["status"] == "killed"), "{all:?}");
    std::fs::write(p.root().join("go"), "").unwrap();
    let out = p.ox(&args).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("4 members, 4 to run"));
    ok(&out);
    assert_eq!(
        runs(&p)
            .iter()
            .filter(|r| r["status"] == "completed")
            .count(),
        4
    );
}

#[test]
fn inspect_logs_written_by_members_become_their_metrics_and_samples() {
    let p = TestProject::new();
    let eval = ox_test_support::corpora()
        .join("inspect/logs/2026-11-23T07-11-00-00-00_arith_DsSMY83ixRju6CwmXXptZT.eval");
    let script = format!(
        "mkdir -p $INSPECT_LOG_DIR && cp '{}' $INSPECT_LOG_DIR/",
        eval.display()
    );
    let out = p
        .ox(&[
            "sweep", "-s", "ev", "--grid", "lr=1,2", "--seeds", "1,2", "--", "sh", "-c", &script,
        ])
        .output()
        .unwrap();
    ok(&out);
    for run in runs(&p) {
        let id = run["id"].as_str().unwrap();
        assert!(
            p.read(&format!(".ox/runs/{id}/samples.jsonl"))
                .lines()
                .count()
                >= 8
        );
    }
    let stats: Value = serde_json::from_str(&ok(&p
        .ox(&[
            "stats",
            "--where",
            "sweep = 'ev'",
            "--metric",
            "match/accuracy",
            "--group-by",
            "lr",
            "--format",
            "json",
        ])
        .output()
        .unwrap()))
    .unwrap();
    let groups = stats["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    for g in groups {
        assert_eq!(g["n"], 2);
        assert_eq!(g["mean"], 0.5);
    }
}

#[test]
fn dry_run_for_slurm_prints_the_sbatch_script() {
    let p = TestProject::new();
    let out = ok(&p
        .ox(&[
            "sweep",
            "-s",
            "d",
            "--grid",
            "lr=1,2,3",
            "--executor",
            "slurm",
            "--max-parallel",
            "2",
            "--partition",
            "debug",
            "--time",
            "0:10:00",
            "--sbatch-arg=--qos=low",
            "--dry-run",
            "--",
            "echo",
            "{lr}",
        ])
        .output()
        .unwrap());
    assert!(out.contains("lr=1  ["), "{out}");
    assert!(out.contains("#SBATCH --array=0-2%2"), "{out}");
    assert!(out.contains("#SBATCH --partition=debug"), "{out}");
    assert!(out.contains("#SBATCH --qos=low"), "{out}");
    assert!(p.run_ids().is_empty());
}

#[test]
fn sweep_cancel_stops_a_local_sweep_from_another_shell() {
    let p = TestProject::new();
    let marker = format!("sleep 4{}", std::process::id() % 1000 + 1000);
    let args = [
        "sweep",
        "-s",
        "lc",
        "--seeds",
        "1,2,3",
        "--max-parallel",
        "2",
        "--",
        "sh",
        "-c",
        &marker,
    ];
    let mut child = p.spawn_ox(&args, &[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while pids_with(&marker).len() < 2 {
        assert!(Instant::now() < deadline, "members never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = p.ox(&["sweep", "cancel", "lc"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("stopping its local members"));
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert!(pids_with(&marker).is_empty());
    let status: Value = serde_json::from_str(&ok(&p
        .ox(&["sweep", "status", "lc", "--format", "json"])
        .output()
        .unwrap()))
    .unwrap();
    assert_eq!(status["counts"]["killed"], 3, "{status:#}");
}
