"""How far one judge run agrees with the people, and how far the people agree with each other (the ceiling).

A run is measured against the human labels of its own criterion only, with the pass threshold and spec body
it recorded when it started (so editing a spec later never moves an old report). Which labels count is
decided in `judge.store.reports` (latest label per annotator on that criterion; an adjudication wins, else
the lower median of the annotators; each label's pass/fail as resolved when it was written). Items used as few-shot examples of the judge (marked in the
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
from judge.label_next import design_weights
from judge.reports.figures import (
    figure, joint_table, pass_figures, pass_tables, proportion, score_figures, score_tables, undefined,
)
from judge.reports.passrate import true_pass_rate
from judge.reports.weighted import (
    WEIGHTED_NOTE, effective_size, weighted_agreement_figures, weighted_corrected_pass_rate,
)

LABEL_RULE = ("labels of the run's criterion only, given under the rubric version the run recorded (labels "
              "without a recorded version count); latest label per annotator; an adjudication wins, else the "
              "lower median of the annotators' scores (even count: the lower middle score) and the majority of "
              "their pass/fail (a tie fails); a label's pass/fail is what was ticked, else score >= the pass "
              "threshold of the rubric version it was given under, resolved when it was written; few-shot "
              "example items (marked, named or identical in content) are left out of every figure")


def floats(column: pd.Series) -> np.ndarray:
    """A nullable score or boolean column as floats with NaN for missing."""
    return column.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def fewshot_uids(store, spec_name: str | None, spec: dict[str, Any], dataset_id: int | None = None) -> set[str]:
    """Items a judge has seen as few-shot examples: active marks, examples that name an item_uid, and (with
    `dataset_id`) items of that dataset whose input and output are an example's, even when the example was
    saved without its item_uid."""
    marked = set(store.fewshot_items(spec_name)) if spec_name else set()
    examples = spec.get("examples") or []
    named = {str(example["item_uid"]) for example in examples if example.get("item_uid")}
    unnamed = {(str(e.get("input") or ""), str(e.get("output") or "")) for e in examples if not e.get("item_uid")}
    if unnamed and dataset_id is not None:
        items = store.items(dataset_id)
        contents = zip(items["input"].fillna("").astype(str), items["output"].fillna("").astype(str))
        named |= {uid for uid, content in zip(items["uid"], contents) if content in unnamed}
    return marked | named


def pass_threshold(spec: dict[str, Any]) -> int:
    """The judge's pass threshold from a run's recorded spec body (4 when it recorded none)."""
    return int(spec.get("pass_threshold") or 4)


def criterion_summary(run: dict[str, Any]) -> dict[str, Any]:
    """Which criterion, scale and rubric version a run's figures rest on, and the figure that leads."""
    pass_fail = run.get("scale") == "pass/fail"
    return {"name": run.get("criterion"), "scale": run.get("scale") or "1-5",
            "rubric_version": run.get("rubric_version"),
            "primary": "pass_fail.kappa" if pass_fail else "scores.quadratic_kappa"}


def paired_labels(store, run: dict[str, Any], *, include_review: bool = False,
                  examples: set[str] | None = None) -> tuple[pd.DataFrame, int]:
    """(items both labeled on the run's criterion and judged, minus the judge's few-shot examples; how many
    examples were left out). Review labels (judge-first review) count only with `include_review`.
    `examples` passes the few-shot items when the caller has them already (fewshot_uids)."""
    both = store.paired_item_labels(run["id"], run["dataset_id"], run.get("criterion_id"),
                                    pass_threshold(run["spec"]), rubric_id=run.get("rubric_id"),
                                    include_review=include_review)
    if examples is None:
        examples = fewshot_uids(store, run["spec_name"], run["spec"], run["dataset_id"])
    if not examples:
        return both, 0
    seen = both["item_uid"].isin(examples)
    return both[~seen].reset_index(drop=True), int(seen.sum())


def labels_hash(both: pd.DataFrame, rubric_version: int | None = None) -> str:
    """A fingerprint of exactly which human labels a figure was measured on (item, score, pass/fail), and
    of the rubric version they were given under when the run recorded one."""
    rows = both[["item_uid", "human_score", "human_passed"]].sort_values("item_uid").astype(str)
    digest = hashlib.sha256(pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes())
    if rubric_version is not None:
        digest.update(f"rubric v{rubric_version}".encode())
    return digest.hexdigest()[:16]


