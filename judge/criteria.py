"""Criteria: what people grade an output on, each with its own scale and versioned rubric.

A dataset has one or more criteria (SummEval grades coherence, consistency, fluency and relevance of the same
summaries). A criterion's scale is `1-5` (a score with rubric anchors, and a pass threshold) or `pass/fail`.
Every label belongs to one criterion, and every judge run is measured against the labels of its criterion only.

The one pass/fail rule lives here. A human label's pass/fail is resolved once, when it is written, from the
rubric version it was given under: an explicit pass/fail wins, else a score passes when it reaches that
rubric version's pass threshold. The result is stored with the label and never re-derived later (not from a
judge's threshold, not from a newer rubric), so the same grade counts the same wherever it was saved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from judge.errors import JudgeError

SCALE_SCORE = "1-5"
SCALE_PASS_FAIL = "pass/fail"
SCALES = (SCALE_SCORE, SCALE_PASS_FAIL)
DEFAULT_CRITERION = "overall"
DEFAULT_PASS_THRESHOLD = 4
SCORE_KEYS = ("1", "2", "3", "4", "5")
PASS_FAIL_KEYS = ("pass", "fail")
MAX_CRITERION_NAME = 64


class InvalidLabel(JudgeError, ValueError):
    """A grade that does not fit its criterion's scale; the message says what a valid grade looks like."""


class InvalidCriterion(JudgeError):
    """A criterion definition that cannot be stored: bad name, unknown scale, a scale that would change."""


def is_missing(value: Any) -> bool:
    """True for None, NaN, pandas' NA and NaT: the one test for "no value" across plain and DataFrame data."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def is_blank(value: Any) -> bool:
    """Missing, or text with nothing but white space: a cell or field that says nothing."""
    return is_missing(value) or (isinstance(value, str) and not value.strip())


def coerce_score(value: Any, *, what: str = "A score") -> int | None:
    """A whole 1-5 score from an int, a whole float or its text ("4", "4.0"); None when missing.

    Raises InvalidLabel for anything else (3.5, "high", True), naming what was given.
    """
    if is_missing(value) or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise InvalidLabel(f"{what} must be a whole number from 1 to 5, not {value!r}.")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise InvalidLabel(f"{what} must be a whole number from 1 to 5, not {value!r}.") from None
    if not number.is_integer() or not 1 <= number <= 5:
        raise InvalidLabel(f"{what} must be a whole number from 1 to 5, not {value!r}.")
    return int(number)


def normalize_scale(scale: Any) -> str:
    text = str(scale or "").strip().lower().replace(" ", "")
    aliases = {"1-5": SCALE_SCORE, "score": SCALE_SCORE, "1to5": SCALE_SCORE, "likert": SCALE_SCORE,
               "pass/fail": SCALE_PASS_FAIL, "passfail": SCALE_PASS_FAIL, "pass_fail": SCALE_PASS_FAIL,
               "binary": SCALE_PASS_FAIL, "pass-fail": SCALE_PASS_FAIL}
    if text not in aliases:
        raise InvalidCriterion(f"A criterion's scale is '1-5' or 'pass/fail', not {scale!r}.")
    return aliases[text]


def check_criterion_name(name: Any) -> str:
    text = str(name or "").strip()
    if not text:
        raise InvalidCriterion("A criterion needs a name, e.g. faithfulness.")
    if len(text) > MAX_CRITERION_NAME or any(not (ch.isalnum() or ch in "_-. ") for ch in text):
        raise InvalidCriterion(
            f"Criterion name {text!r} is not allowed: use up to {MAX_CRITERION_NAME} letters, digits, "
            "spaces, '_', '-' or '.'."
        )
    return text


def check_anchors(anchors: Any, scale: str = SCALE_SCORE) -> dict[str, str]:
    """A rubric's anchors: one description per score 1-5 (1-5 scale) or per pass and fail (pass/fail scale)."""
    keys = SCORE_KEYS if scale == SCALE_SCORE else PASS_FAIL_KEYS
    if not isinstance(anchors, dict) or sorted(str(k).lower() for k in anchors) != sorted(keys):
        wanted = "each score 1 to 5" if scale == SCALE_SCORE else "'pass' and 'fail'"
        raise InvalidCriterion(f"A {scale} rubric needs an anchor description for {wanted}.")
    return {str(k).lower(): str(v) for k, v in anchors.items()}


def resolve_pass(score: int | None, passed: bool | None, pass_threshold: int | None) -> bool | None:
    """THE pass/fail rule: an explicit pass/fail wins; else score >= the rubric version's threshold."""
    if passed is not None:
        return bool(passed)
    if score is None or pass_threshold is None:
        return None
    return int(score) >= int(pass_threshold)


def resolve_pass_column(scores: pd.Series, passed: pd.Series, pass_threshold: int | None) -> pd.Series:
    """`resolve_pass` over whole columns (imports): nullable booleans, NA where neither is known."""
    explicit = passed.astype("boolean")
    if pass_threshold is None:
        return explicit
    derived = scores.astype("Int64") >= int(pass_threshold)
    return explicit.where(explicit.notna(), derived).astype("boolean")


