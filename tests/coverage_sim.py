"""Simulations with known truth: how often each 95% interval covers, how often each test fires.

Shared by tests/test_coverage.py (small, seeded, fast) and bench/coverage.py (the full tables). A population
is a 5x5 table of probabilities P(human score, judge score); pass = score >= PASS_THRESHOLD. Every replicate
draws n items from it and measures them with the report's own code (`agreement_figures`), so the
simulation checks what users see.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from judge import metrics as M
from judge.reports.agreement import agreement_figures

PASS_THRESHOLD = 4
SCORES = np.arange(1, 6)


FAR_SHARE = 0.15


def _judge_given_human(stay: float, random_share: float = 0.0) -> np.ndarray:
    """5x5 P(judge | human): the human's score w.p. `stay`, else off by one point (two points in FAR_SHARE of
    the misses; clipped to 1-5), or uniformly random w.p. `random_share`."""
    rows = np.zeros((5, 5))
    for h in range(5):
        rows[h, h] += stay
        for step in (-2, -1, 1, 2):
            share = FAR_SHARE if abs(step) == 2 else 1 - FAR_SHARE
            rows[h, min(max(h + step, 0), 4)] += (1 - stay) / 2 * share
    return (1 - random_share) * rows + random_share / 5


def population(human_shares, stay: float, random_share: float = 0.0) -> np.ndarray:
    shares = np.asarray(human_shares, dtype=float)
    return shares[:, None] * _judge_given_human(stay, random_share)


POPULATIONS = {
    "typical": population([0.10, 0.15, 0.25, 0.30, 0.20], stay=0.6),
    "strong, 15% failures": population([0.03, 0.04, 0.08, 0.35, 0.50], stay=0.85),
    "weak": population([0.15, 0.20, 0.25, 0.25, 0.15], stay=0.5, random_share=0.5),
}
SCORE_FIGURES = ("exact_agreement", "within_one_agreement", "quadratic_kappa", "linear_kappa", "spearman_rho",
                 "kendall_tau_b", "mae", "mean_bias")
PASS_FIGURES = ("kappa", "tpr", "tnr", "failure_precision", "failure_f1", "false_failure_rate", "mcc")


def pass_table_of(scores_table: np.ndarray) -> np.ndarray:
    """(..., 2, 2) human x judge (0 = fail, 1 = pass) from (..., 5, 5) score tables."""
    t = np.asarray(scores_table)
    cut = PASS_THRESHOLD - 1
    rows = [[t[..., :cut, :cut].sum(axis=(-2, -1)), t[..., :cut, cut:].sum(axis=(-2, -1))],
            [t[..., cut:, :cut].sum(axis=(-2, -1)), t[..., cut:, cut:].sum(axis=(-2, -1))]]
    return np.moveaxis(np.array(rows), (0, 1), (-2, -1))


def true_figures(probabilities: np.ndarray) -> dict[str, float]:
    """Every figure of the population itself (the table functions accept shares as well as counts)."""
    big = probabilities * 1e7       # mid-ranks need counts; at this size the +1/2 of a rank is negligible
    rates = M.pass_fail_rates_from_tables(pass_table_of(big))
    return {
        "exact_agreement": float(M.exact_from_tables(big)),
        "within_one_agreement": float(M.within_one_from_tables(big)),
        "quadratic_kappa": float(M.kappa_from_tables(big, weights="quadratic")),
        "linear_kappa": float(M.kappa_from_tables(big, weights="linear")),
        "spearman_rho": float(M.spearman_from_tables(big)),
        "kendall_tau_b": float(M.kendall_tau_b_from_tables(big)),
        "mae": float(M.mae_from_tables(big)),
        "mean_bias": float(M.bias_from_tables(big)),
        **{name: float(rates[name]) for name in PASS_FIGURES},
    }


def labels_frame(table: np.ndarray) -> pd.DataFrame:
    """The items of a 5x5 count table as the report's paired-labels frame."""
    cells = np.repeat(np.arange(25), table.ravel())
    human, judge = cells // 5 + 1, cells % 5 + 1
    return pd.DataFrame({"human_score": human, "judge_score": judge,
                         "human_passed": human >= PASS_THRESHOLD, "judge_passed": judge >= PASS_THRESHOLD})


