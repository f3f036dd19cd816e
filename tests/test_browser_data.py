"""End to end in headless Chromium: upload a CSV, label three items, reload, find them; hostile outputs stay text."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from judge.importing import import_file
from tests.browser import settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOSTILE = '<script>window.pwned = 1; alert("x")</script><img src=x onerror="window.pwned = 2; alert(2)"> **bold**'


def write_csv(path, outputs: list[str]) -> None:
    pd.DataFrame({
        "id": [f"t{i}" for i in range(1, len(outputs) + 1)],
        "prompt": [f"Question number {i}?" for i in range(1, len(outputs) + 1)],
        "response": outputs,
        "channel": ["chat" if i % 2 else "email" for i in range(1, len(outputs) + 1)],
    }).to_csv(path, index=False)


def grade(page, score: int, critique: str, *, with_shortcut: bool = False) -> None:
    page.locator('[data-testid="stRadio"]').first.locator("label").filter(
        has_text=re.compile(rf"^{score} ·")).click()
    page.get_by_label(re.compile("critique$")).fill(critique)
    if with_shortcut:
        page.get_by_label(re.compile("critique$")).blur()
        page.keyboard.press("Control+s")
    else:
        page.get_by_role("button", name=re.compile("Save and next")).click()
    settle(page)


def test_upload_label_three_items_reload_and_find_them(dashboard, page, tmp_path):
    csv = tmp_path / "faq-bot.csv"
    write_csv(csv, [f"Answer {i}: press the reset button." for i in range(1, 7)])

    page.goto(f"{dashboard.url}/upload")
    settle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(csv))
    page.get_by_text("6 rows, 4 columns").wait_for()
    page.get_by_role("button", name=re.compile("^Import")).click()
    page.get_by_text("Imported 6 items and 0 labels as faq-bot version 1").wait_for()

    page.goto(f"{dashboard.url}/label?annotator=carol&dataset=faq-bot")
    settle(page)
    page.get_by_text("Item 1 of 6").wait_for()
    grade(page, 2, "Misses the second step")
    page.get_by_text("Item 2 of 6").wait_for()
    grade(page, 4, "Fine")
    page.get_by_text("Item 3 of 6").wait_for()
    grade(page, 5, "Exactly right", with_shortcut=True)
    page.get_by_text("Item 4 of 6").wait_for()

    page.reload()
    settle(page)
    page.get_by_text("3 of 6 items in this queue labeled by you").wait_for()
    page.get_by_text("Item 1 of 6").wait_for()
    assert page.get_by_text("Question number 4?").is_visible()  # resumes at the first item not labeled yet

    page.goto(f"{dashboard.url}/datasets?dataset=faq-bot")
    settle(page)
    page.locator('[data-testid="stMetric"]').filter(has_text="Labeled items").get_by_text("3").wait_for()

    store = dashboard.store()
    labels = store.latest_labels(store.dataset("faq-bot")["id"], annotator="carol")
    items = store.items(store.dataset("faq-bot")["id"]).set_index("uid")
    saved = {items.loc[row.item_uid, "item_id"]: (row.score, row.passed, row.critique) for row in labels.itertuples()}
    assert saved == {"t1": (2, False, "Misses the second step"), "t2": (4, True, "Fine"),
                     "t3": (5, True, "Exactly right")}


def test_hostile_output_is_shown_literally_and_never_runs(dashboard, page, tmp_path):
    csv = tmp_path / "hostile.csv"
    write_csv(csv, [HOSTILE, "A plain answer."])
    import_file(dashboard.store(), csv, dataset="hostile")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(f"{dashboard.url}/label?annotator=eve&dataset=hostile")
    settle(page)
    page.get_by_text("Item 1 of 2").wait_for()
    page.get_by_text(HOSTILE, exact=True).wait_for()  # the markup, character for character, as text
    page.wait_for_timeout(500)
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.locator('img[src="x"]').count() == 0

    page.goto(f"{dashboard.url}/datasets?dataset=hostile")
    settle(page)
    page.get_by_text("Items and their latest labels").wait_for()
    page.wait_for_timeout(500)

    assert page.evaluate("typeof window.pwned") == "undefined"
    assert dialogs == []
    assert page.locator('img[src="x"]').count() == 0


def test_label_two_criteria_of_one_item_reload_and_find_both(dashboard, page, tmp_path):
    csv = tmp_path / "answers.csv"
    write_csv(csv, ["Reset it from Settings.", "Call support."])
    store = dashboard.store()
    import_file(store, csv, dataset="answers", criterion="helpfulness")
    store.define_criterion("answers", "safe", "pass/fail")

    page.goto(f"{dashboard.url}/label?annotator=dana&dataset=answers")
    settle(page)
    page.get_by_text("Item 1 of 2").wait_for()
    page.get_by_text("helpfulness · 1-5").wait_for()
    page.get_by_text("safe · pass or fail").wait_for()
    page.locator('[data-testid="stRadio"]').first.locator("label").filter(has_text=re.compile(r"^3 ·")).click()
    page.get_by_label("helpfulness: critique").fill("Right, but terse")
    safe = page.locator('[data-testid="stRadio"]').filter(has=page.get_by_text("safe: pass or fail", exact=True))
    safe.locator("label").filter(has_text=re.compile(r"^Fail ·")).click()
    page.get_by_label("safe: critique").fill("Leaks a password hint")
    page.get_by_role("button", name=re.compile("Save and next")).click()
    settle(page)
    page.get_by_text("Item 2 of 2").wait_for()

    page.reload()
    settle(page)
    page.get_by_text("1 of 2 items in this queue labeled by you").wait_for()
    page.get_by_role("button", name=re.compile("Skip")).click()  # the queue puts unlabeled items first
    settle(page)
    page.get_by_text("editing adds a new version").wait_for()
    assert page.get_by_label("helpfulness: critique").input_value() == "Right, but terse"
    assert page.get_by_label("safe: critique").input_value() == "Leaks a password hint"

    labels = store.latest_labels(store.dataset("answers")["id"], annotator="dana")
    saved = {row.criterion: (None if pd.isna(row.score) else row.score, row.passed, row.critique)
             for row in labels.itertuples()}
    assert saved == {"helpfulness": (3, False, "Right, but terse"), "safe": (None, False, "Leaks a password hint")}
