"""Metrics: the maintained implementations called right, the vectorized versions equal to them, published
worked examples, undefined cases reported as undefined, and the true pass rate's interval covering."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from sklearn import metrics as skm

from judge import metrics as M
from judge.reports.passrate import sample_size_advice, true_pass_rate

NAN = np.nan


def random_pairs(rng, n, *, noise=1):
    human = rng.integers(1, 6, n)
    judge = np.clip(human + rng.integers(-noise, noise + 1, n), 1, 5)
    return human, judge


def table_of(human, judge):
    return skm.confusion_matrix(human, judge, labels=[1, 2, 3, 4, 5])


# -- vectorized == sklearn / scipy ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(25))
def test_vectorized_score_metrics_equal_sklearn_and_scipy(seed):
    rng = np.random.default_rng(seed)
    human, judge = random_pairs(rng, int(rng.integers(5, 400)), noise=int(rng.integers(1, 4)))
    table = table_of(human, judge)
    for weights in (None, "linear", "quadratic"):
        expected = skm.cohen_kappa_score(human, judge, labels=[1, 2, 3, 4, 5], weights=weights)
        assert M.kappa_from_tables(table, weights=weights) == pytest.approx(expected, abs=1e-9)
    assert M.spearman_from_tables(table) == pytest.approx(scipy.stats.spearmanr(human, judge).statistic, abs=1e-9)
    assert M.kendall_tau_b_from_tables(table) == pytest.approx(
        scipy.stats.kendalltau(human, judge, variant="b").statistic, abs=1e-9)
    assert M.exact_from_tables(table) == pytest.approx(skm.accuracy_score(human, judge), abs=1e-12)
    assert M.within_one_from_tables(table) == pytest.approx(np.mean(np.abs(human - judge) <= 1), abs=1e-12)
    assert M.mae_from_tables(table) == pytest.approx(skm.mean_absolute_error(human, judge), abs=1e-12)
    assert M.bias_from_tables(table) == pytest.approx(np.mean(judge - human), abs=1e-12)


def test_vectorized_metrics_evaluate_a_whole_batch_of_resamples_at_once():
    rng = np.random.default_rng(7)
    human, judge = random_pairs(rng, 120)
    resamples = [rng.integers(0, 120, 120) for _ in range(50)]
    batch = np.stack([table_of(human[i], judge[i]) for i in resamples])
    kappas = M.kappa_from_tables(batch, weights="quadratic")
    taus = M.kendall_tau_b_from_tables(batch)
    rhos = M.spearman_from_tables(batch)
    for k, i in enumerate(resamples):
        assert kappas[k] == pytest.approx(skm.cohen_kappa_score(human[i], judge[i], weights="quadratic"), abs=1e-9)
        assert taus[k] == pytest.approx(scipy.stats.kendalltau(human[i], judge[i]).statistic, abs=1e-9)
        assert rhos[k] == pytest.approx(scipy.stats.spearmanr(human[i], judge[i]).statistic, abs=1e-9)


@pytest.mark.parametrize("seed", range(25))
def test_vectorized_pass_fail_metrics_equal_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(10, 300))
    human = rng.random(n) < rng.uniform(0.2, 0.8)
    judge = np.where(rng.random(n) < 0.8, human, ~human)
    table = skm.confusion_matrix(human, judge, labels=[False, True])
    rates = M.pass_fail_rates_from_tables(table)
    assert rates["kappa"] == pytest.approx(skm.cohen_kappa_score(human, judge), abs=1e-9)
    assert rates["mcc"] == pytest.approx(skm.matthews_corrcoef(human, judge), abs=1e-9)
    assert rates["tpr"] == pytest.approx(skm.recall_score(human, judge, pos_label=True), abs=1e-12)
    assert rates["tnr"] == pytest.approx(skm.recall_score(human, judge, pos_label=False), abs=1e-12)
    assert rates["failure_precision"] == pytest.approx(skm.precision_score(human, judge, pos_label=False), abs=1e-12)
    assert rates["failure_f1"] == pytest.approx(skm.f1_score(human, judge, pos_label=False), abs=1e-12)
    # and the scalar functions are the same sklearn calls
    assert M.failure_recall(human, judge) == rates["failure_recall"]
    assert M.false_failure_rate(human, judge) == pytest.approx(1 - rates["tpr"], abs=1e-12)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
@pytest.mark.parametrize("seed", range(10))
def test_vectorized_krippendorff_equals_the_krippendorff_package(level, seed):
    rng = np.random.default_rng(seed)
    data = rng.integers(1, 6, (4, 60)).astype(float)
    data[rng.random(data.shape) < 0.3] = NAN
    value_counts = (data.T[..., None] == np.arange(1, 6)).sum(axis=1)
    expected = M.krippendorff_alpha(data, level_of_measurement=level)
    assert M.krippendorff_alpha_from_value_counts(value_counts, level_of_measurement=level) == pytest.approx(
        expected, abs=1e-9)


# -- published worked examples --------------------------------------------------------------------------------
def test_cohen_kappa_matches_artstein_and_poesio_as_in_sklearns_tests():
    # Artstein & Poesio (2008) Table 1, contingency [[20, 20], [10, 50]]: A_o = 0.7,
    # A_e = 0.4 * 0.3 + 0.6 * 0.7 = 0.54, kappa = (0.7 - 0.54) / (1 - 0.54) = 0.348.
    human = np.array([False] * 40 + [True] * 60)
    judge = np.array([False] * 20 + [True] * 20 + [False] * 10 + [True] * 50)
    assert M.pass_fail_kappa(human, judge) == pytest.approx(0.348, abs=1e-3)
    assert M.kappa_from_tables([[20, 20], [10, 50]]) == pytest.approx(0.16 / 0.46, abs=1e-12)
    # Table 4 style weighting example (three categories, here scores 1-3): none 0.9315, linear 0.9412,
    # quadratic 0.9541 (the values sklearn's own tests pin).
    y1 = np.array([1] * 46 + [2] * 44 + [3] * 10)
    y2 = np.array([1] * 50 + [2] * 40 + [3] * 10)
    table = table_of(y1, y2)
    assert M.kappa_from_tables(table) == pytest.approx(0.9315, abs=1e-4)
    assert M.weighted_kappa(y1, y2, weights="linear") == pytest.approx(0.9412, abs=1e-4)
    assert M.weighted_kappa(y1, y2, weights="quadratic") == pytest.approx(0.9541, abs=1e-4)
    assert M.kappa_from_tables(table, weights="quadratic") == pytest.approx(0.9541, abs=1e-4)


KRIPPENDORFF_2011 = np.array([
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers, 12 units.
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
])


def test_krippendorff_2011_reliability_data_example():
    # Unit 12 has one value, so it is not pairable: n = 3 + 8 * 4 + 3 + 2 = 40 pairable values with totals
    # n_1..n_5 = 9, 13, 10, 5, 3. Off-diagonal coincidences sum to 8, so
    #   nominal  alpha = 1 - (n - 1) * 8 / (n^2 - sum n_c^2) = 1 - 39 * 8 / (1600 - 384) = 0.743;
    #   interval alpha = 1 - D_o / D_e = 1 - 17.333 / 114.872 = 0.849 (delta^2 = (c - k)^2);
    #   ordinal  alpha = 0.815 (delta_ck = sum of n_g from c to k minus (n_c + n_k) / 2, squared).
    value_counts = (KRIPPENDORFF_2011.T[..., None] == np.arange(1, 6)).sum(axis=1)
    expected = {"nominal": 1 - 39 * 8 / (1600 - 384), "interval": 0.849, "ordinal": 0.815}
    for level, value in expected.items():
        assert M.krippendorff_alpha(KRIPPENDORFF_2011, level_of_measurement=level) == pytest.approx(value, abs=1e-3)
        assert M.krippendorff_alpha_from_value_counts(value_counts, level_of_measurement=level) == pytest.approx(
            value, abs=1e-3)


# -- undefined is undefined, never 0 or 1 --------------------------------------------------------------------
@pytest.mark.parametrize("metric, human, judge, reason", [
    (M.weighted_kappa, [3, 3, 3], [3, 3, 3], "same score"),
    (M.spearman_rho, [3, 3, 3], [1, 2, 3], "human scores are constant"),
    (M.kendall_tau_b, [1, 2, 3], [4, 4, 4], "judge scores are constant"),
    (M.exact_agreement, [], [], "no items"),
    (M.pass_fail_kappa, [True, True], [True, True], "same class"),
    (M.true_positive_rate, [False, False], [True, False], "no item that the humans passed"),
    (M.true_negative_rate, [True, True], [True, False], "no item that the humans failed"),
    (M.failure_precision, [True, False], [True, True], "judge failed no item"),
    (M.matthews_corrcoef, [True, False, True], [True, True, True], "one class"),
])
def test_undefined_cases_raise_with_the_reason(metric, human, judge, reason):
    with pytest.raises(M.UndefinedMetric, match=reason):
        metric(human, judge)


def test_undefined_cases_are_nan_in_the_vectorized_versions():
    constant = np.zeros((5, 5))
    constant[2, 2] = 10
    assert np.isnan(M.kappa_from_tables(constant, weights="quadratic"))
    assert np.isnan(M.spearman_from_tables(constant))
    assert np.isnan(M.kendall_tau_b_from_tables(constant))
    assert np.isnan(M.pass_fail_rates_from_tables([[0, 0], [3, 5]])["tnr"])
    assert np.isnan(M.pass_fail_rates_from_tables([[0, 0], [3, 5]])["mcc"])


def test_krippendorff_alpha_needs_pairable_varied_labels():
    with pytest.raises(M.UndefinedMetric, match="two annotators"):
        M.krippendorff_alpha([[1, NAN, 3], [NAN, 2, NAN]])
    with pytest.raises(M.UndefinedMetric, match="same value"):
        M.krippendorff_alpha([[4, 4, NAN], [4, 4, 2]])


def test_validation_names_the_function():
    with pytest.raises(ValueError, match="weighted_kappa: y_judge must hold integer scores 1-5"):
        M.weighted_kappa([1, 2], [0, 6])
    with pytest.raises(ValueError, match="exact_agreement: y_human and y_judge must be 1-d and of equal length"):
        M.exact_agreement([1, 2, 3], [1, 2])


# -- the bootstrap --------------------------------------------------------------------------------------------
def test_bootstrap_tables_are_seeded_and_resample_every_item():
    table = np.array([[30, 5], [8, 57]])
    first = M.bootstrap_tables(table, 200, seed=3)
    assert first.shape == (200, 2, 2)
    assert (first.sum(axis=(1, 2)) == 100).all()
    assert np.array_equal(first, M.bootstrap_tables(table, 200, seed=3))
    assert not np.array_equal(first, M.bootstrap_tables(table, 200, seed=4))


def test_multinomial_resampling_matches_resampling_item_indices():
    """Drawing the cell counts directly has the same spread as bincounting resampled items."""
    rng = np.random.default_rng(11)
    human, judge = random_pairs(rng, 300)
    codes = (human - 1) * 5 + (judge - 1)
    by_index = np.stack([np.bincount(codes[rng.integers(0, 300, 300)], minlength=25) for _ in range(4000)])
    by_index = M.kappa_from_tables(by_index.reshape(-1, 5, 5), weights="quadratic")
    direct = M.kappa_from_tables(M.bootstrap_tables(table_of(human, judge), 4000, seed=1), weights="quadratic")
    assert np.std(direct) == pytest.approx(np.std(by_index), rel=0.08)
    assert np.mean(direct) == pytest.approx(np.mean(by_index), abs=0.005)


def test_percentile_interval_skips_undefined_resamples():
    assert M.percentile_interval([NAN, NAN]) is None
    low, high = M.percentile_interval(np.r_[np.linspace(0, 1, 1001), NAN])
    assert (low, high) == pytest.approx((0.025, 0.975))


# -- the true pass rate ---------------------------------------------------------------------------------------
def test_corrected_pass_rate_formula_and_chance_judge():
    # p_obs 0.6, TPR 0.9, TNR 0.8: (0.6 + 0.8 - 1) / (0.9 + 0.8 - 1) = 0.4 / 0.7
    assert M.corrected_pass_rate(0.6, 0.9, 0.8) == pytest.approx(0.4 / 0.7)
    assert M.corrected_pass_rate(0.05, 0.9, 0.8) == 0.0      # clipped
    with pytest.raises(M.UndefinedMetric, match="no better than chance"):
        M.corrected_pass_rate(0.5, 0.5, 0.5)


def test_true_pass_rate_says_when_the_judge_is_no_better_than_chance():
    out = true_pass_rate([[10, 10], [10, 10]], 300, 150, n_boot=200)
    assert out["no_better_than_chance"] is True
    assert out["corrected"]["value"] is None and "no better than chance" in out["corrected"]["undefined"]
    assert out["advice"]["possible"] is False


def test_true_pass_rate_interval_covers_the_true_rate_95_percent_of_the_time():
    """500 simulated runs, 100 labeled and 300 judged items each: the nominal 95% interval covers 93-97%."""
    rng = np.random.default_rng(2024)
    theta, tpr, tnr = 0.7, 0.9, 0.8
    p_judge = theta * tpr + (1 - theta) * (1 - tnr)
    covered = 0
    for run in range(500):
        human = rng.random(100) < theta
        judge = np.where(human, rng.random(100) < tpr, rng.random(100) >= tnr)
        table = np.zeros((2, 2))
        np.add.at(table, (human.astype(int), judge.astype(int)), 1)
        out = true_pass_rate(table, 300, int(rng.binomial(300, p_judge)), n_boot=1000, seed=run)
        low, high = out["corrected"]["ci"]
        covered += low <= theta <= high
    assert 0.93 <= covered / 500 <= 0.97


def test_sample_size_advice_reaches_the_target_half_width():
    advice = sample_size_advice(0.6, 5000, 0.9, 0.8, 40, 20)
    assert advice["possible"] and advice["current_half_width"] > 0.05
    theta = (0.6 + 0.8 - 1) / 0.7
    n_pass, n_fail = 40 + advice["more_pass_labels"], 20 + advice["more_fail_labels"]
    variance = (0.6 * 0.4 / 5000 + theta**2 * 0.09 / n_pass + (1 - theta) ** 2 * 0.16 / n_fail) / 0.7**2
    assert 1.959963984540054 * np.sqrt(variance) <= 0.05
    # one fewer label of either kind misses the target: the advice is the cheapest
    for dp, df in ((1, 0), (0, 1)):
        if (n_pass - dp, n_fail - df) >= (40, 20):
            worse = (0.6 * 0.4 / 5000 + theta**2 * 0.09 / (n_pass - dp) + (1 - theta) ** 2 * 0.16 / (n_fail - df))
            assert 1.959963984540054 * np.sqrt(worse / 0.49) > 0.05 - 1e-3
    assert sample_size_advice(0.6, 50, 0.9, 0.8, 40, 20)["possible"] is False


def test_scalar_metrics_pool_pairs_without_changing_sklearns_answer():
    rng = np.random.default_rng(5)
    human, judge = random_pairs(rng, 2000, noise=2)
    assert M.weighted_kappa(human, judge) == pytest.approx(
        skm.cohen_kappa_score(human, judge, weights="quadratic"), abs=1e-12)
    assert M.mean_absolute_error(human, judge) == pytest.approx(skm.mean_absolute_error(human, judge), abs=1e-12)
    assert np.array_equal(M.score_confusion_matrix(human, judge), table_of(human, judge))
    passed_h, passed_j = human >= 4, judge >= 4
    assert M.matthews_corrcoef(passed_h, passed_j) == pytest.approx(skm.matthews_corrcoef(passed_h, passed_j),
                                                                    abs=1e-12)
    assert M.failure_f1(passed_h, passed_j) == pytest.approx(skm.f1_score(passed_h, passed_j, pos_label=False),
                                                             abs=1e-12)


def test_krippendorff_bootstrap_centres_on_the_estimate_and_is_seeded():
    rng = np.random.default_rng(8)
    truth = rng.integers(1, 6, 400)
    data = np.stack([truth, np.clip(truth + rng.integers(-1, 2, 400), 1, 5)]).astype(float)
    value_counts = (data.T[..., None] == np.arange(1, 6)).sum(axis=1)
    boot = M.krippendorff_bootstrap(value_counts, 2000, seed=2)
    assert np.array_equal(boot, M.krippendorff_bootstrap(value_counts, 2000, seed=2))
    point = M.krippendorff_alpha(data)
    assert np.median(boot) == pytest.approx(point, abs=0.01)
    low, high = M.percentile_interval(boot)
    assert low < point < high and high - low < 0.1
