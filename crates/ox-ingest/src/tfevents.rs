//! TensorBoard event files (`events.out.tfevents.*`): TFRecord framing with masked CRC-32C,
//! each record a `tensorboard.Event` protobuf. Scalars come as `simple_value` (tensorboardX,
//! PyTorch) or as rank-0 numeric tensors (`float_val`, `double_val`, or raw `tensor_content`)
//! of the `scalars` plugin (tensorboard's `Writer`, TF2's `tf.summary.scalar`) or of no
//! plugin (TF2's `tf.summary.write`). Tensors of other plugins and everything else are
//! skipped.
//!
//! A directory's event files make one run, identified by its first event file's name and
//! first record's time. A
//! truncated or corrupt record ends the read of that file: what came before is kept, with a
//! warning; a file torn before its first record is skipped, with a warning.

use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::proto::{self, Fields, WireValue};
use crate::{ImportedRun, IngestError, MetricTable, Source, SourceKind};

/// The masked CRC-32C TFRecord uses: rotate right by 15 and add a constant.
pub fn masked_crc32c(data: &[u8]) -> u32 {
    let c = crc32c::crc32c(data);
    c.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// How reading one event file went.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TfEventsReport {
    /// Records whose framing and CRCs checked out.
    pub records: u64,
    /// Bytes consumed by those records.
    pub bytes: u64,
    /// Why reading stopped early (truncated or corrupt record), if it did.
    pub damage: Option<String>,
}

