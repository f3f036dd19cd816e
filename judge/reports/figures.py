"""A reported figure is a value with its 95% bootstrap interval and its n, or `undefined` with the reason.

Every metric of a report is computed twice: the point value from the label arrays with the maintained
implementation (`judge.metrics`, scikit-learn/scipy/krippendorff), the interval from the vectorized version
of the same metric over all bootstrap resamples at once.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from judge import metrics as M

CONFIDENCE = 0.95

# A labeled-and-judged item is one cell of a (human score, judge score, human pass, judge pass) table;
# 0 means "missing" on each axis, so one resampled table serves every metric, each on the items it can use.
SCORE_LEVELS, PASS_LEVELS = 6, 3


def figure(value: Callable[[], float], samples: np.ndarray | None, n: int) -> dict[str, Any]:
    """{"value", "ci": [low, high], "n", "undefined": reason}; an undefined value has no interval."""
    try:
        point = float(value())
    except M.UndefinedMetric as exc:
        return {"value": None, "ci": None, "n": int(n), "undefined": exc.reason}
    interval = M.percentile_interval(samples, level=CONFIDENCE) if samples is not None else None
    return {"value": point, "ci": list(interval) if interval else None, "n": int(n), "undefined": None}


def undefined(reason: str, n: int = 0) -> dict[str, Any]:
    return {"value": None, "ci": None, "n": int(n), "undefined": reason}


def joint_table(human_score, judge_score, human_passed, judge_passed) -> np.ndarray:
    """Counts per (human score, judge score, human pass, judge pass) cell, NaN/None counted as missing (0)."""
    hs = _codes(human_score, offset=0)
    js = _codes(judge_score, offset=0)
    hp = _codes(human_passed, offset=1)
    jp = _codes(judge_passed, offset=1)
    code = ((hs * SCORE_LEVELS + js) * PASS_LEVELS + hp) * PASS_LEVELS + jp
    size = SCORE_LEVELS * SCORE_LEVELS * PASS_LEVELS * PASS_LEVELS
    return np.bincount(code, minlength=size).reshape(SCORE_LEVELS, SCORE_LEVELS, PASS_LEVELS, PASS_LEVELS)


def _codes(values, *, offset: int) -> np.ndarray:
    """Scores 1-5 stay 1-5 and booleans become 1 (fail) / 2 (pass); missing is 0."""
    array = np.asarray(values, dtype=float)
    return np.where(np.isnan(array), 0, array + offset).astype(np.int64)


def score_tables(joint: np.ndarray) -> np.ndarray:
    """(..., 5, 5) human x judge score tables of the items with both scores."""
    return joint[..., 1:, 1:, :, :].sum(axis=(-2, -1))


def pass_tables(joint: np.ndarray) -> np.ndarray:
    """(..., 2, 2) human x judge pass/fail tables (0 = fail, 1 = pass) of the items with both."""
    return joint[..., :, :, 1:, 1:].sum(axis=(-4, -3))


def score_figures(human: np.ndarray, judge: np.ndarray, boot_tables: np.ndarray) -> dict[str, Any]:
    """Judge vs human on 1-5: every metric with its interval, plus the 5x5 confusion matrix."""
    n = len(human)
    out: dict[str, Any] = {"n": n}
    specs = {
        "exact_agreement": (lambda: M.exact_agreement(human, judge), M.exact_from_tables),
        "within_one_agreement": (lambda: M.within_one_agreement(human, judge), M.within_one_from_tables),
        "quadratic_kappa": (lambda: M.weighted_kappa(human, judge, weights="quadratic"),
                            lambda t: M.kappa_from_tables(t, weights="quadratic")),
        "linear_kappa": (lambda: M.weighted_kappa(human, judge, weights="linear"),
                         lambda t: M.kappa_from_tables(t, weights="linear")),
        "spearman_rho": (lambda: M.spearman_rho(human, judge), M.spearman_from_tables),
        "kendall_tau_b": (lambda: M.kendall_tau_b(human, judge), M.kendall_tau_b_from_tables),
        "mae": (lambda: M.mean_absolute_error(human, judge), M.mae_from_tables),
        "mean_bias": (lambda: M.mean_bias(human, judge), M.bias_from_tables),
    }
    for name, (point, vectorized) in specs.items():
        out[name] = figure(point, vectorized(boot_tables), n)
    out["confusion_matrix"] = M.score_confusion_matrix(human, judge).tolist() if n else [[0] * 5 for _ in range(5)]
    return out


def pass_figures(human: np.ndarray, judge: np.ndarray, boot_tables: np.ndarray) -> dict[str, Any]:
    """Pass/fail metrics with intervals; failures are the class of interest (recall of failures = coverage)."""
    n = len(human)
    rates = M.pass_fail_rates_from_tables(boot_tables)
    points = {
        "kappa": M.pass_fail_kappa,
        "tpr": M.true_positive_rate,
        "tnr": M.true_negative_rate,
        "failure_precision": M.failure_precision,
        "failure_recall": M.failure_recall,
        "failure_f1": M.failure_f1,
        "false_failure_rate": M.false_failure_rate,
        "mcc": M.matthews_corrcoef,
    }
    out: dict[str, Any] = {"n": n}
    for name, metric in points.items():
        out[name] = figure(lambda metric=metric: metric(human, judge), rates[name], n)
    table = np.zeros((2, 2), dtype=int)
    np.add.at(table, (human.astype(int), judge.astype(int)), 1)
    out["confusion_matrix"] = table.tolist()
    return out
