//! Writing metrics JSONL lines (the format [`crate::metrics`] reads), buffered and without
//! allocating per point: importers and the supervisor write millions of points with it.
//!
//! Non-finite values are written as the bare tokens `NaN`, `Infinity` and `-Infinity`, which
//! every ox reader accepts (Python's `json.dumps` writes the same).

use std::io::{self, Write};

/// A metric name, JSON-escaped once so that writing it again costs a copy only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricKey {
    name: String,
    /// `"name":` with the quotes and the colon, ready to copy into a line.
    quoted: String,
}

impl MetricKey {
    /// Escapes `name` for use as a field of a metrics line. Reserved names (`type`, `step`,
    /// `time`) are the caller's business: they would be read back as the reserved fields.
    pub fn new(name: &str) -> Self {
        let mut quoted = serde_json::to_string(name)
            .unwrap_or_else(|_| format!("\"{}\"", name.escape_default()));
        quoted.push(':');
        MetricKey {
            name: name.to_string(),
            quoted,
        }
    }

    /// The metric's name as given.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Writes `{"type":"metrics","step":N,"time":T,"name":value,...}` lines to any writer.
/// Wrap files in a `BufWriter` (or use [`MetricsWriter::create`]); call
/// [`MetricsWriter::finish`] to flush and get errors.
pub struct MetricsWriter<W: Write> {
    out: W,
    line: Vec<u8>,
}

impl MetricsWriter<io::BufWriter<std::fs::File>> {
    /// Creates (or truncates) a metrics file, buffered.
    pub fn create(path: &std::path::Path) -> Result<Self, crate::CoreError> {
        let file =
            std::fs::File::create(path).map_err(|e| crate::CoreError::io("create", path, e))?;
        Ok(MetricsWriter::new(io::BufWriter::with_capacity(
            1 << 16,
            file,
        )))
    }
}

impl<W: Write> MetricsWriter<W> {
    /// Writes lines to `out`.
    pub fn new(out: W) -> Self {
        MetricsWriter {
            out,
            line: Vec::with_capacity(256),
        }
    }

    /// Writes one metrics line. `time` is seconds since the Unix epoch; a non-finite time is
    /// left out.
    pub fn write_line<'k>(
        &mut self,
        step: Option<i64>,
        time: Option<f64>,
        values: impl IntoIterator<Item = (&'k MetricKey, f64)>,
    ) -> io::Result<()> {
        let line = &mut self.line;
        line.clear();
        line.extend_from_slice(br#"{"type":"metrics""#);
        if let Some(step) = step {
            line.extend_from_slice(br#","step":"#);
            line.extend_from_slice(itoa_i64(step, &mut [0u8; 20]));
        }
        if let Some(t) = time.filter(|t| t.is_finite()) {
            line.extend_from_slice(br#","time":"#);
            push_f64(line, t);
        }
        for (key, value) in values {
            line.push(b',');
            line.extend_from_slice(key.quoted.as_bytes());
            push_f64(line, value);
        }
        line.extend_from_slice(b"}\n");
        self.out.write_all(line)
    }

    /// Writes a `{"type":"params","params":{...}}` line.
    pub fn write_params(
        &mut self,
        params: &serde_json::Map<String, serde_json::Value>,
    ) -> io::Result<()> {
        let obj = serde_json::json!({"type": "params", "params": params});
        let mut text = serde_json::to_vec(&obj).map_err(io::Error::other)?;
        text.push(b'\n');
        self.out.write_all(&text)
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Appends a float as JSON, with the non-finite tokens for NaN and infinities. Integral
/// values print without a fraction (`3` rather than `3.0`) — they read back the same.
fn push_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v == f64::INFINITY {
        out.extend_from_slice(b"Infinity");
    } else if v == f64::NEG_INFINITY {
        out.extend_from_slice(b"-Infinity");
    } else {
        let mut buf = ryu::Buffer::new();
        let s = buf.format_finite(v);
        let s = s.strip_suffix(".0").unwrap_or(s);
        out.extend_from_slice(s.as_bytes());
    }
}

fn itoa_i64(v: i64, buf: &mut [u8; 20]) -> &[u8] {
    let negative = v < 0;
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if negative {
        // i64::MIN has 19 digits, so there is always room for the sign.
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LineKind, parse_metric_line};

    #[test]
    fn lines_round_trip_through_the_reader() {
        let loss = MetricKey::new("train/loss");
        let odd = MetricKey::new("a \"quoted\" name");
        let mut w = MetricsWriter::new(Vec::new());
        w.write_line(Some(-12), Some(1.5e9), [(&loss, 0.25), (&odd, f64::NAN)])
            .unwrap();
        w.write_line(
            Some(i64::MIN),
            None,
            [(&loss, f64::INFINITY), (&odd, f64::NEG_INFINITY)],
        )
        .unwrap();
        w.write_line(None, Some(f64::NAN), [(&loss, 3.0), (&odd, 1e-300)])
            .unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        let lines: Vec<_> = text
            .lines()
            .map(|l| parse_metric_line(l).unwrap())
            .collect();
        assert_eq!(lines[0].step, Some(-12));
        assert_eq!(lines[0].time, Some(1.5e9));
        assert_eq!(lines[0].values[0], ("train/loss".into(), 0.25));
        assert_eq!(lines[0].values[1].0, "a \"quoted\" name");
        assert!(lines[0].values[1].1.is_nan());
        assert_eq!(lines[1].step, Some(i64::MIN));
        assert_eq!(lines[1].values[1].1, f64::NEG_INFINITY);
        assert_eq!(lines[2].step, None);
        assert_eq!(lines[2].time, None);
        assert_eq!(lines[2].values[1].1, 1e-300);
        assert!(text.contains("\"train/loss\":3,"));
        assert!(lines.iter().all(|l| l.kind == LineKind::Metrics));
    }

    #[test]
    fn params_line_reads_back() {
        let mut p = serde_json::Map::new();
        p.insert("lr".into(), serde_json::json!(0.1));
        let mut w = MetricsWriter::new(Vec::new());
        w.write_params(&p).unwrap();
        let text = String::from_utf8(w.finish().unwrap()).unwrap();
        assert!(
            matches!(parse_metric_line(&text).unwrap().kind, LineKind::Params(m) if m["lr"] == 0.1)
        );
    }

    proptest::proptest! {
        #[test]
        fn any_value_round_trips(v in proptest::num::f64::ANY, step in -(1i64 << 53)..(1i64 << 53)) {
            let k = MetricKey::new("x");
            let mut w = MetricsWriter::new(Vec::new());
            w.write_line(Some(step), None, [(&k, v)]).unwrap();
            let text = String::from_utf8(w.finish().unwrap()).unwrap();
            let line = parse_metric_line(&text).unwrap();
            proptest::prop_assert_eq!(line.step, Some(step));
            let back = line.values[0].1;
            proptest::prop_assert!(back == v || (back.is_nan() && v.is_nan()));
        }
    }
}
