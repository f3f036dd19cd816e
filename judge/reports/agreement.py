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


def paired_labels(store, run: dict[str, Any]) -> tuple[pd.DataFrame, int]:
    """(items both labeled and judged, minus the judge's few-shot examples; how many examples were left out)."""
    both = store.paired_item_labels(run["id"], run["dataset_id"], pass_threshold(run["spec"]))
    examples = fewshot_uids(store, run["spec_name"], run["spec"])
    if not examples:
        return both, 0
    seen = both["item_uid"].isin(examples)
    return both[~seen].reset_index(drop=True), int(seen.sum())


def labels_hash(both: pd.DataFrame) -> str:
    """A fingerprint of exactly which human labels a figure was measured on (item, score, pass/fail)."""
    rows = both[["item_uid", "human_score", "human_passed"]].sort_values("item_uid").astype(str)
    return hashlib.sha256(pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes()).hexdigest()[:16]


def agreement_figures(both: pd.DataFrame, *, n_boot: int, seed: int) -> dict[str, Any]:
    """Score and pass/fail agreement of paired labels, every figure with its bootstrap interval."""
    hs, js = floats(both["human_score"]), floats(both["judge_score"])
    hp, jp = floats(both["human_passed"]), floats(both["judge_passed"])
    joint = joint_table(hs, js, hp, jp)
    boot = M.bootstrap_tables(joint, n_boot, seed=seed)
    scored = ~np.isnan(hs) & ~np.isnan(js)
    decided = ~np.isnan(hp) & ~np.isnan(jp)
    return {
        "scores": score_figures(hs[scored].astype(int), js[scored].astype(int), score_tables(boot), seed=seed),
        "pass_fail": pass_figures(hp[decided].astype(bool), jp[decided].astype(bool), pass_tables(boot),
                                  seed=seed),
        "_pass_table": pass_tables(joint),
        "_boot_pass_tables": pass_tables(boot),
    }


def score_mean(counts, *, n_boot: int, seed: int) -> dict[str, Any]:
    """Mean 1-5 score from the items per score, with its interval (resampling those items)."""
    counts = np.asarray(counts)
    boot = M.bootstrap_tables(counts, n_boot, seed=seed)

    def mean() -> float:
        if counts.sum() == 0:
            raise M.UndefinedMetric("no scored item")
        return float(M.mean_from_counts(counts))

    return figure(mean, M.mean_from_counts(boot), int(counts.sum()))


