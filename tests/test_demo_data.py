"""The demo data must stay believable: valid files, realistic score spreads and human agreement, and it loads."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from judge.demo import load_demo

DATA = Path(__file__).resolve().parent.parent / "data"
CONTEXT_SEPARATOR = "\n\n---\n\n"
VERSIONS = ["v1.0", "v1.1", "v1.2"]
SET_OPS = ("in", "not_in", "contains_any")

# Rows whose generated tree is deliberately not valid JSON (trailing comma, truncation, prose + single quotes).
INVALID_TREE_IDS = {"qt-010", "qt-020", "qt-038"}

# (items file, labels file, first annotator, second annotator, expected items, expected second-annotator labels)
DATASETS = [
    ("demo_support.jsonl", "demo_support_labels.csv", "maya", "jonas", 80, 72),
    ("demo_query_trees.jsonl", "demo_query_trees_labels.csv", "maya", "priya", 60, 50),
]


def read_items(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_labels(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def paired_scores(items_file: str, labels_file: str) -> tuple[pd.Series, pd.Series]:
    """First and second annotator's scores on the items both labeled."""
    first = pd.DataFrame(read_items(items_file)).set_index("id")["score"]
    second = pd.DataFrame(read_labels(labels_file)).set_index("item_id")["score"].astype(int)
    return first.loc[second.index], second


