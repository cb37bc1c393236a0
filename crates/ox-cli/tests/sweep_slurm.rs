//! `ox sweep --executor slurm` against a real single-node SLURM cluster (Debian's
//! `slurm-wlm` + `munge`, started by `scripts/slurm/start-local-slurm.sh`): a throttled
//! array, a failing member, a member killed by its time limit, a cancelled sweep and its
//! resume, a requeued member resuming its run.
//!
//! One test runs every scenario at once (the time-limit one alone takes over a minute), so
//! the cluster is started once and stopped after, when this test started it. Without a
//! cluster and without the means to start one (root and apt-get), it prints why it skipped;
//! under `CI=true` it fails instead.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod run_support;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use run_support::*;
use serde_json::Value;

fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/slurm")
}

fn cluster_up() -> bool {
    Command::new("sinfo")
        .arg("-h")
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty())
}

/// Whether a cluster is up: `Ok(true)` when this test started it (and must stop it),
/// `Err(reason)` when there is none and none can be started.
fn ensure_cluster() -> Result<bool, String> {
    if cluster_up() {
        return Ok(false);
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("no SLURM cluster (sinfo fails) and not root, so none can be started".into());
    }
    if Command::new("apt-get").arg("--version").output().is_err() {
        return Err("no SLURM cluster (sinfo fails) and no apt-get to install one".into());
    }
    let out = Command::new("bash")
        .arg(scripts().join("start-local-slurm.sh"))
        .arg("--accounting")
        .env("LOCAL_SLURM_CPUS", "8")
        .output()
        .map_err(|e| format!("cannot run start-local-slurm.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "start-local-slurm.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(true)
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\n{}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn status(p: &TestProject, sweep: &str) -> Value {
    serde_json::from_str(&ok(&p
        .ox(&["sweep", "status", sweep, "--format", "json"])
        .output()
        .unwrap()))
    .unwrap()
}

/// Polls `ox sweep status` until `done` holds (or panics after `limit`).
fn wait_status(
    p: &TestProject,
    sweep: &str,
    limit: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let s = status(p, sweep);
        if done(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "sweep {sweep} never got there: {s:#}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn count(s: &Value, status: &str) -> u64 {
    s["counts"][status].as_u64().unwrap_or(0)
}

fn sweep(p: &TestProject, args: &[&str]) -> std::process::Output {
    let mut all = vec!["sweep", "--executor", "slurm"];
    all.extend_from_slice(args);
    p.ox(&all).output().unwrap()
}

/// Six members, at most two at once: the queue holds the rest (queued), and the members'
/// own timestamps never overlap by more than two.
fn throttled_array() {
    let p = TestProject::new();
    let out = sweep(
        &p,
        &[
            "-s",
            "arr",
            "--seeds",
            "1,2,3,4,5,6",
            "--max-parallel",
            "2",
            "--",
            "sh",
            "-c",
            "date +%s%N > start-{seed}; sleep 2; date +%s%N > end-{seed}",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    ok(&out);
    assert!(err.contains("submitted SLURM array"), "{err}");
    let first = status(&p, "arr");
    assert!(
        count(&first, "queued") >= 2,
        "pending members show as queued: {first:#}"
    );
    wait_status(&p, "arr", Duration::from_secs(120), |s| {
        count(s, "completed") == 6
    });
    let num = |f: String| -> u128 { p.read(&f).trim().parse().unwrap() };
    let spans: Vec<(u128, u128)> = (1..=6)
        .map(|s| (num(format!("start-{s}")), num(format!("end-{s}"))))
        .collect();
    let most = spans
        .iter()
        .map(|(s, _)| spans.iter().filter(|(a, b)| a <= s && s < b).count())
        .max()
        .unwrap();
    assert_eq!(most, 2, "observed {most} members at once under %2");
    let script = p.read(".ox/sweeps/arr/slurm/a1/sbatch.sh");
    assert!(script.contains("#SBATCH --array=0-5%2"), "{script}");
}

/// A member whose command fails ends failed with its exit code; the other completes.
fn failing_member() {
    let p = TestProject::new();
    ok(&sweep(
        &p,
        &[
            "-s",
            "fail",
            "--seeds",
            "1,2",
            "--max-parallel",
            "2",
            "--",
            "sh",
            "-c",
            "echo seed {seed}; exit $(({seed} - 1))",
        ],
    ));
    let s = wait_status(&p, "fail", Duration::from_secs(90), |s| {
        count(s, "completed") + count(s, "failed") == 2
    });
    assert_eq!(
        (count(&s, "completed"), count(&s, "failed")),
        (1, 1),
        "{s:#}"
    );
    let text = ok(&p.ox(&["sweep", "status", "fail"]).output().unwrap());
    assert!(text.contains("failed seed=2"), "{text}");
    assert!(
        text.contains("| seed 2"),
        "the failure shows its log's tail: {text}"
    );
}

/// SLURM ends a member at its time limit: the run ends killed, with SLURM's reason.
fn time_limit() {
    let p = TestProject::new();
    ok(&sweep(
        &p,
        &["-s", "tl", "--time", "0:01:00", "--", "sleep", "600"],
    ));
    let s = wait_status(&p, "tl", Duration::from_secs(200), |s| {
        count(s, "killed") == 1
    });
    let member = &s["member_status"][0];
    assert_eq!(member["reason"], "TIMEOUT", "{s:#}");
    let id = member["run"].as_str().unwrap();
    let run: Value = serde_json::from_str(&p.read(&format!(".ox/runs/{id}/run.json"))).unwrap();
    assert_eq!(
        run["status"], "killed",
        "the supervisor recorded the end itself: {run:#}"
    );
}

/// `ox sweep cancel` scancels the array: the running member ends killed, the pending ones
/// never start; the same spec launched again runs them all.
fn cancel_and_resume() {
    let p = TestProject::new();
    let args = [
        "-s",
        "cx",
        "--seeds",
        "1,2,3",
        "--max-parallel",
        "1",
        "--",
        "sh",
        "-c",
        "test -f go || sleep 600",
    ];
    ok(&sweep(&p, &args));
    wait_status(&p, "cx", Duration::from_secs(60), |s| {
        count(s, "running") == 1
    });
    let out = p.ox(&["sweep", "cancel", "cx"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("cancelled SLURM job"));
    // sacct learns of the cancellation a moment after squeue forgets the job.
    let s = wait_status(&p, "cx", Duration::from_secs(60), |s| {
        count(s, "killed") == 3
            && s["member_status"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["reason"].as_str().unwrap_or("").starts_with("CANCELLED"))
    });
    let reasons: Vec<String> = s["member_status"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["reason"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("CANCELLED") && !r.ends_with("before it started")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.ends_with("before it started")),
        "{reasons:?}"
    );
    std::fs::write(p.root().join("go"), "").unwrap();
    let again = sweep(&p, &args);
    assert!(String::from_utf8_lossy(&again.stderr).contains("3 members, 3 to run"));
    ok(&again);
    wait_status(&p, "cx", Duration::from_secs(90), |s| {
        count(s, "completed") == 3
    });
}

/// A requeued task (what SLURM does to a preempted job with `--requeue`) runs its member
/// again as the same run, which ends completed.
fn requeue_resumes_the_same_run() {
    let p = TestProject::new();
    ok(&sweep(
        &p,
        &[
            "-s",
            "rq",
            "--requeue",
            "--",
            "sh",
            "-c",
            "test -f go || sleep 600",
        ],
    ));
    let s = wait_status(&p, "rq", Duration::from_secs(60), |s| {
        count(s, "running") == 1
    });
    let run = s["member_status"][0]["run"].as_str().unwrap().to_string();
    std::fs::write(p.root().join("go"), "").unwrap();
    let record: Value = serde_json::from_str(&p.read(".ox/sweeps/rq/sweep.json")).unwrap();
    let task = format!("{}_0", record["slurm_jobs"][0].as_str().unwrap());
    let out = Command::new("scontrol")
        .args(["requeue", &task])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A requeued job waits (BeginTime, two minutes) before it may start again. Once the
    // first attempt has ended (its run recorded killed) and SLURM has let go of it (a job
    // started again at once is refused: "Job credential revoked"), let it start now.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let run_json: Value =
            serde_json::from_str(&p.read(&format!(".ox/runs/{run}/run.json"))).unwrap();
        let state = Command::new("squeue")
            .args(["-h", "-j", &task, "-o", "%T %r"])
            .output()
            .unwrap();
        if run_json["status"] == "killed"
            && String::from_utf8_lossy(&state.stdout).contains("BeginTime")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the task never went back to the queue"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    std::thread::sleep(Duration::from_secs(5));
    let out = Command::new("scontrol")
        .args(["update", &format!("jobid={task}"), "StartTime=now"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_status(&p, "rq", Duration::from_secs(60), |s| {
        count(s, "completed") == 1
    });
    assert_eq!(p.run_ids(), [run], "the requeued task resumed its run");
}

#[test]
fn slurm_sweeps_on_a_real_cluster() {
    let started_here = match ensure_cluster() {
        Ok(s) => s,
        Err(reason) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true: the SLURM tests must run, but {reason}"
            );
            println!("skipped: {reason}");
            eprintln!("skipped slurm_sweeps_on_a_real_cluster: {reason}");
            return;
        }
    };
    let scenarios: [(&str, fn()); 5] = [
        ("throttled array", throttled_array),
        ("failing member", failing_member),
        ("time limit", time_limit),
        ("cancel and resume", cancel_and_resume),
        ("requeue", requeue_resumes_the_same_run),
    ];
    let handles: Vec<_> = scenarios
        .into_iter()
        .map(|(name, f)| (name, std::thread::spawn(f)))
        .collect();
    let failed: Vec<&str> = handles
        .into_iter()
        .filter_map(|(name, h)| h.join().is_err().then_some(name))
        .collect();
    if started_here {
        let _ = Command::new("bash")
            .arg(scripts().join("stop-local-slurm.sh"))
            .output();
    }
    assert!(failed.is_empty(), "failed scenarios: {failed:?}");
}
