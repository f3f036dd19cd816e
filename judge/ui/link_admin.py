"""Links to a labeling task on the dashboard: make one (its URL shown only once), list them, revoke one.

Shared by the Team labeling page (1-5 and pass/fail tasks) and the Pairwise page (pair tasks): the two kinds
of link differ only in the functions that create and revoke them.
"""

from __future__ import annotations

from typing import Any, Callable

import pandas as pd
import streamlit as st

from judge import team
from judge.ui import get_store
from judge.ui.auth import public_base_url
from judge.ui.plain import plain


def link_admin(task_id: int, links: pd.DataFrame, *, prefix: str, create_link: Callable[..., Any],
               revoke_link: Callable[[Any, int], Any], hidden_columns: list[str]) -> None:
    """The link panel of one task: `create_link(store, task_id, annotator=, expires_in=)` returns a link with
    `.annotator` and `.url(base)`; widget keys start with `prefix`."""
    new_link_key = f"{prefix}.new_link"
    new = st.session_state.get(new_link_key)
    if new and new["task_id"] == task_id:
        st.success(f"Link for {plain(new['who'])}: copy it now, it is shown only this once.", icon=":material/link:")
        st.code(new["url"], language=None)
    with st.form(f"{prefix}.create_link", border=True):
        left, mid, right = st.columns([2, 1, 1], vertical_alignment="bottom")
        annotator = left.text_input("Annotator name (empty = open link: each person types a name)",
                                    max_chars=team.MAX_NAME_CHARS)
        days = mid.number_input("Expires in days", 1, team.MAX_LINK_DAYS, team.DEFAULT_LINK_DAYS)
        base = right.text_input("Base URL", value=public_base_url(),
                                help="How annotators reach this dashboard, e.g. https://judge.example.com/wb")
        if st.form_submit_button("Create link", icon=":material/add_link:"):
            link = create_link(get_store(), task_id, annotator=annotator.strip() or None,
                               expires_in=team.link_lifetime(days))
            st.session_state[new_link_key] = {"task_id": task_id, "who": link.annotator or "anyone (open link)",
                                              "url": link.url(base)}
            st.rerun()
    st.dataframe(links.drop(columns=hidden_columns), hide_index=True, width="stretch")
    active = links[links["revoked_at"].isna()]
    if len(active):
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        labels = {int(r.id): f"#{r.id} {r.annotator or 'open link'}" for r in active.itertuples()}
        chosen = left.selectbox("Revoke a link", list(labels), format_func=labels.get, key=f"{prefix}.revoke_pick")
        if right.button("Revoke", icon=":material/link_off:", key=f"{prefix}.revoke"):
            revoke_link(get_store(), chosen)
            st.rerun()
