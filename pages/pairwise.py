"""Pairwise: choose the better of two outputs for the same input, one pair at a time, with a critique.

Each person sees a pair's outputs in their own random order (recorded with the choice), so a habit of
preferring the left one cannot favour A or B.
"""

import streamlit as st

from judge.pairs import DEFAULT_PREFERENCE_CRITERION, pair_queue, save_shown_choice, shown_pair
from judge.ui import errors_shown, get_store, read
from judge.ui.annotator import annotator_badge, ask_annotator
from judge.ui.pair_links_view import pair_link_admin
from judge.ui.pair_form import preference_form, show_pair

st.title("Pairwise")
st.caption("Pick the better of two responses to the same input (or call it a tie), and say why.")
annotator = ask_annotator()

with errors_shown():
    datasets = read("pair_datasets")
    if not len(datasets):
        st.info("No pairs yet: import some with `judge import-pairs FILE --dataset NAME`.", icon=":material/info:")
        st.stop()
    names = list(datasets["name"])
    wanted = st.query_params.get("pairs") or st.session_state.get("pairwise.dataset")
    pick_col, criterion_col, who_col = st.columns([2, 2, 3], vertical_alignment="bottom")
    dataset = pick_col.selectbox("Pair dataset", names, index=names.index(wanted) if wanted in names else 0)
    criterion = criterion_col.text_input("Criterion", value=st.query_params.get("criterion")
                                         or DEFAULT_PREFERENCE_CRITERION).strip() or DEFAULT_PREFERENCE_CRITERION
    st.session_state["pairwise.dataset"] = dataset
    st.query_params["pairs"] = dataset
    with who_col:
        annotator_badge()
    with st.expander("Labeling links: let others compare these pairs", icon=":material/link:"):
        pair_link_admin(dataset, criterion)

    store = get_store()
    queue = pair_queue(store, dataset, annotator, criterion=criterion)
    skipped = st.session_state.setdefault("pairwise.skipped", [])
    st.progress(queue.done / queue.total if queue.total else 1.0,
                text=f"{queue.done} of {queue.total} pairs compared by you")
    todo = [uid for uid in queue.remaining if uid not in skipped]
    if not todo:
        if queue.remaining:
            st.info(f"You skipped the {len(queue.remaining)} pairs left.", icon=":material/skip_next:")
            if st.button("Go back to the skipped pairs", icon=":material/replay:"):
                skipped.clear()
                st.rerun()
        else:
            st.success("All done: you compared every pair.", icon=":material/celebration:")
        st.stop()

    pair = shown_pair(store, dataset, todo[0], annotator)
    st.markdown(f"#### Pair {queue.done + 1} of {queue.total}")
    show_pair(pair)
    pressed = preference_form(f"pairwise.{pair['uid']}", criterion)
    if pressed is not None:
        slot, critique = pressed
        if slot == "skip":
            skipped.append(pair["uid"])
        else:
            save_shown_choice(store, pair, annotator, slot, criterion=criterion, critique=critique)
            st.toast("Saved", icon=":material/check:")
        st.rerun()
