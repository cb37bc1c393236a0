#!/usr/bin/env python3
"""Generates reference.json: statistics computed by SciPy / statsmodels / numpy on fixed
inputs, which `tests/reference.rs` checks ox-analysis against (relative 1e-9; bootstrap and
Monte-Carlo results within their Monte-Carlo error).

Run once after changing the cases (CI does not have SciPy; the JSON is committed):
    pip install scipy numpy statsmodels pingouin
    python3 crates/ox-analysis/tests/reference/generate.py
Versions used are recorded in the output.
"""
import json
import math
import pathlib

import numpy as np
import scipy
import scipy.stats as st
import statsmodels
import pingouin as pg
from statsmodels.stats.multitest import multipletests

rng = np.random.default_rng(20261123)


def f(x):
    """JSON-safe float: NaN -> None, +-inf -> strings."""
    if x is None:
        return None
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def arr(xs):
    return [f(x) if not (isinstance(x, float) and math.isnan(x)) else "nan" for x in xs]


def finite(xs):
    a = np.asarray(xs, dtype=float)
    return a[np.isfinite(a)]


samples = {
    "n1": [7.25],
    "n2": [0.41, 0.45],
    "n3": [0.39, 0.41, 0.43],
    "ties": [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 3.0],
    "zero_variance": [5.5, 5.5, 5.5, 5.5],
    "nan": [0.52, float("nan"), 0.48, 0.50, float("nan")],
    "normal20": list(rng.normal(0.8, 0.05, 20)),
    "skewed12": list(rng.lognormal(0.0, 1.0, 12)),
    "large_values": list(1e6 + rng.normal(0, 1e-3, 6)),
}

describe = []
for name, xs in samples.items():
    x = finite(xs)
    n = len(x)
    case = {"name": name, "values": arr(xs), "n": n, "non_finite": len(xs) - n,
            "mean": f(np.mean(x)), "min": f(np.min(x)), "max": f(np.max(x)),
            "median": f(np.median(x)),
            "std": f(np.std(x, ddof=1)) if n > 1 else None,
            "sem": f(st.sem(x)) if n > 1 else None, "ci": {}}
    for c in (0.9, 0.95, 0.99):
        if n > 1:
            sem = st.sem(x)
            if sem == 0:
                lo = hi = np.mean(x)
            else:
                lo, hi = st.t.interval(c, n - 1, loc=np.mean(x), scale=sem)
            case["ci"][str(c)] = [f(lo), f(hi)]
        else:
            case["ci"][str(c)] = None
    describe.append(case)

# Bootstrap: the percentile interval's Monte-Carlo distribution, from repeated SciPy runs.
bootstrap = []
B = 2000
for name in ("n3", "normal20", "skewed12", "ties"):
    x = finite(samples[name])
    ends = []
    for seed in range(40):
        r = st.bootstrap((x,), np.mean, n_resamples=B, confidence_level=0.95,
                         method="percentile", rng=np.random.default_rng(seed))
        ends.append((r.confidence_interval.low, r.confidence_interval.high))
    ends = np.array(ends)
    bootstrap.append({"name": name, "values": arr(x), "resamples": B, "confidence": 0.95,
                      "low_mean": f(ends[:, 0].mean()), "low_sd": f(ends[:, 0].std(ddof=1)),
                      "high_mean": f(ends[:, 1].mean()), "high_sd": f(ends[:, 1].std(ddof=1))})

pairs = {
    "small_exact": ([0.31, 0.35, 0.29, 0.33], [0.41, 0.39, 0.45, 0.40, 0.38]),
    "n2_vs_n2": ([0.5, 0.6], [0.7, 0.9]),
    "n2_vs_n3_overlap": ([0.5, 0.8], [0.6, 0.7, 0.9]),
    "n3_vs_n12_exact": ([1.5, 2.5, 0.7], list(rng.normal(1.0, 1.0, 12))),
    "ties_small": ([1.0, 2.0, 2.0, 3.0], [2.0, 3.0, 3.0, 4.0, 5.0]),
    "large_asymptotic": (list(rng.normal(0.0, 1.0, 15)), list(rng.normal(0.5, 2.0, 11))),
    "large_ties": ([float(v) for v in rng.integers(0, 5, 20)], [float(v) for v in rng.integers(1, 6, 18)]),
    "zero_variance_both": ([1.0, 1.0, 1.0], [2.0, 2.0, 2.0]),
    "zero_variance_one": ([1.0, 1.0, 1.0], [2.0, 2.5, 3.0]),
    "nan_omitted": ([0.5, float("nan"), 0.55, 0.6], [0.7, 0.72, float("nan"), 0.69]),
    "identical": ([0.1, 0.2, 0.3], [0.1, 0.2, 0.3]),
    "tiny_p": (list(rng.normal(0.0, 0.01, 30)), list(rng.normal(1.0, 0.01, 30))),
}

