//! `ox run` end to end on the real binary: the run record, environment, output, exit codes,
//! resource samples and git state. Signal handling is in `run_signals.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod run_support;

use run_support::*;
use serde_json::{Value, json};

#[test]
fn records_params_tags_command_and_exit_code() {
    let p = TestProject::new();
    let out = p
        .ox(&[
            "run",
            "-s",
            "s1",
            "-n",
            "lr-3e4",
            "-p",
            "lr=3e-4",
            "-p",
            "model.layers=12",
            "-p",
            "opt=adam",
        ])
        .args([
            "-p",
            "amp=true",
            "-t",
            "baseline",
            "-t",
            "v2",
            "--",
            "sh",
            "-c",
            "echo $PPID > ppid; exit 3",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = p.only_run();
    assert_eq!(run["status"], "failed");
    assert_eq!(run["exit_code"], 3);
    assert_eq!(run["study"], "s1");
    assert_eq!(run["name"], "lr-3e4");
    assert_eq!(
        run["params"],
        json!({"lr": 0.0003, "model": {"layers": 12}, "opt": "adam", "amp": true})
    );
    assert_eq!(run["tags"], json!(["baseline", "v2"]));
    assert_eq!(
        run["command"],
        json!(["sh", "-c", "echo $PPID > ppid; exit 3"])
    );
    assert_eq!(run["cwd"], json!(p.root().to_str().unwrap()));
    assert_eq!(run["host"], json!(hostname()));
    // The pid is the supervisor's: the command's parent.
    let ppid: u64 = p.read("ppid").trim().parse().unwrap();
    assert_eq!(run["pid"], ppid);
    assert!(run["pid_start_ticks"].as_u64().unwrap() > 0);
    assert!(run["started"].as_str().unwrap() <= run["ended"].as_str().unwrap());
    assert!(run["summary"]["peak_rss_bytes"].as_u64().unwrap() > 0);
    assert_eq!(run["summary"]["peak_gpu_mem_bytes"], Value::Null);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "ox: run {} failed (exit code 3)",
            run["id"].as_str().unwrap()
        )),
        "{stderr}"
    );
}

