"""What a pairwise labeling link shows on the annotate page: one pair at a time, nothing else of the workbench."""

from __future__ import annotations

import streamlit as st

from judge import pair_links, team
from judge.ui.plain import plain
from judge.ui.auth import signed_in_email
from judge.ui.pair_form import preference_form, show_pair

NAME_KEY, SKIPPED_KEY = "annotate.pair_name", "annotate.pair_skipped"


def pair_annotate_page(store, token: str) -> None:
    brief = pair_links.pair_link_brief(store, token)
    name = brief["annotator"]
    if brief["open"]:
        name = signed_in_email() or st.session_state.get(NAME_KEY)
        if not name:
            with st.form("annotate.pair_who", width=440):
                st.markdown(f"**{plain(brief['name'])}**")
                st.caption("Your name is recorded with every choice you make.")
                typed = st.text_input("Your name", max_chars=team.MAX_NAME_CHARS, key="annotate.pair_typed")
                if st.form_submit_button("Start labeling", type="primary"):
                    st.session_state[NAME_KEY] = pair_links.link_annotator(
                        store, pair_links.open_pair_link(store, token), typed)
                    st.rerun()
            st.stop()
    st.title(plain(brief["name"]), anchor=False)
    st.caption(f":material/person: {plain(name)}  ·  which response is better on {plain(brief['criterion'])}")
    if brief["instructions"]:
        with st.expander("Instructions", expanded=True, icon=":material/description:"):
            st.text(brief["instructions"])
    skipped = st.session_state.setdefault(SKIPPED_KEY, [])
    pair, done, total = pair_links.next_link_pair(store, token, name, skip=skipped)
    st.progress(done / total if total else 1.0, text=f"{done} of {total} pairs compared by you")
    if pair is None:
        if done < total:
            st.info(f"You skipped the {total - done} pairs left.", icon=":material/skip_next:")
            if st.button("Go back to the skipped pairs", icon=":material/replay:"):
                skipped.clear()
                st.rerun()
        else:
            st.success("All done: you compared every pair. Thank you!", icon=":material/celebration:")
        return
    st.markdown(f"#### Pair {done + 1} of {total}")
    show_pair(pair)
    pressed = preference_form(f"annotate.pair.{pair['uid']}", brief["criterion"])
    if pressed is not None:
        slot, critique = pressed
        if slot == "skip":
            skipped.append(pair["uid"])
        else:
            pair_links.submit_link_choice(store, token, pair["uid"], slot, critique=critique, typed_name=name)
            st.toast("Saved", icon=":material/check:")
        st.rerun()
