"""Agreement figures from a weighted sample: items a strategy drew non-uniformly (judge.label_next).

Each labeled item weighs w_i = 1 / its inclusion probability, so weighted shares estimate those of the whole
dataset version (Hajek's ratio estimator R = sum w y / sum w x: TPR, TNR and every other share of a class).
- Shares (TPR, TNR, precision, agreement): the linearized variance of the ratio,
  V = sum w_i^2 (y_i - R x_i)^2 / (sum w_i x_i)^2 (with-replacement, so a plain random sample gets exactly
  its plain Wilson interval), gives the share's effective size n = R (1 - R) / V, and the interval is Wilson
  on it (Kish's effective size when R is 0 or 1). A design that oversampled the items carrying the variance
  (the judge's errors) gets more than its labeled count: a cap at that count kept `disagreement` at 20%
  fewer labels than random on SummEval (bench/label_next.py), where its design needs 60% fewer. Where V rests
  on fewer than RARER_OUTCOME_ITEMS labeled items of the rarer outcome, the size stays at most the labeled
  count (without that, `suspicion` covered 0.90 at 200 labels there; with it 0.94).
- The corrected pass rate: post-stratified by the judge's verdict, whose split over every judged item is
  known: theta = p_obs * P(person passes | judge passes) + (1 - p_obs) * P(person passes | judge fails), each
  a weighted share (the prediction-powered form: the judge's verdicts on all items, corrected by the
  labeled ones); its variance is the sum of the two shares' variances times p_obs^2 and (1 - p_obs)^2, and
  the interval Wilson on the effective size theta (1 - theta) / V (at most the labeled items while either
  share rests on too few of its rarer outcome, as above).
- Kappa, MCC, F1 and the 1-5 table figures: the weighted table scaled to Kish's effective sample size
  (sum w)^2 / sum w^2, then Dirichlet draws as for a plain sample (conservative when weights follow strata).
bench/label_next.py measures the coverage this gives.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from judge import metrics as M
from judge.reports.figures import DIRICHLET, figure, joint_table, pass_tables, proportion, score_tables

WEIGHTED_NOTE = "weighted sample: items drawn by a label-next strategy weigh 1 / their inclusion probability"
RARER_OUTCOME_ITEMS = 5     # labeled items of a share's rarer outcome from which its linearized variance counts
WEIGHTED_SAMPLE = "weighted sample"     # the `sample` of every figure estimated from one (shown beside it)


def sample_sentence(sample: dict[str, Any] | None) -> str | None:
    """What a report says under its figures when they come from a weighted sample (None otherwise)."""
    if not sample or not sample.get("weighted"):
        return None
    return (f"Figures from a weighted sample: {sample['items_from_designs']} labeled items were drawn by a "
            "label-next strategy and weigh 1 / their inclusion probability (effective size "
            f"{sample['effective_items']:g}); intervals are design-corrected.")


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


def ratio_share(weights: np.ndarray, hits: np.ndarray, among: np.ndarray) -> tuple[float, float, float] | None:
    """(R, its linearized variance, effective size) of the weighted share of `hits` among `among` items."""
    weights, hits, among = (np.asarray(a, dtype=float) for a in (weights, hits, among))
    total = float(np.sum(weights * among))
    if total <= 0:
        return None
    share = float(np.sum(weights * hits * among)) / total
    variance = float(np.sum(np.square(weights * (hits * among - share * among)))) / total**2
    kish = total**2 / float(np.sum(np.square(weights * among)))
    size = share * (1 - share) / variance if variance > 0 and 0 < share < 1 else kish
    return share, variance, size if linearization_holds(hits, among) else min(size, float(np.sum(among)))


def linearization_holds(hits: np.ndarray, among: np.ndarray) -> bool:
    """Whether a share's linearized variance rests on enough labeled items to count in full: at least
    RARER_OUTCOME_ITEMS of them with each outcome (a variance from a few rare outcomes is small by chance
    whenever the heavy ones were not drawn); otherwise the effective size stays at most the labeled count."""
    hits, among = np.asarray(hits, dtype=bool), np.asarray(among, dtype=bool)
    return min(int(np.sum(hits & among)), int(np.sum(~hits & among))) >= RARER_OUTCOME_ITEMS


def _share(weights: np.ndarray, hits: np.ndarray, among: np.ndarray, what: str) -> dict[str, Any]:
    measured = ratio_share(weights, hits, among)
    if measured is None:
        return figure(lambda: _no(what), None, 0)
    share, _, size = measured
    return proportion(lambda: share, share * size, size)


def weighted_corrected_pass_rate(both: pd.DataFrame, weights: np.ndarray, n_judged: int,
                                 n_judged_passed: int) -> dict[str, Any]:
    """The true pass rate post-stratified by the judge's verdict (see the module doc), with its interval."""
    human, judge = _passes(both)
    decided = ~np.isnan(human) & ~np.isnan(judge)
    p_observed = n_judged_passed / n_judged if n_judged else float("nan")
    passed = ratio_share(weights, human == 1, decided & (judge == 1))
    failed = ratio_share(weights, human == 1, decided & (judge == 0))
    needed = [name for name, part, share in (("judge passes", passed, p_observed), ("judge failures", failed,
                                                                                    1 - p_observed))
              if part is None and share > 0]
    if not n_judged or needed:
        return figure(lambda: _no(f"labeled {' or '.join(needed) or 'items'}"), None, int(decided.sum()))
    parts = [(p_observed, passed), (1 - p_observed, failed)]
    theta = sum(share * part[0] for share, part in parts if part is not None)
    variance = sum(share**2 * part[1] for share, part in parts if part is not None)
    size = theta * (1 - theta) / variance if variance > 0 and 0 < theta < 1 else float(decided.sum())
    if not all(linearization_holds(human == 1, decided & (judge == verdict)) for verdict in (0, 1)):
        size = min(size, float(decided.sum()))
    return proportion(lambda: theta, theta * size, size) | {"method": "wilson, post-stratified by judge verdict"}


