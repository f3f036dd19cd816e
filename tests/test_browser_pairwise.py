"""Pairwise labeling end to end in headless Chromium: side by side outputs, A / B / tie with a click and with the
keyboard, a critique, the shown order recorded, hostile outputs shown as text, progress kept over a reload."""

from __future__ import annotations

import pandas as pd
import pytest

from judge.pair_links import create_pair_link, create_pair_task
from judge.pairs import import_pairs, shown_order
from tests.browser import settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOSTILE = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> **bold**'


def seed_pairs(store, tmp_path) -> None:
    rows = [{"id": f"p{i}", "input": f"Question {i}?", "output_a": HOSTILE if i == 1 else f"Alpha answer {i}",
             "output_b": f"Beta answer {i}", "system_a": "alpha", "system_b": "beta"} for i in range(1, 5)]
    pd.DataFrame(rows).to_csv(tmp_path / "pairs.csv", index=False)
    import_pairs(store, tmp_path / "pairs.csv", dataset="versions")


def test_pairwise_labeling_with_clicks_keys_and_a_reload(dashboard, page, tmp_path):
    store = dashboard.store()
    seed_pairs(store, tmp_path)
    pairs = store.pairs("versions").set_index("pair_id")

    page.goto(f"{dashboard.url}/pairwise?annotator=nina&pairs=versions")
    settle(page)
    page.get_by_text("Pair 1 of 4").wait_for()
    page.get_by_text("Response 1", exact=True).wait_for()
    page.get_by_text("Response 2", exact=True).wait_for()
    page.get_by_text(HOSTILE).first.wait_for()  # literal text, never markup
    assert page.evaluate("window.pwned") is None

    page.get_by_label("Critique (optional)").fill("The first one answers it.")
    page.get_by_role("button", name="Response 1 is better").click()
    page.get_by_text("Pair 2 of 4").wait_for()
    settle(page)
    page.get_by_role("button", name="Tie").click()
    page.get_by_text("Pair 3 of 4").wait_for()
    settle(page)
    page.keyboard.press("Alt+2")  # keyboard: the second response is better
    page.get_by_text("Pair 4 of 4").wait_for()
    settle(page)

    page.reload()
    settle(page)
    page.get_by_text("3 of 4 pairs compared by you").wait_for()
    page.get_by_text("Question 4?").wait_for()

    prefs = store.preferences("versions", annotator="nina").set_index("pair_id")
    expected = {}
    for pair_id, slot in (("p1", 0), ("p3", 1)):
        order = shown_order(pairs.loc[pair_id, "uid"], "nina")
        expected[pair_id] = (order[slot], order)
    expected["p2"] = ("tie", shown_order(pairs.loc["p2", "uid"], "nina"))
    got = {pair_id: (row.choice, row.shown_order) for pair_id, row in prefs.iterrows()}
    assert got == expected
    assert prefs.loc["p1", "critique"] == "The first one answers it."


def test_pairwise_labeling_through_a_named_link(dashboard, page, tmp_path):
    store = dashboard.store()
    seed_pairs(store, tmp_path)
    task = create_pair_task(store, name="Alpha or beta?", dataset="versions", criterion="helpfulness")
    link = create_pair_link(store, task, annotator="omar")

    page.goto(f"{dashboard.url}/annotate?token={link.token}")
    settle(page)
    page.get_by_text("Alpha or beta?").first.wait_for()
    page.get_by_text("Pair 1 of 4").wait_for()
    assert page.get_by_role("link", name="Upload", exact=True).count() == 0  # nothing else of the workbench
    page.get_by_role("button", name="Response 2 is better").click()
    page.get_by_text("Pair 2 of 4").wait_for()
    settle(page)
    page.keyboard.press("Alt+t")
    page.get_by_text("2 of 4 pairs compared by you").wait_for()

    prefs = store.preferences("versions", criterion="helpfulness", annotator="omar").set_index("pair_id")
    pairs = store.pairs("versions").set_index("pair_id")
    order = shown_order(pairs.loc["p1", "uid"], "omar")
    assert prefs.loc["p1", "choice"] == order[1] and prefs.loc["p1", "shown_order"] == order
    assert prefs.loc["p2", "choice"] == "tie"
