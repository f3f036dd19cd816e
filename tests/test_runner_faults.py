"""The runner under faults (seeded, so deterministic): injected 429s and 500s, and a SIGKILL mid-run.

The same scenarios as bench/runner_bench.py, smaller and faster, so CI checks them on every change.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from judge.runner import RetryPolicy, RunBusy, execute_run, start_run
from judge.runner.sink import VerdictSink, journal_path
from runner_helpers import llm_spec, make_dataset

ROWS = 200
ROOT = Path(__file__).resolve().parent.parent


def test_with_429s_and_500s_every_row_ends_with_exactly_one_verdict(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, ROWS)
    fake_llm.latency = 0.005
    fake_llm.fail_rate(429, 0.10)
    fake_llm.fail_rate(500, 0.05)
    run_id = start_run(store, dataset="sums", spec=llm_spec(), concurrency=16)
    summary = execute_run(store, run_id, retry=RetryPolicy(max_retries=6, base_delay=0.02, max_delay=0.2))

    verdicts = store.verdicts(run_id)
    assert len(verdicts) == ROWS and verdicts["item_uid"].is_unique
    assert summary.failed == 0 and verdicts["score"].notna().all()
    assert summary.calls == fake_llm.count > ROWS  # the faults were really retried


def test_a_killed_run_resumes_without_losing_or_repeating_a_verdict(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, ROWS)
    fake_llm.latency = 0.1
    concurrency = 8
    spec_file = tmp_path / "judge.json"
    spec_file.write_text(llm_spec().to_json())
    child = subprocess.Popen(
        [sys.executable, "-m", "judge", "--db", str(store.path), "run", "--dataset", "sums", "--judge",
         str(spec_file), "--concurrency", str(concurrency), "--yes"],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while fake_llm.count < ROWS // 2 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert ROWS // 2 <= fake_llm.count < ROWS, f"killed after {fake_llm.count} requests"

    run_id = store.runs()["id"].iloc[0]
    assert store.run(run_id)["status"] == "running"  # until its heartbeat goes stale
    summary = execute_run(store, run_id)

    verdicts = store.verdicts(run_id)
    assert summary.status == "done" and len(verdicts) == ROWS and verdicts["item_uid"].is_unique
    assert verdicts["error"].isna().all()
    assert fake_llm.count <= ROWS + concurrency, f"{fake_llm.count} requests for {ROWS} rows"


def test_a_journal_left_by_a_dead_process_is_stored_on_resume_and_not_paid_again(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, 3)
    run_id = start_run(store, dataset="sums", spec=llm_spec())
    uid = store.items(store.dataset("sums")["id"])["uid"].iloc[0]
    journal = journal_path(store.path, run_id)
    journal.parent.mkdir(parents=True)
    row = {"run_id": run_id, "item_uid": uid, "sample": 0, "score": 2, "passed": False,
           "reasoning": "from the journal", "cached": False, "error": None}
    journal.write_text(json.dumps(row) + "\n" + '{"run_id": "torn')  # the kill cut the last line

    summary = execute_run(store, run_id)
    verdicts = store.verdicts(run_id).set_index("item_uid")
    assert fake_llm.count == 2 and summary.done == 3
    assert verdicts.loc[uid, "reasoning"] == "from the journal"
    assert not journal.exists()


def test_two_executions_of_one_run_cannot_overlap(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, 2)
    run_id = start_run(store, dataset="sums", spec=llm_spec())
    holder = VerdictSink(store, run_id)
    try:
        with pytest.raises(RunBusy, match="another process"):
            execute_run(store, run_id)
    finally:
        holder.close()
    assert execute_run(store, run_id).done == 2
