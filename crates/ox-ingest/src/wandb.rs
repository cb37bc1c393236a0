//! Weights & Biases offline runs (`offline-run-*/run-<id>.wandb`): a LevelDB-style log of
//! `wandb_internal.Record` protobufs. We read the run record (name, project, config, tags),
//! history rows (metrics at `_step`), summary updates and the exit record.
//!
//! Framing: a 7-byte header (`:W&B`, magic 0xBEE1, version 0), then 32 KiB blocks of records
//! `crc32 u32 | length u16 | type u8 | data`, the CRC being zlib's CRC-32 of type and data;
//! FIRST/MIDDLE/LAST records are pieces of one payload; a block's last < 7 bytes are padding.

use std::path::Path;

use ox_core::Status;
use serde_json::{Map, Value, json};

use crate::proto::{self, Fields, WireValue};
use crate::{ImportedRun, IngestError, Source, SourceKind};

const BLOCK: usize = 32 * 1024;
const HEADER_LEN: usize = 7;

/// Whether `head` starts with the W&B log header.
pub(crate) fn has_header(head: &[u8]) -> bool {
    head.starts_with(b":W&B")
}

/// Splits a `.wandb` file into record payloads; a bad checksum or truncated record ends
/// the read, with the reason returned beside the payloads read so far.
pub(crate) fn records(data: &[u8]) -> Result<(Vec<Vec<u8>>, Option<String>), String> {
    match data.get(..HEADER_LEN) {
        Some([b':', b'W', b'&', b'B', 0xe1, 0xbe, 0]) => {}
        Some(h) if h.starts_with(b":W&B") => return Err("unsupported .wandb header version".into()),
        _ => return Err("not a W&B run file (no :W&B header)".into()),
    }
    let mut out = Vec::new();
    let mut pending: Option<Vec<u8>> = None;
    let mut pos = HEADER_LEN;
    while pos < data.len() {
        let left_in_block = BLOCK - pos % BLOCK;
        if left_in_block < 7 {
            pos += left_in_block;
            continue;
        }
        let Some(header) = data.get(pos..pos + 7) else {
            return Ok((out, Some(format!("truncated record header at byte {pos}"))));
        };
        let crc = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let len = usize::from(u16::from_le_bytes([header[4], header[5]]));
        let kind = header[6];
        if kind == 0 && len == 0 && crc == 0 {
            // Zero padding (a preallocated or block-padded tail).
            pos += left_in_block;
            continue;
        }
        let Some(payload) = data
            .get(pos + 7..pos + 7 + len)
            .filter(|_| len <= left_in_block - 7)
        else {
            return Ok((out, Some(format!("truncated record at byte {pos}"))));
        };
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&[kind]);
        hasher.update(payload);
        if hasher.finalize() != crc {
            return Ok((out, Some(format!("bad record checksum at byte {pos}"))));
        }
        match kind {
            1 => out.push(payload.to_vec()),
            2 => pending = Some(payload.to_vec()),
            3 | 4 => match pending.as_mut() {
                Some(p) => {
                    p.extend_from_slice(payload);
                    if kind == 4 {
                        out.extend(pending.take());
                    }
                }
                None => {
                    return Ok((
                        out,
                        Some(format!("record piece without a first piece at byte {pos}")),
                    ));
                }
            },
            other => {
                return Ok((
                    out,
                    Some(format!("unknown record type {other} at byte {pos}")),
                ));
            }
        }
        pos += 7 + len;
    }
    if pending.is_some() {
        return Ok((out, Some("the file ends inside a multi-part record".into())));
    }
    Ok((out, None))
}

