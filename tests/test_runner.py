"""The runner against the fake LLM server: what every verdict stores, the cache, repairs, retries, samples,
offline judges, cancel/resume, estimates and background runs."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time

import pandas as pd
import pytest

from judge.errors import InvalidSpec, JudgeError
from judge.runner import (AdaptiveLimit, RetryPolicy, estimate_run, execute_run, run_in_background, start_run,
                          weighted_score)
from judge.runner.engine import REPAIR_SEPARATOR
from judge.specs import builtin_specs
from runner_helpers import llm_spec, make_dataset

FAST = RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.05)


def test_a_run_stores_everything_that_explains_and_reproduces_each_verdict(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, 12)
    spec = llm_spec(pass_threshold=3)
    run_id = start_run(store, dataset="sums", spec=spec, concurrency=4, version_tag="v1")
    summary = execute_run(store, run_id)

    assert (summary.status, summary.done, summary.failed, summary.calls) == ("done", 12, 0, 12)
    assert fake_llm.count == 12 and fake_llm.max_in_flight <= 4
    verdicts = store.verdicts(run_id)
    assert list(verdicts["item_id"]) == [f"q{i}" for i in range(12)]
    first = verdicts.iloc[0]
    assert first["prompt"].startswith("Question: What is 0 + 0?\nAnswer: It is 0.")
    assert first["reasoning"].startswith("Checked the response")
    assert '"score"' in first["raw_reply"]
    assert first["model_reported"] == "gpt-test"
    assert first["input_tokens"] > 0 and first["output_tokens"] > 0 and first["latency_ms"] > 0
    assert (verdicts["passed"] == (verdicts["score"] >= 3)).all()
    assert verdicts["weighted_score"].between(1, 5).all()  # the fake server returns logprobs
    assert verdicts["cost_usd"].isna().all()  # gpt-test has no price: unknown, not $0
    assert summary.cost_usd is None

    run = store.run(run_id)
    assert run["template_hash"] == spec.template_hash() and run["code_version"]
    assert (run["model"], run["version_tag"], run["dataset"], run["dataset_version"]) == \
        ("openai/gpt-test", "v1", "sums", 1)
    assert run["params"]["spec"] == spec.to_dict()
    assert run["status"] == "done" and run["finished_at"] is not None


def test_an_unchanged_rerun_calls_no_api_and_a_changed_prompt_does(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, 10)
    first = start_run(store, dataset="sums", spec=llm_spec())
    execute_run(store, first)
    fake_llm.reset()

    again = execute_run(store, start_run(store, dataset="sums", spec=llm_spec()))
    assert fake_llm.count == 0 and again.cached == 10 and again.cost_usd == 0.0
    assert store.verdicts(again.run_id)["cached"].all()
    assert list(store.verdicts(again.run_id)["score"]) == list(store.verdicts(first)["score"])

    changed = execute_run(store, start_run(store, dataset="sums", spec=llm_spec(criteria="Is it correct?")))
    assert fake_llm.count == 10 and changed.cached == 0


def test_cache_copies_keep_the_verdict_and_judge_pass_by_the_new_threshold(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, 12)
    first = execute_run(store, start_run(store, dataset="sums", spec=llm_spec(pass_threshold=2)))
    seen = []
    again = execute_run(store, start_run(store, dataset="sums", spec=llm_spec(pass_threshold=5)),
                        progress=lambda p: seen.append((p.done, p.cached)))
    assert fake_llm.count == 12 and (again.cached, again.calls) == (12, 0) and seen[-1] == (12, 12)
    before, after = store.verdicts(first.run_id), store.verdicts(again.run_id)
    kept = ["item_uid", "score", "weighted_score", "reasoning", "raw_reply", "prompt", "input_tokens"]
    pd.testing.assert_frame_equal(before[kept], after[kept])
    assert list(after["passed"]) == [score >= 5 for score in after["score"]]
    assert (after["cost_usd"] == 0).all() and after["cached"].all() and after["error"].isna().all()


def test_an_unreadable_reply_gets_one_repair_call_then_is_recorded_unscored(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, 2)
    replies = iter(["I think it is fine.", '{"reasoning": "fixed", "score": 4}',
                    "still prose", "prose again"])
    fake_llm.reply_with(lambda body: next(replies))
    run_id = start_run(store, dataset="sums", spec=llm_spec(), concurrency=1)
    summary = execute_run(store, run_id)

    assert fake_llm.count == 4 and summary.failed == 1
    repaired, failed = store.verdicts(run_id).to_dict("records")
    assert (repaired["score"], repaired["reasoning"]) == (4, "fixed") and pd.isna(repaired["error"])
    assert "previous reply" in fake_llm.requests[1].body["messages"][-1]["content"]
    assert pd.isna(failed["score"])  # unscored
    assert "even after one repair" in failed["error"] and "no JSON object" in failed["error"]
    assert failed["raw_reply"] == "still prose" + REPAIR_SEPARATOR + "prose again"  # both replies, for the audit
    assert repaired["raw_reply"].startswith("I think it is fine." + REPAIR_SEPARATOR)


def test_server_errors_are_retried_then_recorded_as_failures_never_scores(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, 1)
    fake_llm.fail_next(3, status=500)
    run_id = start_run(store, dataset="sums", spec=llm_spec())
    summary = execute_run(store, run_id, retry=FAST)
    verdict = store.verdicts(run_id).iloc[0]
    assert fake_llm.count == 3 and summary.failed == 1
    assert verdict["error"].startswith("gave up after 3 attempts; last error: HTTP 500")
    assert pd.isna(verdict["score"])  # no made-up score

    fake_llm.reset()
    fake_llm.fail_next(1, status=400, message="bad model")
    again = execute_run(store, start_run(store, dataset="sums", spec=llm_spec()), retry=FAST)
    assert fake_llm.count == 1 and again.failed == 1  # a 400 is not retried


def test_retry_after_is_honoured_and_a_hung_call_times_out_and_is_retried(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, 1)
    fake_llm.fail_next(1, status=429, retry_after=0.5)
    started = time.monotonic()
    summary = execute_run(store, start_run(store, dataset="sums", spec=llm_spec()), retry=FAST)
    assert time.monotonic() - started >= 0.5 and summary.failed == 0 and fake_llm.count == 2

    fake_llm.reset()
    fake_llm.hang_next(1)
    run_id = start_run(store, dataset="sums", spec=llm_spec(criteria="other"), timeout=1.5)
    summary = execute_run(store, run_id, retry=FAST)
    assert summary.failed == 0 and fake_llm.count == 2


def test_samples_give_k_verdicts_per_item_and_the_flip_rate(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, 4)
    scores = itertools.cycle([4, 4, 2])  # per item: samples 4, 4, 2 -> flips on pass/fail and on score
    lock = threading.Lock()

    def reply(body):
        with lock:
            return {"reasoning": "r", "score": next(scores)}

    fake_llm.reply_with(reply)
    summary = execute_run(store, start_run(store, dataset="sums", spec=llm_spec(), samples=3, concurrency=1))
    verdicts = store.verdicts(summary.run_id)
    assert len(verdicts) == 12 and sorted(set(verdicts["sample"])) == [0, 1, 2]
    assert summary.pass_flip_rate == 1.0 and summary.score_flip_rate == 1.0
    assert "disagree on pass/fail for 100.0%" in summary.describe()


def test_offline_judges_use_the_same_storage_and_cache(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, 5)
    spec = builtin_specs()["reference_match"]
    assert estimate_run(store, dataset="sums", spec=spec).calls == 0
    summary = execute_run(store, start_run(store, dataset="sums", spec=spec))
    verdicts = store.verdicts(summary.run_id)
    assert fake_llm.count == 0 and summary.done == 5 and summary.cost_usd == 0.0
    assert verdicts["score"].notna().all() and (verdicts["model_reported"] == "offline/reference").all()
    again = execute_run(store, start_run(store, dataset="sums", spec=spec))
    assert again.cached == 5


def test_cancel_keeps_landed_verdicts_and_resume_finishes_without_repeats(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, 40)
    fake_llm.latency = 0.02
    cancel = threading.Event()
    run_id = start_run(store, dataset="sums", spec=llm_spec(), concurrency=2)

    def progress(state):
        if state.done >= 10:
            cancel.set()

    first = execute_run(store, run_id, progress=progress, cancel=cancel)
    assert first.status == "cancelled" and 10 <= first.done < 40
    assert store.run(run_id)["status"] == "cancelled"
    assert estimate_run(store, run_id=run_id).calls == 40 - first.done

    second = execute_run(store, run_id)
    assert second.status == "done" and second.done == 40 and second.calls == 40 - first.done
    assert fake_llm.count <= 40 + 2


def test_estimate_counts_calls_cache_hits_tokens_and_cost(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, 8)
    spec = llm_spec()
    estimate = estimate_run(store, dataset="sums", spec=spec)
    assert (estimate.calls, estimate.cached, estimate.est_cost_usd) == (8, 0, None)
    assert estimate.est_output_tokens == 8 * 200 and estimate.est_input_tokens > 8 * 10
    assert "cost unknown" in estimate.describe()

    store.set_model_price("openai/gpt-test", 1.0, 2.0)
    priced = estimate_run(store, dataset="sums", spec=spec)
    assert priced.est_cost_usd == pytest.approx((priced.est_input_tokens + 2 * priced.est_output_tokens) / 1e6)
    summary = execute_run(store, start_run(store, dataset="sums", spec=spec))
    verdicts = store.verdicts(summary.run_id)
    expected = ((verdicts["input_tokens"] + 2 * verdicts["output_tokens"]) / 1e6).sum()
    assert summary.cost_usd == pytest.approx(expected)
    assert estimate_run(store, dataset="sums", spec=spec).cached == 8


def test_bad_inputs_fail_before_a_run_is_recorded(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, 2)
    with pytest.raises(InvalidSpec, match="unknown template variable"):
        start_run(store, dataset="sums", spec=llm_spec(template="{output} {nope}"))
    with pytest.raises(InvalidSpec, match="Unknown model"):
        start_run(store, dataset="sums", spec=llm_spec(), model="nowhere/x")
    assert store.runs().empty


def test_a_background_run_finishes_and_a_dead_one_shows_as_interrupted(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, 6)
    run_id = start_run(store, dataset="sums", spec=llm_spec())
    run_in_background(store, run_id).join(30)
    assert store.run(run_id)["status"] == "done" and store.run(run_id)["done"] == 6

    stale = start_run(store, dataset="sums", spec=llm_spec(criteria="x"))
    store.set_run_status(stale, "running")
    with store.db.connect() as con:
        con.execute("UPDATE runs SET heartbeat_at = heartbeat_at - INTERVAL 5 MINUTE WHERE id = ?", [stale])
    assert store.run(stale)["status"] == "interrupted"
    assert execute_run(store, stale).status == "done"


def test_adaptive_limit_cuts_on_429_and_creeps_back():
    async def scenario():
        limit = AdaptiveLimit(10, cooldown=10)
        limit.throttled()
        limit.throttled()  # the same burst: cut once
        assert limit.limit == 7
        for _ in range(7):
            await limit.acquire()
        waiter = asyncio.create_task(limit.acquire())
        await asyncio.sleep(0)
        assert not waiter.done() and limit.in_flight == 7
        for _ in range(8):  # about one round of successes at the current limit adds one slot
            limit.succeeded()
        await asyncio.sleep(0)
        assert limit.limit >= 8 and waiter.done()

    asyncio.run(scenario())


def test_weighted_score_is_the_probability_weighted_mean():
    assert weighted_score({4: 0.5, 5: 0.5}) == 4.5
    assert weighted_score({3: 0.2, 4: 0.2}) == 3.5  # renormalized
    assert weighted_score(None) is None


def test_a_custom_provider_can_replace_the_models_one(store, tmp_path):
    from judge.providers.base import Completion

    class Constant:
        name, model, closed = "constant", "constant-1", False

        async def complete(self, request):
            return Completion(text='{"reasoning": "always five", "score": 5}', model=self.model)

        async def aclose(self):
            self.closed = True

    make_dataset(store, tmp_path, 3)
    provider = Constant()
    summary = execute_run(store, start_run(store, dataset="sums", spec=llm_spec(), secrets={"OPENAI_API_KEY": "k"}),
                          provider=provider)
    verdicts = store.verdicts(summary.run_id)
    assert provider.closed and list(verdicts["score"]) == [5, 5, 5]
    assert (verdicts["model_reported"] == "constant-1").all() and verdicts["input_tokens"].isna().all()


def test_a_run_over_a_subset_judges_only_those_items(store, tmp_path, fake_llm):
    make_dataset(store, tmp_path, 6)
    uids = list(store.items(store.dataset("sums")["id"])["uid"])[1:3]
    summary = execute_run(store, start_run(store, dataset="sums", spec=llm_spec(), item_uids=uids))
    assert (summary.total, summary.done, fake_llm.count) == (2, 2, 2)
    assert sorted(store.verdicts(summary.run_id)["item_uid"]) == sorted(uids)
    with pytest.raises(JudgeError, match="not in dataset 'sums'"):
        start_run(store, dataset="sums", spec=llm_spec(), item_uids=["nope"])