def figure_coverage(probabilities: np.ndarray, n: int, *, replicates: int, n_boot: int = 1000,
                    seed: int = 0) -> dict[str, dict[str, float]]:
    """Per figure: share of intervals covering the true value (among replicates with an interval), share of
    replicates with an interval, and share carrying the few-labels warning."""
    truth = true_figures(probabilities)
    rng = np.random.default_rng(seed)
    hits = {name: [] for name in truth}
    warned = {name: 0 for name in truth}
    for replicate in range(replicates):
        table = rng.multinomial(n, probabilities.ravel()).reshape(5, 5)
        figures = agreement_figures(labels_frame(table), n_boot=n_boot, seed=seed * 100_000 + replicate)
        for name in truth:
            fig = figures["scores" if name in SCORE_FIGURES else "pass_fail"][name]
            if fig["ci"] is not None:
                hits[name].append(fig["ci"][0] - 1e-12 <= truth[name] <= fig["ci"][1] + 1e-12)
            warned[name] += fig.get("warning") is not None
    return {name: {"coverage": float(np.mean(hits[name])) if hits[name] else float("nan"),
                   "with_interval": len(hits[name]) / replicates, "warned": warned[name] / replicates}
            for name in truth}


# -- the corrected pass rate ------------------------------------------------------------------------------
PASS_RATE_POPULATIONS = {      # true pass rate, TPR, TNR of the judge
    "typical (0.7, TPR 0.9, TNR 0.8)": (0.70, 0.90, 0.80),
    "strong, rate 0.95 (TPR 0.97, TNR 0.9)": (0.95, 0.97, 0.90),
    "weak (0.6, TPR 0.75, TNR 0.6)": (0.60, 0.75, 0.60),
}


def pass_rate_coverage(theta: float, tpr: float, tnr: float, n_labeled: int, n_judged: int, *, replicates: int,
                       n_boot: int = 1000, seed: int = 0) -> dict[str, float]:
    """The corrected pass rate of a run of `n_judged` items of which `n_labeled` are labeled (all of them
    when equal): coverage of the true rate among intervals given, and how often an interval is given, the
    value is withheld as no better than chance, or the interval is refused."""
    from judge.reports.passrate import true_pass_rate

    rng = np.random.default_rng(seed)
    covered, outcomes = [], {"interval": 0, "chance": 0, "refused": 0, "undefined": 0}
    for replicate in range(replicates):
        human = rng.random(n_judged) < theta
        judge = np.where(human, rng.random(n_judged) < tpr, rng.random(n_judged) >= tnr)
        table = np.zeros((2, 2))
        np.add.at(table, (human[:n_labeled].astype(int), judge[:n_labeled].astype(int)), 1)
        out = true_pass_rate(table, n_judged, int(judge.sum()), n_boot=n_boot, seed=seed * 100_000 + replicate,
                             labeled_among_judged=True)
        corrected = out["corrected"]
        if corrected["ci"] is not None:
            outcomes["interval"] += 1
            covered.append(corrected["ci"][0] - 1e-12 <= theta <= corrected["ci"][1] + 1e-12)
        elif out["no_better_than_chance"]:
            outcomes["chance"] += 1
        elif corrected.get("interval_refused"):
            outcomes["refused"] += 1
        else:
            outcomes["undefined"] += 1
    return {"coverage": float(np.mean(covered)) if covered else float("nan"),
            **{key: count / replicates for key, count in outcomes.items()}}


# -- compare: is one judge better? ------------------------------------------------------------------------
COMPARE_HUMANS = np.array([0.10, 0.15, 0.25, 0.30, 0.20])


def two_judges(stay_a: float, stay_b: float) -> np.ndarray:
    """5x5x5 P(human, judge a, judge b): the judges err independently given the human score."""
    a, b = _judge_given_human(stay_a), _judge_given_human(stay_b)
    return COMPARE_HUMANS[:, None, None] * a[:, :, None] * b[:, None, :]


def kappa_of(stay: float) -> float:
    return float(M.kappa_from_tables(population(COMPARE_HUMANS, stay) * 1e7, weights="quadratic"))


