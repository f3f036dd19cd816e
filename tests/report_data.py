"""Builders for report tests: a labeled dataset file and judge runs with chosen scores (through the real store)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from judge.criteria import run_criterion
from judge.importing import import_file
from judge.specs import JudgeSpec, save_spec

RUBRIC = {"1": "Wrong.", "2": "Mostly wrong.", "3": "Partly right.", "4": "Right with gaps.", "5": "Right."}


def labeled_dataset(store, tmp_path: Path, labels: dict[str, list[Any]], *, name: str = "qa", n: int | None = None,
                    metadata: dict[str, list[Any]] | None = None, references: list[str] | None = None,
                    answer: str = "answer") -> dict:
    """A dataset of n items q0, q1, ... with one 'score:<annotator>' column per annotator (None = unlabeled).

    A different `answer` makes new items: the outputs of another app version.
    """
    n = n if n is not None else len(next(iter(labels.values())))
    columns = {"id": [f"q{i}" for i in range(n)], "input": [f"question {i}" for i in range(n)],
               "output": [f"{answer} {i}" for i in range(n)]}
    if references is not None:
        columns["reference"] = references
    columns.update(metadata or {})
    columns.update({f"score:{who}": scores for who, scores in labels.items()})
    path = tmp_path / f"{name}.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(list(columns))
        for row in zip(*columns.values()):
            writer.writerow(["" if v is None else v for v in row])
    import_file(store, path, dataset=name)
    return store.dataset(name)


def spec(name: str = "helpful", **changes) -> dict:
    body = dict(name=name, criteria="Is the answer helpful?", rubric=dict(RUBRIC),
                template="Q: {input}\nA: {output}\n{criteria}\n{rubric}", model="openai/gpt-test")
    body.update(changes)
    return JudgeSpec(**body).to_dict()


def judge_run(store, dataset: dict, scores: list[int | None], *, spec_body: dict | None = None,
              model: str = "openai/gpt-test", version_tag: str | None = None, cost: float = 0.001,
              latency_ms: float = 100.0, run_id: str | None = None) -> str:
    """A finished run whose verdict for item q<i> is scores[i] (None = a parse failure)."""
    body = spec_body or spec()
    version = save_spec(store, body)
    record = store.spec_record(body["name"], version)
    uid_of = store.item_uids(dataset["id"])
    run_id = run_id or f"run-{len(store.runs())}"
    judged = JudgeSpec.from_dict(body)
    criterion, measured = run_criterion(store, dataset["name"], judged.judged_criterion)
    store.create_run(run_id=run_id, dataset_id=dataset["id"], spec_name=body["name"], spec_id=record["id"],
                     model=model, base_url=None, params={}, samples=1, version_tag=version_tag,
                     total_items=len(scores), template_hash=None, code_version="test", spec_body=body,
                     criterion=criterion, pass_threshold=judged.pass_threshold,
                     rubric_id=measured.rubric_id if measured else None)
    store.add_verdicts([
        {"run_id": run_id, "item_uid": uid_of[f"q{i}"], "sample": 0, "score": None if s is None else int(s),
         "error": None if s is not None else "no score in reply", "reasoning": f"because {i}",
         "cost_usd": cost, "latency_ms": latency_ms}
        for i, s in enumerate(scores)
    ])
    store.set_run_status(run_id, "done")
    return run_id
