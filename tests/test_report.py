"""Agreement reports over a real store: which labels count, figures equal to sklearn with intervals, few-shot
items left out, undefined shown as undefined, human ceiling, compare, trend, gate, card and imported runs."""

from __future__ import annotations

import json

import krippendorff
import numpy as np
import pytest
from sklearn import metrics as skm

from judge.errors import ImportFailed, JudgeError
from judge.reports import (
    agreement_by_slice, agreement_report, compare_runs, gate, human_agreement, import_run, judge_card, trend,
    write_card,
)
from report_data import judge_run, labeled_dataset, spec

N_BOOT = 300


def noisy(rng, truth, spread=1):
    return [int(v) for v in np.clip(np.asarray(truth) + rng.integers(-spread, spread + 1, len(truth)), 1, 5)]


@pytest.fixture
def scored(store, tmp_path):
    """60 items labeled by alice (the truth) and bob (close to it), one good judge run."""
    rng = np.random.default_rng(0)
    truth = [int(v) for v in rng.integers(1, 6, 60)]
    ds = labeled_dataset(store, tmp_path, {"alice": truth, "bob": truth[:40] + [None] * 20},
                         metadata={"topic": ["easy" if i % 2 else "hard" for i in range(60)]},
                         references=[f"ref {i}" if i < 30 else "" for i in range(60)])
    judge = noisy(rng, truth)
    run = judge_run(store, ds, judge)
    return store, ds, truth, judge, run


def test_report_figures_equal_sklearn_with_intervals_and_n(scored):
    store, _, truth, judge, run = scored
    report = agreement_report(store, run, n_boot=N_BOOT, seed=1)
    kappa = report["scores"]["quadratic_kappa"]
    assert kappa["value"] == pytest.approx(skm.cohen_kappa_score(truth, judge, weights="quadratic"), abs=1e-12)
    assert kappa["n"] == 60 and kappa["undefined"] is None
    assert kappa["ci"][0] < kappa["value"] < kappa["ci"][1]
    assert report["scores"]["confusion_matrix"] == skm.confusion_matrix(truth, judge, labels=[1, 2, 3, 4, 5]).tolist()
    human_pass, judge_pass = np.array(truth) >= 4, np.array(judge) >= 4
    assert report["pass_fail"]["mcc"]["value"] == pytest.approx(skm.matthews_corrcoef(human_pass, judge_pass))
    assert report["pass_fail"]["failure_recall"]["value"] == pytest.approx(
        skm.recall_score(human_pass, judge_pass, pos_label=False))
    assert report["labels"]["items"] == 60 and report["labels"]["pass_threshold"] == 4
    assert report["pass_rate"]["observed"]["value"] == pytest.approx(judge_pass.mean())
    assert report["mean_score"]["value"] == pytest.approx(np.mean(judge))
    assert report["reference"]["items"] == 30
    assert report["reference"]["quadratic_kappa"]["value"] == pytest.approx(
        skm.cohen_kappa_score(truth[:30], judge[:30], weights="quadratic"))
    assert report["run_stats"]["verdicts"] == 60 and report["run_stats"]["parse_failure_rate"] == 0
    json.dumps(report)                                            # JSON-ready as is


def test_report_is_reproducible_for_a_seed(scored):
    store, *_, run = scored
    first = agreement_report(store, run, n_boot=N_BOOT, seed=5)
    assert agreement_report(store, run, n_boot=N_BOOT, seed=5) == first
    assert agreement_report(store, run, n_boot=N_BOOT, seed=6)["scores"]["quadratic_kappa"]["ci"] != \
        first["scores"]["quadratic_kappa"]["ci"]


