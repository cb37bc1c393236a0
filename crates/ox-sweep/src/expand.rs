//! Members of a sweep: the cartesian product of the grid, times the random draws, times the
//! seeds; each with a key that depends only on its params and the commands.

use std::collections::BTreeMap;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::spec::{Distribution, Step, SweepSpec};

/// A member's identity: 16 hex digits of a 64-bit FNV-1a hash of its params (canonical JSON,
/// keys sorted) and its steps' commands as written. Independent of the member's position, so
/// adding grid values or reordering them keeps every existing member's key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MemberKey(pub String);

impl std::fmt::Display for MemberKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One combination of params, run as one run (or one run per pipeline step).
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub key: MemberKey,
    /// All params (base + swept), nested.
    pub params: Map<String, Value>,
    /// Only the swept ones, as dotted key → value, in spec order (for names and tables).
    pub swept: Vec<(String, Value)>,
}

impl Member {
    /// A short readable name, `lr=0.0001,model.layers=6,seed=1` (floats to 4 significant
    /// digits), or the key when nothing is swept.
    pub fn name(&self) -> String {
        if self.swept.is_empty() {
            return self.key.0.clone();
        }
        self.swept
            .iter()
            .map(|(k, v)| format!("{k}={}", short_value(v)))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Values for the placeholders: every dotted param, plus `sweep`, `study` and `member`.
    pub fn placeholder_values(&self, sweep: &str, study: &str) -> BTreeMap<String, String> {
        let mut values: BTreeMap<String, String> = ox_core::flatten_params(&self.params)
            .into_iter()
            .map(|(k, v)| (k, value_text(v)))
            .collect();
        values.insert("sweep".into(), sweep.to_string());
        values.insert("study".into(), study.to_string());
        values.insert("member".into(), self.key.0.clone());
        values
    }
}

/// A step's command for one member: `sh -c STRING` for a shell string, else its words.
pub fn render_command(step: &Step, values: &BTreeMap<String, String>) -> Vec<String> {
    let words: Vec<String> = step
        .templates()
        .iter()
        .map(|t| t.render(values, step.shell))
        .collect();
    if step.shell {
        let mut argv = vec!["sh".to_string(), "-c".to_string()];
        argv.push(words.join(" "));
        argv
    } else {
        words
    }
}

/// How a value appears in a command: strings without quotes, numbers as JSON writes them.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn short_value(v: &Value) -> String {
    match v {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or_default();
            let s = format!("{f:.4e}");
            // Shortest of the rounded forms that still reads back the same at 4 digits.
            let rounded: f64 = s.parse().unwrap_or(f);
            let plain = format!("{rounded}");
            if plain.len() <= 10 {
                plain
            } else {
                format!("{rounded:e}")
            }
        }
        other => value_text(other),
    }
}

/// Draws `n` samples of `random` with a ChaCha8 RNG seeded by `seed`: sample `i` draws each
/// key in spec order, so a fixed seed always gives the same samples.
pub fn sample(random: &[(String, Distribution)], n: usize, seed: u64) -> Vec<Vec<(String, Value)>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            random
                .iter()
                .map(|(k, d)| (k.clone(), draw(d, &mut rng)))
                .collect()
        })
        .collect()
}

/// A float in `[0, 1)` from the top 53 bits.
fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A whole number in `[0, n)`, without modulo bias (rejection sampling).
fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let x = rng.next_u64();
        if x < zone {
            return x % n;
        }
    }
}

fn number(f: f64) -> Value {
    serde_json::Number::from_f64(f)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

fn draw(d: &Distribution, rng: &mut ChaCha8Rng) -> Value {
    match d {
        Distribution::Uniform { low, high } => number(low + (high - low) * unit(rng)),
        Distribution::LogUniform { low, high } => {
            let (a, b) = (low.ln(), high.ln());
            number((a + (b - a) * unit(rng)).exp())
        }
        Distribution::Int { low, high } => {
            let span = high.abs_diff(*low).saturating_add(1);
            Value::from(low.saturating_add_unsigned(below(rng, span)))
        }
        Distribution::Choice(values) => {
            let i = below(rng, values.len() as u64) as usize;
            values.get(i).cloned().unwrap_or(Value::Null)
        }
    }
}

/// All members of a checked spec, grid-major (the first grid key varies slowest), then
/// random draws, then seeds.
pub fn expand(spec: &SweepSpec) -> Vec<Member> {
    let mut combos: Vec<Vec<(String, Value)>> = vec![Vec::new()];
    for (key, values) in &spec.grid {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                values.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push((key.clone(), v.clone()));
                    c
                })
            })
            .collect();
    }
    if !spec.random.is_empty() {
        let draws = sample(&spec.random, spec.samples.unwrap_or(1), spec.sampling_seed);
        combos = combos
            .into_iter()
            .flat_map(|c| {
                draws.iter().map(move |d| {
                    let mut c = c.clone();
                    c.extend(d.iter().cloned());
                    c
                })
            })
            .collect();
    }
    if !spec.seeds.is_empty() {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                spec.seeds.iter().map(move |s| {
                    let mut c = c.clone();
                    c.push(("seed".into(), s.clone()));
                    c
                })
            })
            .collect();
    }
    let commands: Vec<(&Option<String>, &Vec<String>)> =
        spec.steps.iter().map(|s| (&s.name, &s.command)).collect();
    combos
        .into_iter()
        .map(|swept| {
            let mut params = spec.base.clone();
            for (k, v) in &swept {
                // Keys were checked; a clash with a scalar base value replaces it.
                if ox_core::set_dotted(&mut params, k, v.clone()).is_err() {
                    params.insert(k.clone(), v.clone());
                }
            }
            let key = member_key(&params, &commands);
            Member { key, params, swept }
        })
        .collect()
}

