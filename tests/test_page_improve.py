"""The Improve page in Streamlit's AppTest: disagreements to few-shot in one click, candidates scored on
held-out items in the background, the leaderboard, promotion."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from judge.store import Store
from report_data import judge_run, labeled_dataset, spec
from test_improve import HUMAN, N, _script

PAGE = str(Path(__file__).parent.parent / "pages" / "improve.py")


@pytest.fixture
def page(tmp_path, monkeypatch, fake_llm):
    db = tmp_path / "judge.duckdb"
    monkeypatch.setenv("JUDGE_DB", str(db))
    store = Store(db)
    critiques = [f"answer {i} misses the refund policy" if i % 2 else "" for i in range(N)]
    ds = labeled_dataset(store, tmp_path, {"alice": HUMAN}, metadata={"critique:alice": critiques})
    judge_run(store, ds, [3] * N)  # saves the 'helpful' judge and a finished run of it
    app = AppTest.from_file(PAGE, default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    return app, store


def test_a_disagreement_becomes_a_few_shot_example_in_one_click(page):
    app, store = page
    assert any("tuning items" in m.value and "held-out items" in m.value for m in app.markdown)
    assert app.expander and all("human" in e.label and "judge 3" in e.label for e in app.expander[:3])
    use = next(b for b in app.button if b.label == "Use as few-shot")
    uid = use.key.removeprefix("improve.use.")
    use.click().run()
    assert not app.exception, app.exception
    assert store.fewshot_items("helpful") == [uid]
    assert [e["item_uid"] for e in store.spec_body("helpful")["examples"]] == [uid]
    assert not any(b.key == use.key for b in app.button)  # no longer offered


def test_score_candidates_in_the_background_then_promote(page, fake_llm):
    app, store = page
    _script(fake_llm, "Check the refund policy")
    next(b for b in app.button if b.label == "Add automatic candidates").click().run()
    app.text_input(key="improve.new_label").set_value("refund")
    app.text_area(key="improve.new_body").set_value(
        json.dumps(spec(criteria="Is the answer helpful? Check the refund policy.")))
    next(b for b in app.button if b.key == "improve.add").click().run()
    assert not app.exception, app.exception
    assert any("**refund**" in m.value for m in app.markdown)

    next(b for b in app.button if b.label == "Score candidates on held-out").click().run()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not app.dataframe:
        time.sleep(0.3)
        app.run()
    assert not app.exception, app.exception
    board = app.dataframe[0].value
    assert board["candidate"].iloc[0] == "refund" and "current" in set(board["candidate"])
    assert len(board) == 4  # current, few-shot, guidelines, refund
    assert any("better than the current spec" in s.value for s in app.success)

    app.button(key="improve.promote").click().run()
    assert "refund policy" in store.spec_body("helpful")["criteria"]


def test_an_offline_judge_has_no_model_field_and_no_few_shot_controls(page):
    app, _ = page
    assert app.selectbox(key="improve.judge.qa").value.startswith("helpful"), "the judge with a finished run"
    assert app.text_input(key="improve.model.helpful").value == "openai/gpt-test"
    app.selectbox(key="improve.judge.qa").set_value("reference_f1 (built-in)").run()
    assert not app.exception, app.exception
    assert not any(t.key.startswith("improve.model") for t in app.text_input if t.key)
    assert not any(b.label in ("Use as few-shot", "Add automatic candidates") for b in app.button)
    assert any("only change what an LLM judge reads" in i.value for i in app.info)


def test_items_graded_only_in_a_review_are_counted_as_tuning_items(tmp_path, monkeypatch):
    from judge.improve import heldout_split
    from judge.review import review_batch, save_review

    db = tmp_path / "judge.duckdb"
    monkeypatch.setenv("JUDGE_DB", str(db))
    store = Store(db)
    ds = labeled_dataset(store, tmp_path, {"alice": HUMAN[:20] + [None] * (N - 20)})
    run = judge_run(store, ds, [3] * N)
    save_review(store, run, review_batch(store, run, n=10), "rita")
    split = heldout_split(store, "qa", spec_name="helpful")
    app = AppTest.from_file(PAGE, default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    assert len(split.reviewed) == 10 and set(split.reviewed) <= set(split.tuning)
    assert any(f"**{len(split.tuning):,}** tuning items (10 graded in reviews only)" in m.value for m in app.markdown)
