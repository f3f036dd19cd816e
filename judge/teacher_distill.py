"""A judge distilled from an LLM run (the teacher) and the people: LLM Judge++'s last step, measured honestly.

The training set is the teacher's verdict on every item it judged, plus every human label (each weighing
HUMAN_WEIGHT teacher verdicts, and replacing the teacher's verdict on its item); review labels count here,
since teaching is what they are for. The model and features are `judge.distill.make_model`'s (TF-IDF of the
output, overlap with input and reference, length; logistic regression), on 1-5 scores or pass/fail.

Honesty: a human-labeled item's verdict comes from a model that saw neither its label nor the teacher's
verdict on it (k folds over the labeled items), so its agreement is measured out of fold; `distill_from_teacher`
returns it beside the teacher's agreement on the same labeled items (`side_by_side`: both judged them, none
is a few-shot example of the teacher's), each figure with its interval.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_limits

from judge.distill import MODEL_NAME, TEXT_COLUMNS, make_model
from judge.errors import JudgeError
from judge.reports.agreement import agreement_figures, paired_labels

HUMAN_WEIGHT = 5.0
MIN_HUMAN_LABELS = 10


@dataclass(frozen=True)
class TeacherDistillResult:
    run_id: str
    teacher_run: str
    teacher_items: int
    human_labels: int
    figure: str
    student: dict[str, Any]
    teacher: dict[str, Any]

    def describe(self) -> str:
        def text(f: dict[str, Any]) -> str:
            if f["value"] is None:
                return f"undefined ({f['undefined']})"
            return f"{f['value']:.3f} [{f['ci'][0]:.3f}, {f['ci'][1]:.3f}]" if f["ci"] else f"{f['value']:.3f}"
        return (f"run {self.run_id}: trained on {self.teacher_items} verdicts of {self.teacher_run} and "
                f"{self.human_labels} human labels; {self.figure} on the human labels, out of fold: distilled "
                f"{text(self.student)}, teacher {text(self.teacher)}")


def distill_from_teacher(store, teacher_run: str, *, human_weight: float = HUMAN_WEIGHT, folds: int = 5,
                         seed: int = 0, name: str | None = None, n_boot: int = 1000,
                         include_review: bool = True) -> TeacherDistillResult:
    """Train on a run's verdicts and the human labels of its criterion (review labels too, unless
    `include_review=False`); store the student as a run."""
    run = store.report_run(teacher_run)
    binary = run.get("scale") == "pass/fail"
    items = store.items(int(run["dataset_id"]))
    frame = items.assign(**{c: items[c].fillna("").astype(str) for c in TEXT_COLUMNS}).reset_index(drop=True)
    verdicts = store.judge_item_scores(teacher_run, int(run["pass_threshold"])).set_index("item_uid")
    humans = store.human_item_labels(int(run["dataset_id"]), run.get("criterion_id"),
                                     include_review=include_review)
    column = "passed" if binary else "score"
    teacher = verdicts[f"judge_{column}"].dropna().astype(int).reindex(frame["uid"]).to_numpy(dtype=float)
    human = (humans.dropna(subset=[f"human_{column}"]).set_index("item_uid")[f"human_{column}"].astype(int)
             .reindex(frame["uid"]).to_numpy(dtype=float))
    labeled = np.flatnonzero(~np.isnan(human))
    if len(labeled) < MIN_HUMAN_LABELS:
        raise JudgeError(f"Run {teacher_run}'s criterion has {len(labeled)} human labels; distilling with a "
                         f"teacher needs at least {MIN_HUMAN_LABELS} to measure the student. Label more items.")
    target = np.where(np.isnan(human), teacher, human)
    weight = np.where(np.isnan(human), 1.0, float(human_weight))
    usable = ~np.isnan(target)

    predicted = np.full(len(frame), np.nan)
    expected = np.full(len(frame), np.nan)
    with threadpool_limits(limits=1):
        splits = KFold(min(folds, len(labeled)), shuffle=True, random_state=seed).split(labeled)
        for train_labeled, test_labeled in splits:
            held_out = labeled[test_labeled]
            train = usable.copy()
            train[held_out] = False  # neither its label nor the teacher's verdict on it
            predicted[held_out], expected[held_out] = _fit_predict(frame, target, weight, train, held_out, seed)
        rest = np.flatnonzero(np.isnan(human))
        if len(rest):
            predicted[rest], expected[rest] = _fit_predict(frame, target, weight, usable, rest, seed)

    pass_threshold = int(run["pass_threshold"])
    run_id = f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    out_of_fold = set(labeled.tolist())
    rows = [{"run_id": run_id, "item_uid": uid, "sample": 0, "score": None if binary else int(p),
             "weighted_score": float(e), "passed": bool(p) if binary else int(p) >= pass_threshold,
             "reasoning": ("out of fold: " if i in out_of_fold else "") + f"distilled from {teacher_run} and people",
             "cost_usd": 0.0, "cached": False}
            for i, (uid, p, e) in enumerate(zip(frame["uid"], predicted, expected)) if not np.isnan(p)]
    spec_name = name or f"distilled:{run['dataset']}:{run['criterion']}:teacher"
    with store.transaction():
        store.create_run(
            run_id=run_id, dataset_id=int(run["dataset_id"]), spec_name=spec_name, model=MODEL_NAME, base_url=None,
            params={"kind": "distilled", "teacher_run": teacher_run, "human_weight": human_weight, "folds": folds,
                    "seed": seed, "labels": int(len(labeled)),
                    "include_review": include_review},
            samples=1, version_tag=run.get("version_tag"), total_items=len(frame), template_hash=None,
            code_version="distilled", source="distilled", criterion=run["criterion"], pass_threshold=pass_threshold,
            rubric_id=run.get("rubric_id"))
        store.add_verdicts(rows)
        store.set_run_status(run_id, "done")
    section, figure = ("pass_fail", "kappa") if binary else ("scores", "quadratic_kappa")
    student, teacher_figures = side_by_side(store, run_id, teacher_run, n_boot=n_boot, seed=seed)
    return TeacherDistillResult(run_id, teacher_run, int(np.sum(~np.isnan(teacher))), int(len(labeled)),
                                f"{section}.{figure}", student[section][figure], teacher_figures[section][figure])


def side_by_side(store, student_run: str, teacher_run: str, *, n_boot: int = 1000, seed: int = 0
                 ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Agreement figures of the student and the teacher on the SAME labeled items: those both judged, minus
    the teacher's few-shot examples (the teacher was shown their answers) and review labels (anchored)."""
    student_pairs, _ = paired_labels(store, store.report_run(student_run))
    teacher_pairs, _ = paired_labels(store, store.report_run(teacher_run))
    shared = set(student_pairs["item_uid"]) & set(teacher_pairs["item_uid"])
    return tuple(agreement_figures(pairs[pairs["item_uid"].isin(shared)].reset_index(drop=True), n_boot=n_boot,
                                   seed=seed) for pairs in (student_pairs, teacher_pairs))


def _fit_predict(frame: pd.DataFrame, target: np.ndarray, weight: np.ndarray, train: np.ndarray,
                 rows: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Most probable and expected grade of `rows` from a model fitted on the `train` mask."""
    y = target[train].astype(int)
    if len(np.unique(y)) == 1:
        return np.full(len(rows), float(y[0])), np.full(len(rows), float(y[0]))
    model = make_model(seed).fit(frame[train], y, model__sample_weight=weight[train])
    proba = model.predict_proba(frame.iloc[rows])
    classes = model.named_steps["model"].classes_
    return classes[proba.argmax(axis=1)].astype(float), proba @ classes.astype(float)
