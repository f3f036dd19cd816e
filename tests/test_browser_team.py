"""Team labeling end to end in headless Chromium: two annotators at once, bad tokens, owner sign-in, exposure."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import timedelta
from urllib.parse import quote

import pytest

from judge import team
from tests.browser import ROOT, _free_port, _streamlit_command, _wait_healthy, settle
from tests.test_team import seed_dataset

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOSTILE = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"> **bold** [x](javascript:alert(1))'
SECRET = "correct-horse-battery-staple"


def seed_task(store, *, overlap: int = 2) -> int:
    seed_dataset(store, n=6, texts=[HOSTILE] + [f"Answer number {i}" for i in range(1, 6)])
    return team.create_task(store, name="Support review", dataset="support", overlap=overlap,
                            instructions="Grade the answer, not the question.")


def grade(page, score: int, critique: str, *, done_after: int) -> None:
    page.locator('[data-testid="stRadio"]').first.locator("label").filter(
        has_text=re.compile(rf"^{score} ·")).click()
    page.get_by_label(re.compile("critique$")).fill(critique)
    page.get_by_role("button", name=re.compile("Save and next")).click()
    page.get_by_text(re.compile(rf"^{done_after} of \d+ items labeled by you")).wait_for()  # the saved label is counted: the next item is up
    settle(page)


def no_owner_navigation(page, still_showing: str) -> None:
    """No owner page is listed, or (the first session after a server start may still list Streamlit's
    folder pages) following one shows `still_showing` again, never the owner page."""
    for owner_page in ("upload", "datasets", "team", "judges"):
        link = page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=owner_page, exact=True)
        if link.count():
            link.click()
            settle(page)
            page.get_by_text(still_showing).first.wait_for()
            assert page.get_by_text("Upload outputs").count() == 0
            assert page.get_by_text("Create link").count() == 0
    for owner_page in ("Upload", "Datasets", "Team labeling", "Judges"):
        assert page.get_by_role("link", name=owner_page, exact=True).count() == 0


def test_two_annotators_label_the_same_task_at_once(dashboard, browser):
    store = dashboard.store()
    task_id = seed_task(store)
    links = {who: team.create_link(store, task_id, annotator=who) for who in ("ana", "ben")}
    contexts = {who: browser.new_context(viewport={"width": 1400, "height": 1000}) for who in links}
    pages = {who: contexts[who].new_page() for who in links}
    try:
        for who, page in pages.items():
            page.set_default_timeout(30_000)
            page.goto(links[who].url(dashboard.url))
        for who, page in pages.items():
            settle(page)
            page.get_by_text("Grade the answer, not the question.").wait_for()
            page.get_by_text("0 of 6 items labeled by you").wait_for()
            no_owner_navigation(page, "0 of 6 items labeled by you")

        critique = "<b>not bold</b> <script>window.pwned = 3</script>"
        for round_ in range(3):  # interleaved: both sessions write while the other is mid-task
            for who, page in pages.items():
                grade(page, 1 + round_, critique if round_ == 0 else f"{who} round {round_}", done_after=round_ + 1)
        for page in pages.values():
            page.get_by_text("3 of 6 items labeled by you").wait_for()
            assert page.evaluate("window.pwned") is None

        labels = store.task_labels(task_id)
        assert len(labels) == 6
        assert labels.groupby("annotator")["item_uid"].nunique().to_dict() == {"ana": 3, "ben": 3}
        assert critique in labels["critique"].tolist()
        assert set(labels["source"]) == {f"link:{links['ana'].link_id}", f"link:{links['ben'].link_id}"}

        page = pages["ana"]
        page.reload()
        settle(page)
        page.get_by_text("3 of 6 items labeled by you").wait_for()  # resumes from the store

        hostile_task = store.create_task("hostile", store.dataset("support")["id"], ["support-000"])
        page.goto(team.create_link(store, hostile_task, annotator="ana").url(dashboard.url))
        settle(page)
        page.get_by_text(HOSTILE, exact=True).wait_for()  # the markup shown as text, character for character
        assert page.evaluate("window.pwned") is None
    finally:
        for context in contexts.values():
            context.close()


def test_bad_links_show_nothing_and_owner_pages_need_the_secret(start_dashboard, browser):
    dashboard = start_dashboard(env={"JUDGE_OWNER_SECRET": SECRET})
    store = dashboard.store()
    task_id = seed_task(store)
    revoked = team.create_link(store, task_id, annotator="rev")
    team.revoke_link(store, revoked.link_id)
    expired = team.create_link(store, task_id, annotator="old", expires_in=timedelta(milliseconds=1))
    valid = team.create_link(store, task_id, annotator="val")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        # The server's first request goes to an owner page: it must not render before the sign-in.
        page.goto(f"{dashboard.url}/team")
        settle(page)
        page.get_by_text("Owner sign-in").wait_for()
        assert page.get_by_text("Team labeling").count() == 0
        no_owner_navigation(page, "Owner sign-in")

        for token in ("x" * 43, revoked.token, expired.token, "<script>alert(1)</script>", "a' OR '1'='1"):
            page.goto(f"{dashboard.url}/annotate?token={quote(token, safe='')}")
            settle(page)
            page.get_by_text("This labeling link is not valid").wait_for()
            assert page.get_by_text("Answer number", exact=False).count() == 0
            assert page.get_by_text("Support review").count() == 0
            no_owner_navigation(page, "This labeling link is not valid")

        page.goto(f"{dashboard.url}/upload?token={valid.token}")  # a link never opens another page
        settle(page)
        page.get_by_text("Grade the answer, not the question.").wait_for()
        assert page.get_by_text("Upload outputs").count() == 0
        no_owner_navigation(page, "Grade the answer, not the question.")
        assert store.task_labels(task_id).empty

        owner = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        owner.set_default_timeout(30_000)
        owner.goto(dashboard.url)
        settle(owner)
        owner.get_by_label("Owner secret").fill("not-the-secret")
        owner.get_by_role("button", name="Sign in").click()
        settle(owner)
        owner.get_by_text("That is not the owner secret.").wait_for()
        owner.get_by_label("Owner secret").fill(SECRET)
        owner.get_by_role("button", name="Sign in").click()
        settle(owner)
        owner.get_by_role("link", name="Team labeling").click()
        settle(owner)
        owner.get_by_label("Annotator name (empty = open link: each person types a name)").fill("dee")
        assert owner.get_by_role("textbox", name="Base URL").input_value() == dashboard.url
        owner.get_by_role("button", name=re.compile("Create link")).click()
        settle(owner)
        url = owner.locator('[data-testid="stCode"]').inner_text().strip()
        assert re.fullmatch(re.escape(dashboard.url) + r"/annotate\?token=[A-Za-z0-9_-]{43}", url)
        owner.context.close()

        page.goto(url)
        settle(page)
        page.get_by_text("dee", exact=False).first.wait_for()
        grade(page, 4, "fine", done_after=1)
        assert store.task_labels(task_id)[["annotator", "score"]].values.tolist() == [["dee", 4]]
    finally:
        context.close()


def test_serving_beyond_localhost_without_a_secret_refuses(tmp_path, page):
    db = tmp_path / "judge.duckdb"
    port = _free_port()
    command = [part if part != "127.0.0.1" else "0.0.0.0" for part in _streamlit_command(port)]
    env = {k: v for k, v in os.environ.items() if k != "JUDGE_OWNER_SECRET"} | {"JUDGE_DB": str(db)}
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process, log)
        for path in ("/", "/upload", "/annotate?token=" + "a" * 43):
            page.goto(f"http://127.0.0.1:{port}{path}")
            settle(page)
            page.get_by_text("without an owner secret").wait_for()
            assert page.get_by_text("Upload outputs").count() == 0
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_first_request_to_an_owner_form_page_asks_for_the_secret_first(start_dashboard, page):
    dashboard = start_dashboard(env={"JUDGE_OWNER_SECRET": SECRET})
    page.goto(f"{dashboard.url}/upload")  # the server's very first script run
    settle(page)
    page.get_by_text("Owner sign-in").wait_for()
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
    no_owner_navigation(page, "Owner sign-in")
