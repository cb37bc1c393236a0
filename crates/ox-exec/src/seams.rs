//! What varies between production and tests: the clock and the source of run ids.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use ox_core::RunId;

/// Wall-clock time for timestamps in run.json and in sample lines.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock (truncated to microseconds, as run.json keeps it).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        ox_core::now_utc()
    }
}

/// A clock that always says the same time (tests).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// Where new run ids come from.
pub trait IdSource: Send + Sync {
    /// A fresh id for a run being created.
    fn next_id(&self) -> RunId;
}

/// Time-sortable random ids ([`RunId::generate`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct UlidIds;

impl IdSource for UlidIds {
    fn next_id(&self) -> RunId {
        RunId::generate()
    }
}

/// Hands out the given ids in order, then generated ones (tests).
#[derive(Debug, Default)]
pub struct ScriptedIds(pub Mutex<Vec<RunId>>);

impl ScriptedIds {
    /// Ids to hand out, first one first.
    pub fn new(ids: impl IntoIterator<Item = RunId>) -> Self {
        let mut v: Vec<RunId> = ids.into_iter().collect();
        v.reverse();
        ScriptedIds(Mutex::new(v))
    }
}

impl IdSource for ScriptedIds {
    fn next_id(&self) -> RunId {
        self.0
            .lock()
            .ok()
            .and_then(|mut v| v.pop())
            .unwrap_or_else(RunId::generate)
    }
}

/// Seconds since the Unix epoch as a float (the `time` field of JSONL lines).
pub fn unix_secs(t: DateTime<Utc>) -> f64 {
    t.timestamp_micros() as f64 / 1e6
}
