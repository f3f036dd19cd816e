"""How far one judge run agrees with the people, and how far the people agree with each other (the ceiling).

Which labels count is decided in `judge.store.reports` (latest label per annotator; an adjudication wins,
else the lower median of the annotators). Items used as few-shot examples of the judge (marked in the
store, or named by item_uid in the spec's examples) are left out of its agreement: the judge has seen their
answers. The report says how many were left out.
"""

from __future__ import annotations

import hashlib
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from judge import metrics as M
from judge.reports.figures import (
    figure, joint_table, pass_figures, pass_tables, score_figures, score_tables, undefined,
)
from judge.reports.passrate import true_pass_rate

LABEL_RULE = ("latest label per annotator; an adjudication wins, else the lower median of the annotators' "
              "scores (even count: the lower middle score) and pass/fail (a tie fails); pass/fail not ticked "
              "is score >= the judge's pass threshold; few-shot example items are left out")


def floats(column: pd.Series) -> np.ndarray:
    """A nullable score or boolean column as floats with NaN for missing."""
    return column.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def fewshot_uids(store, spec_name: str | None, spec: dict[str, Any]) -> set[str]:
    """Items a judge has seen as few-shot examples: active marks plus examples that name an item_uid."""
    marked = set(store.fewshot_items(spec_name)) if spec_name else set()
    named = {str(example["item_uid"]) for example in spec.get("examples") or [] if example.get("item_uid")}
    return marked | named


def pass_threshold(spec: dict[str, Any]) -> int:
    return int(spec.get("pass_threshold") or 4)


