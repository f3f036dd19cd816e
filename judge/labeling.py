"""The labeling queue and its bookkeeping, as pure functions over what the store returns.

The queue is the order in which one person sees items. Without a seed it puts the items this person has not
labeled yet first (in file order), so a returning annotator continues where they stopped. With a seed it is a
random sample of the (filtered) items that every teammate using the same seed and size gets, in the same order,
so a team can label one shared sample.
"""

from __future__ import annotations

import random
from typing import Any

import pandas as pd

from judge.criteria import Criterion

# Label counts at which a dataset becomes useful, with what it is then good for.
MILESTONES: tuple[tuple[int, str], ...] = (
    (20, "enough to measure a judge"),
    (50, "enough to tune one"),
    (100, "enough to compare judges with confidence"),
)

# Used when no rubric has been saved yet, so that a score always means the same thing to everyone.
DEFAULT_RUBRIC: dict[str, Any] = {
    "name": "default",
    "version": 0,
    "criteria": "Overall quality: does the output answer the input correctly, completely and usefully?",
    "anchors": {
        "1": "Wrong, harmful or unusable: fails the task.",
        "2": "Mostly wrong or missing key parts; would need a rewrite.",
        "3": "Partly right: usable only after real fixes.",
        "4": "Right and useful, with minor issues.",
        "5": "Fully right, complete and clear: nothing to fix.",
    },
    "pass_threshold": 4,
}
DEFAULT_PASS_FAIL_RUBRIC: dict[str, Any] = {
    "name": "default pass/fail",
    "version": 0,
    "criteria": "Is the output acceptable as it is, for the person who asked?",
    "anchors": {"pass": "Acceptable: could be shown to the user as it is.",
                "fail": "Not acceptable: wrong, harmful, off-topic or in need of a fix."},
    "pass_threshold": None,
}


def label_queue(
    items: pd.DataFrame,
    my_labels: pd.DataFrame,
    *,
    seed: int | None = None,
    size: int | None = None,
) -> list[str]:
    """Item uids in the order one annotator should see them.

    `items` is `Store.items(...)` (already filtered), `my_labels` is `Store.latest_labels(..., annotator=me)`.
    With `seed`, a sample of `size` items (all items when None) shared by everyone using the same seed;
    without, unlabeled-by-me first, then the ones I labeled, each in file order (truncated to `size`).
    """
    uids = list(items.sort_values("position")["uid"]) if len(items) else []
    if seed is not None:
        count = len(uids) if size is None else min(max(int(size), 0), len(uids))
        return random.Random(int(seed)).sample(uids, count)
    done = set(my_labels["item_uid"]) if len(my_labels) else set()
    ordered = [uid for uid in uids if uid not in done] + [uid for uid in uids if uid in done]
    return ordered if size is None else ordered[: max(int(size), 0)]


def next_milestone(label_count: int) -> tuple[int, str] | None:
    """The first milestone not reached yet (count, what it enables), or None once all are reached."""
    return next(((n, text) for n, text in MILESTONES if label_count < n), None)


def reached_milestones(label_count: int) -> list[tuple[int, str]]:
    return [(n, text) for n, text in MILESTONES if label_count >= n]


def rubric_for(criterion: Criterion) -> dict[str, Any]:
    """The rubric a criterion is graded by now: its saved version, else the default for its scale."""
    if criterion.rubric:
        return criterion.rubric
    return DEFAULT_PASS_FAIL_RUBRIC if criterion.is_pass_fail else DEFAULT_RUBRIC


def items_with_labels(items: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """One row per item with its most recent label by anyone, how many people labeled it, and their mean score."""
    table = items[["uid", "item_id", "input", "output"]].copy()
    if len(labels):
        latest = labels.sort_values("label_id").groupby("item_uid").tail(1).set_index("item_uid")
        per_item = labels.groupby("item_uid").agg(annotators=("annotator", "nunique"), mean_score=("score", "mean"))
        table["score"] = table["uid"].map(latest["score"])
        table["passed"] = table["uid"].map(latest["passed"])
        table["critique"] = table["uid"].map(latest["critique"])
        table["annotator"] = table["uid"].map(latest["annotator"])
        table["annotators"] = table["uid"].map(per_item["annotators"]).fillna(0).astype(int)
        table["mean_score"] = table["uid"].map(per_item["mean_score"])
    else:
        for column in ("score", "passed", "critique", "annotator", "mean_score"):
            table[column] = None
        table["annotators"] = 0
    return table


def score_distribution(labels: pd.DataFrame) -> pd.DataFrame:
    """How many current labels gave each score 1-5 (zeros included, so charts keep their axis)."""
    scores = labels["score"].dropna().astype(int) if len(labels) else pd.Series(dtype=int)
    counts = scores.value_counts().reindex(range(1, 6), fill_value=0)
    return pd.DataFrame({"score": counts.index.astype(str), "labels": counts.values})


def annotator_counts(labels: pd.DataFrame) -> pd.DataFrame:
    """Current labels per annotator, with their mean score and pass rate: spots a harsh or lenient grader."""
    if not len(labels):
        return pd.DataFrame(columns=["annotator", "labels", "mean_score", "pass_rate"])
    passed = labels["passed"].astype("boolean").astype("Float64")
    return (
        labels.assign(passed_num=passed)
        .groupby("annotator", as_index=False)
        .agg(labels=("item_uid", "count"), mean_score=("score", "mean"), pass_rate=("passed_num", "mean"))
        .sort_values("labels", ascending=False, ignore_index=True)
    )
