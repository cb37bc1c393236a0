//! A sweep's state: each member's status from its runs' files, merged with what SLURM says
//! about its array task (a pending task is `queued`; a task SLURM ended ends its run with
//! SLURM's reason, even when the run's own process could not write it).

use std::collections::BTreeMap;

use ox_core::{RunId, Status};
use serde::Serialize;

use crate::record::{MemberRecord, SweepRecord};
use crate::slurm::TaskState;

/// One member as `ox sweep status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberStatus {
    pub key: String,
    pub name: String,
    pub status: Status,
    /// The step the status is about (the first one that did not complete).
    pub step: Option<String>,
    /// That step's run, when one was made.
    pub run: Option<RunId>,
    /// Why SLURM ended it, or why it never started.
    pub reason: Option<String>,
}

/// What SLURM says about one sweep's arrays: `(job, task)` → state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlurmView {
    pub tasks: BTreeMap<(String, u32), TaskState>,
    /// Jobs that still have tasks in the queue (pending ranges included).
    pub queued_jobs: Vec<String>,
}

/// Each member's status. `run_status` gives a run's effective status (`None`: no run.json
/// yet); `launcher_alive` says whether the local `ox sweep` that planned it still runs.
pub fn member_statuses(
    record: &SweepRecord,
    run_status: &dyn Fn(&RunId) -> Option<Status>,
    slurm: Option<&SlurmView>,
    launcher_alive: bool,
) -> Vec<MemberStatus> {
    record
        .members
        .iter()
        .filter(|m| !m.runs.is_empty())
        .map(|m| member_status(record, m, run_status, slurm, launcher_alive))
        .collect()
}

fn member_status(
    record: &SweepRecord,
    m: &MemberRecord,
    run_status: &dyn Fn(&RunId) -> Option<Status>,
    slurm: Option<&SlurmView>,
    launcher_alive: bool,
) -> MemberStatus {
    let task = m.slurm.as_ref().and_then(|t| {
        slurm.map(|v| {
            (
                v.tasks.get(&(t.job.clone(), t.task)),
                v.queued_jobs.contains(&t.job),
            )
        })
    });
    let mut out = MemberStatus {
        key: m.key.0.clone(),
        name: m.name.clone(),
        status: Status::Completed,
        step: None,
        run: None,
        reason: None,
    };
    for step in &record.steps {
        let Some(id) = m.latest(step.as_deref()) else {
            continue;
        };
        let file_status = run_status(id);
        if file_status == Some(Status::Completed) {
            continue;
        }
        out.step = step.clone();
        out.run = Some(id.clone());
        let slurm_final = task
            .and_then(|(state, _)| state)
            .and_then(|s| s.final_status().map(|f| (f, s.state.clone())));
        // Still in SLURM's hands: pending, or starting (its run file not written yet).
        let pending = task.is_some_and(|(state, queued)| match state {
            Some(s) => s.final_status().is_none(),
            None => queued,
        });
        (out.status, out.reason) = match (file_status, slurm_final) {
            (None, _) if pending => (Status::Queued, None),
            (None, Some((_, why))) => (Status::Killed, Some(format!("{why} before it started"))),
            (None, None) if launcher_alive => (Status::Queued, None),
            (None, None) => (Status::Killed, Some("never started".into())),
            // Requeued (preempted, or `scontrol requeue`): it will run again as the same run.
            (Some(s), _) if pending && s != Status::Running => {
                (Status::Queued, Some(format!("requeued after {s}")))
            }
            // SLURM ended a run that could not record it (SIGKILL, node failure), or whose
            // command died of SLURM's signal before the supervisor saw it (recorded failed):
            // SLURM's verdict (killed, crashed) stands.
            (Some(Status::Running | Status::Crashed), Some((s, why))) if s != Status::Completed => {
                (s, Some(why))
            }
            (Some(Status::Failed), Some((s @ (Status::Killed | Status::Crashed), why))) => {
                (s, Some(why))
            }
            (Some(s), Some((_, why)))
                if s != Status::Running && why != "COMPLETED" && why != "FAILED" =>
            {
                (s, Some(why))
            }
            (Some(s), _) => (s, None),
        };
        return out;
    }
    out
}

/// Counts per status, in the order of [`Status`]'s display.
pub fn counts(members: &[MemberStatus]) -> BTreeMap<String, usize> {
    let mut c = BTreeMap::new();
    for m in members {
        *c.entry(m.status.to_string()).or_insert(0) += 1;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemberKey;
    use crate::record::{SlurmTask, StepRun};

    fn record(n: usize) -> (SweepRecord, Vec<RunId>) {
        let ids: Vec<RunId> = (0..n).map(|_| RunId::generate()).collect();
        let members = ids
            .iter()
            .enumerate()
            .map(|(i, id)| MemberRecord {
                key: MemberKey(format!("k{i}")),
                name: format!("m{i}"),
                params: Default::default(),
                runs: vec![StepRun {
                    step: None,
                    id: id.clone(),
                }],
                slurm: Some(SlurmTask {
                    job: "7".into(),
                    task: i as u32,
                }),
            })
            .collect();
        let rec = SweepRecord {
            id: "s".into(),
            study: "s".into(),
            executor: "slurm".into(),
            steps: vec![None],
            created: String::new(),
            members,
            slurm_jobs: vec!["7".into()],
            pid: None,
            host: None,
        };
        (rec, ids)
    }

    fn task(i: u32, state: &str) -> ((String, u32), TaskState) {
        (
            ("7".into(), i),
            TaskState {
                task: i,
                state: state.into(),
                detail: None,
            },
        )
    }

    #[test]
    fn merges_slurm_with_the_run_files() {
        let (rec, ids) = record(5);
        let files: BTreeMap<RunId, Status> = [
            (ids[0].clone(), Status::Completed),
            (ids[1].clone(), Status::Running),
            (ids[2].clone(), Status::Failed),
        ]
        .into();
        let view = SlurmView {
            tasks: [
                task(1, "TIMEOUT"),
                task(2, "CANCELLED by 0"),
                task(4, "CANCELLED by 0"),
            ]
            .into(),
            queued_jobs: vec!["7".into()],
        };
        let got = member_statuses(&rec, &|id| files.get(id).copied(), Some(&view), false);
        let summary: Vec<(String, Option<String>)> = got
            .iter()
            .map(|m| (m.status.to_string(), m.reason.clone()))
            .collect();
        assert_eq!(
            summary,
            [
                ("completed".into(), None),
                ("killed".into(), Some("TIMEOUT".into())),
                ("killed".into(), Some("CANCELLED by 0".into())),
                ("queued".into(), None),
                (
                    "killed".into(),
                    Some("CANCELLED by 0 before it started".into())
                ),
            ]
        );
        assert_eq!(counts(&got)["killed"], 3);
        // A killed run whose task SLURM requeued is queued again.
        let requeued = SlurmView {
            tasks: [task(2, "PENDING")].into(),
            queued_jobs: vec!["7".into()],
        };
        let got = member_statuses(&rec, &|id| files.get(id).copied(), Some(&requeued), false);
        assert_eq!(got[2].status, Status::Queued);
        assert_eq!(got[2].reason.as_deref(), Some("requeued after failed"));
    }
}
