//! Puts [`ImportedRun`]s into a project: `run.json`, the metrics JSONL and `samples.jsonl`,
//! each replaced atomically, reusing the run of a source key imported before.

use std::collections::HashMap;
use std::path::Path;

use ox_core::{MetricKey, MetricsWriter, Project, Run, RunId};
use serde_json::{Value, json};

use crate::{ImportedRun, IngestError};

/// What writing one run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOutcome {
    pub id: RunId,
    /// True when the run is new; false when an earlier import of the same source was updated.
    pub created: bool,
}

/// Writes imported runs into a project. Knows which source keys the project already holds
/// (read once from every `run.json`'s `source.key`), so that importing a source again
/// updates its run instead of adding a second one.
pub struct RunWriter {
    project: Project,
    by_source: HashMap<String, RunId>,
}

impl RunWriter {
    /// Reads the source keys of the project's runs.
    pub fn open(project: Project) -> Result<Self, IngestError> {
        let mut by_source = HashMap::new();
        for id in project.run_ids()? {
            // A run.json that does not parse is someone else's problem (`ox ls` reports it);
            // it cannot be an earlier import we could update.
            if let Ok(run) = project.read_run(&id)
                && let Some(key) = run
                    .source
                    .as_ref()
                    .and_then(|s| s.get("key"))
                    .and_then(Value::as_str)
            {
                by_source.insert(key.to_string(), id);
            }
        }
        Ok(RunWriter { project, by_source })
    }

    /// A writer that knows no source keys yet: the caller tells it with
    /// [`RunWriter::remember`] (e.g. from the catalog's `run_for_source`).
    pub fn without_scan(project: Project) -> Self {
        RunWriter {
            project,
            by_source: HashMap::new(),
        }
    }

    /// Records that `source_key` was imported as run `id`.
    pub fn remember(&mut self, source_key: &str, id: RunId) {
        self.by_source.insert(source_key.to_string(), id);
    }

    /// The run that holds `source_key`, if imported before.
    pub fn run_for_source(&self, source_key: &str) -> Option<&RunId> {
        self.by_source.get(source_key)
    }

    /// Writes one run. `study` (from `-s`) replaces the study the importer chose.
    pub fn write(
        &mut self,
        imported: &mut ImportedRun,
        study: Option<&str>,
    ) -> Result<WriteOutcome, IngestError> {
        let existing = self.by_source.get(&imported.source.key).cloned();
        let (mut run, created) = match existing
            .as_ref()
            .and_then(|id| self.project.read_run(id).ok())
        {
            Some(previous) => (previous, false),
            None => (Run::new(RunId::generate(), imported.status), true),
        };
        fill_run(&mut run, imported, study);
        let id = run.id.clone();
        let run_dir = self.project.run_dir(&id);
        fs_err::create_dir_all(&run_dir)
            .map_err(|e| IngestError::io("create directory", &run_dir, e))?;
        let metrics_dir = self.project.metrics_dir();
        fs_err::create_dir_all(&metrics_dir)
            .map_err(|e| IngestError::io("create directory", &metrics_dir, e))?;
        write_metrics(&self.project.metrics_path(&id), imported)?;
        let samples_path = self.project.samples_path(&id);
        if imported.samples.is_empty() {
            if samples_path.exists() {
                fs_err::remove_file(&samples_path)
                    .map_err(|e| IngestError::io("remove", &samples_path, e))?;
            }
        } else {
            ox_core::write_samples(&samples_path, &imported.samples)?;
        }
        if let Some(log) = &imported.console_log {
            copy_atomic(log, &self.project.stdout_log_path(&id))?;
        }
        // run.json last: a reader that sees the run sees its files complete.
        self.project.write_run(&run)?;
        self.by_source
            .insert(imported.source.key.clone(), id.clone());
        Ok(WriteOutcome { id, created })
    }
}

fn fill_run(run: &mut Run, imported: &ImportedRun, study: Option<&str>) {
    run.name = imported.name.clone();
    run.study = study.map_or_else(|| imported.study.clone(), str::to_string);
    run.status = imported.status;
    run.params = imported.params.clone();
    run.tags = imported.tags.clone();
    if let Some(created) = imported.created.or(imported.started) {
        run.created = created;
    }
    run.started = imported.started;
    run.ended = imported.ended;
    run.exit_code = imported.exit_code;
    run.source = Some(json!({
        "kind": imported.source.kind.as_str(),
        "key": imported.source.key,
        "path": imported.source.path.to_string_lossy(),
    }));
    for (k, v) in &imported.extra {
        run.extra.insert(k.clone(), v.clone());
    }
}

/// Writes the metrics file beside its final name and renames it into place, one line per
/// step (a metric seen twice at one step starts a new line).
fn write_metrics(path: &Path, imported: &mut ImportedRun) -> Result<(), IngestError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| IngestError::io("create temporary file in", dir, e))?;
    write_metric_lines(tmp.as_file(), imported).map_err(|e| IngestError::io("write", path, e))?;
    tmp.persist(path)
        .map_err(|e| IngestError::io("rename onto", path, e.error))?;
    Ok(())
}

