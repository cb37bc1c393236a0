//! The SLURM executor: the `sbatch` script of one job array (throttled to `%max_parallel`),
//! each array task's script (its member's `ox run` steps), and what `squeue`/`sacct` say,
//! behind the small [`Scheduler`] trait so tests can use a fake cluster.

use std::path::Path;
use std::process::Command;

use crate::spec::SlurmOptions;
use ox_core::shell;

/// Errors talking to SLURM.
#[derive(Debug, thiserror::Error)]
pub enum SlurmError {
    /// A SLURM command could not be started (not installed, not on PATH).
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    /// A SLURM command failed.
    #[error("{program} failed: {message}")]
    Failed { program: String, message: String },
}

/// What SLURM says about one array task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskState {
    /// The array index.
    pub task: u32,
    /// SLURM's state word (`PENDING`, `RUNNING`, `COMPLETED`, `TIMEOUT`, ...).
    pub state: String,
    /// squeue's reason (`JobArrayTaskLimit`, `Priority`, ...) or sacct's exit code.
    pub detail: Option<String>,
}

impl TaskState {
    /// The ox status this SLURM state ends a run with, and whether SLURM (not the command)
    /// decided it. `None` while the task is pending or running.
    pub fn final_status(&self) -> Option<ox_core::Status> {
        use ox_core::Status;
        let s = self.state.split_whitespace().next().unwrap_or("");
        Some(match s {
            "COMPLETED" => Status::Completed,
            "FAILED" | "OUT_OF_MEMORY" => Status::Failed,
            "CANCELLED" | "TIMEOUT" | "PREEMPTED" | "DEADLINE" => Status::Killed,
            "NODE_FAIL" | "BOOT_FAIL" => Status::Crashed,
            _ => return None,
        })
    }

    /// Whether the task waits for a slot.
    pub fn is_pending(&self) -> bool {
        self.state.starts_with("PENDING") || self.state.starts_with("REQUEUED")
    }
}

/// The cluster, as far as a sweep needs it.
pub trait Scheduler {
    /// Submits the batch script at `script`; returns the job id.
    fn submit(&self, script: &Path) -> Result<String, SlurmError>;
    /// The queued and running tasks of array `job` (squeue).
    fn queue(&self, job: &str) -> Result<Vec<TaskState>, SlurmError>;
    /// Every task of array `job` that accounting knows; `None` when accounting is off.
    fn accounting(&self, job: &str) -> Result<Option<Vec<TaskState>>, SlurmError>;
    /// Cancels the whole array `job`.
    fn cancel(&self, job: &str) -> Result<(), SlurmError>;
}

/// The real cluster, through `sbatch`, `squeue`, `sacct` and `scancel` on PATH.
#[derive(Debug, Default, Clone, Copy)]
pub struct SlurmCli;

fn output(program: &str, args: &[&str]) -> Result<std::process::Output, SlurmError> {
    Command::new(program)
        .args(args)
        .output()
        .map_err(|source| SlurmError::Spawn {
            program: program.to_string(),
            source,
        })
}

fn failed(program: &str, out: &std::process::Output) -> SlurmError {
    SlurmError::Failed {
        program: program.to_string(),
        message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
    }
}

impl Scheduler for SlurmCli {
    fn submit(&self, script: &Path) -> Result<String, SlurmError> {
        let path = script.to_string_lossy();
        let out = output("sbatch", &["--parsable", &path])?;
        if !out.status.success() {
            return Err(failed("sbatch", &out));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        // `--parsable` prints `JOBID` or `JOBID;CLUSTER`.
        let id = text.trim().split(';').next().unwrap_or("").to_string();
        if id.is_empty() {
            return Err(SlurmError::Failed {
                program: "sbatch".into(),
                message: format!("no job id in {text:?}"),
            });
        }
        Ok(id)
    }

    fn queue(&self, job: &str) -> Result<Vec<TaskState>, SlurmError> {
        let out = output("squeue", &["-h", "-r", "-j", job, "-o", "%i|%T|%r"])?;
        if !out.status.success() {
            // A job that left the queue long ago is "Invalid job id": nothing queued.
            let err = String::from_utf8_lossy(&out.stderr);
            if err.contains("Invalid job id") {
                return Ok(Vec::new());
            }
            return Err(failed("squeue", &out));
        }
        Ok(parse_rows(&String::from_utf8_lossy(&out.stdout), job))
    }

    fn accounting(&self, job: &str) -> Result<Option<Vec<TaskState>>, SlurmError> {
        let out = output(
            "sacct",
            &["-X", "-n", "-P", "-j", job, "-o", "JobID,State,ExitCode"],
        )?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            if err.contains("accounting storage is disabled") {
                return Ok(None);
            }
            return Err(failed("sacct", &out));
        }
        Ok(Some(parse_rows(&String::from_utf8_lossy(&out.stdout), job)))
    }

