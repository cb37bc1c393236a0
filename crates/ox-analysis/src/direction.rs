//! Whether lower or higher values of a metric are better.

use serde::Serialize;

/// The optimisation direction of a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Lower is better (loss, error, perplexity).
    Min,
    /// Higher is better (accuracy, F1, reward).
    Max,
}

/// Name tokens that mean "lower is better".
const MIN_TOKENS: &[&str] = &[
    "loss",
    "error",
    "err",
    "perplexity",
    "ppl",
    "wer",
    "cer",
    "mse",
    "mae",
    "rmse",
    "nll",
    "regret",
    "latency",
    "cost",
    "distance",
    "fid",
    "bpb",
    "bpc",
    "ece",
    "stderr",
];

/// Name tokens that mean "higher is better".
const MAX_TOKENS: &[&str] = &[
    "accuracy",
    "acc",
    "f1",
    "precision",
    "recall",
    "auc",
    "auroc",
    "bleu",
    "rouge",
    "score",
    "reward",
    "return",
    "map",
    "iou",
    "dice",
    "em",
    "exact",
    "match",
    "pass",
    "win",
    "winrate",
    "r2",
    "ndcg",
    "mrr",
    "top1",
    "top5",
    "throughput",
    "meteor",
    "chrf",
    "sharpe",
    "success",
    "correct",
];

impl Direction {
    /// Parses `min` / `max`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "min" | "lower" => Some(Self::Min),
            "max" | "higher" => Some(Self::Max),
            _ => None,
        }
    }

    /// Infers the direction from a metric name: it is split into lowercase alphanumeric
    /// tokens (`val/top1_acc` → `val`, `top1`, `acc`); the last token found in either list
    /// decides (so `loss_improvement_score` reads as a score); a token that merely ends with
    /// a known word (`valloss`) counts too. `None` when nothing matches.
    pub fn infer(metric: &str) -> Option<Self> {
        let lower = metric.to_ascii_lowercase();
        let tokens: Vec<&str> = lower
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|t| !t.is_empty())
            .collect();
        let classify = |t: &str| {
            if MIN_TOKENS.contains(&t) {
                Some(Self::Min)
            } else if MAX_TOKENS.contains(&t) {
                Some(Self::Max)
            } else {
                None
            }
        };
        let suffix = |t: &str| {
            if ["loss", "error", "perplexity"]
                .iter()
                .any(|w| t.ends_with(w))
            {
                Some(Self::Min)
            } else if ["accuracy", "reward", "score"]
                .iter()
                .any(|w| t.ends_with(w))
            {
                Some(Self::Max)
            } else {
                None
            }
        };
        tokens
            .iter()
            .rev()
            .find_map(|t| classify(t))
            .or_else(|| tokens.iter().rev().find_map(|t| suffix(t)))
    }

    /// Whether `a` is strictly better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Self::Min => a < b,
            Self::Max => a > b,
        }
    }

    /// Orders `a` before `b` when `a` is better (best first).
    pub fn cmp_best_first(self, a: f64, b: f64) -> std::cmp::Ordering {
        match self {
            Self::Min => a.total_cmp(&b),
            Self::Max => b.total_cmp(&a),
        }
    }

    /// `min` or `max`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Min => "min",
            Self::Max => "max",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_from_names() {
        for m in [
            "loss",
            "val/loss",
            "train_loss",
            "eval-perplexity",
            "wer",
            "valloss",
            "test/error_rate",
        ] {
            assert_eq!(Direction::infer(m), Some(Direction::Min), "{m}");
        }
        for m in [
            "accuracy",
            "val/acc",
            "match/accuracy",
            "f1",
            "mean_reward",
            "rouge-l",
            "auc",
        ] {
            assert_eq!(Direction::infer(m), Some(Direction::Max), "{m}");
        }
        assert_eq!(Direction::infer("lr"), None);
        assert_eq!(Direction::infer("tokens_per_step"), None);
    }
}
