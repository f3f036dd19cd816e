"""The runner under faults (seeded, so deterministic): injected 429s and 500s, and a SIGKILL mid-run.

The same scenarios as bench/runner_bench.py, smaller and faster, so CI checks them on every change.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from judge.runner import RetryPolicy, execute_run, start_run
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
    fake_llm.latency = 0.05
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
    assert ROWS // 2 <= fake_llm.count < ROWS

    run_id = store.runs()["id"].iloc[0]
    assert store.run(run_id)["status"] == "running"  # until its heartbeat goes stale
    summary = execute_run(store, run_id)

    verdicts = store.verdicts(run_id)
    assert summary.status == "done" and len(verdicts) == ROWS and verdicts["item_uid"].is_unique
    assert verdicts["error"].isna().all()
    assert fake_llm.count <= ROWS + concurrency
