"""The fast, seeded version of bench/coverage.py: intervals that say 95% cover about 95%, tests that fire
about 5% of the time on no change, and the trend as powerful as the gate. Each test runs in a few seconds;
the bounds allow for the Monte Carlo error of the replicates (about +-4 points at 100 replicates);
the upper targets (97%) are checked by the benchmark's larger runs."""

from __future__ import annotations

import pytest

from coverage_sim import (
    PASS_RATE_POPULATIONS, POPULATIONS, app_version, compare_rejections, designed_compare, designed_regression,
    figure_coverage, kappa_of, pass_rate_coverage, regression_rejections, stay_for_kappa, two_judges,
)

STRONG = POPULATIONS["strong, 15% failures"]


def test_every_figure_covers_at_50_items_for_a_strong_judge():
    """Before issue 9 TNR covered 28% here and TPR 77%."""
    coverage = figure_coverage(STRONG, 50, replicates=100, n_boot=300, seed=11)
    for name, cell in coverage.items():
        assert cell["with_interval"] == 1.0, name
        assert cell["coverage"] >= 0.88, (name, cell)


def test_at_20_items_intervals_cover_90_percent_or_carry_the_warning():
    """Before: TNR 11%, TPR 42%, pass/fail kappa 47% (half its intervals [1, 1]), Spearman 74%."""
    coverage = figure_coverage(STRONG, 20, replicates=100, n_boot=300, seed=12)
    for name, cell in coverage.items():
        assert cell["coverage"] >= 0.86 or cell["warned"] > 0.5, (name, cell)
    for name in ("tpr", "kappa", "spearman_rho"):
        assert coverage[name]["coverage"] >= 0.86, name
    assert coverage["tnr"]["coverage"] >= 0.75       # on about 3 human failures; warned


def test_the_weak_judge_figures_cover_at_100_items():
    coverage = figure_coverage(POPULATIONS["weak"], 100, replicates=100, n_boot=300, seed=13)
    for name, cell in coverage.items():
        assert cell["coverage"] >= 0.88, (name, cell)


@pytest.mark.parametrize("judged_per_labeled", [1, 3])
def test_the_corrected_pass_rate_covers_when_labeled_items_are_among_the_judged(judged_per_labeled):
    theta, tpr, tnr = PASS_RATE_POPULATIONS["typical (0.7, TPR 0.9, TNR 0.8)"]
    result = pass_rate_coverage(theta, tpr, tnr, 60, 60 * judged_per_labeled, replicates=200, n_boot=500,
                                seed=judged_per_labeled)
    assert result["interval"] >= 0.95
    assert 0.91 <= result["coverage"] <= 0.99


def test_with_few_failures_labeled_the_corrected_rate_refuses_rather_than_mislead():
    """True rate 0.95 and 20 labeled items (one failure expected): before, 49% coverage; now the interval is
    refused, withheld as no better than chance, or undefined (no failure labeled), almost always."""
    theta, tpr, tnr = PASS_RATE_POPULATIONS["strong, rate 0.95 (TPR 0.97, TNR 0.9)"]
    result = pass_rate_coverage(theta, tpr, tnr, 20, 60, replicates=150, n_boot=300, seed=4)
    assert result["interval"] <= 0.05


def test_compare_false_positives_near_5_percent_and_power_at_300_items():
    stay = 0.6
    null = compare_rejections(two_judges(stay, stay), 50, replicates=300, n_boot=300, seed=21)
    assert 0.02 <= null["permutation"] <= 0.08
    better = stay_for_kappa(kappa_of(stay) + 0.06)
    power = compare_rejections(two_judges(better, stay), 300, replicates=60, n_boot=300, seed=22)
    assert power["permutation"] >= 0.7 and power["power_note"] == 0


def test_gate_and_trend_false_positives_near_5_percent():
    rates = regression_rejections(app_version(0.5), app_version(0.5), 100, replicates=300, n_boot=300, seed=31)
    assert 0.02 <= rates["gate"] <= 0.09 and 0.02 <= rates["trend"] <= 0.09
    assert rates["corrected_checked"] == 1.0


def test_the_trend_is_as_powerful_as_the_gate():
    """A 10-point drop at 300 items: before, the trend flagged 17% where the gate failed 53%."""
    rates = regression_rejections(app_version(0.5), app_version(0.4), 300, replicates=150, n_boot=300, seed=32)
    assert rates["gate"] >= 0.6
    assert abs(rates["trend"] - rates["gate"]) <= 0.06
    assert rates["former_trend_rule"] < rates["gate"] - 0.3


def test_a_suspicion_ordered_sample_still_covers_in_compare():
    """200 of 2,000 items labeled in suspicion order over both judges' verdicts, weighted by 1 / pi: the
    interval of the kappa difference covers the population's, and the test stays near 5% (bench: 0.93 /
    0.06 at 200 replicates; a 0.06 difference: 0.94, where the interval ignoring the weights covers 0.895)."""
    null = designed_compare(0.6, 0.6, 200, replicates=80, n_boot=200, seed=41)
    assert null["coverage"] >= 0.88 and null["significant"] <= 0.1


def test_a_suspicion_ordered_sample_still_covers_in_gate_and_trend():
    """The baseline's 200 labeled items drawn in suspicion order over its judge and a second one: the gate's
    and trend's corrected pass rates, from weighted TPR and TNR, cover the true pass share of each run, and
    no change is flagged about 5% of the time (bench: 0.98 / 0.935 coverage, 5.5% / 6.5% at 200 replicates)."""
    rates = designed_regression(0.5, 0.5, 200, replicates=80, n_boot=200, seed=42)
    assert rates["baseline_coverage"] >= 0.88 and rates["candidate_coverage"] >= 0.88
    assert rates["gate"] <= 0.12 and rates["trend"] <= 0.12