def test_which_labels_count(store, tmp_path):
    # q0: alice 3, bob 4 -> lower median 3. q1: alice 2 then edited to 5, bob 5 -> 5.
    # q2: alice 1, bob 2, adjudicated 4 -> 4. q3: alice 5, bob 1 -> 1 (and a pass/fail tie fails).
    ds = labeled_dataset(store, tmp_path, {"alice": [3, 2, 1, 5], "bob": [4, 5, 2, 1]})
    uid = store.item_uids(ds["id"])
    store.add_label(uid["q1"], "alice", score=5)
    store.add_label(uid["q2"], "owner", score=4, kind="adjudication")
    humans = store.human_item_labels(ds["id"], store.criterion("qa").id).set_index("item_uid")
    assert [int(humans.loc[uid[f"q{i}"], "human_score"]) for i in range(4)] == [3, 5, 4, 1]
    assert [bool(humans.loc[uid[f"q{i}"], "human_passed"]) for i in range(4)] == [False, True, True, False]
    assert bool(humans.loc[uid["q2"], "adjudicated"]) and not bool(humans.loc[uid["q0"], "adjudicated"])


def test_few_shot_items_are_left_out_and_counted(store, tmp_path):
    ds = labeled_dataset(store, tmp_path, {"alice": [1, 2, 3, 4, 5, 1, 2, 3]})
    uid = store.item_uids(ds["id"])
    body = spec(examples=[{"input": "question 0", "output": "answer 0", "score": 1, "reasoning": "bad",
                           "item_uid": uid["q0"]}])
    run = judge_run(store, ds, [1, 2, 3, 4, 5, 1, 2, 3], spec_body=body)
    store.mark_fewshot("helpful", uid["q1"])
    store.mark_fewshot("helpful", uid["q2"])
    store.mark_fewshot("helpful", uid["q2"], active=False)        # retracted: counts again
    report = agreement_report(store, run, n_boot=N_BOOT)
    assert report["labels"]["excluded_fewshot"] == 2
    assert report["labels"]["items"] == report["scores"]["n"] == 6


def test_undefined_figures_say_why_instead_of_0_or_1(store, tmp_path):
    ds = labeled_dataset(store, tmp_path, {"alice": [4] * 10})
    run = judge_run(store, ds, [4] * 9 + [None])
    report = agreement_report(store, run, n_boot=N_BOOT)
    kappa = report["scores"]["quadratic_kappa"]
    assert kappa["value"] is None and kappa["ci"] is None and "same score" in kappa["undefined"]
    assert report["scores"]["exact_agreement"]["value"] == 1.0
    assert "no item that the humans failed" in report["pass_fail"]["tnr"]["undefined"]
    assert report["pass_rate"]["corrected"]["value"] is None
    assert report["run_stats"]["parse_failure_rate"] == pytest.approx(0.1)
    assert report["scores"]["n"] == 9


def test_human_agreement_is_krippendorffs_alpha_with_pairwise_kappa(scored):
    store, ds, truth, *_ = scored
    result = human_agreement(store, "qa", n_boot=N_BOOT)
    data = np.array([truth, truth[:40] + [np.nan] * 20], dtype=float)
    expected = krippendorff.alpha(data, value_domain=[1, 2, 3, 4, 5], level_of_measurement="ordinal")
    assert result["krippendorff_alpha"]["value"] == pytest.approx(expected, abs=1e-12)
    assert result["krippendorff_alpha"]["n"] == 40 and result["items_with_two_or_more"] == 40
    assert [(a["name"], a["labels"]) for a in result["annotators"]] == [("alice", 60), ("bob", 40)]
    assert result["pairwise"][0]["quadratic_kappa"]["value"] == pytest.approx(1.0)
    # pass/fail alpha uses the same resolved pass/fail as the report (score >= 4 here), not only ticked boxes
    passes = np.where(np.isnan(data), np.nan, data >= 4)
    expected_pass = krippendorff.alpha(passes, value_domain=[0, 1], level_of_measurement="nominal")
    assert result["pass_fail_alpha"]["value"] == pytest.approx(expected_pass, abs=1e-12)
    assert result["pass_fail_alpha"]["n"] == 40
    ceiling = agreement_report(store, scored[4], n_boot=N_BOOT)["human_ceiling"]
    assert ceiling["krippendorff_alpha"]["value"] == pytest.approx(expected, abs=1e-12)


