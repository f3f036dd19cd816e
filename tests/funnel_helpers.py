"""A labeled dataset and three stages with scripted confidences, shared by the funnel tests.

Item i ("What is i + i?"): people fail it when i % 3 == 0 (its output is broken: the format check fails it
for sure) or i % 5 == 0, else pass it. Through the fake server (tests/fake_llm.py), by log-probabilities:
- the cheap model is sure (0.97) and right when i % 4 == 0, else unsure (0.6) and wrong;
- the strong model is sure (0.95) and right, except i % 7 == 3 (an unreadable reply, even after the repair
  request: a failed call) and i % 4 == 3 (unsure, 0.55, and wrong), so those go to people unless settled earlier.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from judge.importing import import_file
from judge.specs import JudgeSpec, save_spec
from runner_helpers import RUBRIC

ITEMS = 200
CHEAP = "openai/gpt-cheap"
STRONG = "openai/gpt-strong"
STAGES = ["offline:format_checks", f"llm:sum_judge@{CHEAP}", f"llm:sum_judge@{STRONG}"]
_ITEM = re.compile(r"What is (\d+) \+")


def human_passes(i: int) -> bool:
    return not (is_broken(i) or i % 5 == 0)


def is_broken(i: int) -> bool:
    return i % 3 == 0


def write_dataset(path: Path, n: int = ITEMS) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "input", "output", "correct"])
        for i in range(n):
            output = "???" if is_broken(i) else f"It is {2 * i}."
            writer.writerow([f"q{i}", f"What is {i} + {i}?", output, "pass" if human_passes(i) else "fail"])
    return path


def build_store(store, tmp_path: Path, n: int = ITEMS) -> str:
    """The 'sums' dataset with every item labeled on 'correct' (pass/fail), and the two judge specs saved."""
    import_file(store, write_dataset(tmp_path / "sums.csv", n), dataset="sums", criteria=["correct"],
                annotator="maya")
    save_spec(store, JudgeSpec(name="format_checks", kind="assertion", criterion="correct", rubric=dict(RUBRIC),
                               checks=[{"type": "regex_present", "pattern": "^It is \\d+", "name": "says a number"}]))
    save_spec(store, JudgeSpec(name="sum_judge", criteria="Is the sum right?", rubric=dict(RUBRIC), criterion="correct",
                               template="Question: {input}\nAnswer: {output}\n{rubric}", model=CHEAP,
                               params={"temperature": 0, "max_tokens": 200}))
    return "sums"


def _verdict(right: bool, passes: bool, confidence: float) -> dict:
    said_pass = passes if right else not passes
    score = 5 if said_pass else 1
    other = 1 if said_pass else 5
    return {"reasoning": "scripted", "score": score, "score_probs": {score: confidence, other: 1 - confidence}}


def scripted_reply(body: dict):
    """The fake server's reply to one call, from the item number in the prompt and the model called."""
    text = " ".join(str(m.get("content")) for m in body.get("messages") or [])
    i = int(_ITEM.search(text).group(1))
    passes = human_passes(i)
    if "cheap" in body.get("model", ""):
        return _verdict(True, passes, 0.97) if i % 4 == 0 else _verdict(False, passes, 0.6)
    if i % 7 == 3:
        return "I would rather not say."  # not JSON: unreadable, and again after the repair request
    if i % 4 == 3:
        return _verdict(False, passes, 0.55)
    return _verdict(True, passes, 0.95)
