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
