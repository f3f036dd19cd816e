"""The Distill page in AppTest over a real store: a local judge trained in the background from a teacher run
and the people (shown beside the teacher on the same items), or from the labels only."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from judge.store import Store
from report_data import judge_run, labeled_dataset

N = 60


@pytest.fixture
def store(tmp_path, monkeypatch):
    db = tmp_path / "judge.duckdb"
    monkeypatch.setenv("JUDGE_DB", str(db))
    return Store(db)


def _settled(app: AppTest) -> AppTest:
    """Rerun until the background training is over (the page polls its job)."""
    for _ in range(120):
        app.run()
        if not any("Training" in i.value for i in app.info):
            return app
        time.sleep(0.5)
    raise AssertionError("training did not finish")


def test_distilling_from_a_teacher_run_and_from_the_labels(store, tmp_path):
    good = [i % 3 != 0 for i in range(N)]
    ds = labeled_dataset(store, tmp_path, {"ana": [(5 if g else 1) if i < 30 else None for i, g in enumerate(good)]},
                         answer="reply")
    teacher = judge_run(store, ds, [5 if g else 1 for g in good])
    app = AppTest.from_file(str(Path(__file__).parent.parent / "pages" / "distill.py"), default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    app.selectbox(key="distill.teacher").set_value(teacher)
    app.button(key="distill.from_run").click().run()
    _settled(app)
    assert not app.exception, app.exception
    assert any("beside its teacher on the same 30 labeled items" in s.value for s in app.success)
    assert [m.label for m in app.metric] == ["Distilled (free, local)", "Teacher"]
    assert all("95% CI" in c.value and "n=30" in c.value for c in app.caption if "n=" in c.value)

    app.button(key="distill.from_labels").click().run()
    _settled(app)
    assert any("30 labeled items scored out-of-fold" in s.value for s in app.success)
    assert sorted(store.runs()["source"]) == ["distilled", "distilled", "judge"]