def agreement_figures(both: pd.DataFrame, *, n_boot: int, seed: int) -> dict[str, Any]:
    """Score and pass/fail agreement of paired labels, every figure with its bootstrap interval; items a
    label-next strategy drew non-uniformly are weighted by 1 / their inclusion probability."""
    weights = design_weights(both)
    if weights is not None:
        return weighted_agreement_figures(both, weights, n_boot=n_boot, seed=seed)
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


def agreement_report(store, run_id: str, *, n_boot: int = 1000, seed: int = 0,
                     include_review: bool = False) -> dict[str, Any]:
    """Everything known about how far a run agrees with people, JSON-ready (keys documented in the README).
    Review labels (given while seeing the judge's answer) are left out and counted, unless `include_review`."""
    with store.transaction():  # every read in one turn on the store; the arithmetic runs after it is released
        run = store.report_run(run_id)
        examples = fewshot_uids(store, run["spec_name"], run["spec"], run["dataset_id"])
        both, left_out = paired_labels(store, run, include_review=include_review, examples=examples)
        reviews = store.review_label_count(run["dataset_id"], run.get("criterion_id"))
        judged = store.judge_summary(run_id, pass_threshold(run["spec"]), exclude=examples)
        stats = store.run_stats(run_id)
        annotators = store.annotator_labels(run["dataset_id"], run.get("criterion_id"), rubric_id=run.get("rubric_id"))
        other_versions = store.other_rubric_labels(run["dataset_id"], run.get("criterion_id"), run.get("rubric_id"))
        verdicts = store.judge_item_scores(run_id, pass_threshold(run["spec"]))
    figures = agreement_figures(both, n_boot=n_boot, seed=seed)
    return {
        "run": _run_summary(run),
        "criterion": criterion_summary(run),
        "n_boot": n_boot, "seed": seed, "confidence": 0.95,
        "labels": {
            "rule": LABEL_RULE,
            "pass_threshold": pass_threshold(run["spec"]),
            "items": len(both),
            "adjudicated": int(both["adjudicated"].sum()),
            "excluded_fewshot": left_out,
            "rubric_version": run.get("rubric_version"),
            "other_rubric_versions": other_versions,
            "annotators_per_item": annotators_per_item(both),
            "hash": labels_hash(both, run.get("rubric_version")),
            "sample": sample_summary(both),
            "review": review_summary(reviews, include_review),
        },
        "scores": figures["scores"],
        "pass_fail": figures["pass_fail"],
        "pass_rate": pass_rate(both, figures, judged, n_boot=n_boot, seed=seed),
        "mean_score": score_mean(judged["score_counts"], n_boot=n_boot, seed=seed),
        "reference": _reference_subset(run, both, n_boot=n_boot, seed=seed),
        "human_ceiling": _ceiling(annotators, pass_fail=run.get("scale") == "pass/fail", n_boot=n_boot, seed=seed),
        "per_annotator": per_annotator(annotators, verdicts, examples, n_boot=n_boot, seed=seed),
        "run_stats": _run_stats(stats),
    }


def pass_rate(both: pd.DataFrame, figures: dict[str, Any], judged: dict[str, Any], *, n_boot: int,
              seed: int) -> dict[str, Any]:
    """Observed and corrected pass rate; from a weighted sample the corrected rate is post-stratified by the
    judge's verdict (judge.reports.weighted), the design-correct estimate."""
    rate = true_pass_rate(figures["_pass_table"], judged["judged"], judged["passed"], n_boot=n_boot, seed=seed,
                          boot_tables=figures["_boot_pass_tables"], labeled_among_judged=not figures.get("weighted"))
    if figures.get("weighted") and judged["judged"]:
        rate["corrected"] = weighted_corrected_pass_rate(both, design_weights(both), judged["judged"],
                                                         judged["passed"])
    return rate


def review_summary(reviews: int, included: bool) -> dict[str, Any]:
    """How many review labels (judge-first review) exist on the criterion, and whether the figures use them."""
    if not reviews:
        note = None
    elif included:
        note = (f"includes {reviews} review labels, given while seeing the judge's answer (they lean towards "
                "it, so agreement reads high)")
    else:
        note = (f"{reviews} review labels left out: given while seeing the judge's answer, they lean towards it "
                "(include them with --include-review)")
    return {"labels": reviews, "included": included and reviews > 0, "note": note}


def sample_summary(both: pd.DataFrame) -> dict[str, Any]:
    """Whether the figures come from a weighted sample (label-next designs), with its effective size."""
    weights = design_weights(both)
    drawn = int(both["sample_design"].notna().sum()) if "sample_design" in both.columns else 0
    if weights is None:
        return {"weighted": False, "items_from_designs": drawn, "effective_items": len(both), "note": None}
    return {"weighted": True, "items_from_designs": drawn, "effective_items": round(effective_size(weights), 1),
            "note": WEIGHTED_NOTE}


