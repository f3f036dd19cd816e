"""A reported figure is a value with its 95% interval and its n, or `undefined` with the reason.

Every metric of a report is computed twice: the point value from the label arrays with the maintained
implementation (`judge.metrics`, scikit-learn/scipy/krippendorff), the interval from the vectorized version
of the same metric over all resamples at once. The interval method is chosen per kind of figure, because
the percentile bootstrap says 95% and covers far less near 0 or 1 and at small n (bench/coverage.py):

- proportions (TPR, TNR, false-failure rate, precision, agreement shares): Wilson, with `n` the count the
  proportion rests on (human passes for TPR, human failures for TNR, judge failures for precision);
- weighted kappa and rank correlations of the 1-5 scores from FEW_LABELS items on: Fisher's z, normal on
  the z scale with the SD of the Dirichlet draws' z and a t quantile (`metrics.fisher_z_interval`); the
  mean bias from FEW_LABELS items: the t interval. The Dirichlet percentiles covered 92-93% there for a
  weak judge (the z-scale interval: 94-95%, bench/coverage.py), and the delta-method SE on Fisher's z
  92-94% for a strong judge's quadratic kappa, whose empty far-off cells the draws' prior covers;
- every other figure of a table (pass/fail kappa, MCC, F1; MAE; the 1-5 figures under FEW_LABELS items,
  where a normal approximation fails: a strong judge's kappa at 20 items covers 83-84% with one):
  percentiles of Dirichlet(table + small prior) draws (`metrics.dirichlet_tables`), which do not collapse
  to [1, 1] when a cell is empty and cover at small n where the item bootstrap and BCa do not. MAE keeps
  them at every n: the t interval of a skewed |judge - human| covered 92-93% for a strong judge, they 93-96%.

Each figure says its `method`; an interval resting on fewer than FEW_LABELS items carries `warning`.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from judge import metrics as M

CONFIDENCE = 0.95
FEW_LABELS = 50
FEW_LABELS_WARNING = "few labels: interval approximate"
WILSON, DIRICHLET, PERCENTILE = "wilson", "dirichlet bootstrap", "percentile bootstrap"
FISHER_Z, T = "fisher z", "t interval"

# A labeled-and-judged item is one cell of a (human score, judge score, human pass, judge pass) table;
# 0 means "missing" on each axis, so one resampled table serves every metric, each on the items it can use.
SCORE_LEVELS, PASS_LEVELS = 6, 3


def figure(value: Callable[[], float], samples: np.ndarray | None, n: int, *,
           interval: Callable[[float], tuple[float, float] | None] | None = None,
           method: str = PERCENTILE) -> dict[str, Any]:
    """{"value", "ci": [low, high], "n", "undefined": reason, "method", "warning"}; undefined has no interval.

    The interval is `interval(point)` when given, else the percentile interval of `samples`. `warning` is
    set when the interval rests on fewer than FEW_LABELS items: its coverage is then approximate (a Wilson
    interval of a TNR near 1 on 3 failures covers less than 90%, a resampled one can be off either way).
    """
    try:
        point = float(value())
    except M.UndefinedMetric as exc:
        return undefined(exc.reason, n)
    if interval is not None:
        bounds = interval(point)
    else:
        bounds = M.percentile_interval(samples, level=CONFIDENCE) if samples is not None else None
    if bounds and method == DIRICHLET:
        # the draws never reach a boundary the data sit on (a perfect table's kappa 1): the interval keeps
        # the estimate it is about
        bounds = (min(bounds[0], point), max(bounds[1], point))
    warning = FEW_LABELS_WARNING if bounds and n < FEW_LABELS else None
    return {"value": point, "ci": list(bounds) if bounds else None, "n": int(n), "undefined": None,
            "method": method, "warning": warning}


def undefined(reason: str, n: int = 0) -> dict[str, Any]:
    return {"value": None, "ci": None, "n": int(n), "undefined": reason, "method": None, "warning": None}


def proportion(value: Callable[[], float], successes: float, n: float) -> dict[str, Any]:
    """A share successes / n (point from `value`, the maintained implementation) with its Wilson interval;
    `n` is the count the share rests on."""
    return figure(value, None, int(n), interval=lambda _: M.wilson_interval(successes, n, level=CONFIDENCE),
                  method=WILSON)


def joint_table(human_score, judge_score, human_passed, judge_passed, *, weights=None) -> np.ndarray:
    """Counts per (human score, judge score, human pass, judge pass) cell, NaN/None counted as missing (0);
    with `weights`, each item counts by its weight (a weighted sample, judge.reports.weighted)."""
    hs = _codes(human_score, offset=0)
    js = _codes(judge_score, offset=0)
    hp = _codes(human_passed, offset=1)
    jp = _codes(judge_passed, offset=1)
    code = ((hs * SCORE_LEVELS + js) * PASS_LEVELS + hp) * PASS_LEVELS + jp
    size = SCORE_LEVELS * SCORE_LEVELS * PASS_LEVELS * PASS_LEVELS
    return np.bincount(code, weights=weights, minlength=size).reshape(SCORE_LEVELS, SCORE_LEVELS, PASS_LEVELS, PASS_LEVELS)


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


def score_figures(human: np.ndarray, judge: np.ndarray, boot_tables: np.ndarray, *,
                  seed: int = 0) -> dict[str, Any]:
    """Judge vs human on 1-5: every metric with its interval, plus the 5x5 confusion matrix.

    Agreement shares get Wilson intervals; from FEW_LABELS items kappa and rank correlations Fisher's z (on
    the Dirichlet draws' spread) and the mean bias a t interval (see the module doc); the other figures, and
    all under FEW_LABELS items, the percentiles of as many Dirichlet draws of the table as `boot_tables` holds.
    """
    n = len(human)
    out: dict[str, Any] = {"n": n}
    table = M.score_confusion_matrix(human, judge) if n else np.zeros((5, 5), dtype=int)
    exact, within_one = np.trace(table), sum(np.trace(table, k) for k in (-1, 0, 1))
    out["exact_agreement"] = proportion(lambda: M.exact_agreement(human, judge), exact, n)
    out["within_one_agreement"] = proportion(lambda: M.within_one_agreement(human, judge), within_one, n)
    correlations = {
        "quadratic_kappa": (lambda: M.weighted_kappa(human, judge, weights="quadratic"),
                            lambda t: M.kappa_from_tables(t, weights="quadratic")),
        "linear_kappa": (lambda: M.weighted_kappa(human, judge, weights="linear"),
                         lambda t: M.kappa_from_tables(t, weights="linear")),
        "spearman_rho": (lambda: M.spearman_rho(human, judge), M.spearman_from_tables),
        "kendall_tau_b": (lambda: M.kendall_tau_b(human, judge), M.kendall_tau_b_from_tables),
    }
    means = {
        "mae": (lambda: M.mean_absolute_error(human, judge), M.mae_from_tables),
        "mean_bias": (lambda: M.mean_bias(human, judge), M.bias_from_tables),
    }
    drawn = M.dirichlet_tables(table, len(boot_tables), prior=M.SCORE_TABLE_PRIOR, seed=[seed, 4])
    for name, (point, vectorized) in {**correlations, **means}.items():
        samples = vectorized(drawn)
        dirichlet = figure(point, samples, n, method=DIRICHLET)
        if n >= FEW_LABELS and dirichlet["value"] is not None and name != "mae":
            bounds = (M.fisher_z_interval(dirichlet["value"], samples, n, level=CONFIDENCE)
                      if name in correlations else _bias_t_interval(human, judge))
            if bounds is not None:
                dirichlet = dirichlet | {"ci": list(bounds), "method": FISHER_Z if name in correlations else T}
        out[name] = dirichlet
    out["confusion_matrix"] = table.tolist()
    return out


def _bias_t_interval(human: np.ndarray, judge: np.ndarray) -> tuple[float, float] | None:
    """The t interval of the mean of judge - human."""
    difference = judge.astype(float) - human
    return M.t_interval(float(difference.mean()), float(difference.std(ddof=1)), len(difference), level=CONFIDENCE)


def pass_figures(human: np.ndarray, judge: np.ndarray, boot_tables: np.ndarray, *,
                 seed: int = 0) -> dict[str, Any]:
    """Pass/fail metrics with intervals; failures are the class of interest (recall of failures = coverage).

    Rates are proportions of one class (Wilson, `n` = that class's count); kappa, MCC and F1 use the whole
    table (Dirichlet draws, as many as `boot_tables`, `n` = all items).
    """
    n = len(human)
    table = np.zeros((2, 2), dtype=int)
    np.add.at(table, (human.astype(int), judge.astype(int)), 1)
    (tn, fp), (fn, tp) = table
    rates = {
        "tpr": (M.true_positive_rate, tp, tp + fn),
        "tnr": (M.true_negative_rate, tn, tn + fp),
        "failure_precision": (M.failure_precision, tn, tn + fn),
        "failure_recall": (M.failure_recall, tn, tn + fp),
        "false_failure_rate": (M.false_failure_rate, fn, tp + fn),
    }
    whole_table = {"kappa": M.pass_fail_kappa, "failure_f1": M.failure_f1, "mcc": M.matthews_corrcoef}
    drawn = M.pass_fail_rates_from_tables(M.dirichlet_tables(table, len(boot_tables), seed=[seed, 3]))
    out: dict[str, Any] = {"n": n}
    for name in ("kappa", "tpr", "tnr", "failure_precision", "failure_recall", "failure_f1",
                 "false_failure_rate", "mcc"):
        if name in rates:
            metric, successes, count = rates[name]
            out[name] = proportion(lambda metric=metric: metric(human, judge), successes, count)
        else:
            out[name] = figure(lambda metric=whole_table[name]: metric(human, judge), drawn[name], n,
                               method=DIRICHLET)
    out["confusion_matrix"] = table.tolist()
    return out