@dataclass(frozen=True)
class Grade:
    """One person's grade on one criterion, validated for its scale, with its pass/fail resolved."""
    score: int | None
    passed: bool | None
    critique: str | None
    effective_passed: bool | None


@dataclass
class Criterion:
    """A criterion of a dataset with the rubric version labels are given under now."""
    name: str
    scale: str = SCALE_SCORE
    dataset: str | None = None
    id: int | None = None
    rubric: dict[str, Any] = field(default_factory=dict)

    @property
    def is_pass_fail(self) -> bool:
        return self.scale == SCALE_PASS_FAIL

    @property
    def pass_threshold(self) -> int | None:
        """The rubric version's threshold for 1-5 criteria (4 without a saved rubric); None for pass/fail."""
        if self.is_pass_fail:
            return None
        return int(self.rubric.get("pass_threshold") or DEFAULT_PASS_THRESHOLD)

    @property
    def rubric_id(self) -> int | None:
        return self.rubric.get("id")

    @property
    def primary_figure(self) -> tuple[str, str]:
        """(section, figure) a judge of this criterion is ranked by: quadratic kappa, or pass/fail kappa."""
        return ("pass_fail", "kappa") if self.is_pass_fail else ("scores", "quadratic_kappa")

    def grade(self, score: Any = None, passed: Any = None, critique: Any = None) -> Grade:
        """Validate a grade for this scale and resolve its pass/fail (the one rule, see the module doc)."""
        score = coerce_score(score, what=f"A score for '{self.name}'")
        passed = coerce_passed(passed, what=f"Pass/fail for '{self.name}'")
        if self.is_pass_fail and score is not None:
            raise InvalidLabel(f"'{self.name}' is graded pass/fail: give pass or fail, not a score ({score}).")
        if score is None and passed is None:
            needed = "pass or fail" if self.is_pass_fail else "a 1-5 score or a pass/fail"
            raise InvalidLabel(f"A grade for '{self.name}' needs {needed}.")
        critique = None if is_missing(critique) else (str(critique).strip() or None)
        return Grade(score, passed, critique, resolve_pass(score, passed, self.pass_threshold))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "scale": self.scale, "dataset": self.dataset, "id": self.id,
                "pass_threshold": self.pass_threshold, "rubric_version": self.rubric.get("version"),
                "rubric_id": self.rubric_id}


_PASS_WORDS = {"true": True, "pass": True, "passed": True, "yes": True, "y": True, "1": True, "ok": True,
               "false": False, "fail": False, "failed": False, "no": False, "n": False, "0": False}


def coerce_passed(value: Any, *, what: str = "Pass/fail") -> bool | None:
    """True/False from a bool, 1/0 or a word (pass/fail, yes/no, true/false); None when missing."""
    if is_missing(value) or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and float(value) in (0.0, 1.0):
        return bool(value)
    word = str(value).strip().lower()
    if word not in _PASS_WORDS:
        raise InvalidLabel(f"{what} must be one of pass/fail, true/false, yes/no or 1/0, not {value!r}.")
    return _PASS_WORDS[word]


def guess_scale(values: list[Any]) -> str:
    """The scale a column of human grades is on: pass/fail when every value is a pass/fail word, else 1-5."""
    present = [v for v in values if not is_missing(v) and not (isinstance(v, str) and not v.strip())]
    if not present:
        return SCALE_SCORE
    words = set(_PASS_WORDS) - {"1", "0"}
    if all(isinstance(v, (bool, np.bool_)) or str(v).strip().lower() in words for v in present):
        return SCALE_PASS_FAIL
    return SCALE_SCORE


def round_score(value: Any, rule: str | None) -> Any:
    """Apply an import's rounding rule to a mean rating: 'nearest' rounds half up (2.5 -> 3, 1.667 -> 2)."""
    if rule is None or is_missing(value) or isinstance(value, bool):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    if rule == "nearest":
        return int(math.floor(number + 0.5))
    raise JudgeError(f"Unknown rounding rule {rule!r}; the one rule is 'nearest' (halves round up).")


def run_criterion(store, dataset_name: str, judged: str, explicit: str | None = None) -> tuple[str, Criterion | None]:
    """The criterion a new run of a judge is measured on: `explicit` (--criterion) if given, else the one the
    spec grades (`judged`), else the dataset's only criterion. (name, Criterion or None when the dataset
    defines no criteria yet, so the run still records the name its labels will be given under)."""
    from judge.errors import NotFound

    if explicit:
        return explicit, store.criterion(dataset_name, explicit)
    records = store.criteria_records(dataset_name)
    names = [r["name"] for r in records]
    if judged in names:
        return judged, store.criterion(dataset_name, judged)
    if len(records) == 1:
        return names[0], store.criterion(dataset_name, names[0])
    if not records:
        return judged, None
    raise NotFound(f"Dataset '{dataset_name}' has the criteria {', '.join(names)} and none is named "
                   f"'{judged}' (what this judge grades): pick one with --criterion NAME.")
