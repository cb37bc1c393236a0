//! `.ox/config.toml`: the project's settings. Optional; a missing file means the defaults.
//!
//! ```toml
//! [[log_patterns]]
//! regex = 'Loss: (?P<loss>[0-9.eE+-]+)'
//! ```
//!
//! This module owns the file's shape (reading and writing); what a setting means lives with
//! its user (`ox-ingest` compiles the log patterns).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{CoreError, write_atomic};

/// The contents of `.ox/config.toml`. Unknown keys are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectConfig {
    /// Patterns that turn text-log lines into metrics (`ox import`, `ox run`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_patterns: Vec<LogPatternSpec>,
}

/// One `[[log_patterns]]` entry: a regex whose named groups are metrics (`step` the step).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPatternSpec {
    pub regex: String,
}

impl ProjectConfig {
    /// Reads a config file; a missing file is the default config.
    pub fn read(path: &Path) -> Result<Self, CoreError> {
        let text = match fs_err::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(CoreError::io("read", path, e)),
        };
        Self::from_toml(&text).map_err(|reason| CoreError::Config {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// Parses the TOML text of a config file.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// The config as TOML text.
    pub fn to_toml(&self) -> Result<String, String> {
        toml::to_string(self).map_err(|e| e.to_string())
    }

    /// Replaces the file at `path` atomically with this config.
    pub fn write(&self, path: &Path) -> Result<(), CoreError> {
        let text = self.to_toml().map_err(|reason| CoreError::Config {
            path: path.to_path_buf(),
            reason,
        })?;
        write_atomic(path, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_missing_and_bad_files() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config.toml");
        assert_eq!(
            ProjectConfig::read(&path).unwrap(),
            ProjectConfig::default()
        );
        let config = ProjectConfig {
            log_patterns: vec![LogPatternSpec {
                regex: r"Loss: (?P<loss>\d+)".into(),
            }],
        };
        config.write(&path).unwrap();
        assert_eq!(ProjectConfig::read(&path).unwrap(), config);
        std::fs::write(&path, "other = 1\n[[log_patterns]]\nregex = 'x'\n").unwrap();
        assert_eq!(ProjectConfig::read(&path).unwrap().log_patterns.len(), 1);
        std::fs::write(&path, "[[log_patterns]]\nregex = 3\n").unwrap();
        let err = ProjectConfig::read(&path).unwrap_err().to_string();
        assert!(err.contains("config.toml"), "{err}");
    }
}
