//! Deciding what a (re)run of a spec starts: members whose steps all completed are skipped,
//! the others resume at their first step that did not complete, each new step getting its
//! run id now (so later steps can name earlier steps' directories, and a SLURM task that is
//! requeued resumes the same run).

use std::path::{Path, PathBuf};

use ox_core::{RunId, Status};

use crate::expand::{Member, render_command};
use crate::record::{StepRun, SweepRecord};
use crate::spec::SweepSpec;

/// One step to run for a member.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedStep {
    pub step: Option<String>,
    pub id: RunId,
    /// The run of the previous step (run.json `parent`).
    pub parent: Option<RunId>,
    /// The user's command with the placeholders filled.
    pub command: Vec<String>,
}

/// A member that has steps to run, from its first step that did not complete.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedMember {
    /// Index into [`Plan::members`].
    pub member: usize,
    pub name: String,
    pub steps: Vec<PlannedStep>,
}

/// What a launch of the spec does.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub members: Vec<Member>,
    pub todo: Vec<PlannedMember>,
    /// Members whose every step completed before.
    pub done: usize,
    /// Members that failed before and are left alone (no `--retry-failed`).
    pub failed_kept: usize,
}

/// Where the run files are, and the state of a run so far.
pub trait RunFiles {
    /// `.ox/runs/<id>` (absolute).
    fn run_dir(&self, id: &RunId) -> PathBuf;
    /// The run's status as its run.json says, `None` when it has none (never started).
    fn status(&self, id: &RunId) -> Option<Status>;
}

/// Plans the launch of a checked `spec` into `record` (new members and run ids are added to
/// it). `new_id` makes run ids.
pub fn plan(
    spec: &SweepSpec,
    members: Vec<Member>,
    record: &mut SweepRecord,
    files: &dyn RunFiles,
    retry_failed: bool,
    new_id: &mut dyn FnMut() -> RunId,
) -> Plan {
    let mut todo = Vec::new();
    let (mut done, mut failed_kept) = (0, 0);
    let (sweep_id, study) = (record.id.clone(), record.study.clone());
    for (index, member) in members.iter().enumerate() {
        let name = member.name();
        let rec = record.member_mut(&member.key, &name, &member.params);
        let states: Vec<Option<Status>> = spec
            .steps
            .iter()
            .map(|s| {
                rec.latest(s.name.as_deref())
                    .and_then(|id| files.status(id))
            })
            .collect();
        let first_open = states.iter().position(|s| *s != Some(Status::Completed));
        let Some(first_open) = first_open else {
            done += 1;
            continue;
        };
        if states[first_open] == Some(Status::Failed) && !retry_failed {
            failed_kept += 1;
            continue;
        }
        let mut values = member.placeholder_values(&sweep_id, &study);
        let mut parent: Option<RunId> = None;
        let mut steps = Vec::new();
        for (i, step) in spec.steps.iter().enumerate() {
            let id = if i < first_open {
                rec.latest(step.name.as_deref()).cloned()
            } else {
                None
            };
            let (id, fresh) = match id {
                Some(id) => (id, false),
                None => (new_id(), true),
            };
            let command = render_command(step, &values);
            if let Some(n) = &step.name {
                values.insert(
                    format!("steps.{n}.dir"),
                    files.run_dir(&id).to_string_lossy().into_owned(),
                );
                values.insert(format!("steps.{n}.id"), id.as_str().to_string());
            }
            if fresh {
                rec.runs.push(StepRun {
                    step: step.name.clone(),
                    id: id.clone(),
                });
                steps.push(PlannedStep {
                    step: step.name.clone(),
                    id: id.clone(),
                    parent: parent.clone(),
                    command,
                });
            }
            parent = Some(id);
        }
        todo.push(PlannedMember {
            member: index,
            name,
            steps,
        });
    }
    Plan {
        members,
        todo,
        done,
        failed_kept,
    }
}