def annotators_per_item(both: pd.DataFrame) -> dict[str, int]:
    """How many measured items rest on 1, 2 and 3+ annotators (adjudicated items count by their annotators)."""
    counts = both["annotators"].astype(int) if len(both) else pd.Series(dtype=int)
    return {"1": int((counts <= 1).sum()), "2": int((counts == 2).sum()), "3+": int((counts >= 3).sum())}


def per_annotator(annotators: pd.DataFrame, verdicts: pd.DataFrame, excluded: set[str], *, n_boot: int,
                  seed: int) -> list[dict[str, Any]]:
    """The judge against each annotator on the items that person labeled (bootstrapping by item): beside
    the consensus label, a judge that is as good as one annotator shows it here, whatever the consensus rule."""
    judged = verdicts.set_index("item_uid")[["judge_score", "judge_passed"]]
    rows = []
    for name, given in annotators.groupby("annotator", sort=True):
        given = given[~given["item_uid"].isin(excluded)]
        frame = given.rename(columns={"score": "human_score", "passed": "human_passed"}).join(
            judged, on="item_uid", how="inner")
        figures = agreement_figures(frame, n_boot=n_boot, seed=seed)
        rows.append({"annotator": name, "items": len(frame),
                     "quadratic_kappa": figures["scores"]["quadratic_kappa"],
                     "exact_agreement": figures["scores"]["exact_agreement"],
                     "pass_fail_kappa": figures["pass_fail"]["kappa"],
                     "tpr": figures["pass_fail"]["tpr"], "tnr": figures["pass_fail"]["tnr"]})
    return rows


def _run_summary(run: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "name", "spec_name", "spec_version", "model", "dataset", "dataset_version", "source", "status",
            "version_tag", "criterion", "pass_threshold")
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


def _ceiling(annotators: pd.DataFrame, *, pass_fail: bool, n_boot: int, seed: int) -> dict[str, Any]:
    """How far people agree with each other on the criterion: ordinal alpha on 1-5 scores, nominal alpha
    on pass/fail for a pass/fail criterion (whose labels have no scores)."""
    humans = human_agreement_from_labels(annotators, n_boot=n_boot, seed=seed)
    return {
        "krippendorff_alpha": humans["pass_fail_alpha" if pass_fail else "krippendorff_alpha"],
        "pairwise_quadratic_kappa": [{"a": p["a"], "b": p["b"], **p["quadratic_kappa"]} for p in humans["pairwise"]],
        "annotators": len(humans["annotators"]),
    }


# -- human vs human -------------------------------------------------------------------------------------
def human_agreement(store, dataset: str, *, criterion: str | None = None, n_boot: int = 1000,
                    seed: int = 0) -> dict[str, Any]:
    """Inter-annotator agreement on one criterion of a dataset (latest version; default: its only
    criterion): Krippendorff's alpha, pairwise kappa, counts."""
    with store.transaction():
        info = store.dataset(dataset)
        measured = store.criterion(info["name"], criterion)
        labels = store.annotator_labels(info["id"], measured.id)
    return {"dataset": info["name"], "dataset_version": info["version"], "criterion": measured.to_dict(),
            **human_agreement_from_labels(labels, n_boot=n_boot, seed=seed)}


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
    draws = M.dirichlet_tables(table, n_boot, prior=M.SCORE_TABLE_PRIOR, seed=seed)
    return {
        "a": names[a], "b": names[b], "n": len(h),
        "quadratic_kappa": figure(lambda: M.weighted_kappa(h, j, weights="quadratic"),
                                  M.kappa_from_tables(draws, weights="quadratic"), len(h)),
        "exact_agreement": proportion(lambda: M.exact_agreement(h, j), int(np.trace(table)), len(h)),
    }


# -- slices ---------------------------------------------------------------------------------------------
def agreement_by_slice(store, run_id: str, column: str, *, n_boot: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """Agreement per value of one metadata column, worst first by the criterion's primary figure (quadratic
    kappa, or pass/fail kappa on a pass/fail criterion; undefined slices last)."""
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
    primary = "pass_fail_kappa" if run.get("scale") == "pass/fail" else "quadratic_kappa"
    return sorted(rows, key=lambda r: (r[primary]["value"] is None, r[primary]["value"] or 0))
