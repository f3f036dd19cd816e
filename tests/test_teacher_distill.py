"""A judge distilled from a teacher run and the people: out of fold on the human labels, beside the teacher."""

from __future__ import annotations

import pytest

from judge.cli import main
from judge.errors import JudgeError
from judge.teacher_distill import distill_from_teacher
from tests.report_data import judge_run, labeled_dataset

N = 80


def _dataset(store, tmp_path, labeled: int):
    """N items, the first `labeled` graded by a person (5 for a good answer, 1 for a bad one)."""
    good = [i % 3 != 0 for i in range(N)]
    ds = labeled_dataset(store, tmp_path, {"ana": [(5 if g else 1) if i < labeled else None
                                                   for i, g in enumerate(good)]}, n=N)
    uids = store.item_uids(ds["id"])
    return ds, good, uids


def test_the_student_is_measured_out_of_fold_beside_its_teacher(store, tmp_path, capsys):
    ds, good, _ = _dataset(store, tmp_path, labeled=30)
    teacher = judge_run(store, ds, [(5 if g else 1) if i % 10 else 3 for i, g in enumerate(good)])
    result = distill_from_teacher(store, teacher, n_boot=100)
    assert result.human_labels == 30 and result.teacher_items == N and result.figure == "scores.quadratic_kappa"
    assert result.student["n"] == result.teacher["n"] == 30
    assert result.teacher["ci"] is not None and result.student["value"] is not None
    verdicts = store.verdicts(result.run_id)
    assert len(verdicts) == N
    assert verdicts["reasoning"].str.startswith("out of fold").sum() == 30
    assert main(["--db", str(store.path), "distill-teacher", "--run", teacher]) == 0
    assert "out of fold: distilled" in capsys.readouterr().err


def test_too_few_human_labels_are_refused(store, tmp_path):
    ds, good, _ = _dataset(store, tmp_path, labeled=5)
    teacher = judge_run(store, ds, [5 if g else 1 for g in good])
    with pytest.raises(JudgeError, match="at least 10"):
        distill_from_teacher(store, teacher)


def test_a_pass_fail_teacher_run_is_compared_with_its_student_on_the_same_items(store, tmp_path, fake_llm, capsys):
    """A pass/fail criterion, a teacher judged through the runner by the fake server on 50 of 60 items, one of
    them its few-shot example: both figures rest on the 49 labeled items both judged that the teacher was
    not shown."""
    from judge.runner import execute_run, start_run
    from judge.specs import save_spec
    from tests.test_criteria import N as TICKETS, _pass_fail_spec, _script, _tickets

    _tickets(store, tmp_path)
    uids = store.item_uids(store.dataset("tickets")["id"])
    example = {"input": "ticket 3", "output": "answer 3", "score": 1, "reasoning": "Unresolved.",
               "item_uid": uids["t3"]}
    spec = _pass_fail_spec(examples=[example])
    save_spec(store, spec)
    store.mark_fewshot(spec.name, uids["t3"])
    _script(fake_llm)
    teacher = start_run(store, dataset="tickets", spec=spec, item_uids=[uids[f"t{i}"] for i in range(50)])
    execute_run(store, teacher)

    result = distill_from_teacher(store, teacher, n_boot=100)
    assert result.figure == "pass_fail.kappa" and result.teacher_items == 50 and result.human_labels == TICKETS
    assert result.student["n"] == result.teacher["n"] == 49
    assert result.student["ci"] is not None and result.teacher["ci"] is not None
    verdicts = store.verdicts(result.run_id)
    assert len(verdicts) == TICKETS and verdicts["score"].isna().all() and verdicts["passed"].notna().all()
    assert main(["--db", str(store.path), "distill-teacher", "--run", teacher, "--no-review-labels"]) == 0
    assert "pass_fail.kappa on the human labels, out of fold" in capsys.readouterr().err
