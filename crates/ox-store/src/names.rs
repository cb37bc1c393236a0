//! Which runs already carry a name, for the warning of `ox run -n NAME`. From the run files
//! alone: the supervisor of a compute job never opens the catalog (SQLite's WAL must not be
//! used by many hosts over NFS).

use ox_core::{Project, RunId};

/// Runs of `study` named `name`, sorted by id, found by reading each run's run.json.
/// Unreadable run.json files are skipped.
pub fn runs_named(project: &Project, study: &str, name: &str) -> Vec<RunId> {
    let Ok(entries) = std::fs::read_dir(project.runs_dir()) else {
        return Vec::new();
    };
    let mut found: Vec<RunId> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str().and_then(RunId::parse))
        .filter(|id| {
            project
                .read_run(id)
                .is_ok_and(|r| r.study == study && r.name.as_deref() == Some(name))
        })
        .collect();
    found.sort();
    found
}
