"""Intervals that cover (issue 9): the method behind each figure, the n it rests on, the corrected pass rate's
chance rule and refusals, compare's permutation test and the trend using the gate's test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from judge import metrics as M
from judge.reports import compare_runs, gate, sample_size_advice, trend, true_pass_rate
from judge.reports.agreement import agreement_figures
from judge.reports.compare import _paired_difference
from judge.reports.figures import FEW_LABELS_WARNING
from report_data import judge_run, labeled_dataset, spec


def frame(human_scores, judge_scores, threshold=4):
    h, j = np.asarray(human_scores), np.asarray(judge_scores)
    return pd.DataFrame({"human_score": h, "judge_score": j, "human_passed": h >= threshold,
                         "judge_passed": j >= threshold})


# -- proportions: Wilson, n = the class count -------------------------------------------------------------
def test_wilson_interval_matches_the_textbook_formula():
    # 8 of 10, z = 1.96: centre (0.8 + 1.9208/10) / 1.38416 = 0.7167, half 1.96 * sqrt(0.016 + 0.0096) / 1.38416
    # = 0.2266 -> [0.4902, 0.9433]
    assert M.wilson_interval(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    # 26 of 26 (the judge that caught every failure): z^2 / (n + z^2) = 3.8415 / 29.8415 below 1
    assert M.wilson_interval(26, 26) == pytest.approx((26 / 29.8415, 1.0), abs=1e-4)
    assert M.wilson_interval(0, 0) is None


def test_rates_rest_on_their_class_and_do_not_collapse_at_one():
    """A judge that fails all 26 human failures and passes 30 of 34 passes."""
    human = [1] * 26 + [5] * 34
    judge = [1] * 26 + [5] * 30 + [2] * 4
    figures = agreement_figures(frame(human, judge), n_boot=400, seed=0)["pass_fail"]
    tnr, tpr = figures["tnr"], figures["tpr"]
    assert tnr["value"] == 1.0 and tnr["n"] == 26 and tnr["method"] == "wilson"
    assert tnr["ci"] == pytest.approx([26 / 29.8415, 1.0], abs=1e-4)
    assert tpr["n"] == 34 and figures["false_failure_rate"]["n"] == 34
    assert figures["failure_precision"]["n"] == 30             # the judge's failures
    assert figures["kappa"]["n"] == 60 and figures["kappa"]["method"] == "dirichlet bootstrap"


def test_a_perfect_pass_fail_table_gets_an_interval_below_one():
    human = judge = [1] * 5 + [5] * 15
    figures = agreement_figures(frame(human, judge), n_boot=400, seed=0)
    for name in ("kappa", "mcc", "failure_f1"):
        fig = figures["pass_fail"][name]
        assert fig["value"] == 1.0 and fig["ci"][0] < 0.95 and fig["ci"][1] == pytest.approx(1.0, abs=1e-3), name
    assert figures["scores"]["quadratic_kappa"]["ci"][0] < 0.95


def test_few_labels_warning_when_an_interval_rests_on_under_fifty_items():
    rng = np.random.default_rng(0)
    human = rng.integers(1, 6, 49)
    judge = np.clip(human + rng.integers(-1, 2, 49), 1, 5)
    few = agreement_figures(frame(human, judge), n_boot=200, seed=0)
    assert few["scores"]["spearman_rho"]["warning"] == FEW_LABELS_WARNING
    assert few["pass_fail"]["mcc"]["warning"] == FEW_LABELS_WARNING
    assert few["scores"]["exact_agreement"]["warning"] == FEW_LABELS_WARNING
    human, judge = np.r_[human, 3], np.r_[judge, 3]
    enough = agreement_figures(frame(human, judge), n_boot=200, seed=0)
    assert enough["scores"]["spearman_rho"]["warning"] is None
    assert enough["scores"]["exact_agreement"]["warning"] is None
    failures = enough["pass_fail"]["tnr"]
    assert failures["n"] < 50 and failures["warning"] == FEW_LABELS_WARNING     # n is the class count


def test_dirichlet_draws_are_seeded_and_sum_to_the_item_count():
    table = np.array([[3, 0], [1, 16]])
    draws = M.dirichlet_tables(table, 500, seed=4)
    assert np.array_equal(draws, M.dirichlet_tables(table, 500, seed=4))
    assert draws.sum(axis=(-2, -1)) == pytest.approx(np.full(500, 20.0))
    assert (draws > 0).all()                                     # no empty cell, so no undefined draw
    assert draws.mean(axis=0) == pytest.approx((table + 0.5) / 22 * 20, rel=0.1)


# -- kappa and rank correlations: Fisher's z on the Dirichlet draws' spread ---------------------------------
def test_fisher_z_interval_is_normal_on_the_z_scale_with_the_draws_spread():
    # r = 0.6, z = atanh(0.6) = 0.6931; draws whose z has sd 0.1; t_99 = 1.9842 -> tanh(0.6931 -+ 0.19842)
    draws = np.tanh(np.arctanh(0.6) + 0.1 * np.array([-1.0, 1.0] * 50) * np.sqrt(99 / 100))
    low, high = M.fisher_z_interval(0.6, draws, 100)
    assert (low, high) == pytest.approx((np.tanh(0.6931 - 0.19842), np.tanh(0.6931 + 0.19842)), abs=1e-4)
    assert M.fisher_z_interval(1.0, draws, 100) is None                  # no z-scale interval at r = 1
    assert M.fisher_z_interval(0.6, np.full(10, 0.6), 100) is None       # draws that do not vary


def test_from_fifty_items_kappa_and_rank_correlations_use_fisher_z_and_their_points_equal_scipy():
    import scipy.stats
    from sklearn.metrics import cohen_kappa_score
    rng = np.random.default_rng(5)
    human = rng.integers(1, 6, 120)
    judge = np.clip(human + rng.integers(-1, 2, 120), 1, 5)
    scores = agreement_figures(frame(human, judge), n_boot=300, seed=0)["scores"]
    assert scores["quadratic_kappa"]["value"] == pytest.approx(cohen_kappa_score(human, judge, weights="quadratic"))
    assert scores["linear_kappa"]["value"] == pytest.approx(cohen_kappa_score(human, judge, weights="linear"))
    assert scores["spearman_rho"]["value"] == pytest.approx(scipy.stats.spearmanr(human, judge).statistic)
    assert scores["kendall_tau_b"]["value"] == pytest.approx(scipy.stats.kendalltau(human, judge).statistic)
    for name in ("quadratic_kappa", "linear_kappa", "spearman_rho", "kendall_tau_b"):
        fig = scores[name]
        assert fig["method"] == "fisher z" and fig["ci"][0] < fig["value"] < fig["ci"][1], name
        # symmetric on the z scale around the estimate
        assert np.arctanh(fig["value"]) - np.arctanh(fig["ci"][0]) == pytest.approx(
            np.arctanh(fig["ci"][1]) - np.arctanh(fig["value"]))
    bias = scores["mean_bias"]
    difference = judge - human
    half = scipy.stats.t.ppf(0.975, 119) * difference.std(ddof=1) / np.sqrt(120)
    assert bias["method"] == "t interval" and bias["ci"] == pytest.approx([difference.mean() - half,
                                                                           difference.mean() + half])
    assert scores["mae"]["method"] == "dirichlet bootstrap"
    few = agreement_figures(frame(human[:49], judge[:49]), n_boot=300, seed=0)["scores"]
    assert few["quadratic_kappa"]["method"] == "dirichlet bootstrap"      # under 50 items: the prior helps


# -- the corrected pass rate ------------------------------------------------------------------------------
def test_a_weak_judge_gets_no_corrected_value_and_advice_that_names_it():
    """TPR + TNR = 1.17 on 80 labeled items: the interval of J = 0.17 reaches 0, so no corrected rate."""
    table = [[22, 18], [25, 15]]                  # TNR 22/40 = 0.55, TPR 25/40 = 0.625 (sum 1.175)
    out = true_pass_rate(table, 2000, 1100, n_boot=500)
    assert out["no_better_than_chance"] is True and out["corrected"]["value"] is None
    assert "no better than chance" in out["corrected"]["undefined"] and out["youden"]["ci"][0] <= 0
    advice = sample_size_advice(0.55, 2000, 0.625, 0.55, 40, 40)
    assert advice["possible"] is False and "more accurate judge" in advice["reason"]
    assert advice["min_judged_items"] > 2000


def test_the_interval_is_refused_when_resamples_lack_a_class():
    table = [[2, 0], [1, 17]]                     # two human failures among 20: often none in a resample
    out = true_pass_rate(table, 20, 17, n_boot=500, labeled_among_judged=True)
    assert out["corrected"]["value"] is not None and out["corrected"]["ci"] is None
    assert "label more failures" in out["corrected"]["interval_refused"]


def test_labeled_items_among_the_judged_are_resampled_jointly():
    """When the judged items are the labeled ones, the corrected rate is their human pass share: its
    interval must be about the binomial one, not widened by redrawing the judged pass rate apart."""
    table = np.array([[25, 5], [8, 62]])          # 70 human passes of 100
    joint = true_pass_rate(table, 100, 67, n_boot=2000, labeled_among_judged=True)["corrected"]
    apart = true_pass_rate(table, 100, 67, n_boot=2000)["corrected"]
    width = joint["ci"][1] - joint["ci"][0]
    wilson = M.wilson_interval(70, 100)
    assert width == pytest.approx(wilson[1] - wilson[0], rel=0.15)
    assert apart["ci"][1] - apart["ci"][0] > 1.3 * width
    with pytest.raises(ValueError, match="cannot be among"):
        true_pass_rate(table, 50, 30, n_boot=10, labeled_among_judged=True)


# -- compare ----------------------------------------------------------------------------------------------
def test_compare_gives_a_permutation_p_value_and_a_power_note_under_100_items():
    rng = np.random.default_rng(3)
    human = rng.integers(1, 6, 60)
    scores = pd.DataFrame({"human": human, "a": np.clip(human + rng.integers(-1, 2, 60), 1, 5),
                           "b": rng.integers(1, 6, 60)})
    result = _paired_difference(scores, "a", "b", n_boot=500, seed=0)
    assert result["significant"] and result["better"] == "a" and result["p_value"] < 0.01
    assert "60 labeled items" in result["power_note"] and 0 < result["minimum_detectable_difference"] < 1
    same = _paired_difference(scores.assign(b=scores["a"]), "a", "b", n_boot=200, seed=0)
    assert same["p_value"] == 1.0 and not same["significant"]      # every relabeling gives the same 0


def test_compare_on_a_store_reports_the_test(store, tmp_path):
    rng = np.random.default_rng(1)
    truth = [int(v) for v in rng.integers(1, 6, 120)]
    ds = labeled_dataset(store, tmp_path, {"alice": truth})
    good = judge_run(store, ds, [int(v) for v in np.clip(np.array(truth) + rng.integers(-1, 2, 120), 1, 5)])
    bad = judge_run(store, ds, [int(v) for v in rng.integers(1, 6, 120)], spec_body=spec("other"))
    difference = compare_runs(store, [good, bad], n_boot=300)["differences"][0]
    assert difference["p_value"] < 0.05 and difference["power_note"] is None
    assert difference["test"].startswith("paired permutation")


# -- trend = gate -----------------------------------------------------------------------------------------
def test_the_trend_flags_what_the_gate_fails_and_says_at_what_level(store, tmp_path):
    rng = np.random.default_rng(4)
    truth = [int(v) for v in rng.integers(1, 6, 150)]
    v1 = labeled_dataset(store, tmp_path, {"alice": truth}, metadata={"app_version": ["1.0"] * 150})
    base = judge_run(store, v1, [int(v) for v in np.clip(np.array(truth) + rng.integers(-1, 2, 150), 1, 5)])
    steady_scores = np.clip(np.array(truth) + rng.integers(-1, 2, 150), 1, 5)
    worse_scores = np.clip(steady_scores - (rng.random(150) < 0.35), 1, 5)
    runs = []
    for tag, scores in (("1.1", steady_scores), ("1.2", worse_scores)):
        ds = labeled_dataset(store, tmp_path, {}, n=150, metadata={"app_version": [tag] * 150}, answer=tag)
        runs.append(judge_run(store, ds, [int(v) for v in scores]))
    store.pin_baseline("helpful", base)
    result = trend(store, "helpful", n_boot=500)
    assert "5% level" in result["regression_test"] and result["significance"] == 0.05
    assert "adjusted for the two checks" in result["regression_test"]
    points = {p["run_id"]: p for p in result["points"]}
    for run_id in runs:
        verdict = gate(store, run_id, base, n_boot=500)
        assert points[run_id]["regression"] is (not verdict.passed)
        for key, check in verdict.checks.items():
            assert points[run_id]["regression_checks"][key]["regression"] == check["regression"]
            assert 0 < check["p_value"] <= check["p_adjusted"] <= 1     # adjusted for checking two figures
    assert points[runs[1]]["regression"] is True and points[runs[0]]["regression"] is False


def test_a_rerun_over_the_same_labeled_items_is_resampled_with_the_baseline(store, tmp_path):
    """Both runs judged the same 120 labeled items: one resample redraws them once for the calibration and
    for both runs' verdicts (judge.reports.calibration), so identical verdicts differ by exactly 0 in every
    resample; redrawing each run's pass rate apart from its labels spread the difference over +-0.1."""
    rng = np.random.default_rng(6)
    truth = [int(v) for v in rng.integers(1, 6, 120)]
    ds = labeled_dataset(store, tmp_path, {"alice": truth})
    scores = [int(v) for v in np.clip(np.array(truth) + rng.integers(-1, 2, 120), 1, 5)]
    base, rerun = judge_run(store, ds, scores), judge_run(store, ds, scores)
    result = gate(store, rerun, base, n_boot=300)
    assert result.passed and result.sample == {"labeled_items": 120, "weighted": False, "effective_items": 120.0,
                                               "note": None}
    for check in result.checks.values():
        assert check["difference"]["value"] == 0 and check["difference"]["ci"] == [0.0, 0.0]


