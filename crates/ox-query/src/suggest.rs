//! "Did you mean": the names closest to a misspelt one. The one edit-distance helper of the
//! workspace (Levenshtein from `strsim`), used for query keys, `--sort`, `--columns`,
//! `--metric`, `--group-by` and run names alike.

/// How close `candidate` is to `wanted` (lower is closer), or `None` when it is not a
/// plausible correction: within `max(1, len/3)` edits (case-insensitive), or — one step
/// further — `wanted` is a whole part of it (`loss` → `train/loss`) or, from 3 characters,
/// contained in it.
pub fn closeness(wanted: &str, candidate: &str) -> Option<usize> {
    let wanted_lc = wanted.to_lowercase();
    let key_lc = candidate.to_lowercase();
    let budget = (wanted.chars().count() / 3).max(1);
    let d = strsim::levenshtein(&wanted_lc, &key_lc);
    let part_match = wanted_lc.chars().count() >= 2
        && key_lc
            .split(['.', '/', '_', '-', ':'])
            .any(|part| part == wanted_lc);
    if d <= budget {
        Some(d)
    } else if part_match || (wanted_lc.chars().count() >= 3 && key_lc.contains(&wanted_lc)) {
        Some(budget + 1)
    } else {
        None
    }
}

/// Up to three candidates closest to `wanted`, closest first (ties by name).
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .filter_map(|c| closeness(wanted, c).map(|d| (d, c)))
        .collect();
    scored.sort();
    scored.dedup();
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

/// `a`, `a or b`, `a, b or c`.
pub fn or_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => format!(
            "{} or {}",
            init.iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos_and_parts() {
        let names = ["loss", "train/loss", "accuracy", "lr"];
        assert_eq!(closest("los", names), vec!["loss", "train/loss"]);
        assert_eq!(closest("loss", names)[..2], ["loss", "train/loss"]);
        assert_eq!(closest("acuracy", names), vec!["accuracy"]);
        assert!(closest("nosuch", names).is_empty());
        assert_eq!(closeness("é", "e"), Some(1));
        assert_eq!(or_list(&["a", "b", "c"]), "a, b or c");
    }
}
