"""The Run page in Streamlit's AppTest: estimate, start a background run, follow it, offline judges."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from judge.specs import save_spec
from judge.store import Store
from runner_helpers import llm_spec, make_dataset

PAGE = str(Path(__file__).parent.parent / "pages" / "run.py")


@pytest.fixture
def page(tmp_path, monkeypatch, fake_llm):
    db = tmp_path / "judge.duckdb"
    monkeypatch.setenv("JUDGE_DB", str(db))
    store = Store(db)
    make_dataset(store, tmp_path, 6)
    save_spec(store, llm_spec())
    app = AppTest.from_file(PAGE, default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    return app, store


def _wait_until_finished(store: Store, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = store.runs()
        if len(runs) and runs["status"].iloc[0] in ("done", "failed"):
            return runs["id"].iloc[0]
        time.sleep(0.1)
    raise AssertionError("the background run did not finish")


def test_estimate_start_and_follow_an_llm_run(page, fake_llm):
    app, store = page
    app.selectbox(key="run.judge").set_value("sum_checker (saved v1)").run()
    assert app.multiselect(key="run.models").value == ["openai/gpt-test"]
    assert any("about 6 calls" in m.value for m in app.markdown)

    next(b for b in app.button if b.label == "Start").click().run()
    run_id = _wait_until_finished(store)
    assert fake_llm.count == 6
    app.run()
    assert not app.exception, app.exception
    assert app.selectbox(key="run.view").value == run_id
    assert [m.value for m in app.metric][:3] == ["6", "0", "0"]
    runs, table = app.dataframe[0].value, app.dataframe[-1].value
    assert list(runs["Run id"]) == [run_id] and runs["Status"].iloc[0] == "done"
    assert list(table["Item"]) == [f"q{i}" for i in range(6)] and (table["Reasoning"] != "").all()


def test_an_offline_judge_needs_no_model(page, fake_llm):
    app, store = page
    app.selectbox(key="run.judge").set_value("reference_match (built-in)").run()
    assert any("offline judge" in i.value for i in app.info)
    next(b for b in app.button if b.label == "Start").click().run()
    run_id = _wait_until_finished(store)
    assert fake_llm.count == 0 and store.run(run_id)["done"] == 6
    app.run()
    runs = app.dataframe[0].value
    assert runs["Model"].tolist() == ["offline"] and runs["Cost"].isna().all()
    assert app.metric[4].value == "free (offline)"


def test_a_model_without_its_key_is_flagged_before_start(page, fake_llm, monkeypatch):
    app, _ = page
    monkeypatch.delenv("OPENAI_API_KEY")
    app.selectbox(key="run.judge").set_value("sum_checker (saved v1)").run()
    assert any("OPENAI_API_KEY is not set" in w.value for w in app.warning)


def test_two_models_start_two_runs_and_failures_show_their_reason(page, fake_llm):
    app, store = page
    app.selectbox(key="run.judge").set_value("sum_checker (saved v1)").run()
    app.text_input(key="run.other_models").set_value("openai/gpt-other").run()
    fake_llm.fail_next(1, status=400, message="no such model")
    next(b for b in app.button if b.label == "Start").click().run()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (store.runs()["status"] == "done").sum() == 2:
        time.sleep(0.1)
    runs = store.runs()
    assert sorted(runs["model"]) == ["openai/gpt-other", "openai/gpt-test"]
    assert runs["failed"].sum() == 1
    failed_run = runs[runs["failed"] == 1]["id"].iloc[0]
    app.selectbox(key="run.view").set_value(failed_run).run()
    assert any(e.label.startswith("Failures (1)") for e in app.expander)


def test_a_new_run_becomes_the_one_shown(page, fake_llm):
    app, store = page
    app.selectbox(key="run.judge").set_value("reference_match (built-in)").run()
    next(b for b in app.button if b.label == "Start").click().run()
    first = _wait_until_finished(store)
    app.selectbox(key="run.judge").set_value("sum_checker (saved v1)").run()
    next(b for b in app.button if b.label == "Start").click().run()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (store.runs()["status"] != "done").any():
        time.sleep(0.1)
    second = store.runs()["id"].iloc[0]
    app.run()
    assert second != first and app.selectbox(key="run.view").value == second


def test_a_batch_run_from_the_page_shows_both_estimates_its_batch_and_cancels(page, fake_llm):
    app, store = page
    store.set_model_price("openai/gpt-test", 1.0, 2.0)
    fake_llm.batch_delay = 60.0
    app.selectbox(key="run.judge").set_value("sum_checker (saved v1)").run()
    assert any(c.value.startswith("Now: about $") and "batch, 50% cheaper, results within 24 h: about $" in c.value
               for c in app.caption)
    app.radio(key="run.mode").set_value("batch").run()
    next(b for b in app.button if b.label == "Start").click().run()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (len(store.runs()) and
                                               store.run_batches(store.runs()["id"].iloc[0])["batch_id"].notna().any()):
        time.sleep(0.05)
    run_id = store.runs()["id"].iloc[0]
    assert store.run(run_id)["params"]["batch"] is True
    app.run()
    assert not app.exception, app.exception
    batches = next(d.value for d in app.dataframe if "Provider batch" in d.value.columns)
    assert batches["Requests"].tolist() == [6]
    next(b for b in app.button if b.label == "Cancel batch").click().run()
    assert store.run_batches(run_id)["cancel_requested"].all()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and store.run(run_id)["status"] != "cancelled":
        time.sleep(0.1)
    assert store.run(run_id)["status"] == "cancelled" and store.run(run_id)["done"] == 0
