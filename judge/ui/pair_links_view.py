"""Pairwise labeling links on the dashboard: a task over a pair dataset, its links (shown once), revocation.

The dashboard side of `judge pair-task`, `judge pair-link` and `judge pair-links --revoke`: a link opens the
pairwise labeling screen on /annotate and nothing else, as a named annotator or (open link) a typed name.
"""

from __future__ import annotations

import streamlit as st

from judge import team
from judge.pair_links import create_pair_link, create_pair_task, revoke_pair_link
from judge.ui import get_store, read
from judge.ui.auth import public_base_url
from judge.ui.plain import plain

NEW_LINK_KEY = "pairwise.new_link"


def pair_link_admin(dataset: str, criterion: str) -> None:
    """Create a pairwise labeling task on `dataset` and `criterion`, make links to it, list and revoke them."""
    tasks = read("pair_tasks")
    tasks = tasks[tasks["dataset_name"] == dataset]
    with st.form("pairwise.create_task", border=True):
        left, right = st.columns([1, 2])
        name = left.text_input("Task name", value=f"Compare {dataset}", max_chars=200)
        instructions = right.text_input("Instructions for the annotators (optional)")
        if st.form_submit_button(f"Create a task on {criterion}", icon=":material/add_task:"):
            create_pair_task(get_store(), name=name, dataset=dataset, criterion=criterion,
                             instructions=instructions or None)
            st.rerun()
    if not len(tasks):
        st.caption("No pairwise labeling task on this pair dataset yet.")
        return
    labels = {int(r.id): f"#{r.id} {r.name} ({r.criterion})" for r in tasks.itertuples()}
    task_id = st.selectbox("Task", list(labels), format_func=labels.get, key="pairwise.link_task")
    new = st.session_state.get(NEW_LINK_KEY)
    if new and new["task_id"] == task_id:
        st.success(f"Link for {plain(new['who'])}: copy it now, it is shown only this once.", icon=":material/link:")
        st.code(new["url"], language=None)
    with st.form("pairwise.create_link", border=True):
        left, mid, right = st.columns([2, 1, 1], vertical_alignment="bottom")
        annotator = left.text_input("Annotator name (empty = open link: each person types a name)",
                                    max_chars=team.MAX_NAME_CHARS)
        days = mid.number_input("Expires in days", 1, team.MAX_LINK_DAYS, team.DEFAULT_LINK_DAYS)
        base = right.text_input("Base URL", value=public_base_url(),
                                help="How annotators reach this dashboard, e.g. https://judge.example.com/wb")
        if st.form_submit_button("Create link", icon=":material/add_link:"):
            link = create_pair_link(get_store(), task_id, annotator=annotator.strip() or None,
                                    expires_in=team.link_lifetime(days))
            st.session_state[NEW_LINK_KEY] = {"task_id": task_id, "who": link.annotator or "anyone (open link)",
                                              "url": link.url(base)}
            st.rerun()
    links = read("pair_links", task_id)
    st.dataframe(links.drop(columns=["task_id", "task", "dataset_name"]), hide_index=True, width="stretch")
    active = links[links["revoked_at"].isna()]
    if len(active):
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        choices = {int(r.id): f"#{r.id} {r.annotator}" for r in active.itertuples()}
        chosen = left.selectbox("Revoke a link", list(choices), format_func=choices.get, key="pairwise.revoke_pick")
        if right.button("Revoke", icon=":material/link_off:", key="pairwise.revoke"):
            revoke_pair_link(get_store(), chosen)
            st.rerun()
