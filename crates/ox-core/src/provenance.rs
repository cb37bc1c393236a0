//! What a run read and wrote: the datasets and artifacts it recorded, from `run.json`
//! (`datasets`, `artifacts`) and from the Python client's `{"type": "dataset"}` /
//! `{"type": "artifact"}` lines in its metrics file (the only place an attached run can
//! write them: the supervisor owns its `run.json`).

use std::io::BufRead;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Run;

/// One recorded file: a dataset (with rows when counted) or an artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A dataset's path as the run saw it; an artifact's path relative to the run's
    /// directory (`artifacts/model.pt`) when copied there.
    pub path: String,
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
}

/// The datasets and artifacts of a run, each listed once (same path and checksum).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Provenance {
    pub datasets: Vec<FileRecord>,
    pub artifacts: Vec<FileRecord>,
}

impl Provenance {
    fn add(list: &mut Vec<FileRecord>, r: FileRecord) {
        if !list
            .iter()
            .any(|x| x.path == r.path && x.sha256 == r.sha256)
        {
            list.push(r);
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.datasets.is_empty() && self.artifacts.is_empty()
    }
}

/// The run's recorded files: `run.json` first, then the metrics file's lines (a missing or
/// unreadable metrics file adds none). Streams the file, parsing only lines that mention
/// `dataset` or `artifact`.
pub fn provenance(run: &Run, metrics_path: &Path) -> Provenance {
    let mut out = Provenance::default();
    for a in &run.artifacts {
        Provenance::add(
            &mut out.artifacts,
            FileRecord {
                name: None,
                path: a.path.clone(),
                sha256: Some(a.sha256.clone()),
                bytes: Some(a.bytes),
                rows: None,
            },
        );
    }
    if let Some(Value::Array(list)) = run.extra.get("datasets") {
        for v in list {
            if let Ok(r) = serde_json::from_value::<FileRecord>(v.clone()) {
                Provenance::add(&mut out.datasets, r);
            }
        }
    }
    let Ok(file) = std::fs::File::open(metrics_path) else {
        return out;
    };
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let mut buf = Vec::with_capacity(256);
    let dataset = memchr::memmem::Finder::new(b"\"dataset\"");
    let artifact = memchr::memmem::Finder::new(b"\"artifact\"");
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let kind = if dataset.find(&buf).is_some() {
            "dataset"
        } else if artifact.find(&buf).is_some() {
            "artifact"
        } else {
            continue;
        };
        let Ok(line) = serde_json::from_slice::<Value>(&buf) else {
            continue;
        };
        if line.get("type").and_then(Value::as_str) != Some(kind) {
            continue;
        }
        if let Some(Ok(r)) = line
            .get(kind)
            .map(|v| serde_json::from_value::<FileRecord>(v.clone()))
        {
            let list = if kind == "dataset" {
                &mut out.datasets
            } else {
                &mut out.artifacts
            };
            Provenance::add(list, r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Artifact, RunId, Status};

    #[test]
    fn run_json_and_metrics_lines_merge_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        std::fs::write(
            &path,
            "{\"type\":\"metrics\",\"step\":0,\"loss\":1}\n\
             {\"type\": \"dataset\", \"dataset\": {\"path\": \"/d/train.csv\", \"sha256\": \"ab\", \"bytes\": 5, \"rows\": 2, \"name\": \"train\"}}\n\
             {\"type\": \"artifact\", \"artifact\": {\"path\": \"artifacts/m.pt\", \"sha256\": \"cd\", \"bytes\": 9}}\n\
             {\"type\": \"artifact\", \"artifact\": {\"path\": \"artifacts/m.pt\", \"sha256\": \"cd\", \"bytes\": 9}}\n\
             {\"type\": \"dataset\", \"dataset\": \"broken\"}\n",
        )
        .unwrap();
        let mut run = Run::new(RunId::parse("r").unwrap(), Status::Completed);
        run.artifacts.push(Artifact {
            path: "artifacts/m.pt".into(),
            sha256: "cd".into(),
            bytes: 9,
        });
        let p = provenance(&run, &path);
        assert_eq!(p.artifacts.len(), 1);
        assert_eq!(p.datasets.len(), 1);
        assert_eq!(p.datasets[0].rows, Some(2));
        assert_eq!(p.datasets[0].name.as_deref(), Some("train"));
        assert!(
            provenance(&run, &dir.path().join("none"))
                .datasets
                .is_empty()
        );
    }
}
