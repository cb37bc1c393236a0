//! `run.json`: the metadata record of one run.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A run's id: a lowercase ULID, so ids sort by creation time and are safe in file names
/// and URLs. Imported or hand-made runs may carry other ids; [`RunId::is_safe`] is the only
/// invariant every id keeps (it must be usable as a directory name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(String);

impl RunId {
    /// A new time-sortable id for a run created now.
    pub fn generate() -> Self {
        RunId(ulid::Ulid::new().to_string().to_lowercase())
    }

    /// An id for a run created at `time`, with the given 80 random bits (tests and
    /// deterministic imports use this).
    pub fn from_parts(time: DateTime<Utc>, random: u128) -> Self {
        let ms = u64::try_from(time.timestamp_millis()).unwrap_or(0);
        RunId(
            ulid::Ulid::from_parts(ms, random)
                .to_string()
                .to_lowercase(),
        )
    }

    /// Wraps an existing id string when it is safe as a file name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::is_safe(s).then(|| RunId(s.to_string()))
    }

    /// Whether `s` can be used as a run id: non-empty, at most 128 characters of
    /// `[a-z0-9_-]`.
    pub fn is_safe(s: &str) -> bool {
        !s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lifecycle state of a run. `Crashed` is what a `Running` run becomes once its process is
/// known to be gone without having written a final status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Queued,
    Running,
    Completed,
    Failed,
    Killed,
    Crashed,
}

impl Status {
    /// All statuses, in lifecycle order.
    pub const ALL: [Status; 6] = [
        Status::Queued,
        Status::Running,
        Status::Completed,
        Status::Failed,
        Status::Killed,
        Status::Crashed,
    ];

    /// The lowercase name used in files, queries and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Running => "running",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Killed => "killed",
            Status::Crashed => "crashed",
        }
    }

    /// Whether the run has ended (nothing will change it any more).
    pub fn is_final(self) -> bool {
        !matches!(self, Status::Queued | Status::Running)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown status {s:?} (expected one of: {})",
                    Status::ALL.map(Status::as_str).join(", ")
                )
            })
    }
}

/// Git state of the working directory a run was started from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitInfo {
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub dirty: bool,
}

/// A file kept with a run, relative to the run's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// The study a run belongs to when none is given.
pub fn default_study() -> String {
    "default".to_string()
}

/// The current time, truncated to microseconds (what RFC 3339 output keeps).
pub fn now_utc() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

mod rfc3339 {
    //! Timestamps as RFC 3339 in UTC with a `Z` suffix and at most microseconds.
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
    pub mod option {
        use super::*;
        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            let s = Option::<String>::deserialize(d)?;
            s.map(|s| {
                DateTime::parse_from_rfc3339(&s)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(serde::de::Error::custom)
            })
            .transpose()
        }
    }
}

/// The content of `runs/<id>/run.json`. Unknown fields are kept in `extra` and written back
/// unchanged, so newer writers' fields survive an older reader's update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: RunId,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "default_study")]
    pub study: String,
    pub status: Status,
    #[serde(default)]
    pub params: Map<String, Value>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(with = "rfc3339")]
    pub created: DateTime<Utc>,
    #[serde(default, with = "rfc3339::option")]
    pub started: Option<DateTime<Utc>>,
    #[serde(default, with = "rfc3339::option")]
    pub ended: Option<DateTime<Utc>>,
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub command: Vec<String>,
    #[serde(default)]
    pub cwd: Option<String>,
    #[serde(default)]
    pub host: Option<String>,
    /// The pid of the process that writes this run's final status (the `ox run` supervisor,
    /// or the Python process for a standalone client run).
    #[serde(default)]
    pub pid: Option<u32>,
    /// The start time of `pid` in clock ticks since boot (see [`crate::ProcessIdentity`]):
    /// a reused pid is not the run's process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_start_ticks: Option<u64>,
    #[serde(default)]
    pub git: Option<GitInfo>,
    #[serde(default)]
    pub sweep: Option<Value>,
    /// Where an imported run came from (`{"kind": "...", "key": "..."}`); null for runs ox ran.
    #[serde(default)]
    pub source: Option<Value>,
    #[serde(default)]
    pub artifacts: Vec<Artifact>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Run {
    /// A new run record with the given id, created now, in the default study.
    /// The process that writes this run (`pid` + `pid_start_ticks`), when recorded.
    pub fn process(&self) -> Option<crate::ProcessIdentity> {
        self.pid.map(|pid| crate::ProcessIdentity {
            pid,
            start_ticks: self.pid_start_ticks,
        })
    }

    /// Records the process that writes this run.
    pub fn set_process(&mut self, process: crate::ProcessIdentity) {
        self.pid = Some(process.pid);
        self.pid_start_ticks = process.start_ticks;
    }

    pub fn new(id: RunId, status: Status) -> Self {
        Run {
            id,
            name: None,
            study: default_study(),
            status,
            params: Map::new(),
            tags: Vec::new(),
            created: now_utc(),
            started: None,
            ended: None,
            exit_code: None,
            command: Vec::new(),
            cwd: None,
            host: None,
            pid: None,
            pid_start_ticks: None,
            git: None,
            sweep: None,
            source: None,
            artifacts: Vec::new(),
            extra: Map::new(),
        }
    }

    /// Wall-clock seconds from start to end; for a run still going, to `now`.
    pub fn duration_secs(&self, now: DateTime<Utc>) -> Option<f64> {
        let start = self.started?;
        let end = match self.ended {
            Some(e) => e,
            None if self.status == Status::Running => now,
            None => return None,
        };
        Some((end - start).num_microseconds()? as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_json_roundtrip_keeps_unknown_fields() {
        let text = r#"{"id":"01jd3k9x2m4n5p6q7r8s9t0v1w","name":"lr-3e4","study":"s","status":"completed",
            "params":{"lr":0.0003,"model":{"layers":12}},"tags":["baseline"],
            "created":"2026-11-23T10:00:00Z","started":"2026-11-23T10:00:01.5Z","ended":"2026-11-23T10:00:11.5Z",
            "exit_code":0,"command":["python","t.py"],"schema_version":1,"gpu":{"name":"H100"}}"#;
        let run: Run = serde_json::from_str(text).unwrap();
        assert_eq!(run.status, Status::Completed);
        assert_eq!(run.extra["schema_version"], 1);
        assert_eq!(run.duration_secs(now_utc()), Some(10.0));
        let back = serde_json::to_value(&run).unwrap();
        assert_eq!(back["gpu"]["name"], "H100");
        assert_eq!(back["started"], "2026-11-23T10:00:01.500Z");
        let again: Run = serde_json::from_value(back).unwrap();
        assert_eq!(again, run);
    }

    #[test]
    fn generated_ids_are_safe_and_sortable() {
        let a = RunId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = RunId::generate();
        assert!(RunId::is_safe(a.as_str()));
        assert!(a < b);
        assert!(RunId::parse("../etc").is_none());
    }

    #[test]
    fn status_parses_case_insensitively() {
        assert_eq!("Completed".parse::<Status>(), Ok(Status::Completed));
        assert!("done".parse::<Status>().is_err());
    }
}