/// Reads TFRecord framing from `reader`, calling `on_record` with each record's payload.
/// Stops at the first truncated or corrupt record and says so in the report; I/O errors
/// other than a short read are returned.
pub fn read_tfevents(
    reader: impl Read,
    mut on_record: impl FnMut(&[u8]),
) -> std::io::Result<TfEventsReport> {
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let mut report = TfEventsReport::default();
    let mut header = [0u8; 12];
    let mut data = Vec::with_capacity(256);
    loop {
        let n = read_full(&mut reader, &mut header)?;
        if n == 0 {
            return Ok(report);
        }
        if n < header.len() {
            report.damage = Some(format!("truncated record header at byte {}", report.bytes));
            return Ok(report);
        }
        let (len_bytes, rest) = header.split_at(8);
        let len_crc = u32::from_le_bytes(rest.try_into().unwrap_or_default());
        if masked_crc32c(len_bytes) != len_crc {
            report.damage = Some(format!("bad length CRC at byte {}", report.bytes));
            return Ok(report);
        }
        let len = u64::from_le_bytes(len_bytes.try_into().unwrap_or_default());
        // A length that checks out but is absurd would make us allocate wildly.
        let Some(len) = usize::try_from(len).ok().filter(|&l| l <= 1 << 30) else {
            report.damage = Some(format!(
                "record length {len} too large at byte {}",
                report.bytes
            ));
            return Ok(report);
        };
        data.resize(len + 4, 0);
        let n = read_full(&mut reader, &mut data)?;
        if n < data.len() {
            report.damage = Some(format!(
                "truncated record at byte {} ({} of {} bytes)",
                report.bytes,
                n,
                len + 16
            ));
            return Ok(report);
        }
        let (payload, crc) = data.split_at(len);
        if masked_crc32c(payload) != u32::from_le_bytes(crc.try_into().unwrap_or_default()) {
            report.damage = Some(format!("bad data CRC in record at byte {}", report.bytes));
            return Ok(report);
        }
        on_record(payload);
        report.records += 1;
        report.bytes += len as u64 + 16;
    }
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(buf.get_mut(filled..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Turns Event records into metric points.
#[derive(Default)]
pub(crate) struct EventDecoder {
    pub metrics: MetricTable,
    /// Each tag's metric id.
    tags: HashMap<Box<[u8]>, u32>,
    /// Tags whose plugin is not `scalars` (histograms, text, images…).
    other_plugin_tags: HashSet<Box<[u8]>>,
    pub hparams: Map<String, Value>,
    pub file_version: Option<String>,
    /// The wall time of the first event decoded (a writer's first record, its file version).
    pub first_wall_time: Option<f64>,
}

impl EventDecoder {
    /// Decodes one Event payload. Malformed events are skipped (their CRC was right, so
    /// this is a writer's quirk, not damage).
    pub fn event(&mut self, data: &[u8]) {
        let mut wall_time = None;
        let mut step = 0i64;
        let mut summary = None;
        for (f, v) in Fields::new(data) {
            match (f, v) {
                (1, WireValue::Fixed64(bits)) => wall_time = Some(f64::from_bits(bits)),
                (2, WireValue::Varint(s)) => step = s as i64,
                (3, WireValue::Bytes(b)) => {
                    self.file_version = Some(String::from_utf8_lossy(b).into_owned())
                }
                (5, WireValue::Bytes(b)) => summary = Some(b),
                _ => {}
            }
        }
        if self.first_wall_time.is_none() {
            self.first_wall_time = wall_time;
        }
        let Some(summary) = summary else { return };
        for (f, v) in Fields::new(summary) {
            if let (1, WireValue::Bytes(value)) = (f, v) {
                self.summary_value(value, step, wall_time);
            }
        }
    }

    fn summary_value(&mut self, value: &[u8], step: i64, wall_time: Option<f64>) {
        let mut tag: &[u8] = &[];
        let mut simple = None;
        let mut tensor = None;
        let mut plugin: Option<(&[u8], &[u8])> = None;
        for (f, v) in Fields::new(value) {
            match (f, v) {
                (1, WireValue::Bytes(b)) => tag = b,
                (2, WireValue::Fixed32(bits)) => simple = Some(f64::from(f32::from_bits(bits))),
                (8, WireValue::Bytes(b)) => tensor = Some(b),
                (9, WireValue::Bytes(meta)) => {
                    if let Some(pd) = proto::field(meta, 1).and_then(WireValue::bytes) {
                        let name = proto::field(pd, 1)
                            .and_then(WireValue::bytes)
                            .unwrap_or_default();
                        let content = proto::field(pd, 2)
                            .and_then(WireValue::bytes)
                            .unwrap_or_default();
                        plugin = Some((name, content));
                    }
                }
                _ => {}
            }
        }
        if let Some((b"hparams", content)) = plugin {
            read_hparams(content, &mut self.hparams);
            return;
        }
        // A summary value without plugin metadata (or with an empty plugin name) is what
        // `tf.summary.write` writes: a rank-0 numeric tensor of it is a scalar to the user.
        let plugin_name = plugin.map(|(name, _)| name).filter(|name| !name.is_empty());
        let plugin_is_scalars = plugin_name.map(|name| name == b"scalars");
        if plugin_is_scalars == Some(false) && !tag.is_empty() {
            self.other_plugin_tags.insert(tag.into());
        }
        let value = match (simple, tensor) {
            (Some(v), _) => Some(v),
            (None, Some(t)) => {
                // Writers send a tag's plugin only with its first event: a later event
                // without metadata belongs to the plugin seen first.
                let other_plugin = plugin_is_scalars == Some(false)
                    || (plugin_is_scalars.is_none() && self.other_plugin_tags.contains(tag));
                if other_plugin { None } else { scalar_tensor(t) }
            }
            (None, None) => None,
        };
        if let Some(v) = value {
            let metric = self.tag_metric(tag);
            self.metrics.push(metric, step, wall_time, v);
        }
    }

    /// The metric id of `tag`.
    fn tag_metric(&mut self, tag: &[u8]) -> u32 {
        if let Some(&metric) = self.tags.get(tag) {
            return metric;
        }
        let metric = self.metrics.metric_id(&String::from_utf8_lossy(tag));
        self.tags.insert(tag.into(), metric);
        metric
    }
}

/// The value of a rank-0 numeric TensorProto, if it is one.
fn scalar_tensor(t: &[u8]) -> Option<f64> {
    let mut dtype = 0;
    let mut rank = 0;
    let (mut content, mut float_val, mut double_val, mut int_val) = (None, None, None, None);
    for (f, v) in Fields::new(t) {
        match (f, v) {
            (1, WireValue::Varint(d)) => dtype = d,
            (2, WireValue::Bytes(shape)) => {
                rank = Fields::new(shape).filter(|(f, _)| *f == 2).count()
            }
            (4, WireValue::Bytes(b)) => content = Some(b),
            (5, v) => float_val = proto::first_float(v),
            (6, v) => double_val = proto::first_double(v),
            (7 | 10, WireValue::Varint(i)) => int_val = Some(i as i64 as f64),
            (7 | 10, WireValue::Bytes(b)) => {
                int_val = proto::read_varint(b).map(|(i, _)| i as i64 as f64)
            }
            _ => {}
        }
    }
    if rank != 0 {
        return None;
    }
    match dtype {
        // DT_FLOAT
        1 => float_val.or_else(|| {
            Some(f64::from(f32::from_le_bytes(
                content?.get(..4)?.try_into().ok()?,
            )))
        }),
        // DT_DOUBLE
        2 => double_val.or_else(|| Some(f64::from_le_bytes(content?.get(..8)?.try_into().ok()?))),
        // DT_INT32, DT_INT64
        3 => int_val.or_else(|| {
            Some(f64::from(i32::from_le_bytes(
                content?.get(..4)?.try_into().ok()?,
            )))
        }),
        9 => {
            int_val.or_else(|| Some(i64::from_le_bytes(content?.get(..8)?.try_into().ok()?) as f64))
        }
        _ => None,
    }
}

/// Reads the hparams plugin's `session_start_info.hparams` map into params.
fn read_hparams(content: &[u8], params: &mut Map<String, Value>) {
    let Some(start) = proto::field(content, 3).and_then(WireValue::bytes) else {
        return;
    };
    for (f, entry) in Fields::new(start) {
        let (1, WireValue::Bytes(entry)) = (f, entry) else {
            continue;
        };
        let Some(key) = proto::field(entry, 1).and_then(WireValue::string) else {
            continue;
        };
        let value = match proto::field(entry, 2).and_then(WireValue::bytes) {
            Some(v) => match Fields::new(v).next() {
                Some((2, WireValue::Fixed64(bits))) => {
                    serde_json::Number::from_f64(f64::from_bits(bits))
                        .map_or(Value::Null, Value::Number)
                }
                Some((3, WireValue::Bytes(s))) => {
                    Value::String(String::from_utf8_lossy(s).into_owned())
                }
                Some((4, WireValue::Varint(b))) => Value::Bool(b != 0),
                _ => Value::Null,
            },
            None => Value::Null,
        };
        params.insert(key, value);
    }
}

/// Whether a file name is a TensorBoard event file's.
pub(crate) fn is_event_file_name(name: &str) -> bool {
    name.contains("tfevents")
}

/// The event files directly in `dir`, ordered by the timestamp in their names.
fn event_files(dir: &Path) -> Result<Vec<PathBuf>, IngestError> {
    let mut files = Vec::new();
    for entry in fs_err::read_dir(dir).map_err(|e| IngestError::io("list", dir, e))? {
        let entry = entry.map_err(|e| IngestError::io("list", dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_event_file_name(&name) && entry.file_type().is_ok_and(|t| t.is_file()) {
            files.push((timestamp_in_name(&name), name, entry.path()));
        }
    }
    files.sort();
    Ok(files.into_iter().map(|(_, _, p)| p).collect())
}

fn timestamp_in_name(name: &str) -> u64 {
    name.split("tfevents.")
        .nth(1)
        .and_then(|rest| rest.split('.').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or(0)
}

/// Imports the event files of one directory as one run, named by the directory's path
/// relative to `root` (the path the user gave).
pub(crate) fn import_dir(dir: &Path, root: &Path) -> Result<ImportedRun, IngestError> {
    let files = event_files(dir)?;
    let mut decoder = EventDecoder::default();
    let mut warnings = Vec::new();
    let mut good_files = 0;
    let mut last_damage = None;
    let mut identity = None;
    for file in &files {
        let f = fs_err::File::open(file).map_err(|e| IngestError::io("open", file, e))?;
        let report = read_tfevents(f, |rec| decoder.event(rec))
            .map_err(|e| IngestError::io("read", file, e))?;
        if let Some(damage) = &report.damage {
            if report.records == 0 {
                // Torn before its first record (a writer killed at once): the directory's
                // other files still make the run.
                warnings.push(format!(
                    "{}: {damage}; no record in it, skipped",
                    file.display()
                ));
                last_damage = Some((file.clone(), damage.clone()));
                continue;
            }
            warnings.push(format!(
                "{}: {damage}; kept the {} records before it",
                file.display(),
                report.records
            ));
        }
        good_files += 1;
        if identity.is_none() {
            identity = file
                .file_name()
                .map(|n| (n.to_string_lossy().into_owned(), decoder.first_wall_time));
        }
    }
    if good_files == 0 {
        return Err(match last_damage {
            Some((file, damage)) => {
                IngestError::invalid(file, format!("not a TensorBoard event file: {damage}"))
            }
            None => IngestError::invalid(dir, "no event files"),
        });
    }
    let canonical = fs_err::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut run = ImportedRun::new(
        Source {
            kind: SourceKind::Tensorboard,
            key: source_key(identity, &canonical),
            path: canonical.clone(),
        },
        "tensorboard",
    );
    run.name = Some(relative_name(dir, root));
    run.metrics = decoder.metrics;
    run.params = decoder.hparams;
    run.warnings = warnings;
    let times: Vec<f64> = run
        .metrics
        .points()
        .iter()
        .map(|p| p.time)
        .filter(|t| t.is_finite())
        .collect();
    run.started = times
        .iter()
        .copied()
        .reduce(f64::min)
        .and_then(crate::model::time_from_secs);
    run.ended = times
        .iter()
        .copied()
        .reduce(f64::max)
        .and_then(crate::model::time_from_secs);
    Ok(run)
}

/// The identity of a directory's run: its first event file's name, which holds the writer's
/// start time and host (`events.out.tfevents.<secs>.<host>[.<pid>.<n>]`), and the wall time
/// of that file's first record (microseconds: tensorboardX's sub-writers share a file name),
/// so that the same logs imported from a moved or copied folder update the run they made.
/// A name without a start time falls back to the directory's path.
fn source_key(first_file: Option<(String, Option<f64>)>, canonical_dir: &Path) -> String {
    match first_file.filter(|(name, _)| timestamp_in_name(name) > 0) {
        Some((name, Some(wall))) => format!("tensorboard:{name}@{wall:.6}"),
        Some((name, None)) => format!("tensorboard:{name}"),
        None => format!("tensorboard:{}", canonical_dir.display()),
    }
}

/// `dir` relative to `root` with `/` separators; the directory's own name when they are the
/// same.
pub(crate) fn relative_name(dir: &Path, root: &Path) -> String {
    let rel = dir
        .strip_prefix(root)
        .ok()
        .filter(|r| !r.as_os_str().is_empty());
    match rel {
        Some(r) => r
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        None => std::path::absolute(dir)
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| dir.display().to_string()),
    }
}

/// Whether `data` starts with a TFRecord whose length CRC checks out.
pub(crate) fn looks_like_tfrecord(data: &[u8]) -> bool {
    match (data.get(..8), data.get(8..12)) {
        (Some(len), Some(crc)) => {
            crc.try_into().map(u32::from_le_bytes).ok() == Some(masked_crc32c(len))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames a payload as a TFRecord.
    pub(crate) fn frame(payload: &[u8]) -> Vec<u8> {
        let len = (payload.len() as u64).to_le_bytes();
        let mut out = len.to_vec();
        out.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
        out.extend_from_slice(payload);
        out.extend_from_slice(&masked_crc32c(payload).to_le_bytes());
        out
    }

    fn bytes_field(n: u8, b: &[u8]) -> Vec<u8> {
        let mut out = vec![(n << 3) | 2, b.len() as u8];
        out.extend_from_slice(b);
        out
    }

    fn scalar_event(step: u8, tag: &str, v: f32) -> Vec<u8> {
        let mut value = bytes_field(1, tag.as_bytes());
        value.push((2 << 3) | 5);
        value.extend_from_slice(&v.to_le_bytes());
        let summary = bytes_field(1, &value);
        let mut ev = vec![(1 << 3) | 1];
        ev.extend_from_slice(&1.5e9f64.to_le_bytes());
        ev.extend_from_slice(&[2 << 3, step]);
        ev.extend(bytes_field(5, &summary));
        ev
    }

    #[test]
    fn decodes_simple_values_and_stops_at_damage() {
        let mut file = frame(&bytes_field(3, b"brain.Event:2"));
        file.extend(frame(&scalar_event(0, "loss", 2.0)));
        file.extend(frame(&scalar_event(1, "loss", 1.0)));
        let good = file.len();
        file.extend(frame(&scalar_event(2, "loss", 0.5)));
        let mut dec = EventDecoder::default();
        let report = read_tfevents(&file[..], |r| dec.event(r)).unwrap();
        assert_eq!((report.records, report.damage), (4, None));
        assert_eq!(
            dec.metrics.series("loss"),
            vec![(0, 2.0), (1, 1.0), (2, 0.5)]
        );
        assert_eq!(dec.file_version.as_deref(), Some("brain.Event:2"));

        let mut dec = EventDecoder::default();
        let report = read_tfevents(&file[..file.len() - 3], |r| dec.event(r)).unwrap();
        assert_eq!(report.records, 3);
        assert!(report.damage.unwrap().contains("truncated"));
        assert_eq!(report.bytes, good as u64);

        let mut flipped = file.clone();
        flipped[good + 20] ^= 0x40;
        let mut dec = EventDecoder::default();
        let report = read_tfevents(&flipped[..], |r| dec.event(r)).unwrap();
        assert_eq!(report.records, 3);
        assert!(report.damage.unwrap().contains("CRC"));
    }

    #[test]
    fn reads_hparams() {
        // HParamsPluginData { session_start_info = 3 { hparams = 1 { key = "lr", value = { number_value = 0.1 } } } }
        let mut number = vec![(2 << 3) | 1];
        number.extend_from_slice(&0.1f64.to_le_bytes());
        let mut entry = bytes_field(1, b"lr");
        entry.extend(bytes_field(2, &number));
        let mut entry2 = bytes_field(1, b"opt");
        entry2.extend(bytes_field(2, &bytes_field(3, b"adam")));
        let mut start = bytes_field(1, &entry);
        start.extend(bytes_field(1, &entry2));
        let content = bytes_field(3, &start);
        let mut params = Map::new();
        read_hparams(&content, &mut params);
        assert_eq!(
            Value::Object(params),
            serde_json::json!({"lr": 0.1, "opt": "adam"})
        );
    }

    #[test]
    fn relative_names_use_slashes() {
        assert_eq!(
            relative_name(Path::new("/a/runs/x/train"), Path::new("/a/runs")),
            "x/train"
        );
        assert_eq!(
            relative_name(Path::new("/a/runs/x"), Path::new("/a/runs/x")),
            "x"
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let mut dec = EventDecoder::default();
            let _ = read_tfevents(&data[..], |r| dec.event(r));
            dec.event(&data);
            let _ = scalar_tensor(&data);
        }

        #[test]
        fn framed_garbage_never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let mut dec = EventDecoder::default();
            let framed = frame(&data);
            let report = read_tfevents(&framed[..], |r| dec.event(r)).unwrap();
            proptest::prop_assert_eq!(report.records, 1);
        }
    }
}
