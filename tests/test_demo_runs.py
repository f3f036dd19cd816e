"""The first `make run` must show real content on every page: the demo loads with offline judge runs,
a trend over app versions with a pinned baseline, and two judges to compare; a second load is a quick no-op."""

from __future__ import annotations

import time

import pytest

from judge.demo import DEMO_TREND_JUDGE, load_demo
from judge.reports import agreement_report, compare_runs, trend
from judge.store import Store

VERSIONS = ["v1.0", "v1.1", "v1.2"]


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory) -> Store:
    store = Store(tmp_path_factory.mktemp("demo") / "judge.duckdb")
    assert sorted(load_demo(store)) == ["query-trees", "support"]
    return store


def _runs(store: Store, dataset: str):
    return store.runs(int(store.dataset(dataset)["id"]))


def test_query_trees_get_one_tree_match_run_per_app_version(demo_store):
    runs = _runs(demo_store, "query-trees").sort_values("created_at")
    assert list(runs["spec_name"]) == [DEMO_TREND_JUDGE] * 3
    assert list(runs["version_tag"]) == VERSIONS
    assert set(runs["status"]) == {"done"}
    assert list(runs["done"]) == [20, 20, 20] and runs["failed"].sum() == 0
    assert demo_store.baseline_run(DEMO_TREND_JUDGE) == runs["id"].iloc[0]


def test_support_gets_reference_judges_and_a_distilled_judge_per_criterion(demo_store):
    runs = _runs(demo_store, "support")
    assert sorted(zip(runs["spec_name"], runs["criterion"])) == [
        ("distilled:support:helpfulness", "helpfulness"), ("distilled:support:resolved", "resolved"),
        ("reference_f1", "helpfulness"), ("reference_f1", "resolved"), ("reference_rouge", "helpfulness")]
    assert set(runs["version_tag"]) == {"all versions"}
    assert set(runs["status"]) == {"done"} and set(runs["done"]) == {80}
    assert runs["cost_usd"].fillna(0).sum() == 0, "offline judges cost nothing"


def test_trend_shows_the_app_versions_against_the_pinned_baseline(demo_store):
    result = trend(demo_store, DEMO_TREND_JUDGE, n_boot=200)
    points = result["points"]
    assert [p["version_tag"] for p in points] == VERSIONS, "one point per app version, oldest first"
    assert points[0]["is_baseline"] and result["baseline_run"] == points[0]["run_id"]
    assert all(p["mean_score"]["value"] is not None for p in points)


def test_compare_works_on_the_two_reference_judges(demo_store):
    runs = _runs(demo_store, "support")
    runs = runs[runs["criterion"] == "helpfulness"].set_index("spec_name")
    pair = [runs.loc["reference_rouge", "id"], runs.loc["reference_f1", "id"]]
    result = compare_runs(demo_store, pair, n_boot=200)
    assert result["common_items"] == 80
    assert [row["run"]["id"] for row in result["runs"]] == pair
    assert all(row["labeled_items"] > 0 and row["quadratic_kappa"]["value"] is not None for row in result["runs"])
    assert len(result["inter_judge"]) == 1 and len(result["differences"]) == 1


def test_every_demo_run_has_an_agreement_report_with_labeled_items(demo_store):
    for run_id in demo_store.runs()["id"]:
        assert agreement_report(demo_store, run_id, n_boot=50)["labels"]["items"] > 0


def test_loading_again_is_a_fast_no_op_that_adds_no_runs(demo_store):
    before = len(demo_store.runs())
    started = time.perf_counter()
    assert load_demo(demo_store, if_empty=True) == []
    assert time.perf_counter() - started < 1.0
    assert sorted(load_demo(demo_store, if_empty=False)) == ["query-trees", "support"], "identical files: no-ops"
    assert len(demo_store.runs()) == before


def test_a_demo_without_versions_or_enough_labels_still_gets_its_judge_runs(store, tmp_path):
    directory = tmp_path / "demo"
    directory.mkdir()
    lines = [f'{{"id": "sup-{n}", "input": "q{n}", "output": "answer {n}", "reference": "answer {n}", "score": 5}}'
             for n in range(3)]
    (directory / "demo_support.jsonl").write_text("\n".join(lines) + "\n")
    (directory / "demo_query_trees.jsonl").write_text(
        '{"id": "qt-1", "input": "open tickets", "output": "{}", "reference": "{}", "score": 5}\n')
    assert load_demo(store, directory=directory) == ["query-trees", "support"]
    runs = store.runs()
    assert sorted(runs["spec_name"]) == ["json_tree_match", "reference_f1", "reference_rouge"]
    assert runs["version_tag"].isna().all(), "without app versions there is nothing to tag"
