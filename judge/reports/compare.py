"""Two or more judge runs on the same items, side by side: is one judge really better, and at what price?"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from judge import metrics as M
from judge.errors import JudgeError
from judge.reports.agreement import (
    _run_stats, _run_summary, agreement_figures, criterion_summary, fewshot_uids, pass_threshold,
)
from judge.label_next import design_weights
from judge.reports.figures import DIRICHLET, figure, proportion
from judge.reports.weighted import WEIGHTED_SAMPLE


def compare_runs(store, run_ids: list[str], *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Agreement of each run on the items all of them judged (so the figures are comparable), cost, latency,
    parse failures, agreement per dollar, inter-judge agreement and, for each pair, the kappa difference with
    a paired bootstrap interval and a paired permutation p-value.
    """
    if len(dict.fromkeys(run_ids)) < 2:
        raise JudgeError("Compare needs at least two different runs, e.g. judge compare RUN_A RUN_B.")
    runs = [store.report_run(run_id) for run_id in dict.fromkeys(run_ids)]
    criteria = {(r["dataset"], r["criterion"]) for r in runs}
    if len(criteria) > 1:
        raise JudgeError("These runs are measured on different criteria ("
                         + ", ".join(sorted(f"{d}: {c}" for d, c in criteria))
                         + "): compare runs of one criterion.")
    judged = {r["id"]: store.judge_item_scores(r["id"], pass_threshold(r["spec"])).set_index("item_uid")
              for r in runs}
    common = sorted(set.intersection(*(set(frame.index) for frame in judged.values())))
    if not common:
        raise JudgeError("These runs share no judged item; compare runs made on the same dataset.")
    seen = set().union(*(fewshot_uids(store, r["spec_name"], r["spec"], r["dataset_id"]) for r in runs))
    kept = [uid for uid in common if uid not in seen]

    pass_fail = runs[0]["scale"] == "pass/fail"
    column, human_column = ("judge_passed", "human_passed") if pass_fail else ("judge_score", "human_score")
    rows, human_labels = [], None
    for run in runs:
        humans = store.human_item_labels(run["dataset_id"], run["criterion_id"]).set_index("item_uid")
        both = humans.join(judged[run["id"]], how="inner").loc[lambda f: f.index.isin(kept)].reset_index()
        human_labels = humans if human_labels is None else human_labels
        rows.append(_run_row(store, run, both, len(common), n_boot=n_boot, seed=seed))

    scores = pd.DataFrame({r["id"]: judged[r["id"]][column] for r in runs}).loc[kept]
    scores["human"] = human_labels[human_column].reindex(kept)
    scores["weight"] = _design_weights(human_labels, scores)
    pairs = list(combinations([r["id"] for r in runs], 2))
    differ = _paired_pass_difference if pass_fail else _paired_difference
    return {
        "criterion": criterion_summary(runs[0]),
        "common_items": len(common),
        "excluded_fewshot": len(common) - len(kept),
        "n_boot": n_boot, "seed": seed, "confidence": 0.95,
        "runs": rows,
        "inter_judge": [] if pass_fail else [_inter_judge(scores, a, b, n_boot=n_boot, seed=seed) for a, b in pairs],
        "differences": [differ(scores, a, b, n_boot=n_boot, seed=seed) for a, b in pairs],
    }


def _design_weights(humans: pd.DataFrame, scores: pd.DataFrame) -> pd.Series:
    """1 / inclusion probability of each labeled item (label-next designs), 1 when the sample is plain."""
    labeled = humans.reindex(scores.index[scores["human"].notna()])
    weights = design_weights(labeled)
    return pd.Series(1.0 if weights is None else weights, index=labeled.index).reindex(scores.index)


def _run_row(store, run: dict[str, Any], both: pd.DataFrame, judged_items: int, *, n_boot: int,
             seed: int) -> dict[str, Any]:
    figures = agreement_figures(both, n_boot=n_boot, seed=seed)
    stats = _run_stats(store.run_stats(run["id"]))
    kappa = figures["scores"]["quadratic_kappa"]["value"]
    cost_per_1k = stats["cost_usd"] / stats["items"] * 1000 if stats["cost_usd"] and stats["items"] else None
    return {
        "run": _run_summary(run),
        "labeled_items": len(both),
        "quadratic_kappa": figures["scores"]["quadratic_kappa"],
        "exact_agreement": figures["scores"]["exact_agreement"],
        "spearman_rho": figures["scores"]["spearman_rho"],
        "pass_fail_kappa": figures["pass_fail"]["kappa"],
        "failure_recall": figures["pass_fail"]["failure_recall"],
        "cost_usd": stats["cost_usd"],
        "cost_per_1k_items": cost_per_1k,
        "agreement_per_dollar": kappa / cost_per_1k if kappa is not None and cost_per_1k else None,
        "latency_p50_ms": stats["latency_p50_ms"],
        "latency_p95_ms": stats["latency_p95_ms"],
        "parse_failure_rate": stats["parse_failure_rate"],
    }


