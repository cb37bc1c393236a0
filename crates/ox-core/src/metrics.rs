//! Metric time series: the `metrics/<id>_metrics.jsonl` line format and running summaries.
//!
//! One JSON object per line: `{"type": "metrics", "step": 12, "time": 1732300000.5, "loss": 0.52}`.
//! `type`, `step` and `time` are reserved; every other numeric field is a metric value.
//! Readers accept `NaN`, `Infinity` and `-Infinity` (Python's `json.dumps` writes them),
//! skip lines whose `type` they do not know, and treat an unterminated last line that does
//! not parse as torn (a writer that crashed mid-line): it is reported, never fatal.

use std::borrow::Cow;
use std::fmt;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::CoreError;

mod fast;

/// Placeholder strings that stand for the non-JSON tokens while a line is parsed.
const NAN_TOKEN: &str = "\u{0}ox:NaN";
const POS_INF_TOKEN: &str = "\u{0}ox:+Inf";
const NEG_INF_TOKEN: &str = "\u{0}ox:-Inf";

/// What kind of line this is, from its `type` field (absent means `metrics`).
#[derive(Debug, Clone, PartialEq)]
pub enum LineKind {
    /// Metric values at a step.
    Metrics,
    /// `{"type": "params", "params": {...}}`: params the training process declared (the
    /// Python client's `config`), merged into the run's params.
    Params(Map<String, Value>),
    /// Any other `type`; ignored by readers.
    Other,
}

/// One parsed line. Keys borrow from the line where they contain no escapes.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricLine<'a> {
    pub kind: LineKind,
    pub step: Option<i64>,
    pub time: Option<f64>,
    pub values: Vec<(Cow<'a, str>, f64)>,
}

/// Parses one line of a metrics file. Errors carry serde_json's message.
pub fn parse_metric_line(line: &str) -> Result<MetricLine<'_>, String> {
    let line = line.trim_end_matches(['\n', '\r']);
    // Most lines are flat objects of numbers: parse those without serde (2–3× faster).
    if let Some(parsed) = fast::parse_flat(line) {
        return Ok(parsed);
    }
    parse_metric_line_full(line)
}

/// The full parser (serde), which defines what a line means; the fast path agrees with it.
fn parse_metric_line_full(line: &str) -> Result<MetricLine<'_>, String> {
    if line.contains("NaN") || line.contains("Infinity") {
        let rewritten = replace_nonfinite_tokens(line);
        if let Cow::Owned(text) = rewritten {
            return parse_json_line(&text).map(into_owned_line);
        }
    }
    parse_json_line(line)
}

fn into_owned_line(l: MetricLine<'_>) -> MetricLine<'static> {
    MetricLine {
        kind: l.kind,
        step: l.step,
        time: l.time,
        values: l
            .values
            .into_iter()
            .map(|(k, v)| (Cow::Owned(k.into_owned()), v))
            .collect(),
    }
}

fn parse_json_line(line: &str) -> Result<MetricLine<'_>, String> {
    let mut de = serde_json::Deserializer::from_str(line);
    let parsed = LineSeed.deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(parsed)
}

/// Rewrites bare `NaN` / `Infinity` / `-Infinity` tokens (outside strings) into placeholder
/// strings that the line visitor turns back into floats.
fn replace_nonfinite_tokens(line: &str) -> Cow<'_, str> {
    replace_tokens(
        line,
        [
            "\"\\u0000ox:NaN\"",
            "\"\\u0000ox:+Inf\"",
            "\"\\u0000ox:-Inf\"",
        ],
    )
}

/// Makes JSON written by Python's `json` module (which writes bare `NaN`, `Infinity` and
/// `-Infinity` tokens for non-finite floats) parseable by a strict JSON parser: each such
/// token outside a string becomes the JSON string `"NaN"`, `"Infinity"` or `"-Infinity"`.
/// Read such values back with [`json_number`].
pub fn nonfinite_tokens_as_strings(text: &str) -> Cow<'_, str> {
    if !text.contains("NaN") && !text.contains("Infinity") {
        return Cow::Borrowed(text);
    }
    replace_tokens(text, ["\"NaN\"", "\"Infinity\"", "\"-Infinity\""])
}

