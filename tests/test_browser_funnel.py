"""The demo funnel in headless Chromium: build it, calibrate it, run it and read where its items went."""

from __future__ import annotations

import re

import pytest

from judge.demo import load_demo
from tests.browser import settle

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_build_calibrate_run_and_read_the_demo_funnel(dashboard, page):
    store = dashboard.store()
    load_demo(store)
    page.goto(f"{dashboard.url}/funnel")
    settle(page)
    page.get_by_role("button", name=re.compile("Save funnel")).click()
    settle(page)
    page.get_by_text(re.compile("Saved funnel support-resolved version 1")).wait_for()

    page.get_by_role("button", name=re.compile("Calibrate")).click()
    page.get_by_text(re.compile(r"40 calibration labels, 40 held out")).wait_for(timeout=90_000)
    settle(page)
    page.get_by_text(re.compile("calibrated")).first.wait_for()

    page.get_by_role("button", name=re.compile("Run funnel")).click()
    page.get_by_text(re.compile(r"funnel run \d+: 80 items")).wait_for(timeout=90_000)
    settle(page)
    page.get_by_text("Where the items went").wait_for()
    page.get_by_text(re.compile("App versions")).wait_for()
    # 80 labels cannot guarantee 80% agreement for these offline judges: everything goes to people, and the
    # page says how many more labels calibration would need instead of pretending.
    page.get_by_text(re.compile("more labels would let it settle items")).first.wait_for()
    runs = store.funnel_runs(store.funnel("support-resolved")["id"])
    assert len(runs) == 1 and runs["status"].iloc[0] == "done"
