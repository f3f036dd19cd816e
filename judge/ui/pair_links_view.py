"""Pairwise labeling links on the dashboard: a task over a pair dataset, its links (shown once), revocation.

The dashboard side of `judge pair-task`, `judge pair-link` and `judge pair-links --revoke`: a link opens the
pairwise labeling screen on /annotate and nothing else, as a named annotator or (open link) a typed name.
"""

from __future__ import annotations

import streamlit as st

from judge.pair_links import create_pair_link, create_pair_task, revoke_pair_link
from judge.ui import get_store, read
from judge.ui.link_admin import link_admin


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
    link_admin(task_id, read("pair_links", task_id), prefix="pairwise", create_link=create_pair_link,
               revoke_link=revoke_pair_link, hidden_columns=["task_id", "task", "dataset_name"])