def _tables(codes: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return np.bincount(codes, minlength=int(np.prod(shape))).reshape(shape)


def _inter_judge(scores: pd.DataFrame, a: str, b: str, *, n_boot: int, seed: int) -> dict[str, Any]:
    """How far two judges agree with each other (no human needed): quadratic kappa and exact agreement."""
    pair = scores[[a, b]].dropna()
    x, y = pair[a].to_numpy(dtype=int), pair[b].to_numpy(dtype=int)
    table = _tables((x - 1) * 5 + (y - 1), (5, 5))
    drawn = M.dirichlet_tables(table, n_boot, prior=M.SCORE_TABLE_PRIOR, seed=seed)
    return {"a": a, "b": b, "n": len(x),
            "quadratic_kappa": figure(lambda: M.weighted_kappa(x, y), M.kappa_from_tables(drawn, weights="quadratic"),
                                      len(x), method=DIRICHLET),
            "exact_agreement": proportion(lambda: M.exact_agreement(x, y), np.trace(table), len(x))}


POWER_NOTE_BELOW = 100
_Z_POWER = 1.959963984540054 + 0.8416212335729143   # 5% two-sided, 80% power


def _paired_difference(scores: pd.DataFrame, a: str, b: str, *, n_boot: int, seed: int) -> dict[str, Any]:
    """Kappa(a) - kappa(b) on the same labeled items: a paired bootstrap interval and a paired permutation
    test (within each item the two judges' scores are swapped at random; the p-value is the share of such
    relabelings whose |difference| reaches the observed one).

    `significant` when p < 0.05; `better` names the run that wins then. Under POWER_NOTE_BELOW items
    `power_note` says how large a difference the comparison can usually detect.
    """
    trio = scores[["human", a, b]].dropna()
    h, x, y = (trio[c].to_numpy(dtype=int) for c in ("human", a, b))
    weights = _weights_of(scores, trio)
    if weights is not None:
        return _weighted_difference(((h - 1) * 5 + (x - 1)) * 5 + (y - 1), weights, a, b, "quadratic_kappa",
                                    (5, 5, 5), n_boot=n_boot, seed=seed, kappa_weights="quadratic")
    cube = _tables(((h - 1) * 5 + (x - 1)) * 5 + (y - 1), (5, 5, 5))
    boot = M.bootstrap_tables(cube, n_boot, seed=seed)
    samples = _kappa_difference(boot)
    difference = figure(lambda: M.weighted_kappa(h, x) - M.weighted_kappa(h, y), samples, len(h))
    p_value = _permutation_p_value(cube, difference["value"], n_boot, seed=seed)
    significant = p_value is not None and p_value < 0.05
    better = (a if difference["value"] > 0 else b) if significant else None
    return _difference_result(a, b, len(h), "quadratic_kappa", difference, p_value, significant, better, samples)


def _paired_pass_difference(passes: pd.DataFrame, a: str, b: str, *, n_boot: int, seed: int) -> dict[str, Any]:
    """Pass/fail kappa(a) - kappa(b) on the same labeled items (a pass/fail criterion): the 2x2x2 table of
    (human, a, b) pass/fail is bootstrapped as one for the interval, and the same within-item swap test
    gives the p-value."""
    trio = passes[["human", a, b]].dropna().astype(bool)
    h, x, y = (trio[c].to_numpy(dtype=int) for c in ("human", a, b))
    weights = _weights_of(passes, trio)
    if weights is not None:
        return _weighted_difference((h * 2 + x) * 2 + y, weights, a, b, "pass_fail_kappa", (2, 2, 2),
                                    n_boot=n_boot, seed=seed, kappa_weights=None)
    cube = _tables((h * 2 + x) * 2 + y, (2, 2, 2))
    boot = M.bootstrap_tables(cube, n_boot, seed=seed)
    samples = _kappa_difference(boot, weights=None)
    difference = figure(lambda: M.pass_fail_kappa(h.astype(bool), x.astype(bool))
                        - M.pass_fail_kappa(h.astype(bool), y.astype(bool)), samples, len(h))
    p_value = _permutation_p_value(cube, difference["value"], n_boot, seed=seed, weights=None)
    significant = p_value is not None and p_value < 0.05
    better = (a if difference["value"] > 0 else b) if significant else None
    return _difference_result(a, b, len(h), "pass_fail_kappa", difference, p_value, significant, better, samples)


def _weights_of(scores: pd.DataFrame, trio: pd.DataFrame) -> np.ndarray | None:
    """The design weights of the compared items, or None when they are all equal (a plain sample)."""
    if "weight" not in scores.columns:
        return None
    weights = scores.loc[trio.index, "weight"].to_numpy(dtype=float)
    return None if not len(weights) or np.allclose(weights, weights[0]) else weights


def _weighted_difference(codes: np.ndarray, weights: np.ndarray, a: str, b: str, name: str,
                         shape: tuple[int, int, int], *, n_boot: int, seed: int,
                         kappa_weights: str | None) -> dict[str, Any]:
    """The paired difference from a weighted sample (label-next designs): each item counts by its weight in
    the (human, a, b) cube, so kappa is the design-weighted (Hajek) one. The interval resamples items with
    their weights (items pooled by cell and weight, a multinomial over them); the p-value swaps the two
    judges' verdicts within items as in the plain test (a design that treats the judges alike, such as
    suspicion over both runs, keeps every item's weight under the swap)."""
    cells = int(np.prod(shape))
    swapped_code = np.arange(cells).reshape(shape).swapaxes(-1, -2).ravel()
    pooled = pd.DataFrame({"cell": codes, "weight": weights}).value_counts(sort=False).reset_index(name="items")
    frequency = pooled["items"].to_numpy()
    weighted_cells = np.zeros((len(pooled), cells))
    weighted_cells[np.arange(len(pooled)), pooled["cell"]] = pooled["weight"]
    weighted_swapped = np.zeros((len(pooled), cells))
    weighted_swapped[np.arange(len(pooled)), swapped_code[pooled["cell"]]] = pooled["weight"]
    cube = (frequency @ weighted_cells).reshape(shape)
    draws = M.bootstrap_tables(frequency, n_boot, seed=seed).astype(float)
    samples = _kappa_difference((draws @ weighted_cells).reshape(n_boot, *shape), weights=kappa_weights)

    def point() -> float:
        value = float(_kappa_difference(cube[None], weights=kappa_weights)[0])
        if np.isnan(value):
            raise M.UndefinedMetric("kappa is not defined on these weighted items")
        return value

    difference = figure(point, samples, len(codes)) | {"sample": WEIGHTED_SAMPLE}
    p_value = None
    if difference["value"] is not None:
        rng = np.random.default_rng([seed, 5])
        swapped = rng.binomial(np.broadcast_to(frequency, (n_boot, len(frequency))), 0.5).astype(float)
        permuted = (frequency - swapped) @ weighted_cells + swapped @ weighted_swapped
        values = _kappa_difference(permuted.reshape(n_boot, *shape), weights=kappa_weights)
        values = values[~np.isnan(values)]
        extreme = np.sum(np.abs(values) >= abs(difference["value"]) - 1e-12)
        p_value = float((extreme + 1) / (values.size + 1))
    significant = p_value is not None and p_value < 0.05
    better = (a if difference["value"] > 0 else b) if significant else None
    return _difference_result(a, b, len(codes), name, difference, p_value, significant, better, samples)


def _difference_result(a: str, b: str, n: int, name: str, difference: dict[str, Any], p_value: float | None,
                       significant: bool, better: str | None, samples: np.ndarray) -> dict[str, Any]:
    """One paired comparison: the difference of `name` with its interval, the permutation p-value, and a
    power note under POWER_NOTE_BELOW items."""
    out = {"a": a, "b": b, "n": n, "figure": name, "difference": difference, f"{name}_difference": difference,
           "p_value": p_value, "test": "paired permutation (verdicts swapped within items)",
           "significant": significant, "better": better, "power_note": None}
    spread = np.nanstd(samples) if np.isfinite(samples).any() else None
    if n < POWER_NOTE_BELOW and spread:
        out["minimum_detectable_difference"] = float(_Z_POWER * spread)
        out["power_note"] = (f"only {n} labeled items: a kappa difference under about "
                             f"{_Z_POWER * spread:.2f} is usually missed (80% power at the 5% level); label "
                             f"{POWER_NOTE_BELOW} or more items to compare judges")
    return out


def _kappa_difference(cubes: np.ndarray, *, weights: str | None = "quadratic") -> np.ndarray:
    """Kappa (quadratic for 1-5 scores, plain for pass/fail) of judge a minus judge b for (..., human, a, b)
    count cubes."""
    return (M.kappa_from_tables(cubes.sum(axis=-1), weights=weights)
            - M.kappa_from_tables(cubes.sum(axis=-2), weights=weights))


def _permutation_p_value(cube: np.ndarray, observed: float | None, n_perm: int, *, seed: int,
                         weights: str | None = "quadratic") -> float | None:
    """Two-sided p-value of the within-item swap test. Swapping a random half of the c items of a cell
    (h, x, y) moves Binomial(c, 1/2) of them to (h, y, x): the same as flipping a coin per item."""
    if observed is None:
        return None
    rng = np.random.default_rng([seed, 5])
    swapped = rng.binomial(np.broadcast_to(cube, (n_perm, *cube.shape)), 0.5)
    permuted = cube - swapped + swapped.swapaxes(-1, -2)
    values = _kappa_difference(permuted, weights=weights)
    values = values[~np.isnan(values)]
    extreme = np.sum(np.abs(values) >= abs(observed) - 1e-12)
    return float((extreme + 1) / (values.size + 1))
