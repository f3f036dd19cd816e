"""Agreement figures from a weighted sample: items a strategy drew non-uniformly (judge.label_next).

Each labeled item weighs 1 / its inclusion probability, so the weighted human x judge table estimates the
table of the whole dataset version (Hajek's ratio estimator: every figure of a table, TPR, TNR, kappa, is a
ratio of weighted totals). The uncertainty of a weighted sample is that of a smaller plain sample: the table
is scaled to Kish's effective sample size n_eff = (sum w)^2 / sum w^2, and the intervals are then drawn from
it exactly as for a plain sample (Wilson for proportions, Dirichlet draws for the rest). With equal weights
n_eff = n and the figures are the plain ones. bench/label_next.py measures the coverage this gives.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from judge import metrics as M
from judge.reports.figures import DIRICHLET, figure, joint_table, pass_tables, proportion, score_tables

WEIGHTED_NOTE = "weighted sample: items drawn by a label-next strategy weigh 1 / their inclusion probability"


def effective_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of weighted items."""
    weights = np.asarray(weights, dtype=float)
    return float(weights.sum() ** 2 / np.square(weights).sum()) if len(weights) else 0.0


def weighted_joint_table(both: pd.DataFrame, weights: np.ndarray) -> np.ndarray:
    """The (human score, judge score, human pass, judge pass) table with each item counted by its weight,
    scaled so its total is the effective sample size."""
    columns = [both[c].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
               for c in ("human_score", "judge_score", "human_passed", "judge_passed")]
    table = joint_table(*columns, weights=np.asarray(weights, dtype=float))
    return table * effective_size(weights) / max(float(np.sum(weights)), 1e-12)


def _table_figure(vectorized, table: np.ndarray, draws: np.ndarray, n: float) -> dict[str, Any]:
    def point() -> float:
        value = float(vectorized(table[None])[0])
        if np.isnan(value):
            raise M.UndefinedMetric("not defined on this weighted table")
        return value
    return figure(point, vectorized(draws), round(n), method=DIRICHLET)


def _share(successes: float, n: float, what: str) -> dict[str, Any]:
    def point() -> float:
        if n <= 0:
            raise M.UndefinedMetric(f"no {what}")
        return successes / n
    return proportion(point, successes, n)


def weighted_agreement_figures(both: pd.DataFrame, weights: np.ndarray, *, n_boot: int,
                               seed: int) -> dict[str, Any]:
    """The same keys as `agreement.agreement_figures`, estimated from a weighted sample."""
    joint = weighted_joint_table(both, weights)
    scores, passes = score_tables(joint), pass_tables(joint)
    n_scores, n_pass = float(scores.sum()), float(passes.sum())
    score_draws = M.dirichlet_tables(scores, n_boot, prior=M.SCORE_TABLE_PRIOR, seed=[seed, 4])
    out_scores: dict[str, Any] = {"n": round(n_scores)}
    out_scores["exact_agreement"] = _share(float(np.trace(scores)), n_scores, "scored item")
    out_scores["within_one_agreement"] = _share(float(sum(np.trace(scores, k) for k in (-1, 0, 1))), n_scores,
                                                "scored item")
    for name, vectorized in {
        "quadratic_kappa": lambda t: M.kappa_from_tables(t, weights="quadratic"),
        "linear_kappa": lambda t: M.kappa_from_tables(t, weights="linear"),
        "spearman_rho": M.spearman_from_tables, "kendall_tau_b": M.kendall_tau_b_from_tables,
        "mae": M.mae_from_tables, "mean_bias": M.bias_from_tables,
    }.items():
        out_scores[name] = (_table_figure(vectorized, scores, score_draws, n_scores) if n_scores
                            else figure(_no_items, None, 0))
    out_scores["confusion_matrix"] = np.round(scores, 2).tolist()

    (tn, fp), (fn, tp) = passes
    pass_draws = M.dirichlet_tables(passes, n_boot, seed=[seed, 3])
    out_pass: dict[str, Any] = {"n": round(n_pass)}
    for name, successes, count, what in (("tpr", tp, tp + fn, "human pass"), ("tnr", tn, tn + fp, "human failure"),
                                         ("failure_precision", tn, tn + fn, "judge failure"),
                                         ("failure_recall", tn, tn + fp, "human failure"),
                                         ("false_failure_rate", fn, tp + fn, "human pass")):
        out_pass[name] = _share(float(successes), float(count), what)
    for name in ("kappa", "failure_f1", "mcc"):
        metric = lambda t, name=name: M.pass_fail_rates_from_tables(t)[name]  # noqa: E731
        out_pass[name] = _table_figure(metric, passes, pass_draws, n_pass) if n_pass else figure(_no_items, None, 0)
    out_pass["confusion_matrix"] = np.round(passes, 2).tolist()
    ordered = {key: out_pass[key] for key in ("n", "kappa", "tpr", "tnr", "failure_precision", "failure_recall",
                                              "failure_f1", "false_failure_rate", "mcc", "confusion_matrix")}
    return {"scores": out_scores, "pass_fail": ordered, "_pass_table": passes,
            "_boot_pass_tables": pass_draws, "weighted": True}


def _no_items() -> float:
    raise M.UndefinedMetric("no labeled item with both values")
