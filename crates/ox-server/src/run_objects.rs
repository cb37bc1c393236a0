//! The run objects of `/api/runs`, kept serialized between requests.
//!
//! A list of 10,000 runs is mostly the same runs every time: loading and serializing each
//! one (the catalog read of `ox ls --format json`) costs ~150 ms, looking up which runs a
//! query selects and whether each changed costs a few. Each object is kept under its
//! [`RunStamp`] (the refresh that wrote its row, its status and duration), so an answer is
//! the query's stamps, the kept bytes of unchanged runs, and fresh bytes for the others.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ox_store::{Catalog, RunJson, RunStamp, StoreError};

/// What identifies one version of a run's object.
type Key = (i64, String, Option<u64>);

fn key(stamp: &RunStamp) -> Key {
    (
        stamp.written,
        stamp.status.clone(),
        stamp.duration.map(f64::to_bits),
    )
}

/// A run's object as JSON bytes, under the key of the version it shows.
type Kept = (Key, Arc<[u8]>);

/// Most run objects kept; past it the cache starts over.
const MAX_RUNS: usize = 250_000;

/// Serialized run objects by run id (see the module docs).
#[derive(Default)]
pub struct RunObjects {
    entries: Mutex<HashMap<String, Kept>>,
}

/// Why an answer could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RunsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot encode the answer: {0}")]
    Encode(#[from] serde_json::Error),
}

impl RunObjects {
    /// The JSON array of the runs `query` selects, in its order: the objects of
    /// `ox ls --format json`.
    pub fn answer(&self, catalog: &Catalog, query: &str) -> Result<Vec<u8>, RunsError> {
        let compiled = catalog.compile_query(query)?;
        let stamps = catalog.query_stamps(&compiled)?;
        let mut objects: Vec<Option<Arc<[u8]>>> = {
            let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            stamps
                .iter()
                .map(|s| {
                    entries
                        .get(&s.id)
                        .filter(|(k, _)| *k == key(s))
                        .map(|(_, bytes)| Arc::clone(bytes))
                })
                .collect()
        };
        let missing: Vec<i64> = stamps
            .iter()
            .zip(&objects)
            .filter(|(_, o)| o.is_none())
            .map(|(s, _)| s.rid)
            .collect();
        if !missing.is_empty() {
            let views = catalog.views_by_rid(&missing)?;
            let mut made: HashMap<String, Arc<[u8]>> = HashMap::with_capacity(views.len());
            for view in &views {
                let bytes: Arc<[u8]> = serde_json::to_vec(&RunJson::from(view))?.into();
                made.insert(view.run.id.to_string(), bytes);
            }
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            if entries.len() + made.len() > MAX_RUNS {
                entries.clear();
            }
            for (stamp, slot) in stamps.iter().zip(objects.iter_mut()) {
                if slot.is_none()
                    && let Some(bytes) = made.get(&stamp.id)
                {
                    *slot = Some(Arc::clone(bytes));
                    entries.insert(stamp.id.clone(), (key(stamp), Arc::clone(bytes)));
                }
            }
        }
        let objects: Vec<Arc<[u8]>> = objects.into_iter().flatten().collect();
        let size = objects.iter().map(|o| o.len() + 1).sum::<usize>() + 2;
        let mut body = Vec::with_capacity(size);
        body.push(b'[');
        for (i, o) in objects.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(o);
        }
        body.push(b']');
        Ok(body)
    }
}