def paired_labels(store, run: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """(labeled and judged items, all judged items, how many few-shot items were left out)."""
    threshold = pass_threshold(run["spec"])
    judged = store.judge_item_scores(run["id"], threshold)
    humans = store.human_item_labels(run["dataset_id"], threshold)
    both = humans.merge(judged, on="item_uid", how="inner")
    seen = both["item_uid"].isin(fewshot_uids(store, run["spec_name"], run["spec"]))
    return both[~seen].reset_index(drop=True), judged, int(seen.sum())


def labels_hash(both: pd.DataFrame) -> str:
    """A fingerprint of exactly which human labels a figure was measured on."""
    lines = sorted(f"{u}:{s}:{p}" for u, s, p in zip(both["item_uid"], both["human_score"], both["human_passed"]))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def agreement_figures(both: pd.DataFrame, *, n_boot: int, seed: int) -> dict[str, Any]:
    """Score and pass/fail agreement of paired labels, every figure with its bootstrap interval."""
    hs, js = floats(both["human_score"]), floats(both["judge_score"])
    hp, jp = floats(both["human_passed"]), floats(both["judge_passed"])
    joint = joint_table(hs, js, hp, jp)
    boot = M.bootstrap_tables(joint, n_boot, seed=seed)
    scored = ~np.isnan(hs) & ~np.isnan(js)
    decided = ~np.isnan(hp) & ~np.isnan(jp)
    return {
        "scores": score_figures(hs[scored].astype(int), js[scored].astype(int), score_tables(boot)),
        "pass_fail": pass_figures(hp[decided].astype(bool), jp[decided].astype(bool), pass_tables(boot)),
        "_pass_table": pass_tables(joint),
        "_boot_pass_tables": pass_tables(boot),
    }


def score_mean(scores: np.ndarray, *, n_boot: int, seed: int) -> dict[str, Any]:
    """Mean 1-5 score with its interval (resampling the score counts)."""
    scores = scores[~np.isnan(scores)].astype(int)
    counts = np.bincount(scores, minlength=6)[1:]
    boot = M.bootstrap_tables(counts, n_boot, seed=seed)
    means = M.mean_from_counts(boot)

    def mean() -> float:
        if scores.size == 0:
            raise M.UndefinedMetric("no scored item")
        return float(scores.mean())

    return figure(mean, means, scores.size)


def agreement_report(store, run_id: str, *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Everything known about how far a run agrees with people, JSON-ready (keys documented in the README)."""
    run = store.report_run(run_id)
    both, judged, left_out = paired_labels(store, run)
    figures = agreement_figures(both, n_boot=n_boot, seed=seed)
    judged_passed = floats(judged["judge_passed"])
    decided = judged_passed[~np.isnan(judged_passed)]
    stats = store.run_stats(run_id)
    return {
        "run": _run_summary(run),
        "n_boot": n_boot, "seed": seed, "confidence": 0.95,
        "labels": {
            "rule": LABEL_RULE,
            "pass_threshold": pass_threshold(run["spec"]),
            "items": len(both),
            "adjudicated": int(both["adjudicated"].sum()),
            "excluded_fewshot": left_out,
            "hash": labels_hash(both),
        },
        "scores": figures["scores"],
        "pass_fail": figures["pass_fail"],
        "pass_rate": true_pass_rate(figures["_pass_table"], decided.size, int(decided.sum()), n_boot=n_boot,
                                    seed=seed, boot_tables=figures["_boot_pass_tables"]),
        "mean_score": score_mean(floats(judged["judge_score"]), n_boot=n_boot, seed=seed),
        "reference": _reference_subset(store, run, both, n_boot=n_boot, seed=seed),
        "human_ceiling": _ceiling(store, run, n_boot=n_boot, seed=seed),
        "run_stats": _run_stats(stats),
    }


def _run_summary(run: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "name", "spec_name", "spec_version", "model", "dataset", "dataset_version", "source", "status",
            "version_tag")
    out = {key: run[key] for key in keys}
    out["created_at"] = str(run["created_at"])
    return out


def _run_stats(stats: dict[str, Any]) -> dict[str, Any]:
    verdicts = stats["verdicts"] or 0
    return {
        "verdicts": verdicts,
        "items": stats["items"],
        "failed_verdicts": stats["failed_verdicts"],
        "parse_failure_rate": stats["failed_verdicts"] / verdicts if verdicts else None,
        "cost_usd": None if stats["cost_usd"] is None else float(stats["cost_usd"]),
        "input_tokens": stats["input_tokens"],
        "output_tokens": stats["output_tokens"],
        "cached": stats["cached"],
        "latency_p50_ms": stats["latency_p50_ms"],
        "latency_p95_ms": stats["latency_p95_ms"],
    }


def _reference_subset(store, run: dict[str, Any], both: pd.DataFrame, *, n_boot: int, seed: int) -> dict[str, Any]:
    """The same score agreement on the items that carry a ground-truth reference."""
    with_reference = both[both["item_uid"].isin(store.items_with_reference(run["dataset_id"]))]
    if with_reference.empty:
        return {"items": 0, "undefined": "no labeled item has a reference"}
    scores = agreement_figures(with_reference, n_boot=n_boot, seed=seed)["scores"]
    keep = ("n", "exact_agreement", "quadratic_kappa", "spearman_rho", "mae")
    return {"items": len(with_reference), "spec_kind": run["spec"].get("kind", "llm"),
            **{key: scores[key] for key in keep}}


def _ceiling(store, run: dict[str, Any], *, n_boot: int, seed: int) -> dict[str, Any]:
    humans = human_agreement_by_id(store, run["dataset_id"], n_boot=n_boot, seed=seed)
    return {
        "krippendorff_alpha": humans["krippendorff_alpha"],
        "pairwise_quadratic_kappa": [{"a": p["a"], "b": p["b"], **p["quadratic_kappa"]} for p in humans["pairwise"]],
        "annotators": len(humans["annotators"]),
    }


# -- human vs human -------------------------------------------------------------------------------------
def human_agreement(store, dataset: str, *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Inter-annotator agreement on a dataset (latest version): Krippendorff's alpha, pairwise kappa, counts."""
    info = store.dataset(dataset)
    return {"dataset": info["name"], "dataset_version": info["version"],
            **human_agreement_by_id(store, info["id"], n_boot=n_boot, seed=seed)}


def human_agreement_by_id(store, dataset_id: int, *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    labels = store.latest_labels(dataset_id)
    scores = labels.pivot_table(index="annotator", columns="item_uid", values="score", aggfunc="first")
    passes = labels.assign(passed=floats(labels["passed"])).pivot_table(
        index="annotator", columns="item_uid", values="passed", aggfunc="first")
    return {
        "annotators": [
            {"name": name, "labels": len(group), "scored": int(group["score"].notna().sum()),
             "pass_fail": int(group["passed"].notna().sum())}
            for name, group in labels.groupby("annotator", sort=True)
        ],
        "items_with_two_or_more": int((scores.notna().sum(axis=0) >= 2).sum()) if len(scores) else 0,
        "krippendorff_alpha": _alpha(scores, (1, 2, 3, 4, 5), "ordinal", n_boot=n_boot, seed=seed),
        "pass_fail_alpha": _alpha(passes, (0, 1), "nominal", n_boot=n_boot, seed=seed),
        "pairwise": _pairwise(scores, n_boot=n_boot, seed=seed),
    }


def _alpha(matrix: pd.DataFrame, domain: tuple, level: str, *, n_boot: int, seed: int) -> dict[str, Any]:
    if matrix.empty:
        return undefined("no labels")
    data = matrix.to_numpy(dtype=float)
    value_counts = (data.T[..., None] == np.asarray(domain)[None, None, :]).sum(axis=1)
    pairable = value_counts[value_counts.sum(-1) >= 2]
    boot = M.krippendorff_bootstrap(pairable, n_boot, seed=seed, level_of_measurement=level) if len(pairable) else None
    return figure(lambda: M.krippendorff_alpha(data, level_of_measurement=level, value_domain=domain),
                  boot, len(pairable))


def _pairwise(scores: pd.DataFrame, *, n_boot: int, seed: int) -> list[dict[str, Any]]:
    out = []
    for a, b in combinations(scores.index, 2):
        pair = scores.loc[[a, b]].dropna(axis=1)
        h, j = pair.loc[a].to_numpy(dtype=int), pair.loc[b].to_numpy(dtype=int)
        table = np.zeros((5, 5), dtype=int)
        np.add.at(table, (h - 1, j - 1), 1)
        boot = M.bootstrap_tables(table, n_boot, seed=seed)
        out.append({
            "a": a, "b": b, "n": len(h),
            "quadratic_kappa": figure(lambda: M.weighted_kappa(h, j, weights="quadratic"),
                                      M.kappa_from_tables(boot, weights="quadratic"), len(h)),
            "exact_agreement": figure(lambda: M.exact_agreement(h, j), M.exact_from_tables(boot), len(h)),
        })
    return out


# -- slices ---------------------------------------------------------------------------------------------
def agreement_by_slice(store, run_id: str, column: str, *, n_boot: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """Agreement per value of one metadata column, worst quadratic kappa first (undefined slices last)."""
    run = store.report_run(run_id)
    both, _, _ = paired_labels(store, run)
    values = store.item_metadata_values(run["dataset_id"], column)
    both = both.merge(values, on="item_uid", how="left")
    both["value"] = both["value"].fillna("(missing)")
    rows = []
    for value, group in both.groupby("value", sort=True):
        figures = agreement_figures(group, n_boot=n_boot, seed=seed)
        rows.append({"column": column, "value": value, "items": len(group),
                     "quadratic_kappa": figures["scores"]["quadratic_kappa"],
                     "exact_agreement": figures["scores"]["exact_agreement"],
                     "pass_fail_kappa": figures["pass_fail"]["kappa"]})
    return sorted(rows, key=lambda r: (r["quadratic_kappa"]["value"] is None, r["quadratic_kappa"]["value"] or 0))