/// A JSON value as a number: numbers as they are, and the strings `"NaN"`, `"Infinity"`,
/// `"-Infinity"` (see [`nonfinite_tokens_as_strings`]) as the non-finite floats.
pub fn json_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// Replaces the bare tokens `NaN`, `Infinity`, `-Infinity` (outside strings) by the given
/// JSON texts, in that order.
fn replace_tokens<'a>(line: &'a str, replacements: [&str; 3]) -> Cow<'a, str> {
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len() + 16);
    let mut in_string = false;
    let mut escaped = false;
    let mut changed = false;
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        // Bytes, not `&line[i..]`: outside strings, invalid input may hold non-ASCII.
        let rest = bytes.get(i..).unwrap_or_default();
        let token = if b == b'"' {
            in_string = true;
            None
        } else if rest.starts_with(b"NaN") {
            Some((3, replacements[0]))
        } else if rest.starts_with(b"Infinity") {
            Some((8, replacements[1]))
        } else if rest.starts_with(b"-Infinity") {
            Some((9, replacements[2]))
        } else {
            None
        };
        match token {
            Some((len, replacement)) => {
                out.push_str(&line[copied..i]);
                out.push_str(replacement);
                i += len;
                copied = i;
                changed = true;
            }
            None => i += 1,
        }
    }
    if !changed {
        return Cow::Borrowed(line);
    }
    out.push_str(&line[copied..]);
    Cow::Owned(out)
}

struct LineSeed;

impl<'de> DeserializeSeed<'de> for LineSeed {
    type Value = MetricLine<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(LineVisitor)
    }
}

struct LineVisitor;

impl<'de> Visitor<'de> for LineVisitor {
    type Value = MetricLine<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kind_name: Option<Cow<'de, str>> = None;
        let mut params: Option<Map<String, Value>> = None;
        let mut line = MetricLine {
            kind: LineKind::Metrics,
            step: None,
            time: None,
            values: Vec::new(),
        };
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key.0.as_ref() {
                "type" => kind_name = map.next_value::<Option<Key<'de>>>()?.map(|k| k.0),
                "step" => {
                    line.step = match map.next_value::<Scalar>()? {
                        Scalar::Number(f) if f.is_finite() && f.fract() == 0.0 => Some(f as i64),
                        Scalar::Number(_) => {
                            return Err(de::Error::custom("step must be an integer"));
                        }
                        Scalar::Ignored => None,
                    }
                }
                "time" => {
                    line.time = match map.next_value::<Scalar>()? {
                        Scalar::Number(f) => Some(f),
                        Scalar::Ignored => None,
                    }
                }
                "params" => params = map.next_value::<Option<Map<String, Value>>>()?,
                _ => {
                    if let Scalar::Number(v) = map.next_value::<Scalar>()? {
                        line.values.push((key.0, v));
                    }
                }
            }
        }
        line.kind = match kind_name.as_deref() {
            None | Some("metrics") => LineKind::Metrics,
            Some("params") => LineKind::Params(params.unwrap_or_default()),
            Some(_) => LineKind::Other,
        };
        if line.kind != LineKind::Metrics {
            line.values.clear();
        }
        Ok(line)
    }
}

/// An object key, borrowed from the input when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A field value as far as metrics care: a number (including the non-finite placeholders)
/// or something to ignore (strings, booleans, null, arrays, objects).
enum Scalar {
    Number(f64),
    Ignored,
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar::Number(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar::Number(v as f64))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar, E> {
                Ok(Scalar::Ignored)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(match v {
                    NAN_TOKEN => Scalar::Number(f64::NAN),
                    POS_INF_TOKEN => Scalar::Number(f64::INFINITY),
                    NEG_INF_TOKEN => Scalar::Number(f64::NEG_INFINITY),
                    _ => Scalar::Ignored,
                })
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar::Ignored)
            }
            fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar::Ignored)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
                Scalar::deserialize(d)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Ignored)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Ignored)
            }
        }
        d.deserialize_any(V)
    }
}

/// Summary of one metric's series, as shown by `ox show` and stored in the catalog.
/// `min`, `max` and `mean` skip NaN values; `count` counts every point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    pub first: f64,
    pub last: f64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    pub count: u64,
    pub last_step: i64,
}

