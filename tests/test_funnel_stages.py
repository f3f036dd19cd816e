"""Each kind of funnel stage: its verdict and confidence per item, through the runner where it calls a model."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from funnel_helpers import STRONG, build_store, human_passes, is_broken, scripted_reply
from judge.funnel_stages import Stage, distilled_run, item_outcomes, parse_stage, run_stage


def _numbers(store) -> dict[str, int]:
    items = store.items(store.dataset("sums")["id"])
    return {uid: int(item_id[1:]) for uid, item_id in zip(items["uid"], items["item_id"])}


def test_the_short_forms_of_a_stage():
    assert parse_stage("offline:format_checks") == Stage("offline", "format_checks")
    assert parse_stage("assertion:format_checks/both") == Stage("offline", "format_checks", decides="both")
    assert parse_stage("distilled") == Stage("distilled")
    assert parse_stage("llm:j@openai/gpt-4.1-mini*3") == Stage("llm", "j", "openai/gpt-4.1-mini", 3)
    assert parse_stage("llm:j@openai/gpt-4.1-mini*3").label == "llm:j@openai/gpt-4.1-mini*3"
    assert parse_stage("llm:j@m+batch") == Stage("llm", "j", "m", batch=True)


def test_log_probabilities_are_stored_with_each_verdict_and_kept_by_the_cache(store, tmp_path, fake_llm):
    build_store(store, tmp_path, n=12)
    fake_llm.reply_with(scripted_reply)
    dataset, criterion = store.dataset("sums"), store.criterion("sums", "correct")
    uids = list(_numbers(store))
    stage = Stage("llm", "sum_judge", STRONG)
    started: list[str] = []
    run_id, outcomes = run_stage(store, stage, dataset=dataset, criterion=criterion, target="pass/fail",
                                 item_uids=uids, run_id=None, on_start=started.append)
    assert started == [run_id]
    verdicts = store.verdicts(run_id)
    answered = verdicts[verdicts["error"].isna()]
    probs = [json.loads(p) for p in answered["score_probs"]]
    assert all(set(p) == {"1", "5"} for p in probs)  # the scripted two-score distributions
    calls = fake_llm.count
    again, cached = run_stage(store, stage, dataset=dataset, criterion=criterion, target="pass/fail",
                              item_uids=uids, run_id=None, on_start=lambda _: None)
    copied = store.verdicts(again)
    assert copied.loc[copied["error"].isna(), "cached"].all()
    assert list(copied.loc[copied["error"].isna(), "score_probs"]) == list(answered["score_probs"])
    pd.testing.assert_series_equal(cached["confidence"], outcomes["confidence"])
    assert fake_llm.count - calls == 2 * sum(1 for i in range(12) if i % 7 == 3)  # failures are asked again


def test_without_log_probabilities_confidence_is_the_agreement_of_k_samples(store, tmp_path, fake_llm):
    build_store(store, tmp_path, n=8)
    fake_llm.logprobs = False
    asked: Counter = Counter()

    def reply(body):  # odd items: the third sample of each disagrees with the other two
        i = int(body["messages"][-1]["content"].split("What is ")[1].split(" ")[0])
        asked[i] += 1
        score = 5 if asked[i] % 3 or i % 2 == 0 else 1
        return {"reasoning": "sampled", "score": score}

    fake_llm.reply_with(reply)
    dataset, criterion = store.dataset("sums"), store.criterion("sums", "correct")
    numbers = _numbers(store)
    _, outcomes = run_stage(store, Stage("llm", "sum_judge", STRONG, samples=3), dataset=dataset,
                            criterion=criterion, target="pass/fail", item_uids=list(numbers), run_id=None,
                            on_start=lambda _: None)
    confidence = dict(zip(outcomes["item_uid"].map(numbers), outcomes["confidence"]))
    assert all(confidence[i] == (1.0 if i % 2 == 0 else 2 / 3) for i in range(8))
    assert outcomes["passed"].all()


def test_an_offline_stage_is_sure_only_of_what_it_decides(store, tmp_path, fake_llm):
    build_store(store, tmp_path, n=12)
    dataset, criterion = store.dataset("sums"), store.criterion("sums", "correct")
    numbers = _numbers(store)
    _, outcomes = run_stage(store, Stage("offline", "format_checks"), dataset=dataset, criterion=criterion,
                            target="pass/fail", item_uids=list(numbers), run_id=None, on_start=lambda _: None)
    for row in outcomes.itertuples():
        i = numbers[row.item_uid]
        assert bool(row.passed) == (not is_broken(i))
        assert (row.confidence == 1.0) if is_broken(i) else np.isnan(row.confidence)  # undecided: escalate
        assert row.error is None
    assert fake_llm.count == 0


def test_the_distilled_stage_gives_out_of_fold_class_probabilities(store, tmp_path, fake_llm):
    build_store(store, tmp_path, n=60)
    dataset, criterion = store.dataset("sums"), store.criterion("sums", "correct")
    numbers = _numbers(store)
    uids = list(numbers)[:30]
    run_id = distilled_run(store, dataset, criterion, uids, target="pass/fail", seed=0)
    run = store.run(run_id)
    assert (run["source"], run["status"], run["params"]["labels"]) == ("distilled", "done", 60)
    verdicts = store.verdicts(run_id)
    assert sorted(verdicts["item_uid"]) == sorted(uids)
    probs = [json.loads(p) for p in verdicts["score_probs"]]
    assert all(set(p) == {"fail", "pass"} and abs(sum(p.values()) - 1) < 1e-9 for p in probs)
    outcomes = item_outcomes(verdicts, uids, Stage("distilled"), pass_threshold=None, target="pass/fail")
    assert (outcomes["confidence"] >= 0.5).all() and (outcomes["confidence"] <= 1).all()
    right = [bool(p) == human_passes(numbers[u]) for u, p in zip(outcomes["item_uid"], outcomes["passed"])]
    assert np.mean(right) > 0.6  # "???" outputs are easy to tell apart, even out of fold


def test_on_scores_confidence_is_the_mass_of_the_verdict_score():
    # Three samples scoring 4, 4 and 5: the verdict is the lower median, 4; its mass is the mean of
    # p(4) over the samples = (0.6 + 0.5 + 0.2) / 3. On pass/fail (threshold 4) every sample passes with
    # mass p(4) + p(5): (0.9 + 0.8 + 1.0) / 3 = 0.9.
    verdicts = pd.DataFrame({
        "item_uid": ["u"] * 3, "score": [4, 4, 5], "passed": [True, True, True], "error": [None] * 3,
        "score_probs": [json.dumps(p) for p in ({"3": 0.1, "4": 0.6, "5": 0.3}, {"3": 0.2, "4": 0.5, "5": 0.3},
                                                 {"4": 0.2, "5": 0.8})]})
    stage = Stage("llm", "j", "m", 3)
    on_score = item_outcomes(verdicts, ["u"], stage, pass_threshold=4, target="score").iloc[0]
    assert on_score["score"] == 4 and on_score["confidence"] == pytest.approx((0.6 + 0.5 + 0.2) / 3)
    on_pass = item_outcomes(verdicts, ["u"], stage, pass_threshold=4, target="pass/fail").iloc[0]
    assert bool(on_pass["passed"]) and on_pass["confidence"] == pytest.approx(0.9)
    missing = item_outcomes(verdicts, ["u", "v"], stage, pass_threshold=4, target="score").iloc[1]
    assert np.isnan(missing["confidence"]) and "did not judge" in missing["error"]
