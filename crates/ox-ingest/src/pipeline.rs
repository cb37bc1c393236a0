//! Parsing import units on worker threads while the caller writes the results: parsing
//! (CRC checks, protobuf and JSON decoding) and writing (formatting metrics lines) overlap,
//! and several units parse at once on a machine with more cores.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::{ImportUnit, ImportedRun, IngestError, LogPatterns, parse_unit};

/// Parses `units` on up to `threads` worker threads and hands each unit's result to `sink`
/// on the calling thread, in completion order. At most about `threads` parsed results wait
/// in memory at a time.
pub fn parse_units(
    units: &[ImportUnit],
    patterns: &LogPatterns,
    threads: usize,
    mut sink: impl FnMut(&ImportUnit, Result<Vec<ImportedRun>, IngestError>),
) {
    let threads = threads.clamp(1, units.len().max(1));
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel(threads);
        for _ in 0..threads {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(unit) = units.get(i) else { break };
                    if tx.send((i, parse_unit(unit, patterns))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (i, result) in rx {
            if let Some(unit) = units.get(i) {
                sink(unit, result);
            }
        }
    });
}

/// Worker threads to use: the machine's parallelism.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
