//! Properties of `analyze` on arbitrary inputs (NaN, ±∞, ties, single runs): it never
//! panics, every run is either in a group or excluded, and groups come best first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use ox_analysis::{Direction, Observation, StatsOptions, analyze};
use proptest::prelude::*;
use serde_json::json;

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => -1e3f64..1e3,
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(0.5),
    ]
}

proptest! {
    #[test]
    fn analyze_accounts_for_every_run(
        runs in prop::collection::vec((0u8..4, 0u8..3, value(), prop::option::of(0.0f64..100.0)), 0..40),
        max in any::<bool>(),
        boot in any::<bool>(),
    ) {
        let obs: Vec<Observation> = runs
            .iter()
            .enumerate()
            .map(|(i, (lr, opt, v, cost))| {
                let mut params = BTreeMap::new();
                params.insert("lr".to_string(), json!(f64::from(*lr) / 10.0));
                params.insert("opt".to_string(), json!(["adam", "sgd", "lion"][usize::from(*opt)]));
                params.insert("seed".to_string(), json!(i));
                Observation { run_id: format!("r{i}"), name: None, params, value: *v, cost: *cost }
            })
            .collect();
        let direction = if max { Direction::Max } else { Direction::Min };
        let opts = StatsOptions {
            metric: "m".into(),
            direction,
            confidence: 0.9,
            alpha: 0.05,
            group_by: None,
            seed_like: vec![],
            bootstrap: boot.then_some((50, 3)),
            diminishing_tolerance: 0.01,
        };
        let r = analyze(&obs, vec![], &opts);
        let grouped: usize = r.groups.iter().map(|g| g.stats.n).sum();
        prop_assert_eq!(grouped + r.excluded.len(), obs.len());
        prop_assert!(!r.group_by.contains(&"seed".to_string()));
        for pair in r.groups.windows(2) {
            let (a, b) = (pair[0].stats.mean.unwrap(), pair[1].stats.mean.unwrap());
            prop_assert!(a == b || direction.better(a, b));
        }
        for g in &r.groups {
            if let Some((lo, hi)) = g.ci {
                prop_assert!(lo <= g.stats.mean.unwrap() && g.stats.mean.unwrap() <= hi);
            }
            if let Some(v) = &g.vs_best {
                if let Some(p) = v.p_holm {
                    prop_assert!((0.0..=1.0).contains(&p));
                }
                if let Some(m) = v.mann_whitney {
                    prop_assert!((0.0..=1.0).contains(&m.p));
                }
            }
        }
        if r.clear_winner {
            prop_assert!(r.groups.len() >= 2);
        }
    }
}