/// The `ox run` command line of one planned step (hidden flags carry the sweep's labels).
pub fn ox_run_argv(
    ox: &Path,
    study: &str,
    sweep: &str,
    member: &Member,
    name: &str,
    step: &PlannedStep,
) -> Vec<String> {
    let mut argv = vec![
        ox.to_string_lossy().into_owned(),
        "run".into(),
        "-s".into(),
        study.into(),
        "-n".into(),
        match &step.step {
            Some(s) => format!("{name}/{s}"),
            None => name.to_string(),
        },
        "--id".into(),
        step.id.as_str().into(),
        "--sweep".into(),
        sweep.into(),
        "--member".into(),
        member.key.0.clone(),
        "--params-json".into(),
        serde_json::Value::Object(member.params.clone()).to_string(),
    ];
    if let Some(s) = &step.step {
        argv.push("--step".into());
        argv.push(s.clone());
    }
    if let Some(p) = &step.parent {
        argv.push("--parent".into());
        argv.push(p.as_str().into());
    }
    argv.push("--".into());
    argv.extend(step.command.iter().cloned());
    argv
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    use super::*;
    use crate::expand;

    #[derive(Default)]
    struct Files(RefCell<BTreeMap<RunId, Status>>);

    impl RunFiles for Files {
        fn run_dir(&self, id: &RunId) -> PathBuf {
            PathBuf::from("/p/.ox/runs").join(id.as_str())
        }
        fn status(&self, id: &RunId) -> Option<Status> {
            self.0.borrow().get(id).copied()
        }
    }

    fn record() -> SweepRecord {
        SweepRecord {
            id: "sw".into(),
            study: "st".into(),
            executor: "local".into(),
            steps: vec![],
            created: String::new(),
            members: vec![],
            slurm_jobs: vec![],
            pid: None,
            host: None,
        }
    }

    fn pipeline() -> SweepSpec {
        let text = "[grid]\nlr = [1, 2]\n[[steps]]\nname = \"train\"\ncommand = [\"train\", \"{lr}\"]\n[[steps]]\nname = \"eval\"\ncommand = [\"eval\", \"{steps.train.dir}\"]";
        let spec = SweepSpec::from_toml(text, "p.toml").unwrap();
        spec.check().unwrap();
        spec
    }

    #[test]
    fn resumes_at_the_first_step_that_did_not_complete() {
        let spec = pipeline();
        let files = Files::default();
        let mut rec = record();
        let mut ids = (0..).map(|_| RunId::generate());
        let first = plan(&spec, expand(&spec), &mut rec, &files, false, &mut || {
            ids.next().unwrap()
        });
        assert_eq!(first.todo.len(), 2);
        let m0 = &first.todo[0];
        assert_eq!(m0.steps[1].parent.as_ref(), Some(&m0.steps[0].id));
        assert_eq!(
            m0.steps[1].command[1],
            format!("/p/.ox/runs/{}", m0.steps[0].id)
        );
        // Member 0: train completed, eval failed; member 1 all completed.
        files
            .0
            .borrow_mut()
            .insert(m0.steps[0].id.clone(), Status::Completed);
        files
            .0
            .borrow_mut()
            .insert(m0.steps[1].id.clone(), Status::Killed);
        for s in &first.todo[1].steps {
            files.0.borrow_mut().insert(s.id.clone(), Status::Completed);
        }
        let again = plan(&spec, expand(&spec), &mut rec, &files, false, &mut || {
            ids.next().unwrap()
        });
        assert_eq!((again.done, again.todo.len()), (1, 1));
        let resumed = &again.todo[0];
        assert_eq!(resumed.steps.len(), 1, "only eval runs again");
        assert_eq!(resumed.steps[0].parent.as_ref(), Some(&m0.steps[0].id));
        assert_eq!(
            resumed.steps[0].command[1],
            format!("/p/.ox/runs/{}", m0.steps[0].id)
        );
        // A failed step is kept unless retried.
        files
            .0
            .borrow_mut()
            .insert(resumed.steps[0].id.clone(), Status::Failed);
        let kept = plan(&spec, expand(&spec), &mut rec, &files, false, &mut || {
            ids.next().unwrap()
        });
        assert_eq!((kept.todo.len(), kept.failed_kept), (0, 1));
        let retried = plan(&spec, expand(&spec), &mut rec, &files, true, &mut || {
            ids.next().unwrap()
        });
        assert_eq!(retried.todo.len(), 1);
        assert_eq!(rec.members.len(), 2);
    }

    #[test]
    fn ox_run_carries_the_member_labels() {
        let spec = pipeline();
        let members = expand(&spec);
        let step = PlannedStep {
            step: Some("eval".into()),
            id: RunId::parse("01jd3k9x2m4n5p6q7r8s9t0v1w").unwrap(),
            parent: RunId::parse("01jd3k9x2m4n5p6q7r8s9t0v1x"),
            command: vec!["eval".into()],
        };
        let argv = ox_run_argv(Path::new("/bin/ox"), "st", "sw", &members[0], "lr=1", &step);
        let text = argv.join(" ");
        assert!(
            text.starts_with(
                "/bin/ox run -s st -n lr=1/eval --id 01jd3k9x2m4n5p6q7r8s9t0v1w --sweep sw"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("--step eval --parent 01jd3k9x2m4n5p6q7r8s9t0v1x -- eval"),
            "{text}"
        );
        assert!(text.contains("--params-json {\"lr\":1}"), "{text}");
    }
}
