"""A run held back by a rate limit says so: on the progress line and on the Run page (issue 10, item 12).

On main, a server answering every call with 429 and Retry-After 3600 left the progress line and the Run page
silent for minutes. The real openai SDK talks to the fake server.
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import judge.runner.sink
from judge.cli.runs import ProgressLine
from judge.runner import Progress, RetryPolicy, execute_run, start_run
from judge.store import Store
from runner_helpers import llm_spec, make_dataset

PAGE = str(Path(__file__).parent.parent / "pages" / "run.py")


def test_a_long_retry_after_shows_the_wait_and_the_reason_on_the_progress_line_and_in_the_store(
        store, tmp_path, fake_llm, monkeypatch):
    monkeypatch.setattr(judge.runner.sink, "HEARTBEAT_SECONDS", 0.2)  # the Run page hears it within a second
    make_dataset(store, tmp_path, 1)
    fake_llm.fail_rate(429, 1.0, retry_after=3600)
    run_id = start_run(store, dataset="sums", spec=llm_spec(), concurrency=1)
    seen: list[str] = []
    notices: list[str] = []
    runner = threading.Thread(target=execute_run, args=(store, run_id), kwargs=dict(
        retry=RetryPolicy(max_retries=1, max_retry_after=2.0),
        progress=lambda p: seen.append(p.wait_text or "")))
    runner.start()
    deadline = time.monotonic() + 10
    while runner.is_alive() and time.monotonic() < deadline:
        notice = store.run(run_id)["notice"]
        if notice:
            notices.append(notice)
        time.sleep(0.1)
    runner.join()

    waits = [text for text in seen if text]
    assert waits and waits[0].startswith("waiting 2 s: ") and "HTTP 429" in waits[0]
    assert "the server asked 3,600 s" in waits[0] and "retry 1 of 1" in waits[0]
    assert notices and "HTTP 429" in notices[0] and "until" in notices[0]
    run = store.run(run_id)
    assert run["notice"] is None and run["failed"] == 1  # once it ends, nothing is waiting


def test_the_progress_line_draws_the_wait():
    stream = io.StringIO()
    progress = Progress(total=10, done=3, waiting="openai rate limit (HTTP 429)",
                        waiting_until=time.monotonic() + 59.6)
    ProgressLine(stream)(progress, final=True)
    assert "3/10" in stream.getvalue() and "waiting 60 s: openai rate limit (HTTP 429)" in stream.getvalue()


@pytest.fixture
def run_page(tmp_path, monkeypatch):
    db = tmp_path / "judge.duckdb"
    monkeypatch.setenv("JUDGE_DB", str(db))
    store = Store(db)
    make_dataset(store, tmp_path, 2)
    return store


def test_the_run_page_shows_what_a_running_run_waits_for(run_page, fake_llm):
    store = run_page
    run_id = start_run(store, dataset="sums", spec=llm_spec())
    store.set_run_status(run_id, "running")
    store.heartbeat(run_id, notice="waiting 120 s (until 12:00:00): openai rate limit (HTTP 429)")
    app = AppTest.from_file(PAGE, default_timeout=30)
    app.run()
    assert not app.exception, app.exception
    assert any("openai rate limit (HTTP 429)" in i.value for i in app.info)
    store.set_run_status(run_id, "failed", error="gave up")
    app.run()
    assert not any("HTTP 429" in i.value for i in app.info)  # a finished run waits for nothing
