"""The grading form: every criterion of an item on one screen, each with its rubric's anchors, pass/fail and a
critique, saved together, and navigation.

One form per item (widget keys include the item uid), so switching items never carries a half-typed grade over,
and Streamlit reruns only when a button is pressed. A criterion left blank is not saved (grade what you can);
the pass/fail of a 1-5 grade left unticked is resolved by the store from the rubric (judge.criteria).
Keyboard: Ctrl/Cmd+S saves and moves on, Alt+N skips, Alt+B goes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import streamlit as st

from judge.criteria import Criterion, is_missing
from judge.labeling import rubric_for

SAVE_SHORTCUT, SKIP_SHORTCUT, BACK_SHORTCUT = "Ctrl+S", "Alt+N", "Alt+B"
PASS_OPTIONS = ("Pass", "Fail")


@dataclass
class FormResult:
    """What the person did: `action` is "save", "skip" or "back"; `grades` (criterion name -> score, passed,
    critique) is set only for "save" and holds only the criteria that were graded."""

    action: str
    grades: dict[str, dict[str, Any]] = field(default_factory=dict)


def show_rubric(rubric: Mapping[str, Any]) -> None:
    st.markdown(f"**Rubric: {rubric['name']}**" + (f" v{rubric['version']}" if rubric.get("version") else ""))
    st.caption(rubric["criteria"])


def _index(options: tuple, value: Any) -> int | None:
    return options.index(value) if value in options else None


def _pass_option(value: Any) -> str | None:
    return None if is_missing(value) else ("Pass" if value else "Fail")


def grade_inputs(key: str, criterion: Criterion, previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The inputs of one criterion (inside a form): its title and rubric, the score (1-5 criteria) or the
    pass/fail (pass/fail criteria), and a critique. Returns what is entered, None where left blank."""
    previous = previous or {}
    rubric = rubric_for(criterion)
    anchors = rubric["anchors"]
    scale = "pass or fail" if criterion.is_pass_fail else "1-5"
    st.markdown(f"##### {criterion.name} · {scale}")
    show_rubric(rubric)
    score = None
    if criterion.is_pass_fail:
        passed = st.radio(
            f"{criterion.name}: pass or fail", PASS_OPTIONS, key=f"{key}.passed",
            index=_index(PASS_OPTIONS, _pass_option(previous.get("passed"))),
            format_func=lambda o: f"**{o}** · {anchors[o.lower()]}", label_visibility="collapsed",
        )
    else:
        old_score = previous.get("score")
        scores = (1, 2, 3, 4, 5)
        score = st.radio(
            f"{criterion.name}: score", scores, key=f"{key}.score", label_visibility="collapsed",
            index=_index(scores, None if is_missing(old_score) else int(old_score)),
            format_func=lambda s: f"**{s}** · {anchors[str(s)]}",
        )
        passed = st.radio(
            f"{criterion.name}: pass or fail", PASS_OPTIONS, key=f"{key}.passed", horizontal=True,
            index=_index(PASS_OPTIONS, _pass_option(previous.get("ticked", previous.get("passed")))),
            help=f"Left empty, it follows the score: {criterion.pass_threshold} or more passes.",
        )
    critique = st.text_area(
        f"{criterion.name}: critique", value=previous.get("critique") or "", key=f"{key}.critique", height=80,
        placeholder="What is wrong or right about this output, in a sentence or two.",
    )
    return {"score": score, "passed": None if passed is None else passed == "Pass",
            "critique": critique.strip() or None}


def label_form(
    key: str, criteria: list[Criterion], previous: Mapping[str, Mapping[str, Any]] | None = None, *,
    can_go_back: bool = True,
) -> FormResult | None:
    """Draw the form for every criterion; returns what was pressed on this run, or None.

    `previous` maps a criterion name to an earlier label, which prefills that criterion's inputs.
    """
    previous = previous or {}
    with st.form(f"{key}.form", border=True):
        entered = {}
        for number, criterion in enumerate(criteria):
            if number:
                st.divider()
            entered[criterion.name] = grade_inputs(f"{key}.{criterion.name}", criterion,
                                                   previous.get(criterion.name))
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
        graded = {name: grade for name, grade in entered.items()
                  if grade["score"] is not None or grade["passed"] is not None}
        orphans = [name for name, grade in entered.items() if name not in graded and grade["critique"]]
        if orphans:
            st.error(f"Give a grade for {', '.join(orphans)} (or clear its critique) before saving.",
                     icon=":material/error:")
            return None
        if not graded:
            st.error("Grade at least one criterion before saving, or press Skip.", icon=":material/error:")
            return None
        return FormResult("save", graded)
    return None
