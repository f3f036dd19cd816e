"""What a figure rests on: distinct items, the run's rubric version, few-shot items left out everywhere, and
the judge beside each annotator (issue: intervals that cover, every n counting what it rests on)."""

from __future__ import annotations

import numpy as np

from judge.reports import agreement_report, gate, trend
from judge.runner import execute_run, start_run
from judge.specs import JudgeSpec
from report_data import RUBRIC, judge_run, labeled_dataset, spec

N_BOOT = 100


def test_repeated_runs_of_one_judge_count_each_labeled_item_once(store, tmp_path):
    truth = [1 + (i * 3) % 5 for i in range(40)]
    ds = labeled_dataset(store, tmp_path, {"alice": truth})
    runs = [judge_run(store, ds, truth, version_tag=f"v{k}") for k in range(4)]
    points = trend(store, "helpful", n_boot=N_BOOT)["points"]
    assert [p["corrected_pass_rate"]["n"] for p in points] == [40] * 4  # not 160: one item, one row
    assert gate(store, runs[3], runs[0], n_boot=N_BOOT).checks["corrected_pass_rate"]["run"]["n"] == 40


def test_labels_given_under_another_rubric_version_are_left_out_and_counted(store, tmp_path):
    store.save_rubric("helpful", "Helpful?", RUBRIC, pass_threshold=4)
    ds = labeled_dataset(store, tmp_path, {"alice": [1, 2, 3, 4, 5, 1, 2, 3]})
    store.define_criterion("qa", "helpful", "1-5", rubric_name="helpful")
    uid = store.item_uids(ds["id"])
    for i in range(8):  # bob grades under rubric v1
        store.add_label(uid[f"q{i}"], "bob", score=1 + i % 5, criterion="helpful")
    body = spec(criterion="helpful", kind="assertion", template="", checks=[{"type": "contains", "value": "answer"}])
    first = start_run(store, dataset="qa", spec=JudgeSpec.from_dict(body))
    execute_run(store, first)
    store.save_rubric("helpful", "Helpful, stricter.", RUBRIC, pass_threshold=5)   # rubric v2
    for i in range(3):
        store.add_label(uid[f"q{i}"], "carol", score=5, criterion="helpful")       # under v2
    report = agreement_report(store, first, n_boot=N_BOOT)
    assert report["labels"]["rubric_version"] == 1 and report["labels"]["other_rubric_versions"] == 3
    assert report["pass_fail"]["kappa"]["n"] == 8 and report["per_annotator"][0]["annotator"] == "bob"
    assert [row["annotator"] for row in report["per_annotator"]] == ["bob"]  # carol graded under v2
    second = start_run(store, dataset="qa", spec=JudgeSpec.from_dict(body))
    execute_run(store, second)
    later = agreement_report(store, second, n_boot=N_BOOT)
    assert later["labels"]["rubric_version"] == 2 and later["labels"]["other_rubric_versions"] == 8
    assert later["labels"]["hash"] != report["labels"]["hash"]


def test_a_few_shot_example_saved_without_its_item_uid_is_left_out_of_every_figure(store, tmp_path):
    ds = labeled_dataset(store, tmp_path, {"alice": [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]})
    body = spec(examples=[{"input": "question 0", "output": "answer 0", "score": 1, "reasoning": "bad"}])
    run = judge_run(store, ds, [1, 2, 3, 4, 5, 1, 2, 3, 4, 5], spec_body=body)
    report = agreement_report(store, run, n_boot=N_BOOT)
    assert report["labels"]["excluded_fewshot"] == 1 and report["scores"]["n"] == 9
    assert report["mean_score"]["n"] == 9 and report["pass_rate"]["judged_items"] == 9
    assert trend(store, "helpful", n_boot=N_BOOT)["points"][0]["mean_score"]["n"] == 9


def test_the_judge_is_measured_against_each_annotator_beside_the_consensus(store, tmp_path):
    rng = np.random.default_rng(3)
    alice = [int(v) for v in rng.integers(1, 6, 30)]
    bob = [min(5, a + 1) for a in alice]
    ds = labeled_dataset(store, tmp_path, {"alice": alice, "bob": bob[:20] + [None] * 10})
    report = agreement_report(store, judge_run(store, ds, alice), n_boot=N_BOOT)
    rows = {row["annotator"]: row for row in report["per_annotator"]}
    assert rows["alice"]["exact_agreement"]["value"] == 1.0 and rows["alice"]["items"] == 30
    assert rows["bob"]["items"] == 20 and rows["bob"]["exact_agreement"]["value"] < 1.0
    assert report["labels"]["annotators_per_item"] == {"1": 10, "2": 20, "3+": 0}
    assert rows["alice"]["quadratic_kappa"]["ci"] is not None
    # bob grades one point higher, so the consensus (the lower median of two) is alice's grade on every item
    assert report["scores"]["exact_agreement"]["value"] == 1.0


def test_compare_and_corrections_also_leave_out_an_example_known_only_by_content(store, tmp_path):
    from judge.improve import corrections
    from judge.reports import compare_runs

    ds = labeled_dataset(store, tmp_path, {"alice": [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]})
    body = spec(examples=[{"input": "question 0", "output": "answer 0", "score": 1, "reasoning": "bad"}])
    with_example = judge_run(store, ds, [5] * 10, spec_body=body)
    other = judge_run(store, ds, [5] * 10, spec_body=spec("other"))
    assert compare_runs(store, [with_example, other], n_boot=N_BOOT)["excluded_fewshot"] == 1
    assert store.item_uids(ds["id"])["q0"] not in set(corrections(store, with_example, tuning_share=1.0)["item_uid"])
