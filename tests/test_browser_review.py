"""Judge-first review in headless Chromium: correct one verdict with a critique, accept the rest, and turn the
correction into a few-shot example of a new spec version that re-runs on the rest (the fake LLM server)."""

from __future__ import annotations

import re
import time

import pytest

from tests.browser import settle
from tests.fake_llm import prompt_text
from tests.report_data import judge_run, labeled_dataset

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_review_a_batch_and_teach_the_judge(fake_llm, start_dashboard, page, tmp_path):
    dashboard = start_dashboard(env=fake_llm.env())
    store = dashboard.store()
    ds = labeled_dataset(store, tmp_path, {"ana": [4, 2] + [None] * 10})
    run = judge_run(store, ds, [4, 3, 5, 2, 4, 4, 3, 5, 4, 2, 4, 4])

    page.goto(f"{dashboard.url}/review?annotator=dana")
    settle(page)
    page.get_by_label("Items").fill("3")
    page.get_by_label("Items").press("Enter")
    settle(page)
    page.get_by_text("3. Item").wait_for()
    page.get_by_label("Critique (needed when you correct the judge)").first.fill("Wrong in the second sentence.")
    page.get_by_label("Pass/fail").first.click()
    page.get_by_role("option", name="fail").click()
    page.get_by_role("button", name=re.compile("Save review")).click()
    settle(page)
    page.get_by_text(re.compile(r"verdicts accepted, 1 corrected")).wait_for()
    page.get_by_role("button", name=re.compile("Turn the corrections")).click()
    settle(page)
    page.get_by_text(re.compile("Saved version 2 of the judge .* re-running it on 9 items")).wait_for()

    with store.db.connect() as con:
        kinds = con.execute("SELECT kind, count(*) FROM labels WHERE kind = 'review' GROUP BY kind").fetchall()
    assert kinds == [("review", 3)]
    assert len(store.fewshot_items(store.report_run(run)["spec_name"])) == 1
    rerun = store.runs().iloc[0]["id"]
    for _ in range(300):
        if store.run(rerun)["status"] == "done":
            break
        time.sleep(0.1)
    assert store.report_run(rerun)["spec_version"] == 2 and len(store.verdicts(rerun)) == 9
    assert "Wrong in the second sentence." in prompt_text(fake_llm.requests[-1].body)