impl MetricSummary {
    /// One aggregate by its name in queries and flags: `first`, `last`, `min`, `max`, `mean`,
    /// `count` or `last_step`.
    pub fn get(&self, aggregate: &str) -> Option<f64> {
        Some(match aggregate {
            "first" => self.first,
            "last" => self.last,
            "min" => self.min,
            "max" => self.max,
            "mean" => self.mean,
            "count" => self.count as f64,
            "last_step" => self.last_step as f64,
            _ => return None,
        })
    }
}

/// Running aggregate of one metric's points, resumable: the catalog stores it with the byte
/// offset it covers, so appending to a metrics file only costs reading the new lines.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricAccumulator {
    pub first: Option<f64>,
    pub last: Option<f64>,
    pub last_step: Option<i64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub sum: f64,
    /// Points that are not NaN (those in min, max and sum).
    pub counted: u64,
    pub count: u64,
}

impl MetricAccumulator {
    /// Adds one point.
    pub fn push(&mut self, step: i64, value: f64) {
        if self.count == 0 {
            self.first = Some(value);
        }
        self.last = Some(value);
        self.last_step = Some(step);
        self.count += 1;
        if !value.is_nan() {
            self.min = Some(self.min.map_or(value, |m| m.min(value)));
            self.max = Some(self.max.map_or(value, |m| m.max(value)));
            self.sum += value;
            self.counted += 1;
        }
    }

    /// The summary so far; `None` before the first point. A NaN `first`/`last` is stored as
    /// JSON `null` (the catalog's resumable state) and comes back as `None`: it reads NaN.
    pub fn summary(&self) -> Option<MetricSummary> {
        if self.count == 0 {
            return None;
        }
        Some(MetricSummary {
            first: self.first.unwrap_or(f64::NAN),
            last: self.last.unwrap_or(f64::NAN),
            min: self.min.unwrap_or(f64::NAN),
            max: self.max.unwrap_or(f64::NAN),
            mean: if self.counted > 0 {
                self.sum / self.counted as f64
            } else {
                f64::NAN
            },
            count: self.count,
            last_step: self.last_step?,
        })
    }
}

/// Where an incremental read of a metrics file stopped, and what it met on the way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsScan {
    /// Byte offset just past the last newline-terminated line read.
    pub end_offset: u64,
    /// The step of the last metrics line delivered (a line without `step` gets this + 1).
    pub last_step: Option<i64>,
    /// Text after the last newline, if any: a line still being written, or torn by a crash.
    pub tail: Option<String>,
    /// Terminated lines that did not parse: `(1-based line number within this read, error)`.
    pub bad_lines: Vec<(u64, String)>,
}

/// Reads a metrics file from `start_offset`, calling `on_line` for every complete line with
/// its resolved step. `last_step` is the step state left by the previous read. Lines that do
/// not parse are reported in the result and skipped.
pub struct MetricsFileReader;

impl MetricsFileReader {
    /// Reads from `start_offset` to the end of the file.
    pub fn scan(
        path: &Path,
        start_offset: u64,
        last_step: Option<i64>,
        mut on_line: impl FnMut(i64, &MetricLine<'_>),
    ) -> Result<MetricsScan, CoreError> {
        let mut file = fs_err::File::open(path).map_err(|e| CoreError::io("open", path, e))?;
        file.seek(SeekFrom::Start(start_offset))
            .map_err(|e| CoreError::io("seek", path, e))?;
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let mut scan = MetricsScan {
            end_offset: start_offset,
            last_step,
            ..MetricsScan::default()
        };
        let mut buf = Vec::with_capacity(256);
        let mut line_no = 0u64;
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(|e| CoreError::io("read", path, e))?;
            if n == 0 {
                break;
            }
            if buf.last() != Some(&b'\n') {
                scan.tail = Some(String::from_utf8_lossy(&buf).into_owned());
                break;
            }
            line_no += 1;
            scan.end_offset += n as u64;
            let text = match std::str::from_utf8(&buf) {
                Ok(t) => t,
                Err(e) => {
                    scan.bad_lines.push((line_no, format!("not UTF-8: {e}")));
                    continue;
                }
            };
            if text.trim().is_empty() {
                continue;
            }
            match parse_metric_line(text) {
                Ok(line) => {
                    if line.kind == LineKind::Metrics {
                        let step = line
                            .step
                            .unwrap_or_else(|| scan.last_step.map_or(0, |s| s + 1));
                        scan.last_step = Some(step);
                        on_line(step, &line);
                    } else {
                        on_line(scan.last_step.unwrap_or(0), &line);
                    }
                }
                Err(e) => scan.bad_lines.push((line_no, e)),
            }
        }
        Ok(scan)
    }