def _passes(both: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return tuple(both[c].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
                 for c in ("human_passed", "judge_passed"))


def _no(what: str) -> float:
    raise M.UndefinedMetric(f"no {what}")


def weighted_agreement_figures(both: pd.DataFrame, weights: np.ndarray, *, n_boot: int,
                               seed: int) -> dict[str, Any]:
    """The same keys as `agreement.agreement_figures`, estimated from a weighted sample."""
    joint = weighted_joint_table(both, weights)
    scores, passes = score_tables(joint), pass_tables(joint)
    n_scores, n_pass = float(scores.sum()), float(passes.sum())
    score_draws = M.dirichlet_tables(scores, n_boot, prior=M.SCORE_TABLE_PRIOR, seed=[seed, 4])
    out_scores: dict[str, Any] = {"n": round(n_scores)}
    hs, js = (both[c].astype("Float64").to_numpy(dtype=float, na_value=np.nan) for c in ("human_score", "judge_score"))
    scored = ~np.isnan(hs) & ~np.isnan(js)
    out_scores["exact_agreement"] = _share(weights, hs == js, scored, "scored item")
    out_scores["within_one_agreement"] = _share(weights, np.abs(hs - js) <= 1, scored, "scored item")
    for name, vectorized in {
        "quadratic_kappa": lambda t: M.kappa_from_tables(t, weights="quadratic"),
        "linear_kappa": lambda t: M.kappa_from_tables(t, weights="linear"),
        "spearman_rho": M.spearman_from_tables, "kendall_tau_b": M.kendall_tau_b_from_tables,
        "mae": M.mae_from_tables, "mean_bias": M.bias_from_tables,
    }.items():
        out_scores[name] = (_table_figure(vectorized, scores, score_draws, n_scores) if n_scores
                            else figure(_no_items, None, 0))
    out_scores["confusion_matrix"] = np.round(scores, 2).tolist()

    human, judge = _passes(both)
    decided = ~np.isnan(human) & ~np.isnan(judge)
    pass_draws = M.dirichlet_tables(passes, n_boot, seed=[seed, 3])
    out_pass: dict[str, Any] = {"n": round(n_pass)}
    for name, hits, among, what in (
            ("tpr", judge == 1, decided & (human == 1), "human pass"),
            ("tnr", judge == 0, decided & (human == 0), "human failure"),
            ("failure_precision", human == 0, decided & (judge == 0), "judge failure"),
            ("failure_recall", judge == 0, decided & (human == 0), "human failure"),
            ("false_failure_rate", judge == 0, decided & (human == 1), "human pass")):
        out_pass[name] = _share(weights, hits, among, what)
    for name in ("kappa", "failure_f1", "mcc"):
        metric = lambda t, name=name: M.pass_fail_rates_from_tables(t)[name]  # noqa: E731
        out_pass[name] = _table_figure(metric, passes, pass_draws, n_pass) if n_pass else figure(_no_items, None, 0)
    out_pass["confusion_matrix"] = np.round(passes, 2).tolist()
    ordered = {key: out_pass[key] for key in ("n", "kappa", "tpr", "tnr", "failure_precision", "failure_recall",
                                              "failure_f1", "false_failure_rate", "mcc", "confusion_matrix")}
    for group in (out_scores, ordered):
        for fig in group.values():
            if isinstance(fig, dict):
                fig["sample"] = WEIGHTED_SAMPLE
    return {"scores": out_scores, "pass_fail": ordered, "_pass_table": passes,
            "_boot_pass_tables": pass_draws, "weighted": True}


def _no_items() -> float:
    raise M.UndefinedMetric("no labeled item with both values")