/// Parses a `value_json` field (JSON, with the bare tokens NaN/Infinity allowed).
fn parse_value_json(text: &str) -> Value {
    match text.trim() {
        "NaN" => return json!("NaN"),
        "Infinity" => return json!("Infinity"),
        "-Infinity" => return json!("-Infinity"),
        _ => {}
    }
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// The `(key, value)` of a ConfigItem / HistoryItem / SummaryItem: `key`, or the
/// `nested_key` parts joined with `/`, and the JSON value.
fn item(data: &[u8]) -> (String, Value) {
    let mut key = String::new();
    let mut nested = Vec::new();
    let mut value = Value::Null;
    for (f, v) in Fields::new(data) {
        match (f, v) {
            (1, WireValue::Bytes(b)) => key = String::from_utf8_lossy(b).into_owned(),
            (2, WireValue::Bytes(b)) => nested.push(String::from_utf8_lossy(b).into_owned()),
            (16, WireValue::Bytes(b)) => value = parse_value_json(&String::from_utf8_lossy(b)),
            _ => {}
        }
    }
    if key.is_empty() {
        key = nested.join("/");
    }
    (key, value)
}

/// Imports one `.wandb` file as a run.
pub(crate) fn import_file(path: &Path) -> Result<ImportedRun, IngestError> {
    let data = fs_err::read(path).map_err(|e| IngestError::io("read", path, e))?;
    let (payloads, damage) = records(&data).map_err(|reason| IngestError::invalid(path, reason))?;
    let mut run_id = None;
    let mut project = None;
    let mut display_name = None;
    let mut config = Map::new();
    let mut tags = Vec::new();
    let mut notes = None;
    let mut start_secs = None;
    let mut summary = Map::new();
    let mut exit_code = None;
    let mut runtime = None;
    let mut rows = Vec::new();
    for payload in &payloads {
        for (f, v) in Fields::new(payload) {
            let WireValue::Bytes(body) = v else { continue };
            match f {
                17 => {
                    for (rf, rv) in Fields::new(body) {
                        match (rf, rv) {
                            (1, v) => run_id = v.string(),
                            (3, v) => project = v.string().filter(|s| !s.is_empty()),
                            (4, WireValue::Bytes(cfg)) => read_config(cfg, &mut config),
                            (8, v) => display_name = v.string().filter(|s| !s.is_empty()),
                            (9, v) => notes = v.string().filter(|s| !s.is_empty()),
                            (10, v) => tags.extend(v.string()),
                            (17, WireValue::Bytes(ts)) => {
                                start_secs = proto::field(ts, 1)
                                    .and_then(WireValue::varint)
                                    .map(|s| s as f64);
                            }
                            _ => {}
                        }
                    }
                }
                5 => read_config(body, &mut config),
                2 => {
                    let mut row = Vec::new();
                    let mut step = proto::field(body, 2)
                        .and_then(WireValue::bytes)
                        .and_then(|s| proto::field(s, 1))
                        .and_then(WireValue::varint)
                        .map(|s| s as i64);
                    let mut time = None;
                    let items: Vec<(String, Value)> = Fields::new(body)
                        .filter_map(|(hf, hv)| match (hf, hv) {
                            (1, WireValue::Bytes(it)) => Some(item(it)),
                            _ => None,
                        })
                        .collect();
                    let media = media_prefixes(&items);
                    for (key, value) in items {
                        match key.as_str() {
                            "_step" => {
                                step = ox_core::json_number(&value).map(|s| s as i64).or(step)
                            }
                            "_timestamp" => time = ox_core::json_number(&value),
                            "_runtime" => {}
                            _ if is_media_field(&key, &media) => {}
                            _ => {
                                if let Some(x) = ox_core::json_number(&value) {
                                    row.push((key, x));
                                }
                            }
                        }
                    }
                    rows.push((step, time, row));
                }
                3 => {
                    for (sf, sv) in Fields::new(body) {
                        match (sf, sv) {
                            (1, WireValue::Bytes(it)) => {
                                let (k, v) = item(it);
                                summary.insert(k, v);
                            }
                            (2, WireValue::Bytes(it)) => {
                                summary.remove(&item(it).0);
                            }
                            _ => {}
                        }
                    }
                }
                18 => {
                    for (ef, ev) in Fields::new(body) {
                        match (ef, ev) {
                            (1, WireValue::Varint(c)) => exit_code = Some(c as i64 as i32),
                            (2, WireValue::Varint(r)) => runtime = Some(r as f64),
                            _ => {}
                        }
                    }
                    exit_code.get_or_insert(0);
                }
                _ => {}
            }
        }
    }
    let header_only = run_id.is_none();
    let Some(run_id) = run_id.or_else(|| run_id_from_file_name(path)) else {
        return Err(IngestError::invalid(
            path,
            "no run record in the .wandb file, and no run id in its name (run-<id>.wandb)",
        ));
    };
    let mut run = ImportedRun::new(
        Source {
            kind: SourceKind::Wandb,
            key: format!("wandb:{}/{run_id}", project.as_deref().unwrap_or("")),
            path: std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
        },
        project.clone().unwrap_or_else(|| "wandb".into()),
    );
    if let Some(d) = damage {
        run.warnings.push(format!(
            "{}: {d}; kept the {} records before it",
            path.display(),
            payloads.len()
        ));
    }
    if header_only {
        // A run killed right after it started: W&B wrote the file's header, not yet the
        // run record. The run existed; it is imported as crashed, with what its path says.
        run.warnings.push(format!(
            "{}: no run record (the run was killed as it started); imported as crashed",
            path.display()
        ));
        start_secs = start_secs.or_else(|| start_from_dir_name(path));
    }
    run.name = display_name.or_else(|| Some(run_id.clone()));
    run.console_log = path
        .parent()
        .map(|d| d.join("files/output.log"))
        .filter(|p| p.is_file());
    run.params = config;
    run.tags = tags;
    run.exit_code = exit_code;
    run.status = match exit_code {
        Some(0) => Status::Completed,
        Some(_) => Status::Failed,
        None => Status::Crashed,
    };
    let mut last_step: Option<i64> = None;
    let mut last_time = None;
    for (step, time, row) in rows {
        let step = step.unwrap_or_else(|| last_step.map_or(0, |s| s + 1));
        last_step = Some(step);
        last_time = time.or(last_time);
        for (k, v) in row {
            run.metrics.push_named(&k, step, time, v);
        }
    }
    // Summary values that never appeared in the history (a best value set with
    // `run.summary[...] = …`) were never logged at a step: they stay in the run's W&B
    // summary (`wandb.summary` in run.json), not as one-point series.
    run.started = start_secs.and_then(crate::model::time_from_secs);
    run.ended = match (start_secs, runtime) {
        (Some(s), Some(r)) if exit_code.is_some() => crate::model::time_from_secs(s + r),
        _ => last_time
            .filter(|_| exit_code.is_some())
            .and_then(crate::model::time_from_secs),
    };
    let mut info = Map::new();
    info.insert("run_id".into(), json!(run_id));
    info.insert("project".into(), json!(project));
    info.insert("summary".into(), Value::Object(summary));
    run.extra.insert("wandb".into(), Value::Object(info));
    if let Some(n) = notes {
        run.extra.insert("notes".into(), json!(n));
    }
    Ok(run)
}

/// The run id in a `run-<id>.wandb` file name.
fn run_id_from_file_name(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    let id = stem.strip_prefix("run-")?;
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric())).then(|| id.to_string())
}