def stay_for_kappa(target: float) -> float:
    """The judge accuracy (share of exact scores) whose quadratic kappa is `target`, by bisection."""
    low, high = 0.0, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if kappa_of(middle) < target else (low, middle)
    return (low + high) / 2


def compare_rejections(probabilities: np.ndarray, n: int, *, replicates: int, n_boot: int = 1000,
                       seed: int = 0) -> dict[str, float]:
    """How often `compare` calls the difference significant (its permutation test), and how often the 95%
    bootstrap interval alone excludes 0, on items drawn from a 5x5x5 P(human, a, b)."""
    from judge.reports.compare import _paired_difference

    rng = np.random.default_rng(seed)
    significant = interval_excludes = noted = 0
    for replicate in range(replicates):
        cells = rng.choice(125, size=n, p=probabilities.ravel())
        scores = pd.DataFrame({"human": cells // 25 + 1, "a": cells // 5 % 5 + 1, "b": cells % 5 + 1})
        result = _paired_difference(scores, "a", "b", n_boot=n_boot, seed=seed * 100_000 + replicate)
        significant += result["significant"]
        ci = result["quadratic_kappa_difference"]["ci"]
        interval_excludes += bool(ci and (ci[0] > 0 or ci[1] < 0))
        noted += result["power_note"] is not None
    return {"permutation": significant / replicates, "bootstrap_interval": interval_excludes / replicates,
            "power_note": noted / replicates}


# -- gate and trend: did the app regress? -----------------------------------------------------------------
APP_JUDGE_STAY = 0.7


def app_version(pass_share: float) -> np.ndarray:
    """A 5x5 population whose human pass share (scores 4-5) is `pass_share`, judged by one fixed judge."""
    fail_shape, pass_shape = np.array([0.2, 0.3, 0.5]), np.array([0.6, 0.4])
    humans = np.r_[(1 - pass_share) * fail_shape, pass_share * pass_shape]
    return population(humans, stay=APP_JUDGE_STAY)


def regression_rejections(baseline: np.ndarray, candidate: np.ndarray, n: int, *, replicates: int,
                          n_boot: int = 1000, seed: int = 0) -> dict[str, float]:
    """Two runs of n items each, the baseline's all labeled (the judge's calibration): how often the gate
    fails the candidate, how often the trend flags it (the same `regression_checks`, with the trend's own
    seeding), and how often the former trend rule (run's interval wholly below the baseline's) fired. The
    baseline's labeled items are resampled once for its calibration and its own pass rate (`calibrate`)."""
    from judge.reports.calibration import calibrate
    from judge.reports.trends import quality_from_counts, regression_checks

    rng = np.random.default_rng(seed)
    gate_fails = trend_flags = old_rule = corrected_used = 0
    for replicate in range(replicates):
        base_table = rng.multinomial(n, baseline.ravel()).reshape(5, 5)
        new_table = rng.multinomial(n, candidate.ravel()).reshape(5, 5)
        labeled = labels_frame(base_table).assign(item_uid=lambda f: [f"b{i}" for i in range(len(f))])
        calibration = calibrate({"candidate": labeled.iloc[:0], "baseline": labeled}, n_boot=n_boot,
                                seed=[seed, replicate])
        verdicts = []
        for first_seed in (seed * 100_000 + 2 * replicate, seed * 100_000 + 2 * replicate + 1):
            qualities = [quality_from_counts(table.sum(axis=0), n, int(table[:, PASS_THRESHOLD - 1:].sum()),
                                             calibration.table, calibration.boot, seed=first_seed + k,
                                             pass_threshold=PASS_THRESHOLD, labeled=calibration.parts[run])
                         for k, (run, table) in enumerate((("candidate", new_table), ("baseline", base_table)))]
            verdicts.append(regression_checks(*qualities))
        (checks, regressions), (_, trend_regressions) = verdicts
        gate_fails += bool(regressions)
        trend_flags += bool(trend_regressions)
        corrected_used += "corrected_pass_rate" in checks
        old_rule += any(_interval_below(checks[key]["run"], checks[key]["baseline"]) for key in checks)
    return {"gate": gate_fails / replicates, "trend": trend_flags / replicates,
            "former_trend_rule": old_rule / replicates, "corrected_checked": corrected_used / replicates}


def _interval_below(run: dict[str, Any], baseline: dict[str, Any]) -> bool:
    return bool(run["ci"] and baseline["ci"] and run["ci"][1] < baseline["ci"][0])


# -- the former method, for comparison --------------------------------------------------------------------
FORMER_METHOD_FIGURES = {
    "tpr": lambda scores: M.pass_fail_rates_from_tables(pass_table_of(scores))["tpr"],
    "tnr": lambda scores: M.pass_fail_rates_from_tables(pass_table_of(scores))["tnr"],
    "kappa": lambda scores: M.pass_fail_rates_from_tables(pass_table_of(scores))["kappa"],
    "quadratic_kappa": lambda scores: M.kappa_from_tables(scores, weights="quadratic"),
    "spearman_rho": M.spearman_from_tables,
}


def former_method_coverage(probabilities: np.ndarray, n: int, *, replicates: int, n_boot: int = 1000,
                           seed: int = 0) -> dict[str, float]:
    """Coverage of the percentile item bootstrap every figure used before issue 9, on the same draws as
    `figure_coverage` with the same seed (undefined resamples skipped, as it did)."""
    truth = true_figures(probabilities)
    rng = np.random.default_rng(seed)
    hits = {name: [] for name in FORMER_METHOD_FIGURES}
    for replicate in range(replicates):
        table = rng.multinomial(n, probabilities.ravel()).reshape(5, 5)
        boot = M.bootstrap_tables(table, n_boot, seed=seed * 100_000 + replicate)
        for name, statistic in FORMER_METHOD_FIGURES.items():
            if np.isnan(statistic(table[None])[0]):
                continue
            interval = M.percentile_interval(statistic(boot))
            if interval is not None:
                hits[name].append(interval[0] - 1e-12 <= truth[name] <= interval[1] + 1e-12)
    return {name: float(np.mean(values)) if values else float("nan") for name, values in hits.items()}


# -- a suspicion-ordered sample: compare, gate and trend with design weights ------------------------------
SECOND_JUDGE_STAY = 0.5
DESIGN_POPULATION = 2000


def suspicion_sample(failed: np.ndarray, n: int, seed) -> tuple[np.ndarray, np.ndarray]:
    """The first n items of a suspicion queue (judge.label_next's own priority, shares and sequential
    Poisson order) over the runs' verdicts (items x runs, True = failed): their indices and shares."""
    from judge import label_next

    items = pd.DataFrame({"runs": failed.shape[1], "fail_share": failed.mean(axis=1)})
    share = label_next.shares(label_next.priorities(items, "suspicion"))
    chosen = label_next.queue_order(share, seed)[:n]
    return chosen, share[chosen]


def _draw(conditional: np.ndarray, given: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 1-5 score per item from the rows of a 5x5 P(score | given score)."""
    cumulative = np.cumsum(conditional[given - 1], axis=1)
    return (rng.random(len(given))[:, None] > cumulative).sum(axis=1).clip(0, 4) + 1


def designed_compare(stay_a: float, stay_b: float, n: int, *, replicates: int, n_boot: int = 1000,
                     seed: int = 0) -> dict[str, float]:
    """Two judges over a population of DESIGN_POPULATION items, n of them labeled in suspicion order over
    both judges' verdicts: how often compare's weighted interval covers the population's kappa difference
    (and the plain one, ignoring the weights), and how often its test calls the difference significant."""
    from judge.label_next import design_weights
    from judge.reports.compare import _paired_difference

    rng = np.random.default_rng(seed)
    covered = plain_covered = significant = 0
    for replicate in range(replicates):
        human = rng.choice(SCORES, size=DESIGN_POPULATION, p=COMPARE_HUMANS)
        a, b = _draw(_judge_given_human(stay_a), human, rng), _draw(_judge_given_human(stay_b), human, rng)
        cube = np.zeros((5, 5, 5))
        np.add.at(cube, (human - 1, a - 1, b - 1), 1)
        truth = float(M.kappa_from_tables(cube.sum(-1), weights="quadratic")
                      - M.kappa_from_tables(cube.sum(-2), weights="quadratic"))
        chosen, share = suspicion_sample(np.c_[a < PASS_THRESHOLD, b < PASS_THRESHOLD], n,
                                         seed * 100_000 + replicate)
        drawn = pd.DataFrame({"human": human[chosen], "a": a[chosen], "b": b[chosen],
                              "sample_design": "suspicion", "sample_share": share})
        scores = drawn.assign(weight=design_weights(drawn))
        result = _paired_difference(scores, "a", "b", n_boot=n_boot, seed=seed * 100_000 + replicate)
        plain = _paired_difference(scores.drop(columns="weight"), "a", "b", n_boot=n_boot, seed=replicate)
        covered += _covers(result["difference"], truth)
        plain_covered += _covers(plain["difference"], truth)
        significant += result["significant"]
    return {"coverage": covered / replicates, "plain_coverage": plain_covered / replicates,
            "significant": significant / replicates}


def _covers(fig: dict[str, Any], truth: float) -> bool:
    return bool(fig["ci"] and fig["ci"][0] - 1e-12 <= truth <= fig["ci"][1] + 1e-12)


def designed_regression(baseline_share: float, candidate_share: float, n_labeled: int, *, replicates: int,
                        n_boot: int = 1000, seed: int = 0) -> dict[str, float]:
    """A baseline and a candidate run of DESIGN_POPULATION items each; n_labeled of the baseline's items are
    labeled in suspicion order over its judge and a second judge: how often the gate fails the candidate and
    the trend flags it, and how often each run's corrected pass rate covers the true pass share, with the
    design weights (what gate and trend use) and without them."""
    from judge.reports.calibration import calibrate
    from judge.reports.trends import quality_from_counts, regression_checks

    rng = np.random.default_rng(seed)
    out = {"gate": 0, "trend": 0, "baseline_coverage": 0, "candidate_coverage": 0, "plain_baseline_coverage": 0}
    for replicate in range(replicates):
        runs = {}
        for name, share in (("candidate", candidate_share), ("baseline", baseline_share)):
            cells = rng.choice(25, size=DESIGN_POPULATION, p=app_version(share).ravel())
            runs[name] = (cells // 5 + 1, cells % 5 + 1)
        human, judge = runs["baseline"]
        second = _draw(_judge_given_human(SECOND_JUDGE_STAY), human, rng)
        chosen, shares = suspicion_sample(np.c_[judge < PASS_THRESHOLD, second < PASS_THRESHOLD], n_labeled,
                                          seed * 100_000 + replicate)
        labeled = pd.DataFrame({"item_uid": chosen.astype(str), "human_passed": human[chosen] >= PASS_THRESHOLD,
                                "judge_passed": judge[chosen] >= PASS_THRESHOLD, "judge_score": judge[chosen],
                                "sample_design": "suspicion", "sample_share": shares})
        weighted, plain = (calibrate({"candidate": frame.iloc[:0], "baseline": frame}, n_boot=n_boot,
                                     seed=[seed, replicate])
                           for frame in (labeled, labeled.drop(columns=["sample_design", "sample_share"])))
        verdicts = []
        for calibration, first_seed in ((weighted, 2 * replicate), (weighted, 2 * replicate + 1),
                                        (plain, 2 * replicate)):
            qualities = {}
            for k, (name, (_, scores)) in enumerate(runs.items()):
                counts = np.bincount(scores - 1, minlength=5)
                qualities[name] = quality_from_counts(
                    counts, DESIGN_POPULATION, int(counts[PASS_THRESHOLD - 1:].sum()), calibration.table,
                    calibration.boot, seed=seed * 100_000 + first_seed * 2 + k, pass_threshold=PASS_THRESHOLD,
                    labeled=calibration.parts[name])
            verdicts.append((qualities, regression_checks(qualities["candidate"], qualities["baseline"])[1]))
        (weighted, gate_regressions), (_, trend_regressions), (plain, _) = verdicts
        out["gate"] += bool(gate_regressions)
        out["trend"] += bool(trend_regressions)
        out["baseline_coverage"] += _covers(weighted["baseline"].figures["corrected_pass_rate"], baseline_share)
        out["candidate_coverage"] += _covers(weighted["candidate"].figures["corrected_pass_rate"], candidate_share)
        out["plain_baseline_coverage"] += _covers(plain["baseline"].figures["corrected_pass_rate"], baseline_share)
    return {key: value / replicates for key, value in out.items()}