def test_compare_finds_the_better_judge_with_a_paired_bootstrap(store, tmp_path):
    rng = np.random.default_rng(1)
    truth = [int(v) for v in rng.integers(1, 6, 120)]
    ds = labeled_dataset(store, tmp_path, {"alice": truth})
    good = judge_run(store, ds, noisy(rng, truth), cost=0.001, latency_ms=200)
    bad = judge_run(store, ds, [int(v) for v in rng.integers(1, 6, 120)], spec_body=spec("other"), cost=0.01)
    result = compare_runs(store, [good, bad], n_boot=N_BOOT)
    assert result["common_items"] == 120
    difference = result["differences"][0]
    assert difference["significant"] and difference["better"] == good
    assert difference["quadratic_kappa_difference"]["ci"][0] > 0
    rows = {row["run"]["id"]: row for row in result["runs"]}
    assert rows[good]["cost_per_1k_items"] == pytest.approx(1.0)
    assert rows[good]["agreement_per_dollar"] > rows[bad]["agreement_per_dollar"]
    assert rows[good]["latency_p50_ms"] == 200
    assert result["inter_judge"][0]["n"] == 120
    with pytest.raises(JudgeError, match="at least two"):
        compare_runs(store, [good, good])


def _versions(store, tmp_path, rng, truth, second_app_quality):
    """App v1 (labeled, judged) and app v2 (unlabeled, judged) by the same judge."""
    v1 = labeled_dataset(store, tmp_path, {"alice": truth}, metadata={"app_version": ["1.0"] * len(truth)})
    run1 = judge_run(store, v1, noisy(rng, truth))
    v2 = labeled_dataset(store, tmp_path, {}, n=len(truth), metadata={"app_version": ["2.0"] * len(truth)},
                         answer="new answer")
    run2 = judge_run(store, v2, noisy(rng, second_app_quality))
    return run1, run2


def test_trend_marks_judge_changes_and_flags_regressions_against_the_baseline(store, tmp_path):
    rng = np.random.default_rng(2)
    truth = [int(v) for v in rng.integers(1, 6, 150)]
    run1, run2 = _versions(store, tmp_path, rng, truth, [1] * 150)
    v2 = store.dataset("qa")
    run3 = judge_run(store, v2, [5] * 150, spec_body=spec(criteria="stricter"))
    store.pin_baseline("helpful", run1)
    result = trend(store, "helpful", n_boot=N_BOOT)
    points = {p["run_id"]: p for p in result["points"]}
    assert [p["version_tag"] for p in result["points"]] == ["1.0", "2.0", "2.0"]
    assert points[run1]["is_baseline"] and points[run1]["regression"] is None
    assert points[run2]["regression"] is True and result["regressions"] == [run2]
    assert points[run2]["corrected_pass_rate"]["value"] is not None      # calibrated on v1's labels
    assert result["judge_changes"] == [{"index": 2, "run_id": run3, "change": "spec v1 -> v2"}]


def test_gate_fails_on_a_significant_regression_only(store, tmp_path):
    rng = np.random.default_rng(3)
    truth = [int(v) for v in rng.integers(1, 6, 150)]
    run1, run2 = _versions(store, tmp_path, rng, truth, [1] * 150)
    failed = gate(store, run2, run1, n_boot=N_BOOT)
    assert not failed.passed and "mean_score" in failed.regressions
    assert failed.checks["corrected_pass_rate"]["difference"]["ci"][1] < 0
    same = labeled_dataset(store, tmp_path, {}, n=150, metadata={"app_version": ["2.1"] * 150}, answer="same")
    steady = judge_run(store, same, noisy(rng, truth))
    assert gate(store, steady, run1, n_boot=N_BOOT).passed
    with pytest.raises(JudgeError, match="same run"):
        gate(store, run1, run1)


