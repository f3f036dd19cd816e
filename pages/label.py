"""Label: one item at a time, graded on each of its dataset's criteria (1-5 against the rubric, or pass/fail)
with a critique, all saved together."""

import streamlit as st

from judge.labeling import label_queue, next_milestone, reached_milestones
from judge.ui import errors_shown, get_store, read
from judge.ui.annotator import annotator_badge, ask_annotator
from judge.ui.item_view import show_item
from judge.ui.label_form import label_form
from judge.ui.label_strategy import drawn_under, strategy_choice, suggested_queue, suggestion_note
from judge.ui.nav import page_link
from judge.ui.plain import plain
from judge.ui.queue_options import queue_options

st.title("Label")
st.caption("Grade one output at a time on each criterion: a 1-5 score against the rubric (or pass/fail), and a "
           "critique that says why.")
annotator = ask_annotator()

with errors_shown():
    datasets = read("datasets")
    if not len(datasets):
        st.info("There is nothing to label yet: upload a file first.", icon=":material/info:")
        page_link("pages/upload.py", label="Upload outputs", icon=":material/upload:")
        st.stop()

    names = list(datasets["name"])
    wanted = st.query_params.get("dataset") or st.session_state.get("label.dataset")
    pick_col, who_col = st.columns([2, 3], vertical_alignment="bottom")
    dataset_name = pick_col.selectbox("Dataset", names, index=names.index(wanted) if wanted in names else 0)
    st.session_state["label.dataset"] = dataset_name
    st.query_params["dataset"] = dataset_name
    with who_col:
        annotator_badge()
    if len(pair_datasets := read("pair_datasets")):
        page_link("pages/pairwise.py", label=f"Or compare pairs: the better of two outputs "
                  f"({len(pair_datasets)} pair dataset(s))", icon=":material/compare:")

    dataset = read("dataset", dataset_name)
    metadata_filter, seed, size = queue_options(read("metadata_columns", dataset["id"]))
    strategy, ranked_on = strategy_choice([c.name for c in read("criteria", dataset_name)])
    # a strategy's design draws from the whole dataset version, so its queue ignores the metadata filter
    items = read("items", dataset["id"], metadata=(metadata_filter or None) if not strategy else None)
    mine = read("latest_labels", dataset["id"], annotator=annotator)

    queue_key = (dataset["id"], annotator, tuple(sorted(metadata_filter.items())), seed, size, strategy, ranked_on)
    if st.session_state.get("label.queue_key") != queue_key:
        st.session_state["label.queue_key"] = queue_key
        suggested = (suggested_queue(get_store(), dataset_name, ranked_on, strategy, seed=seed, size=size)
                     if strategy else {})
        st.session_state["label.suggested"] = suggested
        st.session_state["label.queue"] = list(suggested) if strategy else label_queue(items, mine, seed=seed,
                                                                                         size=size)
        st.session_state["label.index"] = 0
    queue: list[str] = st.session_state["label.queue"]
    index: int = st.session_state["label.index"]

    mine_by_item = {uid: rows for uid, rows in mine.groupby("item_uid")} if len(mine) else {}
    done = sum(1 for uid in queue if uid in mine_by_item)
    dataset_labeled = int(datasets.loc[datasets["name"] == dataset_name, "labeled_items"].iloc[0])
    st.progress(done / len(queue) if queue else 0.0, text=f"{done} of {len(queue)} items in this queue labeled by you")
    upcoming = next_milestone(dataset_labeled)
    reached = reached_milestones(dataset_labeled)
    milestone_text = [f":material/check_circle: {n} labels: {text}" for n, text in reached]
    if upcoming:
        milestone_text.append(f"Next: {upcoming[0]} labels, {upcoming[1]} ({upcoming[0] - dataset_labeled} to go)")
    st.caption(f"{dataset_labeled} items of {plain(dataset_name)} labeled by anyone.  " + "  ·  ".join(milestone_text))

    if not queue:
        st.warning("No item matches this filter.", icon=":material/filter_alt_off:")
        st.stop()
    if index >= len(queue):
        st.success(f"You reached the end of this queue: {done} of {len(queue)} items labeled.",
                   icon=":material/celebration:")
        if st.button("Start again from the first item", icon=":material/restart_alt:"):
            st.session_state["label.index"] = 0
            st.rerun()
        st.stop()

    uid = queue[index]
    item = items.set_index("uid").loc[uid].to_dict()
    previous = ({row["criterion"]: row for row in mine_by_item[uid].to_dict("records")}
                if uid in mine_by_item else None)
    criteria = read("criteria", dataset_name)
    if not criteria:
        st.info("This dataset has no criteria to grade yet: add one with `judge criterion add`.", icon=":material/info:")
        st.stop()

    item_col, form_col = st.columns([4, 3], gap="large")
    with item_col:
        status = "labeled by you, editing adds a new version" if previous else "not labeled by you yet"
        st.markdown(f"#### Item {index + 1} of {len(queue)}")
        st.caption(f"id {plain(item['item_id'])} · {status}")
        suggestion_note(st.session_state["label.suggested"].get(uid))
        show_item(item)
    with form_col:
        result = label_form(f"label.{uid}", criteria, previous, can_go_back=index > 0)
        history = read("label_history", uid)
        with st.expander(f"Label history ({len(history)})", icon=":material/history:"):
            if len(history):
                st.dataframe(
                    history[["created_at", "annotator", "criterion", "kind", "score", "passed", "critique"]],
                    hide_index=True, width="stretch",
                    column_config={"created_at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm")},
                )
            else:
                st.caption("No labels on this item yet.")

    if result is not None:
        if result.action == "save":
            get_store().add_grades(uid, annotator, result.grades,
                                   **drawn_under(st.session_state["label.suggested"].get(uid)))
            st.toast(f"Saved item {item['item_id']}", icon=":material/check:")
            crossed = next_milestone(dataset_labeled)
            if crossed and not len(history) and dataset_labeled + 1 == crossed[0]:
                st.toast(f"{crossed[0]} labels: {crossed[1]}!", icon=":material/celebration:")
        step = -1 if result.action == "back" else 1
        st.session_state["label.index"] = max(index + step, 0)
        st.rerun()
