"""Pairwise runs through the batch path, against the fake server's OpenAI and Anthropic batch endpoints: both
orders in one batch at the batch price, the pairwise cache shared with direct runs, every result type settled,
cancel, and a SIGKILL while polling then a resume that collects without sending anything twice."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from judge.cli import main
from judge.errors import JudgeError
from judge.pairs import import_pairs
from judge.pairwise import (
    PairwiseSpec, cancel_pairwise_run, estimate_pairwise_run, execute_pairwise_run, pair_verdicts,
    run_pairwise_in_background, start_pairwise_run,
)
from judge.pricing import call_cost
from judge.reports.pairwise import pairwise_report
from test_pairwise import biased_judge, pair_file

POLL = 0.02
REPO = Path(__file__).resolve().parents[1]
PRICES = {"openai/gpt-4.1-mini": (0.40, 1.60), "anthropic/claude-haiku-4-5": (1.00, 5.00)}
BOTH_VENDORS = pytest.mark.parametrize("model", list(PRICES))


def spec(model: str, **changes) -> PairwiseSpec:
    return PairwiseSpec(name="pref", model=model, **changes).validate()


def _pairs(store, tmp_path, n):
    import_pairs(store, pair_file(tmp_path / "p.csv", n), dataset="d")


def _direct_calls(fake_llm) -> int:
    return sum(r.path in ("/v1/chat/completions", "/v1/messages") for r in fake_llm.requests)


def _wait_for(condition, seconds=20.0):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert condition(), "timed out"


@BOTH_VENDORS
def test_both_orders_go_in_one_batch_at_half_price_with_the_direct_verdicts(store, tmp_path, fake_llm, model):
    _pairs(store, tmp_path, 10)
    fake_llm.reply_with(biased_judge(0.0))
    run_id = start_pairwise_run(store, dataset="d", spec=spec(model), batch=True, poll_seconds=POLL)
    summary = execute_pairwise_run(store, run_id)

    assert (summary.status, summary.replies, summary.failed, summary.cached) == ("done", 20, 0, 0)
    (batch,) = fake_llm.batches.values()
    assert len(set(batch.custom_ids)) == 20 and _direct_calls(fake_llm) == 0
    replies = store.pairwise_verdicts(run_id)
    assert set(zip(replies["pair_id"], replies["shown_order"])) == {(f"p{i}", o) for i in range(10) for o in ("ab", "ba")}
    assert (replies["batch_id"] == batch.id).all() and replies["latency_ms"].isna().all()
    for row in replies.itertuples():
        full = call_cost(PRICES[model], int(row.input_tokens), int(row.output_tokens))
        assert row.cost_usd == pytest.approx(full / 2)
    humans = store.preferences("d").set_index("pair_uid")["choice"]
    verdicts = pair_verdicts(store, run_id)
    assert (verdicts["verdict"] == verdicts["pair_uid"].map(humans)).all()
    assert pairwise_report(store, run_id, n_boot=100)["position"]["position_consistency"]["value"] == 1.0
    (recorded,) = store.run_batches(run_id).itertuples()
    assert (recorded.batch_id, recorded.status, recorded.stored) == (batch.id, "collected", 20)
    assert store.pairwise_runs("d")["batch"].tolist() == [True]


@BOTH_VENDORS
def test_the_pairwise_cache_is_shared_by_direct_and_batch_runs(store, tmp_path, fake_llm, model):
    _pairs(store, tmp_path, 6)
    batch_run = start_pairwise_run(store, dataset="d", spec=spec(model), batch=True, poll_seconds=POLL)
    execute_pairwise_run(store, batch_run)
    estimate = estimate_pairwise_run(store, dataset="d", spec=spec(model))
    assert (estimate.calls, estimate.cached) == (0, 12)
    direct = execute_pairwise_run(store, start_pairwise_run(store, dataset="d", spec=spec(model)))
    assert (direct.replies, direct.cached, direct.cost_usd) == (12, 12, 0.0) and _direct_calls(fake_llm) == 0

    _pairs(store, tmp_path, 8)  # two more pairs: only their four replies are sent, the rest are copies
    again = start_pairwise_run(store, dataset="d", spec=spec(model), batch=True, poll_seconds=POLL)
    summary = execute_pairwise_run(store, again)
    assert (summary.replies, summary.cached) == (16, 12)
    assert [len(b.custom_ids) for b in fake_llm.batches.values()] == [12, 4]
    assert store.pairwise_verdicts(again).query("cached")["batch_id"].isna().all()


@BOTH_VENDORS
def test_each_result_type_is_settled_and_a_resume_asks_again_for_what_failed(store, tmp_path, fake_llm, model):
    _pairs(store, tmp_path, 4)
    first_round = {"question 0": "errored", "question 1": "invalid", "question 2": "expired", "question 3": "prose"}
    seen: set[str] = set()

    def outcome(custom_id, body):  # the first request of each question (one of its two orders) only
        text = str(body)
        for question, kind in first_round.items():
            if question in text and question not in seen:
                seen.add(question)
                return kind
        return None

    fake_llm.batch_outcome = outcome
    run_id = start_pairwise_run(store, dataset="d", spec=spec(model), batch=True, poll_seconds=POLL)
    summary = execute_pairwise_run(store, run_id)
    replies = store.pairwise_verdicts(run_id)
    failed = replies[replies["error"].notna()]
    assert (summary.status, summary.replies, summary.failed) == ("done", 8, 1)
    assert list(failed["pair_id"]) == ["p1"] and failed["choice"].isna().all()
    assert replies[replies["error"].isna()]["choice"].notna().all(), "no unit gets a made-up choice"
    first, follow_up = list(fake_llm.batches.values())
    assert len(first.custom_ids) == 8 and len(follow_up.custom_ids) == 3  # errored, expired, and p3's repair
    assert any(cid.startswith("r") for cid in follow_up.custom_ids)

    resumed = execute_pairwise_run(store, run_id)
    assert (resumed.replies, resumed.failed) == (8, 0) and len(fake_llm.batches[list(fake_llm.batches)[-1]].custom_ids) == 1


def test_failed_units_can_be_retried_by_direct_calls(store, tmp_path, fake_llm):
    _pairs(store, tmp_path, 3)
    fake_llm.batch_outcome = lambda custom_id, body: "errored" if "question 2" in str(body) else None
    run_id = start_pairwise_run(store, dataset="d", spec=spec("openai/gpt-4.1-mini"), batch=True,
                                batch_retry="sync", poll_seconds=POLL)
    summary = execute_pairwise_run(store, run_id)
    assert (summary.replies, summary.failed) == (6, 0) and len(fake_llm.batches) == 1
    assert _direct_calls(fake_llm) == 2  # p2 in both orders, at the direct price
    replies = store.pairwise_verdicts(run_id).set_index(["pair_id", "shown_order"])
    assert pd.isna(replies.loc[("p2", "ab"), "batch_id"])
    assert replies.loc[("p2", "ab"), "latency_ms"] >= 0 and not pd.isna(replies.loc[("p0", "ab"), "batch_id"])


def test_cancel_keeps_what_finished_and_a_resume_sends_the_rest(store, tmp_path, fake_llm):
    fake_llm.batch_delay, fake_llm.done_before_cancel = 30.0, 0.5
    _pairs(store, tmp_path, 4)
    run_id = start_pairwise_run(store, dataset="d", spec=spec("openai/gpt-4.1-mini"), batch=True, poll_seconds=POLL)
    thread = run_pairwise_in_background(store, run_id)
    _wait_for(lambda: len(store.run_batches(run_id)) and store.run_batches(run_id)["batch_id"].notna().all())
    assert cancel_pairwise_run(store, run_id) == 1
    thread.join(30)
    run = store.pairwise_run(run_id)
    assert (run["status"], run["done"], run["failed"]) == ("cancelled", 4, 0)
    fake_llm.batch_delay = 0.0
    summary = execute_pairwise_run(store, run_id)
    assert (summary.status, summary.replies) == ("done", 8)
    assert len(list(fake_llm.batches.values())[-1].custom_ids) == 4, "only the canceled units are sent again"
    assert cancel_pairwise_run(store, run_id) == 0


def test_sigkill_while_polling_then_resume_collects_without_sending_again(store, tmp_path, fake_llm):
    _pairs(store, tmp_path, 10)
    fake_llm.batch_delay = 3.0
    env = {**os.environ, **fake_llm.env(), "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "judge", "--db", str(store.path), "pairwise-run", "--dataset",
                                "d", "--model", "openai/gpt-4.1-mini", "--batch", "--poll", "0.05"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    polled = lambda: sum(r.path.startswith("/v1/batches/") for r in list(fake_llm.requests))  # noqa: E731
    deadline = time.monotonic() + 30
    while polled() < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert polled() >= 3, process.stderr.read1().decode() if process.poll() is not None else "never polled"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    (run_id,) = store.pairwise_runs()["id"]
    assert store.pairwise_run(run_id)["done"] == 0

    summary = execute_pairwise_run(store, run_id, poll_seconds=POLL)
    assert (summary.status, summary.replies, summary.failed) == ("done", 20, 0)
    assert len(fake_llm.batches) == 1, "the resumed run polled the batch it found in the store"
    assert _direct_calls(fake_llm) == 0


def test_cli_batch_estimate_and_refusals(store, tmp_path, fake_llm, capsys):
    _pairs(store, tmp_path, 5)
    db = ["--db", str(store.path)]
    assert main([*db, "pairwise-run", "--dataset", "d", "--model", "openai/gpt-4.1-mini", "--batch",
                 "--poll", "0.02"]) == 0
    out = capsys.readouterr().out
    assert "batch, 50% cheaper, results within 24 h: about $" in out and "10 replies, 0 failed" in out
    run_id = re.search(r"run (\S+)", out).group(1)
    assert "collected" in out and list(fake_llm.batches)[0] in out
    estimate = estimate_pairwise_run(store, dataset="d", spec=spec("openai/gpt-4.1-mini", criteria="Other?"))
    assert estimate.batch_cost_usd == pytest.approx(estimate.est_cost_usd / 2)
    assert main([*db, "cancel", run_id]) == 0
    assert "has no open batch" in capsys.readouterr().out
    with pytest.raises(JudgeError, match="no batch API"):
        start_pairwise_run(store, dataset="d", spec=spec("openai-compatible/llama"), base_url=fake_llm.url,
                           batch=True)
    with pytest.raises(JudgeError, match="batch_retry"):
        start_pairwise_run(store, dataset="d", spec=spec("openai/gpt-4.1-mini"), batch=True, batch_retry="later")


def test_judge_show_lists_a_pairwise_runs_replies_with_reasonings_and_batches(store, tmp_path, fake_llm, capsys):
    import json

    _pairs(store, tmp_path, 3)
    fake_llm.reply_with(biased_judge(0.0))
    run_id = start_pairwise_run(store, dataset="d", spec=spec("openai/gpt-4.1-mini"), batch=True, poll_seconds=POLL)
    execute_pairwise_run(store, run_id)
    db = ["--db", str(store.path)]
    assert main([*db, "show", run_id]) == 0
    out = capsys.readouterr().out
    assert f"pairwise run {run_id}  status done" in out and "replies 6/6" in out and "  batch" in out
    assert out.count("Only one follows the instruction.") == 6 and list(fake_llm.batches)[0] in out
    assert main([*db, "show", run_id, "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert len(body["replies"]) == 6 and len(body["verdicts"]) == 3 and body["batches"][0]["stored"] == 6
    assert {r["reasoning"] for r in body["replies"]} == {"Only one follows the instruction."}


def test_a_cancel_event_stops_a_direct_run_after_its_chunk_and_a_resume_finishes_it(store, tmp_path, fake_llm):
    import threading

    _pairs(store, tmp_path, 40)
    cancel = threading.Event()
    run_id = start_pairwise_run(store, dataset="d", spec=spec("openai/gpt-4.1-mini"))
    summary = execute_pairwise_run(store, run_id, cancel=cancel, progress=lambda done, total: cancel.set())
    assert (summary.status, summary.replies, fake_llm.count) == ("cancelled", 64, 64)
    assert execute_pairwise_run(store, run_id).replies == 80 and fake_llm.count == 80


@pytest.mark.parametrize("batch", [False, True])
def test_two_processes_never_execute_one_pairwise_run_at_once(store, tmp_path, fake_llm, batch):
    from judge.pairwise_batch import PairwiseSink
    from judge.runner import RunBusy

    _pairs(store, tmp_path, 2)
    run_id = start_pairwise_run(store, dataset="d", spec=spec("openai/gpt-4.1-mini"), batch=batch, poll_seconds=POLL)
    store.set_pairwise_run_status(run_id, "running")
    other = PairwiseSink(store, run_id)  # as another process holds it while executing
    try:
        with pytest.raises(RunBusy, match="being executed by another process"):
            execute_pairwise_run(store, run_id)
        assert store.pairwise_run(run_id)["status"] == "running" and fake_llm.count == 0 and not fake_llm.batches
    finally:
        other.close()
    assert execute_pairwise_run(store, run_id).replies == 4