def test_judge_card_names_the_labels_and_the_agreement(scored, tmp_path):
    store, *_, run = scored
    markdown, card = judge_card(store, "helpful", n_boot=N_BOOT)
    report = agreement_report(store, run, n_boot=N_BOOT)
    assert card["measured_on"]["hash"] == report["labels"]["hash"] and card["measured_on"]["items"] == 60
    assert card["agreement"]["scores.quadratic_kappa"] == report["scores"]["quadratic_kappa"]
    assert card["model"] == "openai/gpt-test" and card["spec"]["name"] == "helpful"
    assert f"Labels hash `{report['labels']['hash']}`" in markdown and "Quadratic-weighted kappa" in markdown
    paths = write_card(store, "helpful", tmp_path / "cards", n_boot=N_BOOT)
    assert [p.name for p in paths] == ["helpful.card.md", "helpful.card.json"]
    assert json.loads(paths[1].read_text())["judge"] == "helpful"


def test_imported_scores_become_a_run_measured_like_any(scored, tmp_path):
    store, ds, truth, *_ = scored
    path = tmp_path / "external.csv"
    rows = ["item,grade,why"] + [f"q{i},{truth[i]},agrees" for i in range(59)] + ["q59,great,?"]
    path.write_text("\n".join(rows) + "\n")
    run = import_run(store, path, dataset="qa", score_column="grade", name="vendor_judge",
                     reasoning_column="why", id_column="item")
    info = store.report_run(run)
    assert (info["source"], info["status"], info["spec_name"]) == ("import", "done", "vendor_judge")
    report = agreement_report(store, run, n_boot=N_BOOT)
    assert report["scores"]["exact_agreement"]["value"] == 1.0 and report["scores"]["n"] == 59
    assert report["run_stats"]["failed_verdicts"] == 1
    (tmp_path / "bad.csv").write_text("item,grade\nq999,3\n")
    with pytest.raises(ImportFailed, match="q999"):
        import_run(store, tmp_path / "bad.csv", dataset="qa", score_column="grade", name="x", id_column="item")
    with pytest.raises(ImportFailed, match="no score column 'nope'"):
        import_run(store, path, dataset="qa", score_column="nope", name="x", id_column="item")


def test_slices_worst_first_and_disagreements_by_distance(scored):
    store, ds, truth, judge, run = scored
    slices = agreement_by_slice(store, run, "topic", n_boot=N_BOOT)
    assert {s["value"] for s in slices} == {"easy", "hard"} and sum(s["items"] for s in slices) == 60
    assert slices[0]["quadratic_kappa"]["value"] <= slices[1]["quadratic_kappa"]["value"]
    table = store.disagreements(run, ds["id"], store.criterion("qa").id, 4)
    assert len(table) == sum(t != j for t, j in zip(truth, judge))
    assert list(table["distance"]) == sorted(table["distance"], reverse=True)
    assert table["reasoning"].str.startswith("because").all()


def test_reference_metrics_and_reference_judges_are_measured_against_people(store, tmp_path):
    from judge.reports import reference_agreement
    from judge.specs import builtin_specs

    # outputs are "answer i"; items 0-19 have that exact reference and people rate them 5, the rest 1
    references = [f"answer {i}" if i < 20 else f"something else {i}" for i in range(40)] + [""] * 5
    human = [5] * 20 + [1] * 20 + [3] * 5
    ds = labeled_dataset(store, tmp_path, {"alice": human}, references=references)
    run = judge_run(store, ds, [5] * 20 + [1] * 20 + [3] * 5, spec_body=builtin_specs()["reference_match"].to_dict())
    result = reference_agreement(store, "qa", n_boot=N_BOOT)
    assert result["items_with_reference"] == result["labeled_with_reference"] == 40
    by_judge = {m["judge"]: m for m in result["offline_metrics"]}
    assert by_judge["reference_match"]["quadratic_kappa"]["value"] == pytest.approx(1.0)
    assert by_judge["reference_match"]["items"] == 40
    assert by_judge["json_tree_match"]["items"] == 0             # references are not JSON: no made-up scores
    assert by_judge["json_tree_match"]["quadratic_kappa"]["undefined"]
    assert [r["run_id"] for r in result["reference_runs"]] == [run]
    assert result["reference_runs"][0]["items"] == 40