    fn cancel(&self, job: &str) -> Result<(), SlurmError> {
        let out = output("scancel", &[job])?;
        if !out.status.success() {
            return Err(failed("scancel", &out));
        }
        Ok(())
    }
}

/// Parses `JOBID_TASK|STATE|DETAIL` lines (squeue `-r -o %i|%T|%r`, sacct `-P -o
/// JobID,State,ExitCode`). Rows of other jobs and not-yet-split ranges (`12_[2-5%2]`) are
/// skipped: a pending range has no per-task row yet, and its tasks count as queued.
pub fn parse_rows(text: &str, job: &str) -> Vec<TaskState> {
    let prefix = format!("{job}_");
    let mut rows = Vec::new();
    for line in text.lines() {
        let mut parts = line.trim().split('|');
        let (Some(id), Some(state)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Some(tasks) = id.strip_prefix(&prefix).and_then(task_ids) else {
            continue;
        };
        let detail = parts
            .next()
            .map(str::trim)
            .filter(|d| !d.is_empty() && *d != "None")
            .map(str::to_string);
        for task in tasks {
            rows.push(TaskState {
                task,
                state: state.trim().to_string(),
                detail: detail.clone(),
            });
        }
    }
    rows
}

/// The array indexes of `3` or of a range `[1-4,7%2]` (a pending or cancelled remainder).
fn task_ids(text: &str) -> Option<Vec<u32>> {
    let Some(inner) = text.strip_prefix('[') else {
        return text.parse().ok().map(|t| vec![t]);
    };
    let inner = inner.split([']', '%']).next()?;
    let mut ids = Vec::new();
    for part in inner.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().ok()?, b.parse().ok()?);
                // A range is at most an array's size (SLURM's MaxArraySize is far below this).
                if b < a || b - a > 1_000_000 {
                    return None;
                }
                ids.extend(a..=b);
            }
            None => ids.push(part.parse().ok()?),
        }
    }
    Some(ids)
}

/// The `sbatch` script of one array: `tasks` array tasks, at most `max_parallel` at once,
/// each running `tasks_dir/<index>.sh`, logging to `logs_dir/<job>_<index>.out`.
pub fn sbatch_script(
    sweep: &str,
    tasks: usize,
    max_parallel: usize,
    options: &SlurmOptions,
    tasks_dir: &Path,
    logs_dir: &Path,
) -> String {
    let mut s = String::from("#!/bin/bash\n");
    let mut line = |opt: String| {
        s.push_str("#SBATCH ");
        s.push_str(&opt);
        s.push('\n');
    };
    line(format!("--job-name=ox-{sweep}"));
    line(format!(
        "--array=0-{}%{}",
        tasks.saturating_sub(1),
        max_parallel.max(1)
    ));
    line(format!("--output={}/%A_%a.out", logs_dir.display()));
    if let Some(p) = &options.partition {
        line(format!("--partition={p}"));
    }
    if let Some(t) = &options.time {
        line(format!("--time={t}"));
    }
    if let Some(g) = &options.gres {
        line(format!("--gres={g}"));
    }
    if let Some(c) = options.cpus {
        line(format!("--cpus-per-task={c}"));
    }
    if let Some(m) = &options.mem {
        line(format!("--mem={m}"));
    }
    if let Some(a) = &options.account {
        line(format!("--account={a}"));
    }
    line(if options.requeue {
        "--requeue".to_string()
    } else {
        "--no-requeue".to_string()
    });
    for a in &options.sbatch_args {
        line(a.clone());
    }
    s.push_str(&format!(
        "# Each array task runs its member's steps under `ox run`, which writes only that run's files.\nexec bash {}/\"$SLURM_ARRAY_TASK_ID\".sh\n",
        shell::quote(&tasks_dir.to_string_lossy())
    ));
    s
}