two_sample = []
for name, (xs, ys) in pairs.items():
    x, y = finite(xs), finite(ys)
    w = st.ttest_ind(x, y, equal_var=False)
    u = st.mannwhitneyu(x, y)
    n1, n2 = len(x), len(y)
    sp = math.sqrt(((n1 - 1) * np.var(x, ddof=1) + (n2 - 1) * np.var(y, ddof=1)) / (n1 + n2 - 2))
    d = (np.mean(x) - np.mean(y)) / sp if sp > 0 else None
    if d is not None:
        # Cohen's d as pingouin computes it (pooled std, n - 1 weights).
        d_pg = pg.compute_effsize(x, y, paired=False, eftype="cohen")
        assert abs(d_pg - d) <= 1e-12 * max(1, abs(d)), (name, d_pg, d)
        d = d_pg
    ties = len(np.unique(np.concatenate([x, y]))) < n1 + n2
    method = "asymptotic" if (n1 > 8 and n2 > 8) or ties else "exact"
    two_sample.append({"name": name, "x": arr(xs), "y": arr(ys),
                       "welch_t": f(w.statistic), "welch_df": f(w.df), "welch_p": f(w.pvalue),
                       "mwu_u": f(u.statistic), "mwu_p": f(u.pvalue), "mwu_method": method,
                       "cohen_d": f(d)})

holm = []
for ps in ([0.01, 0.04, 0.03, 0.2], [0.5], [0.001, 0.001, 0.04], [0.049, 0.051, 0.02, 0.8, 0.0001]):
    holm.append({"p": ps, "adjusted": [f(v) for v in multipletests(ps, method="holm")[1]]})

mcnemar = []
for b, c in ((20, 8), (0, 5), (3, 3), (1, 0), (7, 30), (120, 95), (0, 0), (400, 350)):
    p = st.binomtest(b, b + c, 0.5).pvalue if b + c > 0 else 1.0
    mcnemar.append({"b": b, "c": c, "p": f(p)})


def mean_stat(d, axis):
    return np.mean(d, axis=axis)


paired = []
paired_inputs = {
    "small_real": (list(rng.normal(0.6, 0.1, 10)), list(rng.normal(0.5, 0.1, 10))),
    "n3": ([0.5, 0.7, 0.9], [0.4, 0.75, 0.6]),
    "all_equal": ([0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]),
    "binary200": ([float(v) for v in rng.random(200) < 0.62], None),
}
a200 = paired_inputs["binary200"][0]
# B agrees with A 80% of the time, else flips.
b200 = [a if r < 0.8 else 1.0 - a for a, r in zip(a200, rng.random(200))]
paired_inputs["binary200"] = (a200, b200)
for name, (a, b) in paired_inputs.items():
    a, b = np.asarray(a), np.asarray(b)
    d = a - b
    n = len(d)
    exact = n <= 20
    if exact:
        pt = st.permutation_test((d,), mean_stat, permutation_type="samples", n_resamples=np.inf,
                                 vectorized=True)
        perm_p, perm_se = pt.pvalue, 0.0
    else:
        R = 200000
        pt = st.permutation_test((d,), mean_stat, permutation_type="samples", n_resamples=R,
                                 vectorized=True, rng=np.random.default_rng(1))
        perm_p = pt.pvalue
        perm_se = math.sqrt(perm_p * (1 - perm_p) / R)
    ends = []
    if np.ptp(d) > 0:
        for seed in range(40):
            r = st.bootstrap((d,), np.mean, n_resamples=B, confidence_level=0.95,
                             method="percentile", rng=np.random.default_rng(seed))
            ends.append((r.confidence_interval.low, r.confidence_interval.high))
    else:
        ends = [(d[0], d[0])] * 2
    ends = np.array(ends)
    binary = set(np.unique(np.concatenate([a, b]))) <= {0.0, 1.0}
    case = {"name": name, "a": arr(a), "b": arr(b), "n": n, "mean_diff": f(np.mean(d)),
            "permutation_exact": exact, "permutation_p": f(perm_p), "permutation_p_se": f(perm_se),
            "bootstrap_resamples": B,
            "ci_low_mean": f(ends[:, 0].mean()), "ci_low_sd": f(ends[:, 0].std(ddof=1)),
            "ci_high_mean": f(ends[:, 1].mean()), "ci_high_sd": f(ends[:, 1].std(ddof=1))}
    if binary:
        bb = int(np.sum((a == 1) & (b == 0)))
        cc = int(np.sum((a == 0) & (b == 1)))
        case["mcnemar"] = {"b": bb, "c": cc,
                           "p": f(st.binomtest(bb, bb + cc, 0.5).pvalue if bb + cc else 1.0)}
    paired.append(case)

