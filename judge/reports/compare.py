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
from judge.reports.figures import figure


def compare_runs(store, run_ids: list[str], *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Agreement of each run on the items all of them judged (so the figures are comparable), cost, latency,
    parse failures, agreement per dollar, inter-judge agreement and a paired bootstrap of each kappa difference.
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
    seen = set().union(*(fewshot_uids(store, r["spec_name"], r["spec"]) for r in runs))
    kept = [uid for uid in common if uid not in seen]

    pass_fail = runs[0]["scale"] == "pass/fail"
    column, human_column = ("judge_passed", "human_passed") if pass_fail else ("judge_score", "human_score")
    rows, human_scores = [], None
    for run in runs:
        humans = store.human_item_labels(run["dataset_id"], run["criterion_id"]).set_index("item_uid")
        both = humans.join(judged[run["id"]], how="inner").loc[lambda f: f.index.isin(kept)].reset_index()
        human_scores = humans[human_column] if human_scores is None else human_scores
        rows.append(_run_row(store, run, both, len(common), n_boot=n_boot, seed=seed))

    scores = pd.DataFrame({r["id"]: judged[r["id"]][column] for r in runs}).loc[kept]
    scores["human"] = human_scores.reindex(kept)
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
    boot = M.bootstrap_tables(_tables((x - 1) * 5 + (y - 1), (5, 5)), n_boot, seed=seed)
    return {"a": a, "b": b, "n": len(x),
            "quadratic_kappa": figure(lambda: M.weighted_kappa(x, y), M.kappa_from_tables(boot, weights="quadratic"),
                                      len(x)),
            "exact_agreement": figure(lambda: M.exact_agreement(x, y), M.exact_from_tables(boot), len(x))}


def _paired_difference(scores: pd.DataFrame, a: str, b: str, *, n_boot: int, seed: int) -> dict[str, Any]:
    """Kappa(a) - kappa(b) on the same labeled items, resampling items jointly (a paired bootstrap).

    `significant` when the 95% interval of the difference excludes 0; `better` names the run that wins then.
    """
    trio = scores[["human", a, b]].dropna()
    h, x, y = (trio[c].to_numpy(dtype=int) for c in ("human", a, b))
    cube = _tables(((h - 1) * 5 + (x - 1)) * 5 + (y - 1), (5, 5, 5))
    boot = M.bootstrap_tables(cube, n_boot, seed=seed)
    samples = (M.kappa_from_tables(boot.sum(axis=3), weights="quadratic")
               - M.kappa_from_tables(boot.sum(axis=2), weights="quadratic"))
    difference = figure(lambda: M.weighted_kappa(h, x) - M.weighted_kappa(h, y), samples, len(h))
    ci = difference["ci"]
    significant = bool(ci and (ci[0] > 0 or ci[1] < 0))
    better = (a if difference["value"] > 0 else b) if significant else None
    return {"a": a, "b": b, "n": len(h), "figure": "quadratic_kappa", "difference": difference,
            "quadratic_kappa_difference": difference, "significant": significant, "better": better}


def _paired_pass_difference(passes: pd.DataFrame, a: str, b: str, *, n_boot: int, seed: int) -> dict[str, Any]:
    """Pass/fail kappa(a) - kappa(b) on the same labeled items (a pass/fail criterion), resampling items
    jointly: the 2x2x2 table of (human, a, b) pass/fail is bootstrapped as one."""
    trio = passes[["human", a, b]].dropna().astype(bool)
    h, x, y = (trio[c].to_numpy(dtype=int) for c in ("human", a, b))
    cube = _tables((h * 2 + x) * 2 + y, (2, 2, 2))
    boot = M.bootstrap_tables(cube, n_boot, seed=seed)
    samples = M.kappa_from_tables(boot.sum(axis=3)) - M.kappa_from_tables(boot.sum(axis=2))
    difference = figure(lambda: M.pass_fail_kappa(h.astype(bool), x.astype(bool))
                        - M.pass_fail_kappa(h.astype(bool), y.astype(bool)), samples, len(h))
    ci = difference["ci"]
    significant = bool(ci and (ci[0] > 0 or ci[1] < 0))
    better = (a if difference["value"] > 0 else b) if significant else None
    return {"a": a, "b": b, "n": len(h), "figure": "pass_fail_kappa", "difference": difference,
            "pass_fail_kappa_difference": difference, "significant": significant, "better": better}