#[test]
fn passes_the_run_environment_and_merges_declared_params() {
    let p = TestProject::new();
    let script = r#"env | grep -E '^OX_(DIR|RUN_ID|METRICS_FILE|STUDY|RUN_NAME|PARAMS)=' | sort > env.txt
echo '{"type":"params","params":{"batch":32,"lr":1}}' >> "$OX_METRICS_FILE"
echo '{"type":"metrics","step":0,"loss":0.5}' >> "$OX_METRICS_FILE""#;
    let out = p
        .ox(&["run", "-n", "e", "-p", "lr=0.1", "--", "sh", "-c", script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = p.only_run();
    let id = run["id"].as_str().unwrap();
    let env = p.read("env.txt");
    let ox_dir = p.root().join(".ox");
    let metrics = ox_dir.join("metrics").join(format!("{id}_metrics.jsonl"));
    let expected = format!(
        "OX_DIR={}\nOX_METRICS_FILE={}\nOX_PARAMS={{\"lr\":0.1}}\nOX_RUN_ID={id}\nOX_RUN_NAME=e\nOX_STUDY=default\n",
        ox_dir.display(),
        metrics.display()
    );
    assert_eq!(env, expected);
    assert_eq!(run["status"], "completed");
    assert_eq!(run["exit_code"], 0);
    // -p wins over what the process declared.
    assert_eq!(run["params"], json!({"batch": 32, "lr": 0.1}));
}

#[test]
fn a_nested_run_does_not_inherit_the_outer_name() {
    let p = TestProject::new();
    let out = p
        .ox(&[
            "run",
            "--",
            "sh",
            "-c",
            "echo \"name=${OX_RUN_NAME-unset}\" > n.txt",
        ])
        .env("OX_RUN_NAME", "outer")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(p.read("n.txt"), "name=unset\n");
}

#[test]
fn output_is_shown_live_and_saved_interleaved() {
    let p = TestProject::new();
    let out = p
        .ox(&[
            "run",
            "--",
            "sh",
            "-c",
            "echo out1; echo err1 >&2; sleep 0.3; echo out2; printf partial",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "out1\nout2\npartial");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("err1\n"), "{stderr}");
    assert!(!stderr.contains("out1"), "{stderr}");
    let run = p.only_run();
    let log = p.read(&format!(
        ".ox/runs/{}/stdout.log",
        run["id"].as_str().unwrap()
    ));
    assert_eq!(
        log.lines()
            .filter(|l| ["out1", "err1", "out2", "partial"].contains(l))
            .count(),
        4,
        "{log}"
    );
    assert!(log.find("out1").unwrap() < log.find("out2").unwrap());
    assert!(
        log.find("err1").unwrap() < log.find("out2").unwrap(),
        "{log}"
    );
}

#[test]
fn stdin_is_passed_through_when_it_is_not_a_terminal() {
    let p = TestProject::new();
    let out = p
        .ox(&["run", "--", "cat"])
        .write_stdin("hello from stdin\n")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from stdin\n");
}

#[test]
fn unknown_command_exits_127_and_records_a_failed_run() {
    let p = TestProject::new();
    let out = p
        .ox(&["run", "--", "ox-no-such-command-xyz", "--flag"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error:") && stderr.contains("ox-no-such-command-xyz"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint:") && stderr.contains("PATH"),
        "{stderr}"
    );
    let run = p.only_run();
    assert_eq!(run["status"], "failed");
    assert_eq!(run["exit_code"], 127);
    assert!(run["ended"].is_string());
}

#[test]
fn non_executable_file_exits_126() {
    let p = TestProject::new();
    std::fs::write(p.root().join("script.sh"), "echo hi\n").unwrap();
    let out = p.ox(&["run", "--", "./script.sh"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(126),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(p.only_run()["exit_code"], 126);
}

#[test]
fn usage_errors_exit_2() {
    let p = TestProject::new();
    let bad_param = p
        .ox(&["run", "-p", "novalue", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(bad_param.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_param.stderr).contains("KEY=VALUE"));
    let no_command = p.ox(&["run", "-s", "x"]).output().unwrap();
    assert_eq!(no_command.status.code(), Some(2));
    let bad_interval = p
        .ox(&["run", "--", "true"])
        .env("OX_SAMPLE_INTERVAL", "soon")
        .output()
        .unwrap();
    assert_eq!(bad_interval.status.code(), Some(2));
    assert!(p.run_ids().is_empty(), "usage errors create no run");
    let outside = tempfile::tempdir().unwrap();
    let no_project = assert_cmd::Command::new(env!("CARGO_BIN_EXE_ox"))
        .current_dir(outside.path())
        .env_remove("OX_DIR")
        .args(["run", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(no_project.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_project.stderr).contains("ox init"));
}

#[test]
fn duplicate_name_in_a_study_warns() {
    let p = TestProject::new();
    assert!(
        p.ox(&["run", "-s", "a", "-n", "x", "--", "true"])
            .output()
            .unwrap()
            .status
            .success()
    );
    let other_study = p
        .ox(&["run", "-s", "b", "-n", "x", "--", "true"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&other_study.stderr).contains("warning"));
    let again = p
        .ox(&["run", "-s", "a", "-n", "x", "--", "true"])
        .output()
        .unwrap();
    assert!(again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("warning") && stderr.contains("already has a run named \"x\""),
        "{stderr}"
    );
}

#[test]
fn samples_cpu_and_memory_of_the_process_tree() {
    let p = TestProject::new();
    // A shell loop keeps a CPU busy in a grandchild of ox (`; true` stops sh from exec'ing
    // it) for about a second of CPU time.
    let script = "sh -c 'i=0; while [ $i -lt 500000 ]; do i=$((i+1)); done'; true";
    let out = p
        .ox(&["run", "--", "sh", "-c", script])
        .env("OX_SAMPLE_INTERVAL", "0.1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = p.only_run();
    let id = run["id"].as_str().unwrap();
    let text = p.read(&format!(".ox/metrics/{id}_system.jsonl"));
    let samples: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(samples.len() >= 3, "{text}");
    for s in &samples {
        assert_eq!(s["type"], "system");
        assert!(s["time"].as_f64().unwrap() > 1.7e9);
        assert!(s.get("gpu_mem_bytes").is_none(), "no GPU here: {s}");
    }
    // CPU seconds seen by the sampler (the machine may be busy, so no per-sample bound).
    let mut cpu_secs = 0.0;
    for w in samples.windows(2) {
        let dt = w[1]["time"].as_f64().unwrap() - w[0]["time"].as_f64().unwrap();
        cpu_secs += w[1]["cpu_percent"].as_f64().unwrap() / 100.0 * dt;
    }
    assert!(cpu_secs > 0.2, "{cpu_secs} CPU seconds in {text}");
    let max_rss = samples
        .iter()
        .map(|s| s["rss_bytes"].as_u64().unwrap())
        .max()
        .unwrap();
    assert!(max_rss > 0);
    assert!(
        samples
            .iter()
            .any(|s| s["processes"].as_u64().unwrap() >= 2),
        "{text}"
    );
    assert!(run["summary"]["peak_rss_bytes"].as_u64().unwrap() >= max_rss);
}

#[test]
fn records_git_state_and_none_outside_a_repository() {
    let p = TestProject::new();
    assert!(
        p.ox(&["run", "--", "true"])
            .output()
            .unwrap()
            .status
            .success()
    );
    assert_eq!(p.only_run()["git"], Value::Null);
    if !git_available() {
        return;
    }
    let repo = TestProject::new();
    repo.git(&["init", "-q", "-b", "trunk"]);
    std::fs::write(repo.root().join("train.py"), "print(1)\n").unwrap();
    std::fs::write(repo.root().join(".gitignore"), ".ox/\n").unwrap();
    repo.git(&["add", "train.py", ".gitignore"]);
    repo.git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-qm",
        "init",
    ]);
    let head = repo.git(&["rev-parse", "HEAD"]);
    assert!(
        repo.ox(&["run", "-n", "clean", "--", "true"])
            .output()
            .unwrap()
            .status
            .success()
    );
    std::fs::write(repo.root().join("train.py"), "print(2)\n").unwrap();
    assert!(
        repo.ox(&["run", "-n", "dirty", "--", "true"])
            .output()
            .unwrap()
            .status
            .success()
    );
    let runs = repo.runs();
    let by_name = |n: &str| runs.iter().find(|r| r["name"] == n).unwrap().clone();
    assert_eq!(
        by_name("clean")["git"],
        json!({"commit": head.trim(), "branch": "trunk", "dirty": false})
    );
    assert_eq!(by_name("dirty")["git"]["dirty"], true);
}