eta = []
eta_inputs = {
    "three_levels": [[0.5, 0.52, 0.51], [0.3, 0.31, 0.29], [0.4, 0.45, 0.35]],
    "unbalanced": [[1.0, 2.0], [2.0, 3.0, 4.0, 3.5], [10.0]],
    "no_effect": [[1.0, 2.0], [1.0, 2.0]],
}
for name, groups in eta_inputs.items():
    allv = np.concatenate([np.asarray(g) for g in groups])
    grand = allv.mean()
    ss_t = ((allv - grand) ** 2).sum()
    ss_b = sum(len(g) * (np.mean(g) - grand) ** 2 for g in groups)
    value = ss_b / ss_t
    fo = st.f_oneway(*groups)
    if np.isfinite(fo.statistic) and fo.statistic > 0:
        k, n = len(groups), len(allv)
        via_f = fo.statistic * (k - 1) / (fo.statistic * (k - 1) + (n - k))
        assert abs(via_f - value) <= 1e-12 * max(1, abs(value)), (via_f, value)
    eta.append({"name": name, "groups": groups, "eta_squared": f(value),
                "anova_f": f(fo.statistic), "anova_p": f(fo.pvalue)})

spearman = []
sp_inputs = {
    "monotone": ([1, 2, 3, 4, 5], [0.9, 0.7, 0.6, 0.5, 0.1]),
    "ties_both": ([1e-4, 1e-4, 3e-4, 3e-4, 1e-3, 1e-3], [0.5, 0.45, 0.4, 0.45, 0.3, 0.5]),
    "n3": ([1, 2, 3], [0.2, 0.1, 0.3]),
    "random30": (list(rng.normal(size=30)), list(rng.normal(size=30))),
}
for name, (x, y) in sp_inputs.items():
    spearman.append({"name": name, "x": [float(v) for v in x], "y": [float(v) for v in y],
                     "rho": f(st.spearmanr(x, y).statistic), "p": f(st.spearmanr(x, y).pvalue)})

t_quantiles = []
for df in (1, 2, 3, 4.5, 7, 29, 100, 1e4):
    for p in (0.95, 0.975, 0.995, 0.9995):
        t_quantiles.append({"df": df, "p": p, "q": f(st.t.ppf(p, df))})
t_tails = []
for df in (1, 2.5, 10, 58.3):
    for t in (0.1, 1.0, 2.5, 8.0, 40.0):
        t_tails.append({"df": df, "t": t, "p": f(2 * st.t.sf(t, df))})


# End-to-end scenario for `ox stats` (crates/ox-cli/tests/stats.rs writes these runs).
cli_runs = [
    {"lr": 0.001, "seed": 1, "loss": 0.41}, {"lr": 0.001, "seed": 2, "loss": 0.43},
    {"lr": 0.001, "seed": 3, "loss": 0.39}, {"lr": 0.003, "seed": 1, "loss": 0.45},
    {"lr": 0.003, "seed": 2, "loss": 0.47}, {"lr": 0.003, "seed": 3, "loss": 0.44},
    {"lr": 0.01, "seed": 1, "loss": 0.60}, {"lr": 0.01, "seed": 2, "loss": 0.52},
    {"lr": 0.03, "seed": 1, "loss": 0.90},
]
levels = sorted({r["lr"] for r in cli_runs}, key=lambda lr: np.mean([r["loss"] for r in cli_runs if r["lr"] == lr]))
best = np.array([r["loss"] for r in cli_runs if r["lr"] == levels[0]])
cli_groups, raw_p = [], []
for lr in levels:
    x = np.array([r["loss"] for r in cli_runs if r["lr"] == lr])
    g = {"lr": lr, "n": len(x), "mean": f(x.mean()), "median": f(np.median(x)),
         "std": f(x.std(ddof=1)) if len(x) > 1 else None,
         "sem": f(st.sem(x)) if len(x) > 1 else None,
         "ci": [f(v) for v in st.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=st.sem(x))] if len(x) > 1 else None,
         "vs_best": None}
    if lr != levels[0]:
        if len(x) > 1:
            w = st.ttest_ind(x, best, equal_var=False)
            u = st.mannwhitneyu(x, best)
            sp = math.sqrt(((len(x) - 1) * x.var(ddof=1) + (len(best) - 1) * best.var(ddof=1)) / (len(x) + len(best) - 2))
            g["vs_best"] = {"welch_t": f(w.statistic), "welch_df": f(w.df), "welch_p": f(w.pvalue),
                            "mannwhitney_u": f(u.statistic), "mannwhitney_p": f(u.pvalue),
                            "cohen_d": f((x.mean() - best.mean()) / sp)}
            raw_p.append(w.pvalue)
        else:
            g["vs_best"] = {k: None for k in ("welch_t", "welch_df", "welch_p", "mannwhitney_u", "mannwhitney_p", "cohen_d")}
    cli_groups.append(g)
