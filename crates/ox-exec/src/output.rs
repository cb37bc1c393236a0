//! The command's output: shown live on ox's own stdout/stderr, saved interleaved in
//! `runs/<id>/stdout.log` (whole lines, written as they complete so a crash keeps them), and
//! handed line by line to an optional [`LineObserver`] that may turn lines into metrics.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use crate::seams::{Clock, unix_secs};

/// Which stream of the command a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Metric values an observer found in a line; appended to the run's metrics file as one
/// `{"type":"metrics",...}` line (with the current time; `step` omitted when `None`, which
/// readers take as "one more than the previous line").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservedMetrics {
    pub step: Option<i64>,
    pub values: Vec<(String, f64)>,
}

/// Watches every complete line of the command's output (both streams, without the line
/// terminator; `\r`-terminated progress-bar frames count as lines). Returning metrics
/// appends them to the run's metrics file.
///
/// Any `FnMut(Stream, &str) -> Option<ObservedMetrics> + Send` closure is an observer.
pub trait LineObserver: Send {
    /// Called once per line, in the order lines complete on each stream.
    fn observe(&mut self, stream: Stream, line: &str) -> Option<ObservedMetrics>;
}

impl<F> LineObserver for F
where
    F: FnMut(Stream, &str) -> Option<ObservedMetrics> + Send,
{
    fn observe(&mut self, stream: Stream, line: &str) -> Option<ObservedMetrics> {
        self(stream, line)
    }
}