    /// Reads a whole file into per-metric series `(step, value)`, in file order, and the
    /// params declared by `params` lines. The unterminated tail is included when it parses.
    pub fn read_series(path: &Path) -> Result<SeriesFile, CoreError> {
        let mut out = SeriesFile::default();
        let mut push = |step: i64, line: &MetricLine<'_>| match &line.kind {
            LineKind::Metrics => {
                for (k, v) in &line.values {
                    match out.series.iter_mut().find(|(name, _)| name == k) {
                        Some((_, s)) => s.push((step, *v)),
                        None => out.series.push((k.to_string(), vec![(step, *v)])),
                    }
                }
            }
            LineKind::Params(p) => crate::deep_merge(&mut out.params, p),
            LineKind::Other => {}
        };
        let scan = Self::scan(path, 0, None, &mut push)?;
        if let Some(tail) = &scan.tail {
            match parse_metric_line(tail) {
                Ok(line) => {
                    let step = line
                        .step
                        .unwrap_or_else(|| scan.last_step.map_or(0, |s| s + 1));
                    push(step, &line);
                }
                Err(_) => out.torn_tail = true,
            }
        }
        out.bad_lines = scan.bad_lines;
        Ok(out)
    }
}

/// A metrics file read whole (see [`MetricsFileReader::read_series`]).
#[derive(Debug, Clone, Default)]
pub struct SeriesFile {
    /// `(metric name, points)` in order of first appearance.
    pub series: Vec<(String, Vec<(i64, f64)>)>,
    pub params: Map<String, Value>,
    pub bad_lines: Vec<(u64, String)>,
    pub torn_tail: bool,
}

