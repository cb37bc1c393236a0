//! A fast path for the common metrics line: a flat object of plain keys and numbers (plus
//! `"type": "metrics"` and the `NaN`/`Infinity` tokens). Anything else — escapes, nested
//! values, strings other than the type, `null`/booleans, bad grammar — returns `None` and the
//! line goes through the full serde parser, which defines the semantics (and the errors).
//! On the lines it accepts, this parser gives exactly what the full one gives.

use std::borrow::Cow;

use super::{LineKind, MetricLine};

struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }
    fn eat(&mut self, b: u8) -> Option<()> {
        self.skip_ws();
        (self.peek() == Some(b)).then(|| self.pos += 1)
    }
    /// A string without escapes or control characters, after its opening quote.
    fn plain_string(&mut self) -> Option<&'a str> {
        let rest = self.text.get(self.pos..)?;
        let end = rest
            .bytes()
            .position(|b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest.as_bytes().get(end) != Some(&b'"') {
            return None;
        }
        self.pos += end + 1;
        rest.get(..end)
    }
    /// A JSON number or one of the non-finite tokens.
    fn number(&mut self) -> Option<f64> {
        let rest = self.text.get(self.pos..)?;
        for (token, value) in [
            ("NaN", f64::NAN),
            ("Infinity", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
        ] {
            if rest.starts_with(token) {
                self.pos += token.len();
                return Some(value);
            }
        }
        let bytes = rest.as_bytes();
        let mut i = usize::from(bytes.first() == Some(&b'-'));
        let int_start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let int_len = i - int_start;
        if int_len == 0 || (int_len > 1 && bytes.get(int_start) == Some(&b'0')) {
            return None;
        }
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return None;
            }
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(bytes.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let start = i;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return None;
            }
        }
        let text = rest.get(..i)?;
        // serde_json rejects literals beyond f64's range; so do we (by deferring).
        let value = text.parse::<f64>().ok().filter(|v| v.is_finite())?;
        self.pos += i;
        Some(value)
    }
}

/// Parses a flat metrics line, or returns `None` to defer to the full parser.
pub(super) fn parse_flat(line: &str) -> Option<MetricLine<'_>> {
    let mut c = Cursor { text: line, pos: 0 };
    c.eat(b'{')?;
    let mut out = MetricLine {
        kind: LineKind::Metrics,
        step: None,
        time: None,
        values: Vec::with_capacity(8),
        skipped: Vec::new(),
    };
    c.skip_ws();
    if c.peek() == Some(b'}') {
        c.pos += 1;
    } else {
        loop {
            c.eat(b'"')?;
            let key = c.plain_string()?;
            c.eat(b':')?;
            c.skip_ws();
            if key == "type" {
                c.eat(b'"')?;
                if c.plain_string()? != "metrics" {
                    return None;
                }
            } else {
                if key == "params" {
                    return None;
                }
                let v = c.number()?;
                match key {
                    "step" if v.is_finite() && v.fract() == 0.0 => out.step = Some(v as i64),
                    "step" => return None,
                    "time" => out.time = Some(v),
                    _ => out.values.push((Cow::Borrowed(key), v)),
                }
            }
            c.skip_ws();
            match c.peek() {
                Some(b',') => c.pos += 1,
                Some(b'}') => {
                    c.pos += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    c.skip_ws();
    (c.pos == line.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::super::parse_metric_line_full;
    use super::*;
    use proptest::prelude::*;

    fn same(a: &MetricLine<'_>, b: &MetricLine<'_>) -> bool {
        let eq = |x: f64, y: f64| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
        a.kind == b.kind
            && a.step == b.step
            && match (a.time, b.time) {
                (Some(x), Some(y)) => eq(x, y),
                (x, y) => x.is_none() && y.is_none(),
            }
            && a.values.len() == b.values.len()
            && a.values
                .iter()
                .zip(&b.values)
                .all(|((k1, v1), (k2, v2))| k1 == k2 && eq(*v1, *v2))
    }

    #[test]
    fn accepts_common_lines_and_defers_the_rest() {
        let l = parse_flat(r#"{"type":"metrics","step":3,"time":1.5e9,"train/loss":0.25,"x":NaN,"y":-Infinity,"z":-0}"#).unwrap();
        assert_eq!(l.step, Some(3));
        assert_eq!(l.values.len(), 4);
        assert!(
            l.values[3].1.is_sign_negative(),
            "serde_json reads -0 as -0.0 too"
        );
        for deferred in [
            r#"{"a\"b": 1}"#,
            r#"{"a": "x"}"#,
            r#"{"a": null}"#,
            r#"{"a": 01}"#,
            r#"{"a": 1.}"#,
            r#"{"a": +1}"#,
            r#"{"step": 1.5}"#,
            r#"{"type": "event"}"#,
            r#"{"a": 1} x"#,
            r#"{"a": 1,}"#,
            r#"{"a": [1]}"#,
        ] {
            assert!(parse_flat(deferred).is_none(), "{deferred}");
        }
    }

    fn number_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<f64>().prop_map(|f| format!("{f:?}")),
            any::<i64>().prop_map(|i| i.to_string()),
            any::<u64>().prop_map(|i| i.to_string()),
            Just("NaN".to_string()),
            Just("-Infinity".to_string()),
            Just("-0".to_string()),
            Just("1e400".to_string()),
            "-?[0-9]{1,25}(\\.[0-9]{1,20})?([eE][-+]?[0-9]{1,3})?",
        ]
    }

    proptest! {
        #[test]
        fn agrees_with_the_full_parser(
            fields in proptest::collection::vec(("(step|time|type|[a-z/]{1,6})", number_text()), 0..6),
            spaces in " {0,2}",
        ) {
            let body: Vec<String> = fields
                .iter()
                .map(|(k, v)| if k == "type" { format!("\"type\":{spaces}\"metrics\"") } else { format!("\"{k}\":{spaces}{v}") })
                .collect();
            let line = format!("{{{spaces}{}{spaces}}}", body.join(","));
            let full = parse_metric_line_full(&line);
            if let Some(fast) = parse_flat(&line) {
                let full = full.map_err(|e| TestCaseError::fail(format!("{line}: fast accepted, full failed: {e}")))?;
                prop_assert!(same(&fast, &full), "{line}: {fast:?} vs {full:?}");
            }
        }

        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse_flat(&s);
        }
    }
}