adj = list(multipletests(raw_p, method="holm")[1])
for g in cli_groups[1:]:
    g["vs_best"]["p_holm"] = f(adj.pop(0)) if g["vs_best"]["welch_p"] is not None else None
lr_all = np.array([r["lr"] for r in cli_runs])
loss_all = np.array([r["loss"] for r in cli_runs])
grand = loss_all.mean()
eta_cli = sum(len(loss_all[lr_all == lr]) * (loss_all[lr_all == lr].mean() - grand) ** 2 for lr in levels) / ((loss_all - grand) ** 2).sum()
cli = {"runs": cli_runs, "groups": cli_groups, "eta_squared": f(eta_cli),
       "spearman_rho": f(st.spearmanr(lr_all, loss_all).statistic)}

# Paired scenario: two evaluations sharing 200 binary-scored samples ("match") and 12
# real-scored ones ("graded").
pa = paired_inputs["binary200"][0]
pb = b200
ga = [float(v) for v in np.round(rng.uniform(0, 1, 12), 3)]
gb = [float(v) for v in np.round(np.clip(np.array(ga) - 0.05 + rng.normal(0, 0.1, 12), 0, 1), 3)]
gd = np.array(ga) - np.array(gb)
gp = st.permutation_test((gd,), mean_stat, permutation_type="samples", n_resamples=np.inf, vectorized=True).pvalue
cli_paired = {"match_a": pa, "match_b": pb, "graded_a": ga, "graded_b": gb,
              "graded_mean_diff": f(gd.mean()), "graded_permutation_p": f(gp)}

# Grubbs' test for one outlier (two-sided, alpha = 0.01): G, its critical value from
# scipy.stats.t.ppf, and the Bonferroni p-value from scipy.stats.t.sf. No draws from rng
# here, so the sections above keep their values.
def grubbs(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    n = len(x)
    dev = np.abs(x - x.mean())
    g = dev.max() / x.std(ddof=1)
    t = st.t.ppf(1 - alpha / (2 * n), n - 2)
    crit = (n - 1) / math.sqrt(n) * math.sqrt(t * t / (n - 2 + t * t))
    tg = math.sqrt(n * (n - 2) * g * g / ((n - 1) ** 2 - n * g * g))
    p = min(1.0, 2 * n * st.t.sf(tg, n - 2))
    return {"values": [float(v) for v in x], "index": int(dev.argmax()), "g": f(g),
            "critical": f(crit), "p": f(p)}


grubbs_cases = [grubbs(v) for v in (
    [1.0, 1.1, 0.9, 1.05, 10.0],
    [0.50, 0.51, 0.49, 0.505, 0.495, 0.90],
    [0.41, 0.43, 0.39, 0.40, 0.45, 0.42, 0.38, 0.44],
    [2.0, 2.1, 1.9, 2.05, 1.95, 2.02, 1.98, 2.01, 1.99, 3.5],
)]
grubbs_critical = [{"n": n, "alpha": 0.01, "critical": grubbs(np.arange(n, dtype=float))["critical"]}
                   for n in (3, 5, 6, 8, 10, 20, 50)]
f_tails = []
for d1, d2 in ((1, 1), (2, 6), (3, 20), (10, 4.5)):
    for x in (0.1, 1.0, 3.5, 40.0):
        f_tails.append({"d1": d1, "d2": d2, "f": x, "p": f(st.f.sf(x, d1, d2))})

out = {
    "generator": "crates/ox-analysis/tests/reference/generate.py",
    "versions": {"scipy": scipy.__version__, "numpy": np.__version__, "statsmodels": statsmodels.__version__,
                 "pingouin": pg.__version__},
    "describe": describe, "bootstrap": bootstrap, "two_sample": two_sample, "holm": holm,
    "mcnemar": mcnemar, "paired": paired, "eta_squared": eta, "spearman": spearman,
    "t_quantiles": t_quantiles, "t_tails": t_tails, "cli": cli, "cli_paired": cli_paired,
    "grubbs": grubbs_cases, "grubbs_critical": grubbs_critical, "f_tails": f_tails,
}
path = pathlib.Path(__file__).with_name("reference.json")
path.write_text(json.dumps(out, indent=1, allow_nan=False) + "\n")
print(f"wrote {path}")