fn member_key(
    params: &Map<String, Value>,
    commands: &[(&Option<String>, &Vec<String>)],
) -> MemberKey {
    // serde_json's Map is a BTreeMap here (no preserve_order), so this JSON is canonical.
    let text = serde_json::to_string(&(params, commands)).unwrap_or_default();
    MemberKey(format!("{:016x}", ox_core::hash::fnv1a(text.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn grid_spec(grid: &[(&str, usize)], seeds: usize) -> SweepSpec {
        let mut spec = SweepSpec::default();
        for (k, n) in grid {
            spec.grid.push((
                k.to_string(),
                (0..*n).map(|i| Value::from(i as i64)).collect(),
            ));
        }
        spec.seeds = (1..=seeds as i64).map(Value::from).collect();
        spec.set_command(vec!["echo".into()]);
        spec
    }

    proptest! {
        #[test]
        fn member_count_is_the_cartesian_size(sizes in proptest::collection::vec(1usize..4, 0..4), seeds in 0usize..4) {
            let keys = ["a", "b.c", "d", "e"];
            let grid: Vec<(&str, usize)> = sizes.iter().enumerate().map(|(i, n)| (keys[i], *n)).collect();
            let members = expand(&grid_spec(&grid, seeds));
            let expected: usize = sizes.iter().product::<usize>() * seeds.max(1);
            prop_assert_eq!(members.len(), expected);
            let keys: std::collections::BTreeSet<_> = members.iter().map(|m| m.key.clone()).collect();
            prop_assert_eq!(keys.len(), expected, "every member has its own key");
        }

        #[test]
        fn random_samples_repeat_for_a_fixed_seed(seed in any::<u64>(), n in 1usize..20) {
            let random = vec![
                ("lr".to_string(), Distribution::LogUniform { low: 1e-5, high: 1e-2 }),
                ("p".to_string(), Distribution::Uniform { low: -1.0, high: 1.0 }),
                ("k".to_string(), Distribution::Int { low: 2, high: 5 }),
                ("o".to_string(), Distribution::Choice(vec![Value::from("a"), Value::from("b")])),
            ];
            let a = sample(&random, n, seed);
            prop_assert_eq!(&a, &sample(&random, n, seed));
            for draw in &a {
                let lr = draw[0].1.as_f64().unwrap();
                prop_assert!((1e-5..1e-2).contains(&lr));
                let p = draw[1].1.as_f64().unwrap();
                prop_assert!((-1.0..1.0).contains(&p));
                let k = draw[2].1.as_i64().unwrap();
                prop_assert!((2..=5).contains(&k));
            }
        }
    }

    #[test]
    fn keys_survive_added_grid_values_and_reordering() {
        let mut spec = grid_spec(&[("lr", 2)], 2);
        let before: Vec<MemberKey> = expand(&spec).into_iter().map(|m| m.key).collect();
        spec.grid[0].1.insert(0, Value::from(99));
        let after: Vec<MemberKey> = expand(&spec).into_iter().map(|m| m.key).collect();
        assert_eq!(after.len(), 6);
        assert!(before.iter().all(|k| after.contains(k)));
        spec.set_command(vec!["echo".into(), "changed".into()]);
        let changed: Vec<MemberKey> = expand(&spec).into_iter().map(|m| m.key).collect();
        assert!(before.iter().all(|k| !changed.contains(k)));
    }

    #[test]
    fn members_nest_dotted_keys_and_render_commands() {
        let mut spec = SweepSpec::default();
        spec.add_grid_flag("model.layers=6,12").unwrap();
        spec.add_grid_flag("lr=1e-4").unwrap();
        spec.set_seeds_flag("1");
        spec.set_command(vec![
            "train".into(),
            "--lr={lr}".into(),
            "{model.layers}".into(),
        ]);
        let members = expand(&spec);
        assert_eq!(members[1].params["model"]["layers"], 12);
        assert_eq!(members[1].name(), "model.layers=12,lr=0.0001,seed=1");
        let values = members[1].placeholder_values("sw", "st");
        assert_eq!(
            render_command(&spec.steps[0], &values),
            ["train", "--lr=0.0001", "12"]
        );
    }

    #[test]
    fn int_draws_cover_both_bounds() {
        let random = vec![("k".to_string(), Distribution::Int { low: 0, high: 2 })];
        let seen: std::collections::BTreeSet<i64> = sample(&random, 200, 1)
            .iter()
            .map(|d| d[0].1.as_i64().unwrap())
            .collect();
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), [0, 1, 2]);
    }
}