/// Writes `imported`'s metrics as lines to `file`, one line per step.
fn write_metric_lines(file: &std::fs::File, imported: &mut ImportedRun) -> std::io::Result<()> {
    imported.metrics.sort_by_step();
    let table = &imported.metrics;
    let keys: Vec<MetricKey> = table.names().iter().map(|n| MetricKey::new(n)).collect();
    let mut writer = MetricsWriter::new(std::io::BufWriter::with_capacity(1 << 17, file));
    let mut seen = vec![u32::MAX; keys.len()];
    let mut group: Vec<(&MetricKey, f64)> = Vec::with_capacity(keys.len());
    let mut line_no: u32 = 0;
    let mut current: Option<(i64, f64)> = None;
    for p in table.points() {
        let Some(key) = keys.get(p.metric as usize) else {
            continue;
        };
        let repeated = seen.get(p.metric as usize) == Some(&line_no);
        let same_line = current.is_some_and(|(s, _)| s == p.step) && !repeated;
        if !same_line {
            if let Some((step, time)) = current.take() {
                writer.write_line(Some(step), Some(time), group.drain(..))?;
            }
            line_no = line_no.wrapping_add(1);
            current = Some((p.step, p.time));
        }
        if let Some(slot) = seen.get_mut(p.metric as usize) {
            *slot = line_no;
        }
        group.push((key, p.value));
    }
    if let Some((step, time)) = current {
        writer.write_line(Some(step), Some(time), group.drain(..))?;
    }
    writer.finish().map(drop)
}

/// Attaches evaluation logs to an existing run (a sweep member whose command wrote inspect
/// logs): their metrics are appended to the run's metrics file and their per-sample scores
/// to its `samples.jsonl`; the run's record is not touched. For the process that owns the
/// run (it writes only that run's files).
pub fn attach_to_run(
    project: &Project,
    id: &RunId,
    imported: &mut [ImportedRun],
) -> Result<(), IngestError> {
    use std::io::Write as _;
    let metrics_path = project.metrics_path(id);
    let samples_path = project.samples_path(id);
    for run in imported.iter_mut() {
        let file = fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&metrics_path)
            .map_err(|e| IngestError::io("open", &metrics_path, e))?;
        write_metric_lines(file.file(), run)
            .map_err(|e| IngestError::io("write", &metrics_path, e))?;
        if run.samples.is_empty() {
            continue;
        }
        let mut out = Vec::with_capacity(run.samples.len() * 128);
        for s in &run.samples {
            serde_json::to_writer(&mut out, s)
                .map_err(|e| IngestError::invalid(&samples_path, e.to_string()))?;
            out.push(b'\n');
        }
        fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&samples_path)
            .and_then(|mut f| f.write_all(&out))
            .map_err(|e| IngestError::io("append to", &samples_path, e))?;
    }
    Ok(())
}

fn copy_atomic(from: &Path, to: &Path) -> Result<(), IngestError> {
    let dir = to.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| IngestError::io("create temporary file in", dir, e))?;
    let mut src = fs_err::File::open(from).map_err(|e| IngestError::io("open", from, e))?;
    std::io::copy(&mut src, &mut tmp).map_err(|e| IngestError::io("copy", from, e))?;
    tmp.persist(to)
        .map_err(|e| IngestError::io("rename onto", to, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SampleRecord, Source, SourceKind};
    use ox_core::MetricsFileReader;

    fn sample_run(key: &str) -> ImportedRun {
        let mut r = ImportedRun::new(
            Source {
                kind: SourceKind::Csv,
                key: key.into(),
                path: "/x.csv".into(),
            },
            "csv",
        );
        r.name = Some("x".into());
        r.metrics.push_named("loss", 1, Some(10.0), 0.5);
        r.metrics.push_named("acc", 0, None, 0.1);
        r.metrics.push_named("loss", 0, None, 0.9);
        r.metrics.push_named("loss", 0, None, f64::NAN);
        r.samples.push(SampleRecord {
            id: json!("a1"),
            epoch: 1,
            scorer: "match".into(),
            value: json!("C"),
            score: Some(1.0),
            answer: Some("4".into()),
            target: json!("4"),
        });
        r
    }

    #[test]
    fn writes_files_and_updates_on_reimport() {
        let tmp = tempfile::tempdir().unwrap();
        let project = Project::init(tmp.path()).unwrap();
        let mut w = RunWriter::open(project.clone()).unwrap();
        let first = w.write(&mut sample_run("csv:/x.csv"), None).unwrap();
        assert!(first.created);
        let series = MetricsFileReader::read_series(&project.metrics_path(&first.id)).unwrap();
        let loss = &series.series.iter().find(|(n, _)| n == "loss").unwrap().1;
        assert_eq!(loss.len(), 3);
        assert_eq!(loss[0], (0, 0.9));
        assert!(loss[1].1.is_nan());
        assert_eq!(loss[2], (1, 0.5));
        let samples = std::fs::read_to_string(project.samples_path(&first.id)).unwrap();
        assert_eq!(
            samples,
            "{\"id\":\"a1\",\"epoch\":1,\"scorer\":\"match\",\"value\":\"C\",\"score\":1.0,\"answer\":\"4\",\"target\":\"4\"}\n"
        );
        // A fresh writer (a second `ox import`) finds the run by its source key.
        let mut w2 = RunWriter::open(project.clone()).unwrap();
        let again = w2
            .write(&mut sample_run("csv:/x.csv"), Some("mine"))
            .unwrap();
        assert_eq!(
            again,
            WriteOutcome {
                id: first.id.clone(),
                created: false
            }
        );
        assert_eq!(project.run_ids().unwrap().len(), 1);
        let run = project.read_run(&first.id).unwrap();
        assert_eq!(run.study, "mine");
        assert_eq!(run.source.unwrap()["kind"], "csv");
        let other = w2.write(&mut sample_run("csv:/y.csv"), None).unwrap();
        assert!(other.created);
        assert_eq!(project.run_ids().unwrap().len(), 2);
    }
}
