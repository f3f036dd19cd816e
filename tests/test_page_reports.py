"""The Align pages (Report, Compare, Trends) in Streamlit's AppTest over a real store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from judge.store import Store
from judge.ui.plain import plain
from judge.ui.run_labels import busiest_judge, default_comparison, run_labels
from report_data import judge_run, labeled_dataset, spec

PAGES = Path(__file__).parent.parent / "pages"


@pytest.fixture
def store(tmp_path, monkeypatch):
    db = tmp_path / "judge.duckdb"
    monkeypatch.setenv("JUDGE_DB", str(db))
    return Store(db)


@pytest.fixture
def runs(store, tmp_path):
    rng = np.random.default_rng(0)
    truth = [int(v) for v in rng.integers(1, 6, 40)]
    ds = labeled_dataset(store, tmp_path, {"alice": truth},
                         metadata={"topic": ["a" if i % 2 else "b" for i in range(40)],
                                   "app_version": ["1.0"] * 40})
    good = judge_run(store, ds, [int(v) for v in np.clip(np.array(truth) + rng.integers(-1, 2, 40), 1, 5)])
    other = judge_run(store, ds, [int(v) for v in rng.integers(1, 6, 40)], spec_body=spec("other"))
    return ds, good, other, truth


def page(name: str) -> AppTest:
    app = AppTest.from_file(str(PAGES / name), default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    return app


def test_report_page_shows_figures_with_intervals_and_slices(runs):
    ds, good, _, _ = runs
    app = page("report.py")
    app.selectbox(key="report.run").set_value(good).run()
    assert not app.exception, app.exception
    titles = [m.label for m in app.metric]
    assert titles[:3] == ["Quadratic kappa", "Exact agreement", "Within 1"]
    assert any("95% CI" in c.value for c in app.caption)
    assert app.selectbox(key="report.slice").value == "app_version"
    app.selectbox(key="report.slice").set_value("topic").run()
    slices = app.dataframe[-1].value
    assert set(slices["topic"]) == {"a", "b"}
    assert list(slices["kappa"]) == sorted(slices["kappa"])


def test_revising_a_label_and_marking_a_few_shot_example(runs, store):
    ds, good, _, _ = runs
    app = page("report.py")
    app.selectbox(key="report.run").set_value(good).run()
    table = app.dataframe[1].value
    first = table["item_id"].iloc[0]
    uid = store.item_uids(ds["id"])[first]
    app.text_input(key="report.annotator").input("maria")
    app.radio(key="report.grade.score").set_value(3)
    app.text_area(key="report.grade.critique").input("on reflection, a 3")
    app.button(key="FormSubmitter:report.revise-Save label").click().run()
    assert not app.exception, app.exception
    history = store.label_history(uid)
    assert (history["annotator"].iloc[0], history["score"].iloc[0]) == ("maria", 3)

    shown = app.dataframe[1].value
    picked = shown["item_id"].loc[app.selectbox(key="report.item").value]
    app.button(key="report.fewshot").click().run()
    assert not app.exception, app.exception
    assert store.fewshot_items("helpful") == [store.item_uids(ds["id"])[picked]]
    assert any("1 few-shot examples left out" in c.value for c in app.caption)


def test_compare_page_opens_on_the_latest_pair_and_names_the_better_judge_by_label(runs, store):
    _, good, other, _ = runs
    app = page("compare.py")
    assert sorted(app.multiselect(key="compare.runs").value) == sorted([good, other]), "the latest two runs"
    app.multiselect(key="compare.runs").set_value([good, other]).run()
    assert not app.exception, app.exception
    labels = run_labels(store.runs(), compact=True)
    table = app.dataframe[0].value
    assert list(table["Run"]) == [labels[good], labels[other]]
    assert "nan" not in " ".join(table["Run"]) and good not in labels[good]
    assert any(f"**{plain(labels[good])}** agrees better" in m.value for m in app.markdown)


def test_trends_page_pins_a_baseline(runs, store):
    _, good, other, _ = runs
    app = page("trends.py")
    app.selectbox(key="trends.judge").set_value("helpful").run()
    assert not app.exception, app.exception
    assert len(app.get("plotly_chart")) == 2
    app.selectbox(key="trends.pin").set_value(good)
    app.button(key="trends.pin_button").click().run()
    assert not app.exception, app.exception
    assert store.baseline_run("helpful") == good
    helpful = store.runs()[lambda runs: runs["spec_name"] == "helpful"]
    assert any(f"Baseline: {plain(run_labels(helpful, compact=True)[good])}" in c.value for c in app.caption)


def test_report_offers_few_shot_marking_only_for_llm_judges(runs, store):
    from judge.distill import distill_judge

    ds, good, _, _ = runs
    distilled = distill_judge(store, ds["name"]).run_id
    app = page("report.py")
    app.selectbox(key="report.run").set_value(distilled).run()
    assert not app.exception, app.exception
    assert app.dataframe and not any(b.key == "report.fewshot" for b in app.button)
    app.selectbox(key="report.run").set_value(good).run()
    assert any(b.key == "report.fewshot" for b in app.button)


def test_run_labels_say_offline_instead_of_nan_and_tell_identical_runs_apart():
    runs = pd.DataFrame([
        {"id": "run-aaaaaa", "spec_name": "rouge", "model": np.nan, "dataset": "qa", "dataset_version": 1,
         "version_tag": np.nan, "created_at": pd.Timestamp("2026-03-01 09:05")},
        {"id": "run-bbbbbb", "spec_name": "helpful", "model": "openai/gpt-x", "dataset": "qa", "dataset_version": 2,
         "version_tag": "v1.2", "created_at": pd.Timestamp("2026-03-01 09:05")},
        {"id": "run-cccccc", "spec_name": "helpful", "model": "openai/gpt-x", "dataset": "qa", "dataset_version": 2,
         "version_tag": "v1.2", "created_at": pd.Timestamp("2026-03-01 09:05")},
    ])
    labels = run_labels(runs)
    assert labels["run-aaaaaa"] == "rouge · offline · qa · Mar 01 09:05"
    assert labels["run-bbbbbb"] == "helpful · openai/gpt-x · qa v2 · app: v1.2 · Mar 01 09:05 · bbbbbb"
    assert run_labels(runs.iloc[:2], compact=True) == {"run-aaaaaa": "rouge", "run-bbbbbb": "helpful"}
    other_model = runs.iloc[1:].assign(model=["openai/gpt-x", "openai/gpt-y"])
    assert run_labels(other_model, compact=True) == {"run-bbbbbb": "helpful · openai/gpt-x",
                                                     "run-cccccc": "helpful · openai/gpt-y"}


def test_defaults_compare_the_latest_runs_on_the_same_items_and_trend_the_busiest_judge():
    def run(run_id, spec, tag, total, minute, status="done"):
        return {"id": run_id, "spec_name": spec, "dataset": "qa", "dataset_version": 1, "version_tag": tag,
                "total_items": total, "status": status, "created_at": pd.Timestamp(f"2026-03-01 09:{minute:02d}")}

    runs = pd.DataFrame([run("tree-v1", "tree", "v1", 20, 1), run("tree-v2", "tree", "v2", 20, 2),
                         run("f1", "f1", None, 60, 3), run("rouge", "rouge", None, 60, 4),
                         run("llm", "llm", None, 60, 5, status="running")])
    assert default_comparison(runs) == ["rouge", "f1"], "not the running one, not two app versions"
    assert default_comparison(runs.iloc[:2]) == [], "different app versions share no item"
    assert busiest_judge(runs) == "tree"


def test_report_page_shows_a_pairwise_runs_figures_with_intervals_and_slices(store, tmp_path):
    from judge.pairs import import_pairs
    from judge.pairwise import import_pairwise_run
    from judge.reports.pairwise import pairwise_report

    rows = [{"id": f"p{i}", "input": f"q{i}", "output_a": f"a{i}", "output_b": f"b{i}", "system_a": "v1",
             "system_b": "v2", "preference": "a" if i % 3 else "b", "topic": "even" if i % 2 == 0 else "odd"}
            for i in range(24)]
    pd.DataFrame(rows).to_csv(tmp_path / "pairs.csv", index=False)
    import_pairs(store, tmp_path / "pairs.csv", dataset="v1-vs-v2")
    pd.DataFrame({"pair_id": [r["id"] for r in rows], "choice_ab": ["a"] * 24,
                  "choice_ba": ["a" if i % 4 else "b" for i in range(24)]}).to_csv(tmp_path / "run.csv", index=False)
    run_id = import_pairwise_run(store, tmp_path / "run.csv", dataset="v1-vs-v2")

    app = page("report.py")  # only a pairwise run in the store: the report opens on it
    assert app.radio(key="report.kind").value == "Pairwise"
    assert app.selectbox(key="report.pairwise_run").value == run_id
    expected = pairwise_report(store, run_id, slice_by="system_a")
    assert [m.label for m in app.metric] == ["Accuracy (a/b/tie)", "Kappa (a/b/tie)", "Position consistency",
                                             "First-position win rate", "Tie rate"]
    assert app.metric[0].value == f"{expected['agreement']['accuracy']['value']:.1%}"
    assert app.metric[1].value == f"{expected['agreement']['kappa']['value']:.3f}"
    assert app.metric[2].value == f"{expected['position']['position_consistency']['value']:.1%}"
    assert sum("95% CI" in c.value and "n=24" in c.value for c in app.caption) >= 4
    app.selectbox(key="report.pairwise_slice").set_value("topic").run()
    assert not app.exception, app.exception
    slices = app.dataframe[-1].value
    assert set(slices["topic"]) == {"even", "odd"} and list(slices["pairs"]) == [12, 12]
    assert slices["Accuracy"].str.contains("95% CI").all()


def test_report_page_switches_between_judge_runs_and_pairwise_runs(runs, tmp_path, store):
    from judge.pairs import import_pairs
    from judge.pairwise import import_pairwise_run

    pd.DataFrame([{"id": "p1", "input": "q", "output_a": "x", "output_b": "y", "preference": "a"}]).to_csv(
        tmp_path / "one.csv", index=False)
    import_pairs(store, tmp_path / "one.csv", dataset="one")
    pd.DataFrame({"pair_id": ["p1"], "choice_ab": ["a"], "choice_ba": ["a"]}).to_csv(tmp_path / "c.csv", index=False)
    import_pairwise_run(store, tmp_path / "c.csv", dataset="one")
    app = page("report.py")
    assert app.radio(key="report.kind").value == "1-5 and pass/fail"
    assert [m.label for m in app.metric][:1] == ["Quadratic kappa"]
    app.radio(key="report.kind").set_value("Pairwise").run()
    assert not app.exception, app.exception
    assert [m.label for m in app.metric][0] == "Accuracy (a/b/tie)"


def test_the_report_page_leaves_review_labels_out_unless_counted_and_says_so_on_every_figure(runs, store):
    from judge.review import review_batch, save_review

    ds, good, _, _ = runs
    unlabeled = labeled_dataset(store, Path(store.path).parent, {"alice": [None] * 40}, name="fresh")
    fresh = judge_run(store, unlabeled, [4] * 40)
    save_review(store, fresh, review_batch(store, fresh, n=12), "rita")
    app = page("report.py")
    app.selectbox(key="report.run").set_value(fresh).run()
    assert "12 review labels left out" in "\n".join(c.value for c in app.caption)
    assert any("No labeled item" in w.value for w in app.warning)
    app.toggle(key="report.include_review").set_value(True).run()
    assert not app.exception, app.exception
    captions = [c.value for c in app.caption]
    assert "Includes 12 review labels" in "\n".join(captions)
    figures = [c for c in captions if "n=" in c]
    assert len(figures) == 6 and all(c.endswith("with review labels") for c in figures)
