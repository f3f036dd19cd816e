"""Annotate: what a labeling link opens. One task, one item at a time, and nothing else of the workbench.

Every read and write goes through `judge.team` with the link's token, so a revoked or expired link stops at
the next click, and progress lives in the store (another device resumes at the same item).
"""

import streamlit as st

from judge import team
from judge.pair_links import is_pair_link
from judge.ui import errors_shown, get_store
from judge.ui.plain import plain
from judge.ui.auth import annotator_token, route_through_app, signed_in_email
from judge.ui.item_view import show_item
from judge.ui.label_form import SAVE_SHORTCUT, SKIP_SHORTCUT, label_form
from judge.ui.pair_annotate import pair_annotate_page

NAME_KEY, SKIPPED_KEY = "annotate.name", "annotate.skipped"

route_through_app(annotate_page=True)
token = annotator_token()
if not token:
    st.error("Open this page through the labeling link you were given.", icon=":material/link_off:")
    st.stop()

store = get_store()
if is_pair_link(store, token):  # a pairwise labeling link: pairs side by side instead of items
    with errors_shown():
        pair_annotate_page(store, token)
    st.stop()
with errors_shown():
    brief = team.task_brief(store, token)

    name = brief["annotator"]
    if brief["open"]:
        name = signed_in_email() or st.session_state.get(NAME_KEY)
        if not name:
            with st.form("annotate.who", width=440):
                st.markdown(f"**{plain(brief['name'])}**")
                st.caption("Your name is recorded with every label you give. Use the same name on any device "
                           "to continue where you stopped.")
                typed = st.text_input("Your name", max_chars=team.MAX_NAME_CHARS, key="annotate.typed")
                if st.form_submit_button("Start labeling", type="primary"):
                    st.session_state[NAME_KEY] = team.annotator_name(store, team.open_link(store, token), typed)
                    st.rerun()
            st.stop()

    st.title(plain(brief["name"]), anchor=False)
    facts = [f":material/person: {plain(name)}", f"each item is labeled by {brief['overlap']} people"]
    if brief["due_date"] is not None:
        facts.append(f":material/event: due {brief['due_date']}")
    st.caption("  ·  ".join(facts))
    if brief["instructions"]:
        with st.expander("Instructions", expanded=True, icon=":material/description:"):
            st.text(brief["instructions"])

    skipped = st.session_state.setdefault(SKIPPED_KEY, [])
    progress = team.progress(store, token, name)
    st.progress(progress.done / progress.total if progress.total else 1.0,
                text=f"{progress.done} of {progress.total} items labeled by you")

    item = team.next_item(store, token, name, skip=skipped)
    if item is None:
        if progress.remaining:
            st.info(f"You skipped the {progress.remaining} items left.", icon=":material/skip_next:")
            if st.button("Go back to the skipped items", icon=":material/replay:"):
                skipped.clear()
                st.rerun()
        else:
            st.success("All done: every item in this task has your label. Thank you!", icon=":material/celebration:")
        st.stop()

    item_col, form_col = st.columns([3, 2], gap="large")
    with item_col:
        st.markdown(f"#### Item {progress.done + 1} of {progress.total}")
        show_item(item)
    with form_col:
        result = label_form(f"annotate.{item['uid']}", brief["criteria"], can_go_back=False)
        st.caption(f"Keys: {SAVE_SHORTCUT} save and next · {SKIP_SHORTCUT} skip")

    if result is not None:
        if result.action == "save":
            team.submit_grades(store, token, item["uid"], result.grades, typed_name=name)
            st.toast("Saved", icon=":material/check:")
        elif result.action == "skip":
            skipped.append(item["uid"])
        st.rerun()
