"""Judge-first review (the LLM Judge++ flow): the judge labels, a person accepts or corrects each verdict.

A batch of N items of a run (default 16, chosen by a label-next strategy, `uncertain` by default) is shown
with the judge's score, pass/fail and reasoning pre-filled; the person accepts each or corrects it, with a
critique for every correction. The grades are stored as labels of kind 'review': they were given while
seeing the judge's answer and lean towards it, so agreement reports leave them out by default (and count
them), while few-shot examples, tuning (`judge improve`) and distillation use them. `improve_from_review` is
the one step after a review: the corrections become examples of a new spec version (as `judge improve`
does), and that version re-runs on the rest of the items.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from judge.criteria import coerce_passed, coerce_score, is_blank
from judge.errors import JudgeError
from judge.label_next import suggest

DEFAULT_BATCH = 16
DEFAULT_STRATEGY = "uncertain"
REVIEW_COLUMNS = ("item_id", "input", "output", "judge_score", "judge_passed", "judge_reasoning", "score", "passed",
                  "critique")


class InvalidReview(JudgeError, ValueError):
    """A reviewed row that cannot be saved; the message names the file, row and column to fix."""


def review_batch(store, run_id: str, *, n: int = DEFAULT_BATCH, strategy: str = DEFAULT_STRATEGY,
                 seed: int = 0) -> pd.DataFrame:
    """The next `n` items of a run to review, with the judge's verdict pre-filled as the person's grade."""
    run = store.report_run(run_id)
    batch = suggest(store, run["dataset"], run["criterion"], n=n, strategy=strategy, seed=seed, runs=[run_id])
    verdicts = store.judge_item_scores(run_id, int(run["pass_threshold"])).set_index("item_uid")
    reasoning = store.verdicts(run_id).drop_duplicates("item_uid").set_index("item_uid")["reasoning"]
    rows = []
    for s in batch:
        item = store.item(s.item_uid)
        score = verdicts["judge_score"].get(s.item_uid)
        passed = verdicts["judge_passed"].get(s.item_uid)
        rows.append({"item_uid": s.item_uid, "item_id": s.item_id, "input": item.get("input"),
                     "output": item.get("output"), "judge_score": score, "judge_passed": passed,
                     "judge_reasoning": reasoning.get(s.item_uid), "score": score, "passed": passed, "critique": "",
                     "reason": s.reason})
    return pd.DataFrame(rows, columns=["item_uid", *REVIEW_COLUMNS, "reason"])


def export_review(store, run_id: str, path: str | Path, **options: Any) -> int:
    """Write the batch as a CSV to edit in a spreadsheet (change score/passed, add a critique); returns rows."""
    batch = review_batch(store, run_id, **options)
    batch[list(REVIEW_COLUMNS)].to_csv(path, index=False)
    return len(batch)


def save_review(store, run_id: str, reviewed: pd.DataFrame, annotator: str, *, where: str = "the review") -> dict:
    """Validate every row, then store all grades as review labels in one transaction.

    A row whose score or pass/fail differs from the judge's is a correction and needs a critique. Returns
    {"accepted", "corrected", "corrections": rows for few-shot examples, "reviewed": the item uids graded}.
    """
    run = store.report_run(run_id)
    uids = store.item_uids(run["dataset_id"])
    pass_fail = run.get("scale") == "pass/fail"
    grades, corrections = [], []
    for number, row in enumerate(reviewed.to_dict("records"), start=2):
        item_id = str(row.get("item_id", "")).strip()
        if item_id not in uids:
            raise InvalidReview(f"{where}, row {number}, column item_id: no item '{item_id}' in the run's dataset.")
        try:
            score = None if pass_fail else coerce_score(row.get("score"), what="score")
            passed = coerce_passed(row.get("passed"), what="passed")
        except JudgeError as exc:
            raise InvalidReview(f"{where}, row {number}: {exc}") from None
        judge_score = None if pass_fail else coerce_score(row.get("judge_score"), what="judge_score")
        judge_passed = coerce_passed(row.get("judge_passed"), what="judge_passed")
        corrected = (score != judge_score) or (passed is not None and passed != judge_passed)
        critique = None if is_blank(row.get("critique")) else str(row["critique"]).strip()
        if corrected and not critique:
            raise InvalidReview(f"{where}, row {number}, column critique: item {item_id} corrects the judge; "
                                "say why in a critique (it becomes the few-shot example's reasoning).")
        grades.append((uids[item_id], {"score": score, "passed": passed, "critique": critique}))
        if corrected:
            corrections.append({"item_uid": uids[item_id], "human_score": score, "human_passed": passed,
                                "critique": critique})
    with store.transaction():
        for uid, grade in grades:
            store.add_grades(uid, annotator, {run["criterion"]: grade}, kind="review", source=f"review:{run_id}")
    return {"accepted": len(grades) - len(corrections), "corrected": len(corrections),
            "corrections": _with_content(store, corrections), "reviewed": [uid for uid, _ in grades]}


def import_review(store, run_id: str, path: str | Path, annotator: str) -> dict:
    """Read an exported review CSV back (see `save_review`)."""
    try:
        reviewed = pd.read_csv(path, dtype={"item_id": str}, keep_default_na=True)
    except (OSError, ValueError) as exc:
        raise InvalidReview(f"{path}: not a readable CSV ({exc}).") from None
    missing = {"item_id", "score", "passed", "critique", "judge_score", "judge_passed"} - set(reviewed.columns)
    if missing:
        raise InvalidReview(f"{path}: missing column(s) {', '.join(sorted(missing))}; export one with "
                            "`judge review --run RUN --export FILE`.")
    return save_review(store, run_id, reviewed, annotator, where=str(path))


def _with_content(store, corrections: list[dict]) -> pd.DataFrame:
    rows = []
    for correction in corrections:
        item = store.item(correction["item_uid"])
        rows.append({**{key: item.get(key) for key in ("input", "output", "context", "reference")}, **correction})
    return pd.DataFrame(rows)


def corrections_to_fewshot(store, run_id: str, corrections: pd.DataFrame) -> int | None:
    """The one step from corrections to a better judge: the run's spec with the corrections as few-shot
    examples, saved as a new version (items marked as its examples). Returns the version, None without any."""
    from judge.improve import add_fewshot
    from judge.specs import JudgeSpec

    if corrections is None or corrections.empty:
        return None
    run = store.report_run(run_id)
    if run["source"] != "judge" or not run["spec"] or run["spec"].get("kind", "llm") != "llm":
        kind = run["spec"].get("kind") or run["source"] or "recorded"
        raise JudgeError(f"Run {run_id} is a {kind} judge: few-shot examples teach an LLM judge only. The review "
                         "labels are stored; review a run of an LLM judge to turn corrections into examples.")
    spec = JudgeSpec.from_dict(run["spec"])
    _, version = add_fewshot(store, spec, corrections)
    return version


def improve_from_review(store, run_id: str, corrections: pd.DataFrame, *, rerun: bool = True,
                        background: bool = False, concurrency: int = 16, secrets: Mapping | None = None) -> dict:
    """Corrections to few-shot examples of a new spec version, then (with `rerun`) that version judging the
    rest: every item of the run's dataset version that no review graded on its criterion (items labeled
    the usual way are judged again, so the new version's agreement can be measured on them). The re-run
    uses the reviewed run's model; `background` executes it in a thread of this process (the dashboard).

    Returns {"version": the new spec version or None without corrections, "run_id": the re-run or None,
    "items": how many items it judges}. A re-run that cannot start (no API key, say) stores nothing.
    """
    from judge.runner import execute_run, run_in_background, start_run
    from judge.specs import JudgeSpec

    run, recorded = store.report_run(run_id), store.run(run_id)
    with store.transaction():  # the new version and its re-run are recorded together, or neither (no key...)
        version = corrections_to_fewshot(store, run_id, corrections)
        if version is None or not rerun:
            return {"version": version, "run_id": None, "items": 0}
        reviewed = store.labeled_on_criterion(int(run["dataset_id"]), int(run["criterion_id"]), kinds=("review",))
        rest = sorted(set(store.item_uids(int(run["dataset_id"])).values()) - reviewed)
        if not rest:
            return {"version": version, "run_id": None, "items": 0}
        spec = JudgeSpec.from_dict(store.spec_body(run["spec_name"], version))
        new_run = start_run(store, dataset=run["dataset"], spec=spec, model=recorded.get("model"),
                            base_url=recorded.get("base_url"), dataset_version=int(run["dataset_version"]),
                            item_uids=rest, criterion=run["criterion"], concurrency=concurrency,
                            name=f"after review of {run_id}", secrets=secrets)
    if background:
        run_in_background(store, new_run, secrets=secrets)
    else:
        execute_run(store, new_run, secrets=secrets)
    return {"version": version, "run_id": new_run, "items": len(rest)}
