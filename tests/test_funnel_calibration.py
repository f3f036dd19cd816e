"""Trust or Escalate's fixed-sequence calibration, pinned to binomial tails worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from funnel_sim import guarantee_share
from judge.errors import JudgeError
from judge.funnel_calibration import (
    binomial_p_value,
    calibrate_stages,
    choose_threshold,
    labels_to_reject,
    sample_agreement,
    settling_stage,
    split_items,
    uids_digest,
    verdict_confidence,
)


def test_binomial_p_value_is_the_lower_tail():
    # P(Bin(22, 0.1) <= 0) = 0.9^22 = 0.0985; P(Bin(51, 0.1) <= 1) = 0.9^51 + 51 * 0.1 * 0.9^50 = 0.0310
    assert binomial_p_value(0, 22, 0.1) == pytest.approx(0.9 ** 22)
    assert binomial_p_value(1, 51, 0.1) == pytest.approx(0.9 ** 51 + 51 * 0.1 * 0.9 ** 50)
    assert binomial_p_value(0, 0, 0.1) == 1.0


def test_threshold_rejects_only_with_enough_kept_items():
    # 22 sure, right items: 0.9^22 = 0.0985 <= 0.1 rejects; 21: 0.9^21 = 0.109 does not.
    enough = choose_threshold(np.ones(22), np.ones(22, dtype=bool), alpha=0.1, delta=0.1)
    assert (enough.threshold, enough.kept, enough.errors) == (1.0, 22, 0)
    assert enough.p_value == pytest.approx(0.9 ** 22)
    short = choose_threshold(np.ones(21), np.ones(21, dtype=bool), alpha=0.1, delta=0.1)
    assert short.threshold is None and short.kept == 0
    assert short.labels_needed == 1  # 22 kept items would reject: one more label
    assert "1 more labels" in short.note


def test_walk_goes_down_while_rejecting_and_keeps_the_last():
    # lambda = 0.9: 30 kept, 0 errors, p = 0.9^30 = 0.042 rejects; lambda = 0.5: 40 kept, 10 errors,
    # P(Bin(40, 0.1) <= 10) ~ 0.998 does not: the threshold stays 0.9.
    confidence = np.r_[np.full(30, 0.9), np.full(10, 0.5)]
    correct = np.r_[np.ones(30, dtype=bool), np.zeros(10, dtype=bool)]
    record = choose_threshold(confidence, correct, alpha=0.1, delta=0.1)
    assert (record.threshold, record.kept, record.errors) == (0.9, 30, 0)
    assert record.p_value == pytest.approx(0.9 ** 30)


def test_fixed_sequence_stops_at_the_first_threshold_that_fails():
    # lambda = 1.0 keeps 25 items with 3 errors: P(Bin(25, 0.1) <= 3) = 0.764 > 0.1, so the walk stops, even
    # though lambda = 0.9 alone would reject (75 kept, 3 errors, P(Bin(75, 0.1) <= 3) = 0.050). That is what
    # makes it valid.
    confidence = np.r_[np.full(25, 1.0), np.full(50, 0.9)]
    correct = np.r_[np.arange(25) >= 3, np.ones(50, dtype=bool)]
    record = choose_threshold(confidence, correct, alpha=0.1, delta=0.1)
    assert record.threshold is None
    assert record.p_value == pytest.approx(0.763591, abs=1e-6)
    # More labels at the same rates cannot help: the walk always stops at 1.0 (3/25 = 12% > alpha).
    assert record.labels_needed is None and "12.0%" in record.note


def test_walk_starts_where_a_kept_set_could_reject():
    # A kept set under 22 items can never reject at alpha = delta = 0.1 (0.9^21 > 0.1), so the one sure,
    # wrong item on top does not end the walk before it starts: it is one error among 61 kept.
    confidence = np.r_[1.0, np.full(60, 0.9)]
    correct = np.r_[False, np.ones(60, dtype=bool)]
    record = choose_threshold(confidence, correct, alpha=0.1, delta=0.1)
    assert (record.threshold, record.kept, record.errors) == (0.9, 61, 1)


def test_a_stage_no_better_than_alpha_is_never_promised():
    confidence = np.linspace(0.1, 1, 40)
    correct = np.arange(40)[::-1] % 4 != 0  # the most confident is wrong, and 1 in 4 below: far above alpha
    record = choose_threshold(confidence, correct, alpha=0.1, delta=0.1)
    assert record.threshold is None and record.labels_needed is None
    assert "not below alpha" in record.note


def test_labels_needed_counts_every_threshold_the_walk_tests_first():
    # 25 items at 0.9 (1 wrong: 4%) above 30 at 0.8 (all right). With 55 labels: lambda = 0.9 keeps 25, 1 error,
    # P(Bin(25, 0.1) <= 1) = 0.271 > 0.1. Projected (errors rounded up): at 4%, 65 kept items with 3 errors
    # reject (P(Bin(65, 0.1) <= 3) = 0.0996; 64 with 3: 0.106), so 0.9 needs 65 * 55 / 25 = 143 labels; 0.8
    # (1 in 55) needs 38 kept, but the walk tests 0.9 first: 143 labels, 88 more.
    confidence = np.r_[np.full(25, 0.9), np.full(30, 0.8)]
    correct = np.r_[np.arange(25) > 0, np.ones(30, dtype=bool)]
    record = choose_threshold(confidence, correct, alpha=0.1, delta=0.1)
    assert record.threshold is None
    assert labels_to_reject(1 / 25, 0.1, 0.1) == 65 and labels_to_reject(1 / 55, 0.1, 0.1) == 38
    assert record.labels_needed == 88


def test_failed_verdicts_are_never_kept():
    confidence = np.r_[np.full(30, np.nan), np.ones(25)]
    correct = np.r_[np.zeros(30, dtype=bool), np.ones(25, dtype=bool)]
    record = choose_threshold(confidence, correct, alpha=0.1, delta=0.1)
    assert (record.threshold, record.kept, record.reached) == (1.0, 25, 55)


def test_labels_to_reject_at_the_boundaries():
    assert labels_to_reject(0.0, 0.1, 0.1) == math.ceil(math.log(0.1) / math.log(0.9))  # 22
    assert labels_to_reject(0.1, 0.1, 0.1) is None
    assert labels_to_reject(0.2, 0.1, 0.1) is None
    n = labels_to_reject(0.05, 0.1, 0.05)
    assert binomial_p_value(math.ceil(0.05 * n), n, 0.1) <= 0.05
    assert binomial_p_value(math.ceil(0.05 * (n - 1)), n - 1, 0.1) > 0.05


def test_stages_share_delta_and_see_only_what_earlier_stages_left():
    # Stage 0 is sure and right on the first 40 items, unsure on the last 40; stage 1 is sure and right on all.
    first = np.r_[np.ones(40), np.full(40, 0.2)]
    first_right = np.r_[np.ones(40, dtype=bool), np.zeros(40, dtype=bool)]
    second = np.ones(80)
    records = calibrate_stages([first, second], [first_right, np.ones(80, dtype=bool)], alpha=0.1, delta=0.1)
    assert [r.delta for r in records] == [0.05, 0.05]
    assert (records[0].threshold, records[0].kept, records[0].reached) == (1.0, 40, 80)
    assert (records[1].threshold, records[1].kept, records[1].reached) == (1.0, 40, 40)
    # 0.9^28 = 0.052 > 0.05, 0.9^29 = 0.047: at delta 0.05 a stage needs 29 sure, right items.
    short = calibrate_stages([np.ones(28)], [np.ones(28, dtype=bool)], alpha=0.1, delta=0.05)
    assert short[0].threshold is None and short[0].labels_needed == 1


def test_settling_stage_takes_the_first_confident_stage():
    confidences = [np.array([0.9, 0.5, 0.5, np.nan]), np.array([0.1, 0.8, 0.2, 0.9])]
    assert settling_stage(confidences, [0.9, 0.8]).tolist() == [0, 1, -1, 1]
    assert settling_stage(confidences, [None, 0.85]).tolist() == [-1, -1, -1, 1]


def test_refuses_bad_risk_levels():
    with pytest.raises(JudgeError, match="alpha is a share"):
        choose_threshold(np.ones(3), np.ones(3, dtype=bool), alpha=0, delta=0.1)
    with pytest.raises(JudgeError, match="delta is a share"):
        calibrate_stages([np.ones(3)], [np.ones(3, dtype=bool)], alpha=0.1, delta=1.5)


def test_split_is_seeded_and_disjoint():
    uids = [f"u{i}" for i in range(11)]
    calibration, heldout = split_items(uids, share=0.5, seed=3)
    assert (calibration, heldout) == split_items(list(reversed(uids)), share=0.5, seed=3)
    assert not set(calibration) & set(heldout) and len(calibration) + len(heldout) == 11
    assert split_items(uids, seed=4) != (calibration, heldout)
    assert uids_digest(calibration) == uids_digest(reversed(calibration)) != uids_digest(heldout)


def test_confidence_of_a_verdict():
    probs = {3: 0.2, 4: 0.5, 5: 0.3}
    assert verdict_confidence(probs, verdict=True, pass_threshold=4, target="pass/fail") == pytest.approx(0.8)
    assert verdict_confidence(probs, verdict=False, pass_threshold=4, target="pass/fail") == pytest.approx(0.2)
    assert verdict_confidence(probs, verdict=4, pass_threshold=4, target="score") == pytest.approx(0.5)
    assert verdict_confidence({"pass": 0.7, "fail": 0.3}, verdict=False, pass_threshold=None,
                              target="pass/fail") == pytest.approx(0.3)
    assert sample_agreement([True, True, False]) == pytest.approx(2 / 3)
    assert sample_agreement([4]) == 1.0


def test_guarantee_holds_in_simulation():
    # 600 items, 25% failing; 60 seeds: the settled held-out verdicts agree >= 90% in >= 90% of the seeds.
    truth = np.random.default_rng(0).random(600) > 0.25
    share, runs = guarantee_share(truth, range(60), alpha=0.1, delta=0.1)
    assert share >= 0.9
    assert np.mean([r.settled / r.items for r in runs]) > 0.3  # and it still settles a good share
