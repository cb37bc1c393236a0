//! Timing of the statistics behind `ox stats` (run by `bench/stats.sh`, release build).
//! Prints one line per figure: the median of several repetitions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Instant;

use ox_analysis::bootstrap::{SeededRng, bootstrap_mean_ci};
use ox_analysis::hypothesis::mann_whitney;
use ox_analysis::paired::sign_flip_test;
use ox_analysis::{Direction, Observation, StatsOptions, analyze};
use serde_json::json;

fn median_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn main() {
    let mut rng = SeededRng::new(42);
    let mut uniform = move || rng.below(1 << 30) as f64 / f64::from(1u32 << 30);
    // 2,000 configurations (lr × layers × optimizer) × 5 seeds = 10,000 runs.
    let mut obs = Vec::new();
    for c in 0..2000u32 {
        for seed in 0..5u32 {
            let mut params = BTreeMap::new();
            params.insert("lr".to_string(), json!(1e-4 * f64::from(c % 20 + 1)));
            params.insert("model.layers".to_string(), json!(c / 20));
            params.insert(
                "optimizer".to_string(),
                json!(if c / 200 % 2 == 0 { "adam" } else { "sgd" }),
            );
            params.insert("seed".to_string(), json!(seed));
            obs.push(Observation {
                run_id: format!("run-{c}-{seed}"),
                name: None,
                params,
                value: 0.5 + 0.01 * f64::from(c % 20) + 0.05 * uniform(),
                cost: Some(100.0 + f64::from(c)),
            });
        }
    }
    let opts = StatsOptions {
        metric: "loss".into(),
        direction: Direction::Min,
        confidence: 0.95,
        alpha: 0.05,
        group_by: None,
        seed_like: vec![],
        bootstrap: None,
        diminishing_tolerance: 0.01,
    };
    let ms = median_ms(5, || {
        let r = analyze(&obs, vec![], &opts);
        assert_eq!(r.groups.len(), 2000);
    });
    println!("analyze 10,000 runs in 2,000 configurations (3 varied params): {ms:.1} ms");
    let boot = StatsOptions {
        bootstrap: Some((10_000, 0)),
        ..opts.clone()
    };
    let few: Vec<Observation> = obs.iter().take(100 * 5).cloned().collect();
    let ms = median_ms(3, || {
        analyze(&few, vec![], &boot);
    });
    println!("analyze 500 runs in 100 configurations with --bootstrap 10000: {ms:.1} ms");
    let x: Vec<f64> = (0..5).map(|_| uniform()).collect();
    let ms = median_ms(9, || {
        bootstrap_mean_ci(&x, 10_000, 0.95, 1).unwrap();
    });
    println!("bootstrap_mean_ci, n=5, 10,000 resamples: {ms:.2} ms");
    let big: Vec<f64> = (0..1000).map(|_| uniform()).collect();
    let ms = median_ms(5, || {
        bootstrap_mean_ci(&big, 10_000, 0.95, 1).unwrap();
    });
    println!("bootstrap_mean_ci, n=1000, 10,000 resamples: {ms:.1} ms");
    let d: Vec<f64> = (0..20).map(|_| uniform() - 0.4).collect();
    let ms = median_ms(5, || {
        sign_flip_test(&d, 0, 0);
    });
    println!("sign-flip test, exact, n=20 (2^20 patterns): {ms:.1} ms");
    let d: Vec<f64> = (0..1000).map(|_| uniform() - 0.45).collect();
    let ms = median_ms(5, || {
        sign_flip_test(&d, 10_000, 0);
    });
    println!("sign-flip test, Monte-Carlo, n=1000, 10,000 patterns: {ms:.1} ms");
    let a: Vec<f64> = (0..8).map(|_| uniform()).collect();
    let b: Vec<f64> = (0..1000).map(|_| uniform() + 0.1).collect();
    let ms = median_ms(5, || {
        mann_whitney(&a, &b).unwrap();
    });
    println!("Mann-Whitney exact, 8 vs 1000: {ms:.1} ms");
}
