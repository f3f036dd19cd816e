"""The grading form: a 1-5 score with the rubric's anchors in view, pass/fail, a critique, and navigation.

One form per item (widget keys include the item uid), so switching items never carries a half-typed grade over,
and Streamlit reruns only when a button is pressed. Keyboard: Ctrl/Cmd+S saves and moves on, Alt+N skips,
Alt+B goes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import streamlit as st

SAVE_SHORTCUT, SKIP_SHORTCUT, BACK_SHORTCUT = "Ctrl+S", "Alt+N", "Alt+B"
PASS_OPTIONS = ("Pass", "Fail")


@dataclass
class FormResult:
    """What the person did: `action` is "save", "skip" or "back"; the grade is set only for "save"."""

    action: str
    score: int | None = None
    passed: bool | None = None
    critique: str | None = None


def show_rubric(rubric: Mapping[str, Any]) -> None:
    st.markdown(f"**Rubric: {rubric['name']}**" + (f" v{rubric['version']}" if rubric.get("version") else ""))
    st.caption(rubric["criteria"])


def _index(options: tuple, value: Any) -> int | None:
    return options.index(value) if value in options else None


def label_form(
    key: str, rubric: Mapping[str, Any], previous: Mapping[str, Any] | None = None, *, can_go_back: bool = True
) -> FormResult | None:
    """Draw the form; returns what was pressed on this run, or None. `previous` prefills an earlier label."""
    previous = previous or {}
    scores = (1, 2, 3, 4, 5)
    anchors = rubric["anchors"]
    threshold = int(rubric.get("pass_threshold") or 4)
    old_score = previous.get("score")
    old_score = int(old_score) if old_score is not None and old_score == old_score else None
    old_passed = previous.get("passed")
    old_pass_option = None if old_passed is None or old_passed != old_passed else ("Pass" if old_passed else "Fail")

    with st.form(f"{key}.form", border=True):
        show_rubric(rubric)
        score = st.radio(
            "Score", scores, index=_index(scores, old_score), key=f"{key}.score",
            format_func=lambda s: f"**{s}** · {anchors[str(s)]}",
        )
        passed = st.radio(
            "Pass or fail", PASS_OPTIONS, index=_index(PASS_OPTIONS, old_pass_option), key=f"{key}.passed",
            horizontal=True, help=f"Left empty, it follows the score: {threshold} or more passes.",
        )
        critique = st.text_area(
            "Critique", value=previous.get("critique") or "", key=f"{key}.critique", height=90,
            placeholder="What is wrong or right about this output, in a sentence or two.",
        )
        save = st.form_submit_button(
            "Save and next", icon=":material/check:", type="primary", shortcut=SAVE_SHORTCUT, width="stretch",
        )
        back_col, skip_col = st.columns(2)
        back = back_col.form_submit_button(
            "Back", icon=":material/arrow_back:", disabled=not can_go_back, shortcut=BACK_SHORTCUT, width="stretch",
        )
        skip = skip_col.form_submit_button(
            "Skip", icon=":material/skip_next:", shortcut=SKIP_SHORTCUT, width="stretch",
        )

    if back:
        return FormResult("back")
    if skip:
        return FormResult("skip")
    if save:
        if score is None and passed is None:
            st.error("Choose a score (or at least pass/fail) before saving, or press Skip.", icon=":material/error:")
            return None
        if passed is None:
            passed_value = score >= threshold
        else:
            passed_value = passed == "Pass"
        return FormResult("save", score=score, passed=passed_value, critique=critique.strip() or None)
    return None
