//! A sweep's own record, `.ox/sweeps/<id>/sweep.json`: which runs were made for which member.
//!
//! Written only by the process that plans the sweep (`ox sweep` on the workstation or the
//! login node), replaced atomically; compute processes never touch it. The runs themselves
//! stay the truth about status: this file only says which run ids belong to a member.

use std::path::PathBuf;

use ox_core::{CoreError, Project, RunId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::MemberKey;

/// A run made for one step of a member (`step` is `None` for a one-command sweep).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRun {
    pub step: Option<String>,
    pub id: RunId,
}

/// Where a member was last submitted on SLURM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlurmTask {
    /// The array's job id.
    pub job: String,
    /// The array index.
    pub task: u32,
}

/// One member and every run made for it, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberRecord {
    pub key: MemberKey,
    pub name: String,
    pub params: Map<String, Value>,
    #[serde(default)]
    pub runs: Vec<StepRun>,
    #[serde(default)]
    pub slurm: Option<SlurmTask>,
}

impl MemberRecord {
    /// The latest run of `step`.
    pub fn latest(&self, step: Option<&str>) -> Option<&RunId> {
        self.runs
            .iter()
            .rev()
            .find(|r| r.step.as_deref() == step)
            .map(|r| &r.id)
    }
}

/// The record of one sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRecord {
    pub id: String,
    pub study: String,
    /// `local` or `slurm` (of the latest launch).
    pub executor: String,
    /// The step names (`[null]` for a one-command sweep).
    pub steps: Vec<Option<String>>,
    pub created: String,
    pub members: Vec<MemberRecord>,
    /// SLURM job ids of the arrays submitted for this sweep, oldest first.
    #[serde(default)]
    pub slurm_jobs: Vec<String>,
    /// The pid and host of the `ox sweep` process running members locally (what `ox sweep
    /// cancel` stops); `None` when none runs.
    #[serde(default)]
    pub pid: Option<u32>,
    #[serde(default)]
    pub host: Option<String>,
}

impl SweepRecord {
    /// `.ox/sweeps/`.
    pub fn dir_of_all(project: &Project) -> PathBuf {
        project.ox_dir().join("sweeps")
    }

    /// `.ox/sweeps/<id>/`, which also holds the SLURM scripts and logs.
    pub fn dir(project: &Project, id: &str) -> PathBuf {
        Self::dir_of_all(project).join(id)
    }

    /// Reads the record of sweep `id`; `None` when there is none.
    pub fn load(project: &Project, id: &str) -> Result<Option<Self>, CoreError> {
        let path = Self::dir(project, id).join("sweep.json");
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| CoreError::Json { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(CoreError::Io {
                op: "read",
                path,
                source,
            }),
        }
    }

    /// Writes the record (temporary file + rename).
    pub fn save(&self, project: &Project) -> Result<(), CoreError> {
        let dir = Self::dir(project, &self.id);
        std::fs::create_dir_all(&dir).map_err(|source| CoreError::Io {
            op: "create",
            path: dir.clone(),
            source,
        })?;
        let bytes = serde_json::to_vec_pretty(self).map_err(|source| CoreError::Json {
            path: dir.join("sweep.json"),
            source,
        })?;
        ox_core::write_atomic(&dir.join("sweep.json"), &bytes)
    }

    /// The ids of every sweep of the project, sorted.
    pub fn ids(project: &Project) -> Result<Vec<String>, CoreError> {
        let dir = Self::dir_of_all(project);
        let mut ids = Vec::new();
        match std::fs::read_dir(&dir) {
            Ok(entries) => {
                for e in entries.flatten() {
                    if e.path().join("sweep.json").is_file() {
                        ids.push(e.file_name().to_string_lossy().into_owned());
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(CoreError::Io {
                    op: "read",
                    path: dir,
                    source,
                });
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// The member with `key`, added (with `name` and `params`) when new.
    pub fn member_mut(
        &mut self,
        key: &MemberKey,
        name: &str,
        params: &Map<String, Value>,
    ) -> &mut MemberRecord {
        let i = match self.members.iter().position(|m| &m.key == key) {
            Some(i) => i,
            None => {
                self.members.push(MemberRecord {
                    key: key.clone(),
                    name: name.to_string(),
                    params: params.clone(),
                    runs: Vec::new(),
                    slurm: None,
                });
                self.members.len() - 1
            }
        };
        &mut self.members[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_loads_and_lists() {
        let tmp = tempfile::tempdir().unwrap();
        let project = Project::init(tmp.path()).unwrap();
        assert!(SweepRecord::load(&project, "s").unwrap().is_none());
        let mut rec = SweepRecord {
            id: "s".into(),
            study: "st".into(),
            executor: "local".into(),
            steps: vec![None],
            created: "2026-01-01T00:00:00Z".into(),
            members: Vec::new(),
            slurm_jobs: Vec::new(),
            pid: None,
            host: None,
        };
        let key = MemberKey("00ff".into());
        rec.member_mut(&key, "lr=1", &Map::new())
            .runs
            .push(StepRun {
                step: None,
                id: RunId::generate(),
            });
        rec.member_mut(&key, "lr=1", &Map::new());
        assert_eq!(rec.members.len(), 1);
        rec.save(&project).unwrap();
        assert_eq!(SweepRecord::load(&project, "s").unwrap().unwrap(), rec);
        assert_eq!(SweepRecord::ids(&project).unwrap(), ["s"]);
    }
}