# -- design weights in trend, gate and compare ------------------------------------------------------------
def test_gate_trend_and_compare_weight_a_label_next_sample_and_say_so(store, tmp_path, capsys):
    """40 items labeled in stratified order (the judge's rare failures drawn more often): the gate's and
    trend's TPR and TNR are the weighted (Hajek) shares, and every figure resting on them says so."""
    from judge.cli import main
    from judge.label_next import record_label, suggest
    from judge.reports.calibration import calibrate
    from judge.reports.trends import _labeled_pairs

    n = 60
    ds = labeled_dataset(store, tmp_path, {"ana": [None] * n})
    scores = [2 if i % 5 == 0 else 4 + (i % 2) for i in range(n)]
    base = judge_run(store, ds, scores)
    other = judge_run(store, ds, [min(s + (i % 3 == 0), 5) for i, s in enumerate(scores)],
                      spec_body=spec("other"))
    rerun = judge_run(store, ds, [max(s - (i % 12 == 1), 1) for i, s in enumerate(scores)])
    truth = {f"q{i}": 4 if i % 10 == 5 else 2 if i % 7 == 3 else score for i, score in enumerate(scores)}
    batch = suggest(store, "qa", n=40, strategy="stratified", seed=2)
    for s in batch:
        record_label(store, s, "ana", {None: {"score": truth[s.item_id]}})

    weights = np.array([1 / min(1.0, 40 * s.share) for s in batch])
    assert not np.allclose(weights, weights[0])
    human_pass = np.array([truth[s.item_id] >= 4 for s in batch])
    rerun_pass = np.array([max(scores[int(s.item_id[1:])] - (int(s.item_id[1:]) % 12 == 1), 1) >= 4
                           for s in batch])
    calibration = calibrate({base: _labeled_pairs(store, store.report_run(base)),
                             rerun: _labeled_pairs(store, store.report_run(rerun))}, n_boot=100, seed=0)
    table = calibration.table
    assert calibration.weighted and table[1, 1] / table[1].sum() == pytest.approx(
        (weights * (human_pass & rerun_pass)).sum() / (weights * human_pass).sum())
    assert table[0, 0] / table[0].sum() == pytest.approx(
        (weights * (~human_pass & ~rerun_pass)).sum() / (weights * ~human_pass).sum())

    result = gate(store, rerun, base, n_boot=200)
    assert result.sample["weighted"] and "weighted sample" in result.sample["note"]
    assert any("weighted sample" in w for w in result.warnings)
    assert result.checks["corrected_pass_rate"]["difference"]["sample"] == "weighted sample"
    store.pin_baseline("helpful", base)
    point = next(p for p in trend(store, "helpful", n_boot=200)["points"] if p["run_id"] == rerun)
    assert point["sample"]["weighted"] and point["corrected_pass_rate"]["sample"] == "weighted sample"
    difference = compare_runs(store, [base, other], n_boot=200)["differences"][0]
    assert difference["difference"]["sample"] == "weighted sample" and difference["p_value"] is not None
    assert main(["--db", str(store.path), "gate", "--run", rerun, "--baseline", base, "--boot", "50"]) in (0, 1)
    assert "weighted sample" in capsys.readouterr().out