/// Formats observed metrics as a metrics-file line (with its newline). Non-finite values are
/// written as the `NaN`/`Infinity` tokens that readers accept; keys are JSON-escaped.
pub fn metrics_line(m: &ObservedMetrics, time: f64) -> String {
    let mut out = String::with_capacity(64 + 24 * m.values.len());
    out.push_str(r#"{"type":"metrics""#);
    if let Some(step) = m.step {
        let _ = write!(out, r#","step":{step}"#);
    }
    out.push_str(r#","time":"#);
    push_number(&mut out, time);
    for (k, v) in &m.values {
        out.push(',');
        out.push_str(&serde_json::Value::from(k.as_str()).to_string());
        out.push(':');
        push_number(&mut out, *v);
    }
    out.push_str("}\n");
    out
}

fn push_number(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
    } else {
        // serde_json prints the shortest text that reads back as the same f64.
        out.push_str(&serde_json::Value::from(v).to_string());
    }
}

/// Longest partial line kept waiting for its terminator before it is written out anyway.
const MAX_PENDING: usize = 64 * 1024;

/// Where complete lines go: the log file, the observer and the metrics file it feeds.
pub(crate) struct LineSink {
    pub log: Mutex<fs_err::File>,
    pub observer: Option<Mutex<Box<dyn LineObserver>>>,
    pub metrics: Option<Mutex<fs_err::File>>,
    pub clock: Arc<dyn Clock>,
}

impl LineSink {
    fn lines(&self, stream: Stream, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Ok(mut log) = self.log.lock() {
            let _ = log.write_all(bytes);
        }
        let Some(observer) = &self.observer else {
            return;
        };
        let Ok(mut observer) = observer.lock() else {
            return;
        };
        let mut out = String::new();
        for line in bytes.split(|&b| b == b'\n' || b == b'\r') {
            if line.is_empty() {
                continue;
            }
            let text = String::from_utf8_lossy(line);
            if let Some(m) = observer.observe(stream, &text)
                && !m.values.is_empty()
            {
                out.push_str(&metrics_line(&m, unix_secs(self.clock.now())));
            }
        }
        if !out.is_empty()
            && let Some(metrics) = &self.metrics
            && let Ok(mut f) = metrics.lock()
        {
            let _ = f.write_all(out.as_bytes());
        }
    }
}

/// Copies `reader` to `console` as bytes arrive (progress bars stay live) and hands complete
/// lines to `sink`. Returns at end of input. A console that fails (closed pipe) is dropped;
/// logging goes on.
pub(crate) fn pump(
    mut reader: impl Read,
    stream: Stream,
    mut console: Option<Box<dyn Write + Send>>,
    sink: &LineSink,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        let chunk = buf.get(..n).unwrap_or_default();
        if let Some(c) = console.as_mut()
            && c.write_all(chunk).and_then(|()| c.flush()).is_err()
        {
            console = None;
        }
        match chunk.iter().rposition(|&b| b == b'\n' || b == b'\r') {
            Some(end) => {
                let (complete, rest) = chunk.split_at(end + 1);
                if pending.is_empty() {
                    sink.lines(stream, complete);
                } else {
                    pending.extend_from_slice(complete);
                    sink.lines(stream, &pending);
                    pending.clear();
                }
                pending.extend_from_slice(rest);
            }
            None => pending.extend_from_slice(chunk),
        }
        if pending.len() > MAX_PENDING {
            sink.lines(stream, &pending);
            pending.clear();
        }
    }
    if !pending.is_empty() {
        pending.push(b'\n');
        sink.lines(stream, &pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seams::FixedClock;

    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Yields its input in fixed-size pieces, like a pipe delivering partial writes.
    struct Trickle(Vec<u8>, usize);
    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(self.0.len()).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
            Ok(n)
        }
    }

    #[test]
    fn metrics_lines_read_back() {
        let m = ObservedMetrics {
            step: Some(3),
            values: vec![
                ("train/loss".into(), 0.25),
                ("bad \"k\"".into(), f64::NAN),
                ("x".into(), f64::NEG_INFINITY),
            ],
        };
        let line = metrics_line(&m, 1.5);
        assert_eq!(
            line,
            "{\"type\":\"metrics\",\"step\":3,\"time\":1.5,\"train/loss\":0.25,\"bad \\\"k\\\"\":NaN,\"x\":-Infinity}\n"
        );
        let parsed = ox_core::parse_metric_line(&line).unwrap();
        assert_eq!(parsed.step, Some(3));
        assert_eq!(parsed.values.len(), 3);
        let no_step = metrics_line(
            &ObservedMetrics {
                step: None,
                values: vec![("a".into(), 1e300)],
            },
            2.0,
        );
        assert_eq!(
            no_step,
            "{\"type\":\"metrics\",\"time\":2.0,\"a\":1e+300}\n"
        );
    }

    #[test]
    fn pump_tees_output_and_observes_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log_path = dir.path().join("stdout.log");
        let metrics_path = dir.path().join("m.jsonl");
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let seen2 = seen.clone();
        let observer = move |_s: Stream, line: &str| {
            seen2.lock().unwrap().push(line.to_string());
            let v: f64 = line.strip_prefix("loss=")?.parse().ok()?;
            Some(ObservedMetrics {
                step: None,
                values: vec![("loss".to_string(), v)],
            })
        };
        let sink = LineSink {
            log: Mutex::new(fs_err::File::create(&log_path).unwrap()),
            observer: Some(Mutex::new(Box::new(observer))),
            metrics: Some(Mutex::new(fs_err::File::create(&metrics_path).unwrap())),
            clock: Arc::new(FixedClock(
                chrono::DateTime::from_timestamp(100, 0).unwrap(),
            )),
        };
        let input = b"hello\nloss=0.5\nprogress 1%\rprogress 2%\rloss=0.25\nunterminated".to_vec();
        let console = Arc::new(Mutex::new(Vec::new()));
        pump(
            Trickle(input.clone(), 3),
            Stream::Stdout,
            Some(Box::new(Shared(console.clone()))),
            &sink,
        );
        assert_eq!(*console.lock().unwrap(), input);
        assert_eq!(
            *seen.lock().unwrap(),
            vec![
                "hello",
                "loss=0.5",
                "progress 1%",
                "progress 2%",
                "loss=0.25",
                "unterminated"
            ]
        );
        let log = std::fs::read_to_string(&log_path).unwrap();
        assert_eq!(
            log,
            "hello\nloss=0.5\nprogress 1%\rprogress 2%\rloss=0.25\nunterminated\n"
        );
        let metrics = std::fs::read_to_string(&metrics_path).unwrap();
        assert_eq!(
            metrics,
            "{\"type\":\"metrics\",\"time\":100.0,\"loss\":0.5}\n{\"type\":\"metrics\",\"time\":100.0,\"loss\":0.25}\n"
        );
    }
}