def agreement_report(store, run_id: str, *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Everything known about how far a run agrees with people, JSON-ready (keys documented in the README)."""
    with store.db.connect():  # every read in one turn on the store; the arithmetic runs after it is released
        run = store.report_run(run_id)
        both, left_out = paired_labels(store, run)
        judged = store.judge_summary(run_id, pass_threshold(run["spec"]))
        stats = store.run_stats(run_id)
        annotators = store.annotator_labels(run["dataset_id"])
    figures = agreement_figures(both, n_boot=n_boot, seed=seed)
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
        "pass_rate": true_pass_rate(figures["_pass_table"], judged["judged"], judged["passed"], n_boot=n_boot,
                                    seed=seed, boot_tables=figures["_boot_pass_tables"], labeled_among_judged=True),
        "mean_score": score_mean(judged["score_counts"], n_boot=n_boot, seed=seed),
        "reference": _reference_subset(run, both, n_boot=n_boot, seed=seed),
        "human_ceiling": _ceiling(annotators, n_boot=n_boot, seed=seed),
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


def _reference_subset(run: dict[str, Any], both: pd.DataFrame, *, n_boot: int, seed: int) -> dict[str, Any]:
    """The same score agreement on the items that carry a ground-truth reference."""
    with_reference = both[both["has_reference"]]
    if with_reference.empty:
        return {"items": 0, "undefined": "no labeled item has a reference"}
    scores = agreement_figures(with_reference, n_boot=n_boot, seed=seed)["scores"]
    keep = ("n", "exact_agreement", "quadratic_kappa", "spearman_rho", "mae")
    return {"items": len(with_reference), "spec_kind": run["spec"].get("kind", "llm"),
            **{key: scores[key] for key in keep}}


def _ceiling(annotators: pd.DataFrame, *, n_boot: int, seed: int) -> dict[str, Any]:
    humans = human_agreement_from_labels(annotators, n_boot=n_boot, seed=seed)
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
            **human_agreement_from_labels(store.annotator_labels(info["id"]), n_boot=n_boot, seed=seed)}


def human_agreement_from_labels(labels: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Agreement among annotators given their latest labels (item_uid, annotator, score, passed)."""
    annotator_codes, names = pd.factorize(labels["annotator"], sort=True)
    item_codes, items = pd.factorize(labels["item_uid"])
    scores = np.full((len(names), len(items)), np.nan)
    passes = np.full((len(names), len(items)), np.nan)
    scores[annotator_codes, item_codes] = floats(labels["score"])
    passes[annotator_codes, item_codes] = floats(labels["passed"])
    per_annotator = labels.groupby("annotator", sort=True).agg(
        labels=("item_uid", "size"), scored=("score", "count"), pass_fail=("passed", "count"))
    return {
        "annotators": [{"name": name, **{k: int(v) for k, v in row.items()}}
                       for name, row in per_annotator.iterrows()],
        "items_with_two_or_more": int(((~np.isnan(scores)).sum(axis=0) >= 2).sum()),
        "krippendorff_alpha": _alpha(scores, (1, 2, 3, 4, 5), "ordinal", n_boot=n_boot, seed=seed),
        "pass_fail_alpha": _alpha(passes, (0, 1), "nominal", n_boot=n_boot, seed=seed),
        "pairwise": [_pair(scores, list(names), a, b, n_boot=n_boot, seed=seed)
                     for a, b in combinations(range(len(names)), 2)],
    }


def _alpha(data: np.ndarray, domain: tuple, level: str, *, n_boot: int, seed: int) -> dict[str, Any]:
    """Krippendorff's alpha over annotators x items (NaN = not labeled), interval from resampled items."""
    value_counts = (data.T[..., None] == np.asarray(domain)[None, None, :]).sum(axis=1)
    pairable = value_counts[value_counts.sum(-1) >= 2]
    if not len(pairable):
        return undefined("no item was labeled by two annotators" if len(data) else "no labels")
    boot = M.krippendorff_bootstrap(pairable, n_boot, seed=seed, level_of_measurement=level)
    return figure(lambda: M.krippendorff_alpha(data, level_of_measurement=level, value_domain=domain),
                  boot, len(pairable))


def _pair(scores: np.ndarray, names: list[str], a: int, b: int, *, n_boot: int, seed: int) -> dict[str, Any]:
    """Two annotators on the items both scored: quadratic kappa and exact agreement."""
    shared = ~np.isnan(scores[a]) & ~np.isnan(scores[b])
    h, j = scores[a, shared].astype(int), scores[b, shared].astype(int)
    table = np.bincount((h - 1) * 5 + (j - 1), minlength=25).reshape(5, 5)
    boot = M.bootstrap_tables(table, n_boot, seed=seed)
    return {
        "a": names[a], "b": names[b], "n": len(h),
        "quadratic_kappa": figure(lambda: M.weighted_kappa(h, j, weights="quadratic"),
                                  M.kappa_from_tables(boot, weights="quadratic"), len(h)),
        "exact_agreement": figure(lambda: M.exact_agreement(h, j), M.exact_from_tables(boot), len(h)),
    }


# -- slices ---------------------------------------------------------------------------------------------
def agreement_by_slice(store, run_id: str, column: str, *, n_boot: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """Agreement per value of one metadata column, worst quadratic kappa first (undefined slices last)."""
    run = store.report_run(run_id)
    both, _ = paired_labels(store, run)
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
