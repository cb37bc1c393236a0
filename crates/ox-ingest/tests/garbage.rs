//! Arbitrary bytes given to every importer, as files on disk: errors or warnings, never
//! panics. (Parsers of in-memory bytes have their own property tests beside the code.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ox_ingest::{ImportUnit, LogPatterns, UnitKind, discover, parse_unit};
use proptest::prelude::*;

const KINDS: [(UnitKind, &str); 8] = [
    (UnitKind::Inspect, "log.eval"),
    (UnitKind::TensorBoard, "events.out.tfevents.1.h"),
    (UnitKind::MlflowSqlite, "mlflow.db"),
    (UnitKind::Wandb, "run-x.wandb"),
    (UnitKind::TextLog, "slurm-1.out"),
    (UnitKind::Csv, "m.csv"),
    (UnitKind::Ndjson, "metrics.ndjson"),
    (UnitKind::JsonLines, "log_1795418615.jsonl"),
];

fn prefixed() -> impl Strategy<Value = Vec<u8>> {
    let magic = prop_oneof![
        Just(b"".to_vec()),
        Just(b"PK\x03\x04".to_vec()),
        Just(b":W&B\xe1\xbe\x00".to_vec()),
        Just(b"SQLite format 3\x00".to_vec()),
        Just(b"{\"version\": 2, \"eval\": ".to_vec()),
        Just(b"step,loss\n".to_vec()),
        Just(b"{\"step\": 1, \"loss\": ".to_vec()),
    ];
    (magic, proptest::collection::vec(any::<u8>(), 0..600)).prop_map(|(mut m, rest)| {
        m.extend(rest);
        m
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn arbitrary_files_never_panic(data in prefixed()) {
        let tmp = tempfile::tempdir().unwrap();
        for (kind, name) in KINDS {
            let dir = tmp.path().join(format!("{kind:?}"));
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join(name);
            std::fs::write(&file, &data).unwrap();
            let path = if matches!(kind, UnitKind::TensorBoard | UnitKind::Ndjson) { dir.clone() } else { file };
            let unit = ImportUnit { kind, path, root: tmp.path().to_path_buf() };
            let _ = parse_unit(&unit, &LogPatterns::default());
        }
        // Detection over the same files never panics either.
        let found = discover(&[tmp.path().to_path_buf()]);
        for u in &found.units {
            let _ = parse_unit(u, &LogPatterns::default());
        }
    }
}
