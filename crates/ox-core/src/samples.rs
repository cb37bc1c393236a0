//! `runs/<id>/samples.jsonl`: the per-sample scores of an imported evaluation, one JSON
//! object per line and per (sample, epoch, scorer). Written by `ox import` (`ox-ingest`),
//! read by `ox stats --paired`; this module is the one definition of the line.

use std::io::{BufRead, BufReader};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{CoreError, write_atomic};

/// One line of `samples.jsonl`: one scored sample of an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRecord {
    /// The sample id as the log has it (string or integer).
    pub id: Value,
    /// The epoch (1-based); 1 when absent.
    #[serde(default = "first_epoch")]
    pub epoch: i64,
    pub scorer: String,
    /// The raw score value (`"C"`, `0.5`, `true`, a dict, …).
    #[serde(default)]
    pub value: Value,
    /// The value as a number; null when it has none (or is not finite: JSON has no NaN).
    #[serde(default)]
    pub score: Option<f64>,
    #[serde(default)]
    pub answer: Option<String>,
    #[serde(default)]
    pub target: Value,
}

fn first_epoch() -> i64 {
    1
}

impl SampleRecord {
    /// The sample id as text (a string id as it is, any other JSON value as JSON), the key
    /// on which two runs' samples are joined.
    pub fn id_text(&self) -> String {
        match &self.id {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// A `samples.jsonl` file as read: its records, in file order, and how many lines were not
/// sample records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SamplesFile {
    pub records: Vec<SampleRecord>,
    pub bad_lines: usize,
}

/// Reads a `samples.jsonl` file. Blank lines are skipped; a line that is not a sample
/// record is counted in `bad_lines`, never fatal.
pub fn read_samples(path: &Path) -> Result<SamplesFile, CoreError> {
    let file = fs_err::File::open(path).map_err(|e| CoreError::io("open", path, e))?;
    let mut out = SamplesFile::default();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| CoreError::io("read", path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<SampleRecord>(&line) {
            Ok(record) => out.records.push(record),
            Err(_) => out.bad_lines += 1,
        }
    }
    Ok(out)
}

/// Replaces `path` atomically with `records`, one line each. Non-finite scores are written
/// as null.
pub fn write_samples(path: &Path, records: &[SampleRecord]) -> Result<(), CoreError> {
    let mut out = Vec::with_capacity(records.len() * 128);
    for record in records {
        serde_json::to_writer(&mut out, record).map_err(|source| CoreError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        out.push(b'\n');
    }
    write_atomic(path, &out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_and_bad_lines() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("samples.jsonl");
        let records = vec![
            SampleRecord {
                id: json!("a1"),
                epoch: 1,
                scorer: "match".into(),
                value: json!("C"),
                score: Some(1.0),
                answer: Some("4".into()),
                target: json!("4"),
            },
            SampleRecord {
                id: json!(7),
                epoch: 2,
                scorer: "ratio".into(),
                value: json!("NaN"),
                score: Some(f64::NAN),
                answer: None,
                target: Value::Null,
            },
        ];
        write_samples(&path, &records).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text.lines().next().unwrap(),
            r#"{"id":"a1","epoch":1,"scorer":"match","value":"C","score":1.0,"answer":"4","target":"4"}"#
        );
        std::fs::write(&path, format!("{text}\nnot json\n{{\"id\": 1}}\n")).unwrap();
        let read = read_samples(&path).unwrap();
        assert_eq!(read.bad_lines, 2);
        assert_eq!(read.records[0], records[0]);
        // JSON has no NaN: a non-finite score comes back as none.
        assert_eq!(read.records[1].score, None);
        assert_eq!(read.records[1].id_text(), "7");
        assert_eq!(read.records[0].id_text(), "a1");
        assert!(read_samples(&tmp.path().join("missing")).is_err());
    }
}
