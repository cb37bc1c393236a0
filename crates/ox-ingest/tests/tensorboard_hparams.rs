#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A TensorBoard event file with an hparams record, written by TensorBoard's own code
//! (`tests/data/tensorboard-hparams/generate.py`): the hparams become params, the scalars
//! metrics. The shared corpora hold no hparams record.

use std::path::PathBuf;

use ox_ingest::{LogPatterns, UnitKind, discover, parse_unit};
use serde_json::json;

#[test]
fn hparams_written_by_tensorboard_become_params() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/tensorboard-hparams");
    let found = discover(std::slice::from_ref(&dir));
    assert!(found.failures.is_empty(), "{:?}", found.failures);
    assert_eq!(found.units.len(), 1);
    assert_eq!(found.units[0].kind, UnitKind::TensorBoard);
    let runs = parse_unit(&found.units[0], &LogPatterns::default()).unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run.name.as_deref(), Some("run-a"));
    assert!(run.warnings.is_empty(), "{:?}", run.warnings);
    // hparams keep their types; numbers are doubles in the record.
    assert_eq!(
        serde_json::Value::Object(run.params.clone()),
        json!({"lr": 0.001, "optimizer": "adam", "use_bn": true, "layers": 4.0})
    );
    assert_eq!(
        run.metrics.series("loss"),
        vec![(0, 1.0), (1, 0.5), (2, f64::from(1.0f32 / 3.0))]
    );
    assert_eq!(
        run.metrics.names(),
        ["loss"],
        "the hparams record is not a metric"
    );
}