/// Reads a file's bytes from an offset (used by tests and by readers of small files).
pub fn read_from(path: &Path, offset: u64) -> Result<Vec<u8>, CoreError> {
    let mut file = fs_err::File::open(path).map_err(|e| CoreError::io("open", path, e))?;
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| CoreError::io("seek", path, e))?;
    let mut out = Vec::new();
    file.read_to_end(&mut out)
        .map_err(|e| CoreError::io("read", path, e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_nonfinite_tokens_become_strings_outside_strings_only() {
        let text = r#"{"a": NaN, "b": [Infinity, -Infinity], "s": "NaN -Infinity", "é": 1}"#;
        let fixed = nonfinite_tokens_as_strings(text);
        let v: Value = serde_json::from_str(&fixed).unwrap();
        assert!(json_number(&v["a"]).unwrap().is_nan());
        assert_eq!(json_number(&v["b"][0]), Some(f64::INFINITY));
        assert_eq!(json_number(&v["b"][1]), Some(f64::NEG_INFINITY));
        assert_eq!(v["s"], "NaN -Infinity");
        assert_eq!(json_number(&v["é"]), Some(1.0));
        assert!(matches!(
            nonfinite_tokens_as_strings("{}"),
            Cow::Borrowed(_)
        ));
        // Non-ASCII outside strings (invalid JSON) must not panic the scanner.
        let _ = nonfinite_tokens_as_strings("{é NaN ü}");
    }

    #[test]
    fn parses_metrics_with_reserved_fields() {
        let l = parse_metric_line(r#"{"type": "metrics", "step": 12, "time": 1732300000.5, "loss": 0.52, "lr": 3e-4, "note": "x"}"#).unwrap();
        assert_eq!(l.kind, LineKind::Metrics);
        assert_eq!(l.step, Some(12));
        assert_eq!(l.time, Some(1732300000.5));
        assert_eq!(
            l.values,
            vec![(Cow::Borrowed("loss"), 0.52), (Cow::Borrowed("lr"), 3e-4)]
        );
    }

    #[test]
    fn accepts_python_nonfinite_tokens_but_not_inside_strings() {
        let l = parse_metric_line(
            r#"{"step": 1, "a": NaN, "b": Infinity, "c": -Infinity, "s": "NaN Infinity"}"#,
        )
        .unwrap();
        assert!(l.values[0].1.is_nan());
        assert_eq!(l.values[1].1, f64::INFINITY);
        assert_eq!(l.values[2].1, f64::NEG_INFINITY);
        assert_eq!(l.values.len(), 3);
    }

    #[test]
    fn unknown_types_and_params_lines() {
        let l = parse_metric_line(r#"{"type": "event", "loss": 1}"#).unwrap();
        assert_eq!(l.kind, LineKind::Other);
        assert!(l.values.is_empty());
        let p = parse_metric_line(r#"{"params": {"lr": 0.1}, "type": "params"}"#).unwrap();
        assert!(matches!(p.kind, LineKind::Params(m) if m["lr"] == 0.1));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_metric_line("{\"loss\": 0.5").is_err());
        assert!(parse_metric_line("[1,2]").is_err());
        assert!(parse_metric_line("{\"step\": 1.5}").is_err());
        assert!(parse_metric_line("{} {}").is_err());
    }

    #[test]
    fn scan_infers_steps_resumes_and_reports_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        std::fs::write(
            &path,
            "{\"loss\": 3}\n{\"loss\": 2}\nnot json\n{\"step\": 10, \"loss\": 1}\n{\"loss\": 0.",
        )
        .unwrap();
        let mut acc = MetricAccumulator::default();
        let scan = MetricsFileReader::scan(&path, 0, None, |step, l| {
            for (_, v) in &l.values {
                acc.push(step, *v);
            }
        })
        .unwrap();
        assert_eq!(scan.bad_lines.len(), 1);
        assert_eq!(scan.tail.as_deref(), Some("{\"loss\": 0."));
        let s = acc.summary().unwrap();
        assert_eq!(
            (s.first, s.last, s.min, s.max, s.count, s.last_step),
            (3.0, 1.0, 1.0, 3.0, 3, 10)
        );
        assert_eq!(s.mean, 2.0);
        // The writer finishes the line; a resumed scan reads only the new bytes.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"5}\n{\"loss\": 0.25}\n"))
            .unwrap();
        let resumed = MetricsFileReader::scan(&path, scan.end_offset, scan.last_step, |step, l| {
            for (_, v) in &l.values {
                acc.push(step, *v);
            }
        })
        .unwrap();
        assert_eq!(resumed.tail, None);
        let s = acc.summary().unwrap();
        assert_eq!((s.last, s.min, s.count, s.last_step), (0.25, 0.25, 5, 12));
    }

    #[test]
    fn nan_values_are_counted_but_not_in_min_max_mean() {
        let mut acc = MetricAccumulator::default();
        acc.push(0, 1.0);
        acc.push(1, f64::NAN);
        acc.push(2, 3.0);
        let s = acc.summary().unwrap();
        assert_eq!((s.min, s.max, s.mean, s.count), (1.0, 3.0, 2.0, 3));
        assert!(MetricAccumulator::default().summary().is_none());
    }

    #[test]
    fn summary_aggregates_by_name() {
        let mut acc = MetricAccumulator::default();
        acc.push(3, 2.0);
        acc.push(4, 1.0);
        let s = acc.summary().unwrap();
        let got: Vec<Option<f64>> = [
            "first",
            "last",
            "min",
            "max",
            "mean",
            "count",
            "last_step",
            "p50",
        ]
        .iter()
        .map(|a| s.get(a))
        .collect();
        assert_eq!(
            got,
            [
                Some(2.0),
                Some(1.0),
                Some(1.0),
                Some(2.0),
                Some(1.5),
                Some(2.0),
                Some(4.0),
                None
            ]
        );
    }

    #[test]
    fn nan_first_and_last_survive_the_stored_state() {
        // The catalog keeps accumulators as JSON, where NaN becomes null. A metric whose
        // first or last value is NaN (a diverged run) must not vanish after a resume.
        let mut acc = MetricAccumulator::default();
        acc.push(0, f64::NAN);
        acc.push(1, 2.0);
        acc.push(2, f64::NAN);
        let json = serde_json::to_string(&acc).unwrap();
        let mut back: MetricAccumulator = serde_json::from_str(&json).unwrap();
        let s = back.summary().expect("a summary after the round trip");
        assert!(s.first.is_nan() && s.last.is_nan());
        assert_eq!((s.min, s.max, s.count, s.last_step), (2.0, 2.0, 3, 2));
        back.push(3, 1.0);
        let s = back.summary().unwrap();
        assert!(s.first.is_nan(), "a later point does not become the first");
        assert_eq!((s.last, s.min, s.count), (1.0, 1.0, 4));
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = parse_metric_line(&s);
        }
    }
}
