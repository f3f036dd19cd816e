"""The true pass rate: a judge's raw pass rate corrected for its known errors, with an honest interval.

A judge that passes 70% of outputs while missing some failures and flagging some good outputs says little
by itself. With TPR (share of good outputs it passes) and TNR (share of bad outputs it fails) measured on
labeled items, theta = (p_obs + TNR - 1) / (TPR + TNR - 1) estimates the share a person would pass
(Rogan-Gladen). Its interval resamples both sources of error, as they were drawn: the labeled items behind
TPR/TNR and the judged items behind p_obs (jointly when the labeled items are some of the judged ones).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from judge import metrics as M
from judge.reports.figures import figure, proportion, undefined

TARGET_HALF_WIDTH = 0.05
MAX_UNDEFINED_RESAMPLES = 0.02
_Z = 1.959963984540054  # the normal quantile of a two-sided 95% interval


def true_pass_rate(pass_table, n_judged: int, n_judged_passed: int, *, n_boot: int = 1000, seed: int = 0,
                   boot_tables: np.ndarray | None = None, labeled_among_judged: bool = False) -> dict[str, Any]:
    """Observed and corrected pass rate with intervals, and how many more labels would narrow the interval.

    `pass_table` is the 2x2 human x judge table of labeled items (0 = fail, 1 = pass); `boot_tables`, when
    given, are its item resamples already drawn for the rest of the report (so the figures share resamples).
    `labeled_among_judged`: the labeled items are some of the `n_judged` items (a report on one run), so a
    resample redraws the labeled items and the others, and the judged pass rate moves with the labeled
    table instead of being redrawn as if independent of it.
    """
    table = np.asarray(pass_table, dtype=float)
    rng = np.random.default_rng([seed, 1])
    if boot_tables is None:
        boot_tables = M.bootstrap_tables(table, n_boot, seed=rng)
    if n_judged == 0:
        nothing = undefined("the run has no scored item")
        return {"judged_items": 0, "observed": nothing, "corrected": nothing, "youden": nothing,
                "no_better_than_chance": None, "advice": None}
    p_observed = n_judged_passed / n_judged
    boot_observed = resampled_pass_rate(table, n_judged, n_judged_passed, boot_tables, rng,
                                        labeled_among_judged=labeled_among_judged)
    corrected = corrected_pass_rate_figure(p_observed, table, boot_observed, boot_tables)
    tpr, tnr = _rate(table[1, 1], table[1].sum()), _rate(table[0, 0], table[0].sum())
    return {
        "judged_items": int(n_judged),
        "labeled_items": int(table.sum()),
        "observed": proportion(lambda: p_observed, n_judged_passed, n_judged),
        "corrected": corrected["corrected"],
        "youden": corrected["youden"],
        "no_better_than_chance": corrected["no_better_than_chance"],
        "advice": sample_size_advice(p_observed, n_judged, tpr, tnr, int(table[1].sum()), int(table[0].sum())),
    }


def resampled_pass_rate(table: np.ndarray, n_judged: int, n_judged_passed: int, boot_tables: np.ndarray,
                        rng: np.random.Generator, *, labeled_among_judged: bool) -> np.ndarray:
    """The judged pass rate of each resample, drawn as the items were: the labeled items' judge passes come
    from their resampled table when they are among the judged, the other judged items are redrawn apart."""
    if not labeled_among_judged:
        return rng.binomial(n_judged, n_judged_passed / n_judged, size=len(boot_tables)) / n_judged
    labeled, labeled_passed = int(table.sum()), int(table[:, 1].sum())
    others, others_passed = n_judged - labeled, n_judged_passed - labeled_passed
    if others < 0 or not 0 <= others_passed <= others:
        raise ValueError(f"true_pass_rate: {labeled} labeled items ({labeled_passed} judge passes) cannot be "
                         f"among {n_judged} judged items with {n_judged_passed} passes.")
    redrawn = rng.binomial(others, others_passed / others, size=len(boot_tables)) if others else 0
    return (boot_tables[:, :, 1].sum(axis=-1) + redrawn) / n_judged


def corrected_pass_rate_figure(p_observed: float, table: np.ndarray, boot_observed: np.ndarray,
                               boot_tables: np.ndarray) -> dict[str, Any]:
    """The corrected pass rate, only when the labeled items show the judge is better than chance.

    Returns {"corrected", "youden", "no_better_than_chance", "samples"}. The judge is taken as no better
    than chance when the 95% interval of TPR + TNR - 1 (Youden's J) reaches 0: the corrected rate divides by
    J, so it would be unbounded, and none is shown. When more than MAX_UNDEFINED_RESAMPLES of the resamples
    lack a human pass or failure the value is shown without an interval (dropping them silently would give
    an interval conditional on what was not drawn), and `interval_refused` says why.
    """
    labeled = int(table.sum())
    rates = M.pass_fail_rates_from_tables(boot_tables)
    boot_youden = rates["tpr"] + rates["tnr"] - 1
    samples = M.corrected_pass_rate_from_arrays(boot_observed, rates["tpr"], rates["tnr"])
    passes, failures = int(table[1].sum()), int(table[0].sum())
    if not passes or not failures:
        reason = ("the labeled items need both human passes and human failures to measure the judge's TPR and "
                  f"TNR (now {passes} passes, {failures} failures)")
        return {"corrected": undefined(reason, labeled), "youden": undefined(reason, labeled),
                "no_better_than_chance": None, "samples": samples}
    tpr, tnr = table[1, 1] / passes, table[0, 0] / failures
    youden = figure(lambda: tpr + tnr - 1, boot_youden, labeled)
    unmeasured = float(np.mean(np.isnan(boot_youden)))
    if unmeasured > MAX_UNDEFINED_RESAMPLES:
        reason = (f"{unmeasured:.0%} of resamples of the {labeled} labeled items hold no human "
                  f"{'failure' if failures <= passes else 'pass'} (only {min(passes, failures)} labeled), so "
                  f"TPR or TNR is undefined there; label more {'failures' if failures <= passes else 'passes'} "
                  "for an interval")
        youden = refuse_interval(youden, reason)
        if not tpr + tnr > 1:
            return {"corrected": undefined("TPR + TNR <= 1: the judge is no better than chance", labeled),
                    "youden": youden, "no_better_than_chance": True, "samples": samples}
        corrected = refuse_interval(figure(lambda: M.corrected_pass_rate(p_observed, tpr, tnr), None, labeled),
                                    reason)
        return {"corrected": corrected, "youden": youden, "no_better_than_chance": None, "samples": samples}
    if youden["ci"][0] <= 0:
        low, high = youden["ci"]
        reason = (f"the judge may be no better than chance: TPR + TNR - 1 = {tpr + tnr - 1:.2f}, 95% "
                  f"interval [{low:.2f}, {high:.2f}] reaches 0, so its pass rate says nothing reliable about "
                  "the true one; improve the judge or label more items")
        return {"corrected": undefined(reason, labeled), "youden": youden, "no_better_than_chance": True,
                "samples": samples}
    corrected = figure(lambda: M.corrected_pass_rate(p_observed, tpr, tnr), samples, labeled)
    undefined_share = float(np.mean(np.isnan(samples)))
    if undefined_share > MAX_UNDEFINED_RESAMPLES:
        corrected = refuse_interval(corrected, f"in {undefined_share:.0%} of resamples TPR + TNR <= 1, where the "
                                    "corrected rate is undefined; label more items for an interval")
    return {"corrected": corrected, "youden": youden, "no_better_than_chance": False, "samples": samples}


def refuse_interval(fig: dict[str, Any], reason: str) -> dict[str, Any]:
    """The figure without its interval, saying why none is given."""
    return fig | {"ci": None, "warning": None, "interval_refused": reason}


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
    min_judged = math.ceil(p_observed * (1 - p_observed) / ((half_width / _Z) ** 2 * youden**2))
    out["min_judged_items"] = min_judged
    if budget <= 0:
        return out | {"possible": False, "reason": (
            f"TPR + TNR - 1 is {youden:.2f}, so the sampling error of the judged pass rate is magnified "
            f"{1 / youden:.1f}x: even with unlimited labels, +-{half_width} needs at least {min_judged} judged "
            f"items (now {n_judged}); judge more items, or use a more accurate judge (the cheaper fix when "
            "TPR + TNR - 1 is small)")}
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


