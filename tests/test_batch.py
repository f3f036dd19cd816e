"""Batch mode against the fake server's OpenAI and Anthropic batch endpoints: every result type, follow-up
batches and direct retries, splitting over the limits, cancel, and a SIGKILL while polling then --resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from judge.cli import main
from judge.errors import JudgeError
from judge.parsing import repair_prompt
from judge.pricing import call_cost
from judge.providers.batches import OpenAIBatches
from judge.runner import cancel_run, estimate_run, execute_run, run_in_background, start_run, stop_background
from judge.runner.batch import MAX_BATCH_ATTEMPTS
from runner_helpers import llm_spec, make_dataset

POLL = 0.02
REPO = Path(__file__).resolve().parents[1]


def _batch_run(store, tmp_path, n, *, model="openai/gpt-4.1-mini", retry="batch", **spec_changes):
    make_dataset(store, tmp_path, n)
    return start_run(store, dataset="sums", spec=llm_spec(model=model, **spec_changes), batch=True,
                     batch_retry=retry, poll_seconds=POLL)


def _submitted(fake_llm):
    return [batch for batch in fake_llm.batches.values() if not batch.refused]


@pytest.mark.parametrize("model", ["openai/gpt-4.1-mini", "anthropic/claude-haiku-4-5"])
def test_a_batch_run_sends_every_unit_once_and_bills_half_price(store, tmp_path, fake_llm, model):
    run_id = _batch_run(store, tmp_path, 12, model=model)
    summary = execute_run(store, run_id, poll_seconds=POLL)

    assert (summary.status, summary.done, summary.failed) == ("done", 12, 0)
    (batch,) = fake_llm.batches.values()
    assert len(set(batch.custom_ids)) == 12
    paths = {request.path for request in fake_llm.requests}
    assert "/v1/chat/completions" not in paths and "/v1/messages" not in paths, "no direct call was made"
    if model.startswith("openai"):
        upload = next(r for r in fake_llm.requests if r.path == "/v1/files")
        assert 'name="purpose"' in upload.body and "batch" in upload.body
        assert batch.metadata["judge_batch"].startswith(run_id)
        assert not fake_llm.files, "input, output and error files are deleted once collected"
    verdicts = store.verdicts(run_id)
    assert verdicts["score"].between(1, 5).all() and (verdicts["batch_id"] == batch.id).all()
    assert verdicts["latency_ms"].isna().all()
    row = verdicts.iloc[0]
    price = (0.40, 1.60) if model.startswith("openai") else (1.00, 5.00)
    full = call_cost(price, int(row["input_tokens"]), int(row["output_tokens"]))
    assert row["cost_usd"] == pytest.approx(full / 2)
    (recorded,) = store.run_batches(run_id).itertuples()
    assert (recorded.batch_id, recorded.status, recorded.stored) == (batch.id, "collected", 12)


@pytest.mark.parametrize("model, refusal", [("anthropic/claude-haiku-4-5", "invalid_request_error"),
                                            ("openai/gpt-4.1-mini", "HTTP 400: Invalid value for 'model'")])
def test_each_result_type_is_settled_and_no_unit_gets_a_made_up_score(store, tmp_path, fake_llm, model, refusal):
    first_round = {"q1": "errored", "q2": "invalid", "q3": "expired", "q4": "prose"}
    seen: set[str] = set()

    def outcome(custom_id, body):
        text = str(body)
        for item, kind in first_round.items():
            if f"What is {item[1:]} + {item[1:]}?" in text and item not in seen:
                seen.add(item)
                return kind
        return None

    fake_llm.batch_outcome = outcome
    run_id = _batch_run(store, tmp_path, 6, model=model)
    summary = execute_run(store, run_id, poll_seconds=POLL)

    verdicts = store.verdicts(run_id).set_index("item_id")
    assert (summary.status, summary.done, summary.failed) == ("done", 6, 1)
    assert pd.isna(verdicts.loc["q2", "score"])
    assert refusal in verdicts.loc["q2", "error"]
    for item in ("q0", "q1", "q3", "q4", "q5"):
        assert 1 <= verdicts.loc[item, "score"] <= 5 and pd.isna(verdicts.loc[item, "error"])
    first, follow_up = _submitted(fake_llm)
    assert len(first.custom_ids) == 6 and len(follow_up.custom_ids) == 3  # errored, expired, and q4's repair
    repair = next(r for r in follow_up.requests if r["custom_id"].startswith("r"))
    assert repair_prompt("", "")[:40] in str(repair.get("params") or repair["body"])
    # the repaired verdict pays for both replies
    assert verdicts.loc["q4", "input_tokens"] > verdicts.loc["q0", "input_tokens"]


def test_units_that_keep_expiring_end_unscored_after_the_last_attempt(store, tmp_path, fake_llm):
    fake_llm.batch_outcome = lambda custom_id, body: "expired" if "What is 1 + 1" in str(body) else None
    run_id = _batch_run(store, tmp_path, 3)
    summary = execute_run(store, run_id, poll_seconds=POLL)
    verdicts = store.verdicts(run_id).set_index("item_id")
    assert (summary.done, summary.failed) == (3, 1)
    assert "batch_expired" in verdicts.loc["q1", "error"] and pd.isna(verdicts.loc["q1", "score"])
    assert len(_submitted(fake_llm)) == MAX_BATCH_ATTEMPTS


def test_a_batch_that_fails_validation_stores_the_reason_and_no_scores(store, tmp_path, fake_llm):
    fake_llm.refuse_next_batch("Invalid request on line 1: model 'gpt-4.1-mini' does not support batch")
    run_id = _batch_run(store, tmp_path, 4)
    summary = execute_run(store, run_id, poll_seconds=POLL)
    verdicts = store.verdicts(run_id)
    assert (summary.done, summary.failed) == (4, 4) and verdicts["score"].isna().all()
    assert verdicts["error"].str.contains("does not support batch").all()
    assert list(store.run_batches(run_id)["status"]) == ["failed"]


def test_failed_units_can_be_retried_by_direct_calls(store, tmp_path, fake_llm):
    fake_llm.batch_outcome = lambda custom_id, body: "errored" if "What is 2 + 2" in str(body) else \
        ("prose" if "What is 3 + 3" in str(body) else None)
    run_id = _batch_run(store, tmp_path, 5, retry="sync")
    summary = execute_run(store, run_id, poll_seconds=POLL)
    assert (summary.done, summary.failed) == (5, 0) and len(fake_llm.batches) == 1
    direct = [r for r in fake_llm.requests if r.path == "/v1/chat/completions"]
    assert len(direct) == 2  # one fresh call for the errored unit, one repair call
    verdicts = store.verdicts(run_id).set_index("item_id")
    assert pd.isna(verdicts.loc["q2", "batch_id"]) and not pd.isna(verdicts.loc["q0", "batch_id"])


def test_work_is_split_over_the_providers_limits(store, tmp_path, fake_llm, monkeypatch):
    monkeypatch.setattr(OpenAIBatches, "max_requests", 4)
    run_id = _batch_run(store, tmp_path, 10)
    execute_run(store, run_id, poll_seconds=POLL)
    sizes = sorted(len(b.custom_ids) for b in fake_llm.batches.values())
    assert sizes == [2, 4, 4] and store.run(run_id)["done"] == 10
    monkeypatch.setattr(OpenAIBatches, "max_bytes", 1)  # every request alone
    again = start_run(store, dataset="sums", spec=llm_spec(model="openai/gpt-4.1-mini", criteria="Right?"),
                      batch=True)
    execute_run(store, again, poll_seconds=POLL)
    assert len(fake_llm.batches) == 13


def test_cancel_keeps_what_finished_and_a_resume_sends_the_rest(store, tmp_path, fake_llm):
    fake_llm.batch_delay, fake_llm.done_before_cancel = 30.0, 0.5
    run_id = _batch_run(store, tmp_path, 8)
    thread = run_in_background(store, run_id)
    deadline = time.monotonic() + 20
    while not fake_llm.batches and time.monotonic() < deadline:
        time.sleep(0.05)
    while store.run_batches(run_id)["batch_id"].isna().any() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cancel_run(store, run_id) == 1
    thread.join(30)
    run = store.run(run_id)
    assert (run["status"], run["done"]) == ("cancelled", 4)
    assert store.verdicts(run_id)["score"].between(1, 5).all()
    fake_llm.batch_delay = 0.0
    summary = execute_run(store, run_id, poll_seconds=POLL)
    assert (summary.status, summary.done) == ("done", 8)
    last = list(fake_llm.batches.values())[-1]
    assert len(last.custom_ids) == 4, "only the canceled units are sent again"


def test_batch_mode_needs_a_provider_with_a_batch_api(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, 2)
    with pytest.raises(JudgeError, match="no batch API"):
        start_run(store, dataset="sums", spec=llm_spec(model="openai-compatible/llama", base_url=fake_llm.url),
                  batch=True)
    with pytest.raises(JudgeError, match="nothing to batch"):
        start_run(store, dataset="sums", spec=llm_spec(kind="reference", reference_metric="exact"), batch=True)


def test_the_estimate_shows_the_batch_price(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, 10)
    estimate = estimate_run(store, dataset="sums", spec=llm_spec(model="openai/gpt-4.1-mini"))
    assert estimate.batch_cost_usd == pytest.approx(estimate.est_cost_usd / 2)
    assert "batch, 50% cheaper, results within 24 h" in estimate.describe(batch=True)


def test_sigkill_while_polling_then_resume_collects_without_submitting_again(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, 20)
    spec_file = tmp_path / "judge.json"
    spec_file.write_text(llm_spec(model="openai/gpt-4.1-mini").to_json())
    fake_llm.batch_delay = 3.0
    env = {**os.environ, **fake_llm.env(), "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "judge", "--db", str(store.path), "run", "--dataset", "sums",
                                "--judge", str(spec_file), "--batch", "--poll", "0.05", "--yes"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    polled = lambda: sum(r.path.startswith("/v1/batches/") for r in list(fake_llm.requests))  # noqa: E731
    while polled() < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert polled() >= 3, process.stderr.read1().decode() if process.poll() is not None else "never polled"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    (run_id,) = store.runs()["id"]
    assert store.run(run_id)["done"] == 0

    assert estimate_run(store, run_id=run_id).calls == 0, "the submitted work is not counted again"
    summary = execute_run(store, run_id, poll_seconds=POLL)
    assert (summary.status, summary.done, summary.failed) == ("done", 20, 0)
    assert len(fake_llm.batches) == 1, "the resumed run polled the batch it found in the store"
    assert not any(r.path == "/v1/chat/completions" for r in fake_llm.requests)


@pytest.mark.parametrize("model", ["openai/gpt-4.1-mini", "anthropic/claude-haiku-4-5"])
def test_a_batch_created_before_its_id_was_stored_is_found_again_not_sent_twice(store, tmp_path, fake_llm, model):
    fake_llm.batch_delay = 60.0
    run_id = _batch_run(store, tmp_path, 6, model=model)
    thread = run_in_background(store, run_id)
    deadline = time.monotonic() + 20
    while store.run_batches(run_id)["batch_id"].isna().all() and time.monotonic() < deadline:
        time.sleep(0.05)
    stop_background(store, run_id)
    thread.join(20)
    (key,) = store.run_batches(run_id)["key"]
    store.update_batch(key, batch_id=None, status="submitting")  # as if killed right after the create call

    fake_llm.batch_delay = 0.0
    summary = execute_run(store, run_id, poll_seconds=POLL)
    assert (summary.status, summary.done) == ("done", 6)
    assert len(fake_llm.batches) == 1 and store.run_batches(run_id)["batch_id"].tolist() == \
        list(fake_llm.batches)


def test_cli_cancel_and_show_list_the_batches(store, tmp_path, fake_llm, capsys):
    fake_llm.batch_delay = 60.0
    run_id = _batch_run(store, tmp_path, 4)
    thread = run_in_background(store, run_id)
    deadline = time.monotonic() + 20
    while store.run_batches(run_id)["batch_id"].isna().all() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert main(["--db", str(store.path), "cancel", run_id]) == 0
    assert "asked the provider to cancel 1 batch(es)" in capsys.readouterr().out
    thread.join(30)
    assert main(["--db", str(store.path), "show", run_id]) == 0
    out = capsys.readouterr().out
    (batch_id,) = fake_llm.batches
    assert "status cancelled" in out and batch_id in out and "collected" in out
    assert main(["--db", str(store.path), "show", run_id, "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["batches"][0]["batch_id"] == batch_id and body["batches"][0]["canceled"] == 4
    assert body["savings"]["batch_verdicts"] == 0
    assert main(["--db", str(store.path), "cancel", run_id]) == 0
    assert "has no open batch" in capsys.readouterr().out


def test_samples_are_separate_units_of_work(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, 3)
    run_id = start_run(store, dataset="sums", spec=llm_spec(model="openai/gpt-4.1-mini"), samples=2, batch=True,
                       poll_seconds=POLL)
    summary = execute_run(store, run_id)
    (batch,) = fake_llm.batches.values()
    assert summary.done == 6 and len(set(batch.custom_ids)) == 6
    assert sorted(store.verdicts(run_id)["sample"].tolist()) == [0, 0, 0, 1, 1, 1]


@pytest.mark.parametrize("model", ["openai/gpt-4.1-mini", "anthropic/claude-haiku-4-5"])
def test_a_submission_that_fails_for_a_while_is_sent_again_once(store, tmp_path, fake_llm, model):
    fake_llm.fail_next_submission(2, status=503)
    run_id = _batch_run(store, tmp_path, 5, model=model)
    summary = execute_run(store, run_id)
    assert (summary.status, summary.done, summary.failed) == ("done", 5, 0) and len(fake_llm.batches) == 1
    assert not fake_llm.files, "the files uploaded for the failed submissions were deleted"


def test_a_rejected_key_stops_a_batch_run_with_the_reason(store, tmp_path, fake_llm):
    fake_llm.fail_next_submission(1, status=401)
    run_id = _batch_run(store, tmp_path, 3)
    with pytest.raises(JudgeError, match="rejected the API key"):
        execute_run(store, run_id)
    assert store.run(run_id)["status"] == "failed" and store.run_batches(run_id).empty