/// One array task's script: `cd` to `cwd`, then each command in order, stopping at the
/// first that fails (its exit code becomes the task's).
pub fn task_script(cwd: &Path, commands: &[Vec<String>]) -> String {
    let mut s = format!(
        "#!/bin/bash\ncd {} || exit 1\n",
        shell::quote(&cwd.to_string_lossy())
    );
    for c in commands {
        s.push_str(&shell::join(c));
        s.push_str(" || exit $?\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_squeue_and_sacct_rows_of_one_array() {
        let squeue = "12_[2-5%2]|PENDING|JobArrayTaskLimit\n12_0|RUNNING|None\n12_1|RUNNING|None\n13_0|RUNNING|None\n";
        let rows = parse_rows(squeue, "12");
        let tasks: Vec<u32> = rows.iter().map(|r| r.task).collect();
        assert_eq!(tasks, [2, 3, 4, 5, 0, 1]);
        assert!(rows[0].is_pending());
        assert_eq!(rows[0].detail.as_deref(), Some("JobArrayTaskLimit"));
        assert_eq!(rows[4].detail, None);
        let cancelled = parse_rows("12_[1,3-4%1]|CANCELLED by 0|0:0\n12_[x]|PENDING|\n", "12");
        assert_eq!(
            cancelled.iter().map(|r| r.task).collect::<Vec<_>>(),
            [1, 3, 4]
        );
        let sacct = "12_0|COMPLETED|0:0\n12_1|FAILED|3:0\n12_2|TIMEOUT|0:15\n12_3|CANCELLED by 0|0:15\n12_4|NODE_FAIL|0:0\n";
        let rows = parse_rows(sacct, "12");
        let statuses: Vec<_> = rows
            .iter()
            .map(|r| r.final_status().unwrap().to_string())
            .collect();
        assert_eq!(
            statuses,
            ["completed", "failed", "killed", "killed", "crashed"]
        );
        assert_eq!(rows[1].detail.as_deref(), Some("3:0"));
    }

    #[test]
    fn the_batch_script_throttles_the_array_and_passes_options() {
        let options = SlurmOptions {
            partition: Some("gpu".into()),
            time: Some("1:00:00".into()),
            gres: Some("gpu:1".into()),
            cpus: Some(4),
            mem: Some("16G".into()),
            account: Some("lab".into()),
            sbatch_args: vec!["--qos=low".into()],
            requeue: true,
        };
        let s = sbatch_script("lr", 6, 2, &options, Path::new("/p/t"), Path::new("/p/l"));
        for want in [
            "#SBATCH --array=0-5%2\n",
            "#SBATCH --partition=gpu\n",
            "#SBATCH --time=1:00:00\n",
            "#SBATCH --gres=gpu:1\n",
            "#SBATCH --cpus-per-task=4\n",
            "#SBATCH --mem=16G\n",
            "#SBATCH --account=lab\n",
            "#SBATCH --requeue\n",
            "#SBATCH --qos=low\n",
            "#SBATCH --output=/p/l/%A_%a.out\n",
            "exec bash /p/t/\"$SLURM_ARRAY_TASK_ID\".sh\n",
        ] {
            assert!(s.contains(want), "missing {want:?} in\n{s}");
        }
    }

    #[test]
    fn task_scripts_stop_at_the_first_failing_step() {
        let s = task_script(
            Path::new("/home/me/my proj"),
            &[vec![
                "ox".into(),
                "run".into(),
                "--".into(),
                "echo".into(),
                "a b".into(),
            ]],
        );
        assert_eq!(
            s,
            "#!/bin/bash\ncd '/home/me/my proj' || exit 1\nox run -- echo 'a b' || exit $?\n"
        );
    }
}
