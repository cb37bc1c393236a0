//! Grouping runs into configurations: which params vary, and which runs share their values.
//!
//! A param *varies* when the selected runs do not all have the same value for it (a run
//! without the param counts as `null`). Seed-like params never define a configuration: a
//! key whose last dotted segment is `seed` or ends with `_seed` / `-seed` (`seed`,
//! `train.seed`, `data_seed`), plus any name the user marks. Numbers compare by value
//! (`1` and `1.0` are the same level).

use std::collections::BTreeMap;

use serde_json::Value;

/// One run's input to the statistics: its flattened params, metric value and cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub run_id: String,
    /// The run's name, when it has one (findings name runs by name and id).
    pub name: Option<String>,
    /// Dotted param keys to leaf values.
    pub params: BTreeMap<String, Value>,
    /// The metric summary of this run (non-finite values are excluded and reported).
    pub value: f64,
    /// Wall time or GPU-hours, when known (for the Pareto set).
    pub cost: Option<f64>,
}

/// Whether `key` names a seed (see the module docs).
pub fn is_seed_like(key: &str, user_marked: &[String]) -> bool {
    if user_marked.iter().any(|k| k == key) {
        return true;
    }
    let last = key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase();
    last == "seed" || last.ends_with("_seed") || last.ends_with("-seed")
}

/// A comparable identity of a param value.
pub fn level_key(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "null".to_string(),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(f) => format!("n:{f:e}"),
            None => format!("n:{n}"),
        },
        Some(Value::String(s)) => format!("s:{s}"),
        Some(Value::Bool(b)) => format!("b:{b}"),
        Some(other) => format!("j:{other}"),
    }
}

/// The numeric value of a param level, when it is a number.
pub fn level_number(v: Option<&Value>) -> Option<f64> {
    v.and_then(Value::as_f64).filter(|f| f.is_finite())
}

/// Params (not seed-like) that vary among `obs`, sorted by name.
pub fn varied_params(obs: &[Observation], seed_like: &[String]) -> Vec<String> {
    let mut keys: Vec<&String> = obs.iter().flat_map(|o| o.params.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !is_seed_like(k, seed_like))
        .filter(|k| {
            let mut levels = obs.iter().map(|o| level_key(o.params.get(*k)));
            let first = levels.next();
            levels.any(|l| Some(l) != first)
        })
        .cloned()
        .collect()
}

/// Runs sharing the same values of the grouping keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Configuration {
    /// `(key, value)` for each grouping key (`null` when a run lacks it).
    pub key: Vec<(String, Value)>,
    /// Indices into the observations, in input order.
    pub members: Vec<usize>,
}

/// Groups `obs` by the values of `keys`, in order of first appearance.
pub fn group_by(obs: &[Observation], keys: &[String]) -> Vec<Configuration> {
    let mut index: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    let mut groups: Vec<Configuration> = Vec::new();
    for (i, o) in obs.iter().enumerate() {
        let id: Vec<String> = keys.iter().map(|k| level_key(o.params.get(k))).collect();
        match index.get(&id).and_then(|&g| groups.get_mut(g)) {
            Some(g) => g.members.push(i),
            None => {
                index.insert(id, groups.len());
                groups.push(Configuration {
                    key: keys
                        .iter()
                        .map(|k| (k.clone(), o.params.get(k).cloned().unwrap_or(Value::Null)))
                        .collect(),
                    members: vec![i],
                });
            }
        }
    }
    groups
}

/// `lr=0.001, model=small` (or `all runs` for the empty key).
pub fn describe_key(key: &[(String, Value)]) -> String {
    if key.is_empty() {
        return "all runs".to_string();
    }
    key.iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obs(id: &str, params: Value, value: f64) -> Observation {
        let params = params
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        Observation {
            run_id: id.into(),
            name: None,
            params,
            value,
            cost: None,
        }
    }

    #[test]
    fn varied_params_skip_seeds_and_constants() {
        let o = vec![
            obs(
                "a",
                json!({"lr": 1, "seed": 1, "opt": "adam", "data_seed": 3}),
                0.0,
            ),
            obs(
                "b",
                json!({"lr": 1.0, "seed": 2, "opt": "sgd", "data_seed": 4}),
                0.0,
            ),
            obs(
                "c",
                json!({"lr": 2, "seed": 3, "opt": "sgd", "x": true}),
                0.0,
            ),
        ];
        assert_eq!(varied_params(&o, &[]), vec!["lr", "opt", "x"]);
        assert_eq!(varied_params(&o, &["x".to_string()]), vec!["lr", "opt"]);
        let g = group_by(&o, &["lr".to_string()]);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].members, vec![0, 1]);
        assert_eq!(describe_key(&g[1].key), "lr=2");
        assert!(is_seed_like("train.seed", &[]) && !is_seed_like("seedling", &[]));
    }
}
