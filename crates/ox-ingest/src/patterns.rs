//! User patterns for text logs, from `.ox/config.toml` (its shape: `ox_core::ProjectConfig`):
//!
//! ```toml
//! [[log_patterns]]
//! regex = 'Loss: (?P<loss>[0-9.eE+-]+)'
//! ```
//!
//! Each named group is a metric (its name is the group's); a group named `step` gives the
//! step. `ox import` applies them to text logs and `ox run` to its command's output lines.

use std::path::Path;

use ox_core::ProjectConfig;
use regex::Regex;

use crate::IngestError;

/// One compiled pattern.
#[derive(Debug, Clone)]
pub struct LogPattern {
    regex: Regex,
    /// Named groups other than `step`.
    metrics: Vec<String>,
    has_step: bool,
}

/// The metrics one line yields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LineMetrics {
    pub step: Option<i64>,
    pub values: Vec<(String, f64)>,
}

/// The user's patterns (possibly none).
#[derive(Debug, Clone, Default)]
pub struct LogPatterns {
    patterns: Vec<LogPattern>,
}

impl LogPattern {
    /// Compiles a pattern; it must have at least one named group other than `step`.
    pub fn new(regex: &str) -> Result<Self, String> {
        let compiled = Regex::new(regex).map_err(|e| e.to_string())?;
        let mut metrics = Vec::new();
        let mut has_step = false;
        for name in compiled.capture_names().flatten() {
            if name == "step" {
                has_step = true;
            } else {
                metrics.push(name.to_string());
            }
        }
        if metrics.is_empty() {
            return Err(format!(
                "pattern {regex:?} has no named group (write (?P<name>...))"
            ));
        }
        Ok(LogPattern {
            regex: compiled,
            metrics,
            has_step,
        })
    }
}

impl LogPatterns {
    /// Patterns from a list of regexes.
    pub fn new(patterns: Vec<LogPattern>) -> Self {
        LogPatterns { patterns }
    }

    /// Compiles the `[[log_patterns]]` of a config file (`ox_core::ProjectConfig`); a
    /// missing file means no patterns.
    pub fn from_config_file(path: &Path) -> Result<Self, IngestError> {
        let config = ProjectConfig::read(path)?;
        Self::from_config(&config).map_err(|reason| IngestError::invalid(path, reason))
    }

    /// Parses `[[log_patterns]]` from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        Self::from_config(&ProjectConfig::from_toml(text)?)
    }

    /// Compiles the patterns of a config.
    pub fn from_config(config: &ProjectConfig) -> Result<Self, String> {
        let patterns = config
            .log_patterns
            .iter()
            .map(|p| LogPattern::new(&p.regex))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LogPatterns { patterns })
    }

    /// Whether there are no patterns.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The metrics of one output line: every match of every pattern; group values that do
    /// not parse as numbers are skipped. The last `step` group matched gives the step.
    pub fn metrics_from_line(&self, line: &str) -> LineMetrics {
        let mut out = LineMetrics::default();
        for p in &self.patterns {
            for caps in p.regex.captures_iter(line) {
                if p.has_step
                    && let Some(s) = caps.name("step").and_then(|m| parse_number(m.as_str()))
                    && s.fract() == 0.0
                {
                    out.step = Some(s as i64);
                }
                for name in &p.metrics {
                    if let Some(v) = caps.name(name).and_then(|m| parse_number(m.as_str())) {
                        out.values.push((name.clone(), v));
                    }
                }
            }
        }
        out
    }
}

/// Parses a number as logs print it: Rust float syntax plus Python's `nan`/`inf` spellings.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim().trim_end_matches([',', ';']);
    let first = s.bytes().next()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.' | b'n' | b'N' | b'i' | b'I'))
    {
        return None;
    }
    s.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_groups_become_metrics() {
        let p = LogPatterns::from_toml(
            "[[log_patterns]]\nregex = 'Loss: (?P<loss>[0-9.eE+-]+)'\n[[log_patterns]]\nregex = 'it (?P<step>\\d+) acc=(?P<acc>\\S+)'\n",
        )
        .unwrap();
        assert_eq!(
            p.metrics_from_line("Loss: 0.52"),
            LineMetrics {
                step: None,
                values: vec![("loss".into(), 0.52)]
            }
        );
        let m = p.metrics_from_line("it 7 acc=0.9 Loss: nan");
        assert_eq!(m.step, Some(7));
        assert_eq!(m.values, vec![("acc".into(), 0.9)]);
        assert!(p.metrics_from_line("nothing here").values.is_empty());
        assert!(LogPatterns::from_toml("[[log_patterns]]\nregex = '(x)'").is_err());
        assert!(LogPatterns::from_toml("[[log_patterns]]\nregex = '(?P<a>'").is_err());
        assert!(LogPatterns::from_toml("").unwrap().is_empty());
    }

    #[test]
    fn numbers_parse_like_logs_print_them() {
        assert_eq!(parse_number("3e-4,"), Some(3e-4));
        assert!(parse_number("nan").unwrap().is_nan());
        assert_eq!(parse_number("-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number("infinite"), None);
    }
}
