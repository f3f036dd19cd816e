"""Small builders shared by the runner tests and the runner benchmark: a dataset file and a judge spec."""

from __future__ import annotations

import csv
from pathlib import Path

from judge.importing import import_file
from judge.specs import JudgeSpec

RUBRIC = {"1": "Wrong.", "2": "Mostly wrong.", "3": "Partly right.", "4": "Right with gaps.", "5": "Right."}


def write_rows(path: Path, n: int, *, offset: int = 0) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "input", "output", "reference"])
        for i in range(offset, offset + n):
            writer.writerow([f"q{i}", f"What is {i} + {i}?", f"It is {2 * i}.", str(2 * i)])
    return path


def make_dataset(store, tmp_path: Path, n: int, *, name: str = "sums") -> str:
    import_file(store, write_rows(tmp_path / f"{name}.csv", n), dataset=name)
    return name


def llm_spec(**changes) -> JudgeSpec:
    body = dict(name="sum_checker", criteria="Is the sum right?", rubric=dict(RUBRIC),
                template="Question: {input}\nAnswer: {output}\nCriteria: {criteria}\n{rubric}",
                model="openai/gpt-test", params={"temperature": 0, "max_tokens": 200})
    body.update(changes)
    return JudgeSpec(**body)
