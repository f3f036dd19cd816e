"""The true pass rate: a judge's raw pass rate corrected for its known errors, with an honest interval.

A judge that passes 70% of outputs while missing some failures and flagging some good outputs says little
by itself. With TPR (share of good outputs it passes) and TNR (share of bad outputs it fails) measured on
labeled items, theta = (p_obs + TNR - 1) / (TPR + TNR - 1) estimates the share a person would pass
(Rogan-Gladen). Its interval resamples both sources of error: the labeled items behind TPR/TNR and the
judged items behind p_obs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from judge import metrics as M
from judge.reports.figures import figure, undefined

TARGET_HALF_WIDTH = 0.05
_Z = 1.959963984540054  # the normal quantile of a two-sided 95% interval


def true_pass_rate(pass_table, n_judged: int, n_judged_passed: int, *, n_boot: int = 1000, seed: int = 0,
                   boot_tables: np.ndarray | None = None) -> dict[str, Any]:
    """Observed and corrected pass rate with intervals, and how many more labels would narrow the interval.

    `pass_table` is the 2x2 human x judge table of labeled items (0 = fail, 1 = pass); `boot_tables`, when
    given, are its resamples already drawn for the rest of the report (so the figures share resamples).
    """
    table = np.asarray(pass_table, dtype=float)
    rng = np.random.default_rng([seed, 1])
    if boot_tables is None:
        boot_tables = M.bootstrap_tables(table, n_boot, seed=rng)
    if n_judged == 0:
        return {"judged_items": 0, "observed": undefined("the run has no scored item"),
                "corrected": undefined("the run has no scored item"), "no_better_than_chance": None, "advice": None}
    p_observed = n_judged_passed / n_judged
    boot_observed = rng.binomial(n_judged, p_observed, size=len(boot_tables)) / n_judged
    rates = M.pass_fail_rates_from_tables(boot_tables)
    boot_theta = M.corrected_pass_rate_from_arrays(boot_observed, rates["tpr"], rates["tnr"])
    tpr, tnr = _rate(table[1, 1], table[1].sum()), _rate(table[0, 0], table[0].sum())
    labeled = int(table.sum())

    def corrected() -> float:
        if tpr is None or tnr is None:
            raise M.UndefinedMetric("the labeled items need both human passes and human failures "
                                    "to measure the judge's TPR and TNR")
        return M.corrected_pass_rate(p_observed, tpr, tnr)

    return {
        "judged_items": int(n_judged),
        "labeled_items": labeled,
        "observed": figure(lambda: p_observed, boot_observed, n_judged),
        "corrected": figure(corrected, boot_theta, labeled),
        "no_better_than_chance": None if tpr is None or tnr is None else bool(tpr + tnr <= 1),
        "advice": sample_size_advice(p_observed, n_judged, tpr, tnr, int(table[1].sum()), int(table[0].sum())),
    }


def _rate(hits: float, total: float) -> float | None:
    return float(hits / total) if total else None


def sample_size_advice(p_observed: float, n_judged: int, tpr: float | None, tnr: float | None,
                       n_pass_labels: int, n_fail_labels: int, *,
                       half_width: float = TARGET_HALF_WIDTH) -> dict[str, Any]:
    """How many more human-pass and human-fail labels bring the corrected rate's interval to +-half_width.

    Delta method: Var(theta) = [p(1-p)/N + theta^2 TPR(1-TPR)/n_pass + (1-theta)^2 TNR(1-TNR)/n_fail] / J^2,
    J = TPR + TNR - 1. The cheapest way to meet the target spends labels in proportion to each class's
    sqrt-term (Lagrange), never fewer than the labels already there.
    """
    if tpr is None or tnr is None or tpr + tnr <= 1:
        return {"target_half_width": half_width, "possible": False,
                "reason": "TPR and TNR must be measured (label both passes and failures) and sum to more than 1"}
    youden = tpr + tnr - 1
    theta = min(max((p_observed + tnr - 1) / youden, 0.0), 1.0)
    a = theta**2 * tpr * (1 - tpr)               # variance weight of the pass labels
    b = (1 - theta) ** 2 * tnr * (1 - tnr)       # variance weight of the fail labels
    budget = (half_width / _Z) ** 2 * youden**2 - p_observed * (1 - p_observed) / n_judged
    current = _Z * math.sqrt(max(a / max(n_pass_labels, 1) + b / max(n_fail_labels, 1)
                                 + p_observed * (1 - p_observed) / n_judged, 0.0)) / youden
    out = {"target_half_width": half_width, "current_half_width": current}
    if budget <= 0:
        return out | {"possible": False,
                      "reason": "the judged items alone are too few: judge more items before labeling more"}
    need_pass, need_fail = _allocate(a, b, budget, n_pass_labels, n_fail_labels)
    return out | {"possible": True, "more_pass_labels": need_pass, "more_fail_labels": need_fail}


def _allocate(a: float, b: float, budget: float, have_pass: int, have_fail: int) -> tuple[int, int]:
    """Fewest extra (pass, fail) labels with a/n_pass + b/n_fail <= budget."""
    if a / max(have_pass, 1) + b / max(have_fail, 1) <= budget and have_pass and have_fail:
        return 0, 0
    root = math.sqrt(a) + math.sqrt(b)
    best_pass, best_fail = math.sqrt(a) * root / budget, math.sqrt(b) * root / budget
    if best_pass <= have_pass:      # enough passes already: spend the remaining budget on failures
        best_pass = have_pass
        best_fail = b / (budget - a / max(have_pass, 1)) if b else have_fail
    elif best_fail <= have_fail:
        best_fail = have_fail
        best_pass = a / (budget - b / max(have_fail, 1)) if a else have_pass
    return max(math.ceil(best_pass) - have_pass, 0), max(math.ceil(best_fail) - have_fail, 0)


