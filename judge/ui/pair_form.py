"""Pairwise labeling widgets: two outputs side by side in the order this person sees them, and the choice.

The outputs are drawn with `st.text` like every item field (`judge.ui.item_view`), so neither can run code.
Keyboard: Alt+1 the left output is better, Alt+2 the right one, Alt+T a tie, Alt+N skip.
"""

from __future__ import annotations

from typing import Any, Mapping

import streamlit as st

from judge.ui.item_view import show_field

FIRST_SHORTCUT, SECOND_SHORTCUT, TIE_SHORTCUT, SKIP_SHORTCUT = "Alt+1", "Alt+2", "Alt+T", "Alt+N"


def show_pair(pair: Mapping[str, Any]) -> None:
    """Input, then Response 1 and Response 2 side by side (the pair's shown order), then context/reference."""
    if pair.get("input"):
        show_field("Input", pair["input"])
    left, right = st.columns(2, gap="medium")
    with left:
        show_field("Response 1", pair["first"])
    with right:
        show_field("Response 2", pair["second"])
    for name in ("context", "reference"):
        if pair.get(name):
            show_field(name.title(), pair[name])


def preference_form(key: str, criterion: str) -> tuple[str, str | None] | None:
    """The choice pressed on this run: ('first' | 'second' | 'tie' | 'skip', critique), or None."""
    with st.form(f"{key}.form", border=True):
        st.markdown(f"##### {criterion}: which response is better?")
        critique = st.text_area("Critique (optional)", key=f"{key}.critique", height=80,
                                placeholder="Why, in a sentence or two.")
        first_col, tie_col, second_col = st.columns(3)
        first = first_col.form_submit_button("Response 1 is better", icon=":material/arrow_back:", type="primary",
                                             shortcut=FIRST_SHORTCUT, width="stretch")
        tie = tie_col.form_submit_button("Tie", icon=":material/drag_handle:", shortcut=TIE_SHORTCUT,
                                         width="stretch")
        second = second_col.form_submit_button("Response 2 is better", icon=":material/arrow_forward:",
                                               type="primary", shortcut=SECOND_SHORTCUT, width="stretch")
        skip = st.form_submit_button("Skip", icon=":material/skip_next:", shortcut=SKIP_SHORTCUT, type="tertiary")
    st.caption(f"Keys: {FIRST_SHORTCUT} response 1 · {SECOND_SHORTCUT} response 2 · {TIE_SHORTCUT} tie · "
               f"{SKIP_SHORTCUT} skip")
    note = critique.strip() or None
    for slot, pressed in (("first", first), ("second", second), ("tie", tie), ("skip", skip)):
        if pressed:
            return slot, note
    return None
