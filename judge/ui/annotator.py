"""Who is labeling: asked once, then remembered in the session and in the URL (`?annotator=`).

Keeping it in the URL means a bookmark or a shared link opens the labeling page as the same person.
"""

from __future__ import annotations

import streamlit as st

from judge.names import name_problem
from judge.ui.plain import plain

SESSION_KEY = "label.annotator"


def remembered_annotator() -> str | None:
    """The name from the session or the URL; a URL's name that no label could carry is ignored."""
    name = st.session_state.get(SESSION_KEY) or st.query_params.get("annotator")
    name = (name or "").strip()
    if name and name_problem(name):
        name = ""
    if name:
        st.session_state[SESSION_KEY] = name
        st.query_params["annotator"] = name
    return name or None


def ask_annotator() -> str:
    """The annotator's name; until they give one, a small form and nothing else on the page."""
    name = remembered_annotator()
    if name:
        return name
    with st.form("label.who", border=True, width=420):
        st.markdown("**Who is labeling?**")
        st.caption("Your name is recorded with every label, so a team can compare graders.")
        typed = st.text_input("Your name", key="label.who.name", placeholder="e.g. maria")
        if st.form_submit_button("Start labeling", type="primary") and typed.strip():
            problem = name_problem(typed)
            if problem:  # the same rule as links and imports (judge.names)
                st.error(problem[0].upper() + problem[1:] + ".", icon=":material/error:")
            else:
                st.session_state[SESSION_KEY] = typed.strip()
                st.query_params["annotator"] = typed.strip()
                st.rerun()
    st.stop()


def annotator_badge() -> None:
    """Shows who labels, with a way to switch person."""
    name = st.session_state.get(SESSION_KEY)
    cols = st.columns([4, 1], vertical_alignment="center")
    cols[0].markdown(f":material/person: Labeling as **{plain(name)}**")
    if cols[1].button("Switch", key="label.switch", type="tertiary"):
        st.session_state.pop(SESSION_KEY, None)
        st.query_params.pop("annotator", None)
        st.rerun()

