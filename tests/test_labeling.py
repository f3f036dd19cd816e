"""The labeling queue and summaries, over a real store."""

from __future__ import annotations

import pandas as pd
import pytest

from judge.importing import import_file
from judge.labeling import (
    DEFAULT_RUBRIC, annotator_counts, items_with_labels, label_queue, next_milestone, rubric_for,
    reached_milestones, score_distribution,
)


@pytest.fixture
def dataset(store, tmp_path):
    rows = [{"id": f"q{i}", "input": f"question {i}", "output": f"answer {i}", "topic": "billing" if i % 2 else "shipping"}
            for i in range(1, 11)]
    path = tmp_path / "support.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return import_file(store, path, dataset="support").dataset_id


def uid_of(store, dataset_id, item_id):
    items = store.items(dataset_id)
    return items.loc[items["item_id"] == item_id, "uid"].iloc[0]


def test_queue_puts_items_i_have_not_labeled_first_in_file_order(store, dataset):
    for item_id in ("q1", "q3"):
        store.add_label(uid_of(store, dataset, item_id), "bob", score=4)
    store.add_label(uid_of(store, dataset, "q2"), "alice", score=2)  # someone else's label does not count
    items = store.items(dataset)
    queue = label_queue(items, store.latest_labels(dataset, annotator="bob"))
    ids = dict(zip(items["uid"], items["item_id"]))
    assert [ids[u] for u in queue] == ["q2", "q4", "q5", "q6", "q7", "q8", "q9", "q10", "q1", "q3"]
    assert len(label_queue(items, store.latest_labels(dataset, annotator="bob"), size=3)) == 3


def test_seeded_sample_is_the_same_for_everyone_whatever_they_labeled(store, dataset):
    items = store.items(dataset)
    store.add_label(uid_of(store, dataset, "q5"), "bob", score=1)
    for_bob = label_queue(items, store.latest_labels(dataset, annotator="bob"), seed=7, size=4)
    for_ann = label_queue(items, store.latest_labels(dataset, annotator="ann"), seed=7, size=4)
    assert for_bob == for_ann and len(for_bob) == 4 and len(set(for_bob)) == 4
    assert label_queue(items, store.latest_labels(dataset), seed=8, size=4) != for_bob
    assert sorted(label_queue(items, store.latest_labels(dataset), seed=1)) == sorted(items["uid"])


def test_queue_follows_a_metadata_filter(store, dataset):
    items = store.items(dataset, metadata={"topic": "billing"})
    queue = label_queue(items, store.latest_labels(dataset, annotator="bob"))
    assert {store.item(u)["item_id"] for u in queue} == {"q1", "q3", "q5", "q7", "q9"}


def test_milestones():
    assert next_milestone(0) == (20, "enough to measure a judge")
    assert next_milestone(20) == (50, "enough to tune one")
    assert [n for n, _ in reached_milestones(57)] == [20, 50]
    assert next_milestone(1000) is None


def test_a_criterion_is_graded_by_its_rubric_else_the_default_of_its_scale(store, dataset):
    store.define_criterion("support", "tone", "pass/fail")
    assert rubric_for(store.criterion("support", "tone"))["anchors"].keys() == {"pass", "fail"}
    store.define_criterion("support", "helpful", "1-5", rubric_name="helpful")
    assert rubric_for(store.criterion("support", "helpful")) == DEFAULT_RUBRIC  # named, not saved yet
    store.save_rubric("helpful", "Helpful?", DEFAULT_RUBRIC["anchors"], pass_threshold=3)
    assert rubric_for(store.criterion("support", "helpful"))["pass_threshold"] == 3


def test_summaries_use_each_annotators_latest_label(store, dataset):
    q1, q2 = uid_of(store, dataset, "q1"), uid_of(store, dataset, "q2")
    store.add_label(q1, "bob", score=2, passed=False)
    store.add_label(q1, "bob", score=5, passed=True, critique="fixed my mind")  # an edit: latest wins
    store.add_label(q1, "ann", score=4, passed=True)
    store.add_label(q2, "ann", score=1, passed=False)
    labels = store.latest_labels(dataset)

    table = items_with_labels(store.items(dataset), labels).set_index("item_id")
    assert table.loc["q1", "annotators"] == 2 and table.loc["q1", "mean_score"] == 4.5
    assert table.loc["q1", "score"] == 4  # ann labeled last
    assert table.loc["q3", "annotators"] == 0 and pd.isna(table.loc["q3", "score"])
    assert score_distribution(labels)["labels"].tolist() == [1, 0, 0, 1, 1]

    people = annotator_counts(labels).set_index("annotator")
    assert people.loc["ann", "labels"] == 2 and people.loc["ann", "pass_rate"] == 0.5
    assert people.loc["bob", "mean_score"] == 5
    assert len(store.label_history(q1)) == 3


def test_summaries_of_an_unlabeled_dataset(store, dataset):
    labels = store.latest_labels(dataset)
    assert score_distribution(labels)["labels"].tolist() == [0, 0, 0, 0, 0]
    assert annotator_counts(labels).empty
    assert (items_with_labels(store.items(dataset), labels)["annotators"] == 0).all()
