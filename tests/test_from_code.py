"""A judge used from code: load_judge, score, score_frame and pass_rate, through the real runner and SDK
clients against the fake server (cache, retries and cost included)."""

from __future__ import annotations

import pandas as pd
import pytest

from judge import Verdict, load_judge
from judge.errors import JudgeError
from tests.report_data import judge_run, labeled_dataset, spec


def test_score_one_output_then_the_cache_answers_it(store, fake_llm):
    j = load_judge("faithfulness", db=store)
    verdict = j.score(input="Refund window?", output="14 days.", context="Refunds within 14 days.")
    assert isinstance(verdict, Verdict) and verdict.error is None
    assert 1 <= verdict.score <= 5 and verdict.passed == (verdict.score >= 4)
    assert verdict.reasoning.startswith("Checked the response") and verdict.cost_usd > 0 and not verdict.cached
    assert fake_llm.count == 1
    prompt = fake_llm.requests[-1].body["messages"][-1]["content"]
    assert "Refunds within 14 days." in prompt and "14 days." in prompt
    again = j.score(input="Refund window?", output="14 days.", context="Refunds within 14 days.")
    assert (again.score, again.cached, again.cost_usd) == (verdict.score, True, 0.0) and fake_llm.count == 1


def test_score_frame_is_concurrent_keeps_the_index_and_retries(store, fake_llm):
    frame = pd.DataFrame({"input": [f"q{i}" for i in range(8)], "output": [f"answer {i}" for i in range(8)],
                          "context": ["the docs"] * 8, "score": [1] * 8}, index=[f"row{i}" for i in range(8)])
    fake_llm.latency = 0.1
    fake_llm.fail_next(2, status=500)
    results = load_judge("faithfulness", db=store, concurrency=4).score_frame(frame)
    assert list(results.index) == list(frame.index)
    assert list(results.columns) == ["score", "passed", "reasoning", "cost_usd", "cached", "error"]
    assert results["error"].isna().all() and results["score"].between(1, 5).all()
    assert fake_llm.count == 10 and 1 < fake_llm.max_in_flight <= 4  # 8 calls + 2 retried failures
    assert store.latest_labels(store.dataset("code:faithfulness")["id"]).empty  # a score column is not a label


def test_pass_rate_is_corrected_with_the_judges_measured_errors(store, tmp_path, fake_llm):
    j = load_judge("faithfulness", db=store)
    humans = [5, 5, 5, 5, 1, 1, 1, 1, 5, 1] * 3
    judged = [5, 5, 5, 4, 1, 1, 2, 4, 5, 1] * 3
    calibration = judge_run(store, labeled_dataset(store, tmp_path, {"maya": humans}), judged,
                            spec_body=spec("faithfulness"))
    results = j.score_frame(pd.DataFrame({"input": ["q"] * 20, "output": [f"a{i}" for i in range(20)]}))
    rate = j.pass_rate(results, n_boot=200)
    assert rate["calibration_run"] == calibration
    assert rate["observed"]["value"] == pytest.approx(results["passed"].mean())
    low, high = rate["corrected"]["ci"]
    assert low <= rate["corrected"]["value"] <= high and rate["corrected"]["n"] == 30
    assert rate["corrected"]["undefined"] is None  # what the README pytest example checks


def test_a_temporary_store_and_clear_errors(fake_llm):
    j = load_judge("answer_relevance")
    assert j.score(input="Hi?", output="Hello.").score is not None
    with pytest.raises(JudgeError, match="needs an 'output' column"):
        j.score_frame(pd.DataFrame({"answer": ["x"]}))
