"""The Funnel page in Streamlit's AppTest: build, calibrate and run a funnel in the background, read its report."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from funnel_helpers import STAGES, build_store, scripted_reply
from judge.funnel import funnel_background_state
from judge.store import Store

PAGE = str(Path(__file__).parent.parent / "pages" / "funnel.py")


@pytest.fixture
def page(tmp_path, monkeypatch, fake_llm):
    db = tmp_path / "judge.duckdb"
    monkeypatch.setenv("JUDGE_DB", str(db))
    store = Store(db)
    build_store(store, tmp_path)
    fake_llm.reply_with(scripted_reply)
    app = AppTest.from_file(PAGE, default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    return app, store


def _wait(store: Store, name: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = funnel_background_state(store, name)
        if state is not None and not state["running"]:
            return state
        time.sleep(0.2)
    raise AssertionError("the background work did not finish")


def _click(app: AppTest, key: str) -> None:
    next(b for b in app.button if b.key == key).click().run()
    assert not app.exception, app.exception


def test_build_calibrate_run_and_read_a_funnel(page):
    app, store = page
    app.text_input(key="funnel.new_name").set_value("sums-funnel")
    app.selectbox(key="funnel.criterion").set_value("correct")
    app.text_area(key="funnel.stages").set_value("\n".join(STAGES))
    _click(app, "funnel.save")
    assert any("Saved funnel sums-funnel version 1" in m.value for m in app.success)

    app.number_input(key="funnel.alpha").set_value(0.2)
    app.number_input(key="funnel.delta").set_value(0.2)
    _click(app, "funnel.calibrate")
    state = _wait(store, "sums-funnel")
    assert state["error"] is None and state["result"].version == 2
    app.run()
    assert "calibrated" in app.markdown[0].value

    _click(app, "funnel.run")
    state = _wait(store, "sums-funnel")
    assert state["error"] is None and state["result"].status == "done"
    app.run()
    assert not app.exception, app.exception
    assert any("the guarantee held" in s.value for s in app.success)
    stages = app.dataframe[0].value
    assert list(stages["Stage"])[-1] == "people" and stages["Settled"].sum() == 200
    comparison = app.dataframe[1].value
    assert list(comparison[""])[0] == "Funnel" and len(comparison) == 2
    assert app.dataframe[2].value["Items"].iloc[0] == 200


def test_a_bad_stage_says_what_to_write(page):
    app, store = page
    app.text_area(key="funnel.stages").set_value("gpt-4")
    _click(app, "funnel.save")
    assert any("is not one of" in e.value for e in app.error)
    assert not store.funnel_exists("support-resolved")