def canonical_tree(node):
    """Order-free form of a query tree: key order, and/or argument order and set-valued list order ignored."""
    if isinstance(node, list):
        return [canonical_tree(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {key: canonical_tree(value) for key, value in node.items()}
    unordered = "args" if node.get("op") in ("and", "or") else "value" if node.get("op") in SET_OPS else None
    if unordered and isinstance(out.get(unordered), list):
        out[unordered] = sorted(out[unordered], key=lambda x: json.dumps(x, sort_keys=True))
    return out


@pytest.mark.parametrize("items_file", [d[0] for d in DATASETS])
def test_items_have_unique_ids_and_valid_first_annotator_labels(items_file):
    rows = read_items(items_file)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    for row in rows:
        assert row["input"].strip() and row["output"].strip() and row["reference"].strip()
        assert row["app_version"] in VERSIONS and row["model_version"]
        assert isinstance(row["score"], int) and 1 <= row["score"] <= 5
        assert isinstance(row["passed"], bool)
        assert row["critique"].strip()
    agreeing = sum(r["passed"] == (r["score"] >= 4) for r in rows)
    assert agreeing / len(rows) >= 0.95, "pass/fail should follow score >= 4 with rare, deliberate exceptions"


def test_support_items_have_context_passages_and_metadata():
    rows = read_items("demo_support.jsonl")
    assert len(rows) == 80
    for row in rows:
        passages = row["context"].split(CONTEXT_SEPARATOR)
        assert 1 <= len(passages) <= 3 and all(p.strip() for p in passages)
        assert row["category"] and row["prompt_version"] and row["channel"] in {"chat", "email", "in-app"}
    assert any("<script" in row["input"] for row in rows), "one item must exercise safe rendering of pasted HTML"
    assert max(len(row["output"]) for row in rows) > 2000, "one long answer"


def test_support_score_spread_is_realistic():
    scores = pd.Series([r["score"] for r in read_items("demo_support.jsonl")])
    assert 0.40 <= (scores >= 4).mean() <= 0.55
    assert 0.15 <= (scores == 3).mean() <= 0.30
    assert 0.20 <= (scores <= 2).mean() <= 0.35


@pytest.mark.parametrize("items_file", [d[0] for d in DATASETS])
def test_later_app_versions_score_better(items_file):
    frame = pd.DataFrame(read_items(items_file))
    means = frame.groupby("app_version")["score"].mean()
    assert means["v1.0"] < means["v1.1"] < means["v1.2"]


def test_query_trees_parse_except_the_deliberately_invalid_rows():
    rows = read_items("demo_query_trees.jsonl")
    assert len(rows) == 60 and {r["difficulty"] for r in rows} == {"easy", "medium", "hard"}
    invalid = set()
    for row in rows:
        assert isinstance(json.loads(row["reference"]), dict)
        try:
            json.loads(row["output"])
        except json.JSONDecodeError:
            invalid.add(row["id"])
    assert invalid == INVALID_TREE_IDS
    assert all(r["score"] == 1 for r in rows if r["id"] in INVALID_TREE_IDS)


def test_reordered_query_trees_are_equivalent_and_scored_as_such():
    rows = [r for r in read_items("demo_query_trees.jsonl") if r["id"] not in INVALID_TREE_IDS]
    reordered = [r for r in rows if r["output"] != r["reference"]
                 and canonical_tree(json.loads(r["output"])) == canonical_tree(json.loads(r["reference"]))]
    assert len(reordered) >= 8
    assert all(r["score"] == 5 for r in reordered)
    exact = [r for r in rows if r["output"] == r["reference"]]
    assert len(exact) >= 15 and all(r["score"] == 5 for r in exact)


@pytest.mark.parametrize("items_file, labels_file, first, second, n_items, n_labels", DATASETS)
def test_second_annotator_labels_reference_existing_items(items_file, labels_file, first, second, n_items, n_labels):
    ids = {r["id"] for r in read_items(items_file)}
    labels = read_labels(labels_file)
    assert len(labels) == n_labels
    assert {label["annotator"] for label in labels} == {second}
    assert len({label["item_id"] for label in labels}) == len(labels)
    assert {label["item_id"] for label in labels} <= ids
    for label in labels:
        assert 1 <= int(label["score"]) <= 5
        assert label["passed"] == ("true" if int(label["score"]) >= 4 else "false")


def test_support_annotators_agree_like_real_reviewers():
    maya, jonas = paired_scores("demo_support.jsonl", "demo_support_labels.csv")
    assert 0.60 <= cohen_kappa_score(maya, jonas, weights="linear") <= 0.75
    assert 0.75 <= cohen_kappa_score(maya, jonas, weights="quadratic") <= 0.90
    assert 0.55 <= (maya == jonas).mean() <= 0.65
    assert 0.85 <= ((maya - jonas).abs() <= 1).mean() <= 0.95
    assert (jonas < maya).sum() > (jonas > maya).sum(), "the second reviewer is the stricter one"


def test_query_tree_annotators_agree_more_on_the_more_objective_task():
    maya, priya = paired_scores("demo_query_trees.jsonl", "demo_query_trees_labels.csv")
    support_kappa = cohen_kappa_score(*paired_scores("demo_support.jsonl", "demo_support_labels.csv"), weights="linear")
    tree_kappa = cohen_kappa_score(maya, priya, weights="linear")
    assert 0.75 <= tree_kappa <= 0.92 and tree_kappa > support_kappa
    assert (maya != priya).any()


def test_load_demo_imports_every_file_with_both_annotators(store):
    assert sorted(load_demo(store)) == ["query-trees", "support"]
    for items_file, _, first, second, n_items, n_labels in DATASETS:
        name = items_file.removeprefix("demo_").removesuffix(".jsonl").replace("_", "-")
        dataset = store.dataset(name)
        items = store.items(dataset["id"])
        assert len(items) == n_items
        assert {"app_version", "model_version"} <= set(items["metadata"].iloc[0])
        for criterion in store.criteria(name):
            labels = store.latest_labels(dataset["id"], criterion=criterion.name)
            assert labels.groupby("annotator").size().to_dict() == {first: n_items, second: n_labels}
            assert criterion.rubric["criteria"]
    assert [c.name for c in store.criteria("support")] == ["helpfulness", "resolved"]
    assert load_demo(store) == [], "a store that has data is left alone"


# The demo pairs: two app versions' answers to the same support questions, with three annotators' preferences
# and a pre-recorded pairwise judge run in both orders (judge.demo.load_demo_pairs).
PAIRS = DATA / "demo_pairs"


def test_demo_pairs_are_two_app_versions_on_the_same_inputs():
    pairs = pd.read_json(PAIRS / "support_versions.jsonl", lines=True)
    support = pd.DataFrame(read_items("demo_support.jsonl")).set_index("input")
    assert len(pairs) == 36 and pairs["id"].is_unique
    for row in pairs.itertuples():
        assert "v2.0" in (row.system_a, row.system_b) and row.system_a != row.system_b
        old_side = "a" if row.system_b == "v2.0" else "b"
        item = support.loc[row.input]
        assert getattr(row, f"system_{old_side}") == item["app_version"]
        assert getattr(row, f"output_{old_side}") == item["output"], "the v1.x answer is the support item's own"
        assert row.preference in ("a", "b", "tie") and row.critique.strip()
    assert 0.3 <= (pairs["system_a"] == "v2.0").mean() <= 0.7, "v2.0 sits on either side"
    assert set(pairs["system_a"]) | set(pairs["system_b"]) == {"v1.0", "v1.1", "v1.2", "v2.0"}


def test_demo_preferences_and_the_pre_recorded_run_name_existing_pairs():
    ids = set(pd.read_json(PAIRS / "support_versions.jsonl", lines=True)["id"])
    preferences = pd.read_csv(PAIRS / "support_versions_preferences.csv")
    assert set(preferences["annotator"]) == {"jonas", "priya"} and set(preferences["pair_id"]) <= ids
    assert not preferences.duplicated(["pair_id", "annotator"]).any()
    assert set(preferences["preference"]) <= {"a", "b", "tie"}
    judge = pd.read_csv(PAIRS / "support_versions_judge.csv")
    assert set(judge["pair_id"]) == ids and len(judge) == len(ids)
    assert set(judge["choice_ab"]) | set(judge["choice_ba"]) <= {"a", "b", "tie"}


def test_judge_demo_loads_pairs_preferences_and_a_both_orders_judge_run(store, capsys):
    from judge.cli import main
    from judge.ranking import rank
    from judge.reports.pairwise import pairwise_report

    assert main(["--db", str(store.path), "demo"]) == 0
    assert "and pair datasets: support-versions (with a pre-recorded pairwise judge run)" in capsys.readouterr().out
    (row,) = store.pair_datasets().itertuples()
    assert (row.name, row.pairs, row.preferences, row.runs) == ("support-versions", 36, 36 + 58, 1)
    prefs = store.preferences("support-versions")
    assert prefs.groupby("annotator").size().to_dict() == {"jonas": 30, "maya": 36, "priya": 28}
    (run_id,) = store.pairwise_runs()["id"]
    run = store.pairwise_run(run_id)
    assert (run["done"], run["orders"], run["source"]) == (72, ["ab", "ba"], "import")
    report = pairwise_report(store, run_id, n_boot=200)
    # People agree like real reviewers on a preference task, the judge less, and it leans to the first slot.
    alpha = report["human_ceiling"]["krippendorff_alpha"]["value"]
    assert 0.4 <= alpha <= 0.7
    assert 0.6 <= report["agreement"]["accuracy"]["value"] <= 0.85
    assert report["position"]["first_position_win_rate"]["value"] > 0.55
    assert report["position"]["position_consistency"]["value"] < 0.9
    human = [r["system"] for r in rank(store, dataset="support-versions", human=True, n_boot=200)["ranking"]]
    assert human == ["v2.0", "v1.2", "v1.1", "v1.0"], "later app versions are preferred"
    judged = rank(store, runs=[run_id], compare_human=True, n_boot=200)
    assert judged["ranking"][0]["system"] == "v2.0" and judged["kendall_tau"]["value"] > 0
    load_demo(store, if_empty=False)
    assert len(store.pairwise_runs()) == 1 and len(store.preferences("support-versions")) == 94, "no duplicates"