/// The start time (seconds, UTC) in the run directory's name,
/// `offline-run-YYYYMMDD_HHMMSS-<id>` (the writing machine's local time, taken as UTC).
fn start_from_dir_name(path: &Path) -> Option<f64> {
    let dir = path.parent()?.file_name()?.to_str()?;
    let rest = dir
        .strip_prefix("offline-run-")
        .or_else(|| dir.strip_prefix("run-"))?;
    let stamp = rest.get(..15)?;
    let t = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%d_%H%M%S").ok()?;
    Some(t.and_utc().timestamp() as f64)
}

/// The keys of media values in a history row. W&B logs an image, table, histogram, audio…
/// as a descriptor object flattened into `<key>/_type`, `<key>/width`, `<key>/size`, …:
/// those fields describe a file, they are not metrics.
fn media_prefixes(items: &[(String, Value)]) -> Vec<String> {
    items
        .iter()
        .filter_map(|(k, _)| k.strip_suffix("/_type"))
        .map(|prefix| format!("{prefix}/"))
        .collect()
}

/// Whether `key` is a field of one of the `media` descriptors (see [`media_prefixes`]).
fn is_media_field(key: &str, media: &[String]) -> bool {
    media.iter().any(|prefix| key.starts_with(prefix.as_str()))
}

fn read_config(cfg: &[u8], config: &mut Map<String, Value>) {
    for (f, v) in Fields::new(cfg) {
        match (f, v) {
            (1, WireValue::Bytes(it)) => {
                let (k, v) = item(it);
                if k != "_wandb" {
                    config.insert(k, v);
                }
            }
            (2, WireValue::Bytes(it)) => {
                config.remove(&item(it).0);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: u8, data: &[u8]) -> Vec<u8> {
        let mut h = crc32fast::Hasher::new();
        h.update(&[kind]);
        h.update(data);
        let mut out = h.finalize().to_le_bytes().to_vec();
        out.extend_from_slice(&(data.len() as u16).to_le_bytes());
        out.push(kind);
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn reassembles_pieces_and_stops_at_bad_checksum() {
        let mut file = b":W&B\xe1\xbe\x00".to_vec();
        file.extend(record(1, b"one"));
        file.extend(record(2, b"tw"));
        file.extend(record(4, b"o"));
        let (recs, damage) = records(&file).unwrap();
        assert_eq!(recs, vec![b"one".to_vec(), b"two".to_vec()]);
        assert_eq!(damage, None);
        let n = file.len();
        file[n - 1] ^= 1;
        let (recs, damage) = records(&file).unwrap();
        assert_eq!(recs.len(), 1);
        assert!(damage.unwrap().contains("checksum"));
        assert!(records(b"garbage").is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let mut file = b":W&B\xe1\xbe\x00".to_vec();
            file.extend_from_slice(&data);
            let _ = records(&file);
            let _ = item(&data);
            let mut cfg = Map::new();
            read_config(&data, &mut cfg);
        }
    }
}
