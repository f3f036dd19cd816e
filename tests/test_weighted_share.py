"""A weighted share's effective size: a design that oversampled the judge's errors counts its full
linearized variance (narrower than a plain sample of as many labeled items), unless the variance rests on
too few items of the rarer outcome, where it stays at most the labeled count."""

from __future__ import annotations

import numpy as np
import pytest

from judge.metrics import wilson_interval
from judge.reports.weighted import RARER_OUTCOME_ITEMS, linearization_holds, ratio_share


def _class(misses: int, hits: int, miss_weight: float, hit_weight: float):
    weights = np.r_[np.full(misses, miss_weight), np.full(hits, hit_weight)]
    found = np.r_[np.zeros(misses, bool), np.ones(hits, bool)]
    return weights, found, np.ones(len(weights), bool)


def test_equal_weights_give_the_plain_sample_size():
    share, variance, size = ratio_share(*_class(12, 48, 1.0, 1.0))
    assert share == pytest.approx(0.8)
    assert size == pytest.approx(60)
    assert variance == pytest.approx(0.8 * 0.2 / 60)


def test_oversampled_errors_count_in_full_beyond_the_labeled_items():
    """The judge's misses drawn at 3x the rate of its hits (weight 1 against 3): the linearized variance is
    that of about 100 plain items, though 60 are labeled, so the interval is narrower than Wilson on 60."""
    weights, found, among = _class(12, 48, 1.0, 3.0)
    share, variance, size = ratio_share(weights, found, among)
    assert share == pytest.approx(48 * 3 / (12 + 48 * 3))
    assert size == pytest.approx(share * (1 - share) / variance) and size > 60
    low, high = wilson_interval(share * size, size)
    plain_low, plain_high = wilson_interval(share * 60, 60)
    assert high - low < plain_high - plain_low


def test_few_items_of_the_rarer_outcome_keep_the_labeled_count_as_the_cap():
    weights, found, among = _class(RARER_OUTCOME_ITEMS - 1, 56, 1.0, 3.0)
    assert not linearization_holds(found, among)
    share, variance, size = ratio_share(weights, found, among)
    assert share * (1 - share) / variance > 60 and size == 60
    assert linearization_holds(*_class(RARER_OUTCOME_ITEMS, 55, 1.0, 3.0)[1:])
