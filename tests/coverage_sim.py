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
from judge.reports.figures import pass_tables, score_tables

PASS_THRESHOLD = 4
SCORES = np.arange(1, 6)


def _judge_given_human(stay: float, random_share: float = 0.0) -> np.ndarray:
    """5x5 P(judge | human): the human's score w.p. `stay`, else one point off (clipped), or uniformly random
    w.p. `random_share`."""
    rows = np.zeros((5, 5))
    for h in range(5):
        rows[h, h] += stay
        for step in (-1, 1):
            rows[h, min(max(h + step, 0), 4)] += (1 - stay) / 2
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
    """2x2 human x judge (0 = fail, 1 = pass) from a 5x5 score table."""
    passed = SCORES >= PASS_THRESHOLD
    return np.array([[scores_table[np.ix_(passed == h, passed == j)].sum() for j in (False, True)]
                     for h in (False, True)])


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
