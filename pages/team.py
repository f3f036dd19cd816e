"""Team labeling (owner): tasks, their links, progress and pace, agreement, and settling disagreements."""

import pandas as pd
import streamlit as st

from judge import team
from judge.ui import computed, errors_shown, get_store, read
from judge.ui.auth import require_owner, route_through_app
from judge.ui.item_view import show_item
from judge.ui.label_form import label_form
from judge.ui.link_admin import link_admin
from judge.ui.reports import figure_text, interval_text
from judge.ui.plain import plain

ANY = "(any)"

route_through_app()
owner = require_owner()
st.title("Team labeling")
st.caption("Share one task with several people through personal links, watch them agree, settle where they don't.")


def create_task_form(datasets: pd.DataFrame) -> None:
    with st.expander("New task", icon=":material/add_task:", expanded=not len(read("tasks"))):
        names = list(datasets["name"])
        dataset = st.selectbox("Dataset", names, key="team.dataset")
        columns = read("metadata_columns", read("dataset", dataset)["id"]) if dataset else {}
        with st.form("team.create_task"):
            name = st.text_input("Task name", max_chars=200)
            instructions = st.text_area("Instructions for annotators", max_chars=team.MAX_INSTRUCTIONS_CHARS)
            criteria = [c.name for c in read("criteria", dataset)] if dataset else []
            graded = st.multiselect("Criteria to grade (all on one screen)", criteria, default=criteria,
                                    key="team.criteria", help="Each item is graded on every criterion chosen here.")
            left, mid, right = st.columns(3)
            overlap = left.number_input("Annotators per item", 1, team.MAX_OVERLAP, 2,
                                        help="2 or more lets you measure agreement between people.")
            sample = mid.number_input("Sample size (0 = every item)", 0, value=0)
            seed = right.number_input("Sample seed", 0, value=0)
            chosen = {}
            filters = {column: values for column, values in columns.items() if 1 < len(values) <= 100}
            for place, (column, values) in zip(_grid(len(filters)), filters.items()):
                value = place.selectbox(f"Only items with {plain(column)}", [ANY, *values],
                                        key=f"team.filter.{column}")
                if value != ANY:
                    chosen[column] = value
            due = st.date_input("Due date (optional)", value=None)
            if st.form_submit_button("Create task", type="primary"):
                task_id = team.create_task(
                    get_store(), name=name, dataset=dataset, instructions=instructions, overlap=overlap,
                    criteria=graded or None, sample_size=sample or None, seed=seed, filter=chosen or None,
                    due_date=due,
                )
                st.session_state["team.task"] = task_id
                st.rerun()


def _grid(count: int, per_row: int = 3) -> list:
    """`count` cells, `per_row` to a row: short filter menus side by side instead of one long column."""
    return [cell for start in range(0, count, per_row) for cell in st.columns(per_row)][:count]


def links_tab(task_id: int) -> None:
    link_admin(task_id, read("task_links", task_id), prefix="team", create_link=team.create_link,
               revoke_link=team.revoke_link, hidden_columns=["task_id", "task"])


@st.fragment(run_every="15s")
def progress_tab(task_id: int, items: int, overlap: int) -> None:
    """Refreshes on its own while the page is open, so counts and agreement follow the labels as they arrive."""
    with errors_shown():
        _progress(get_store(), task_id, items, overlap)


def _progress(store, task_id: int, items: int, overlap: int) -> None:
    labels = store.task_labels(task_id)
    covered = labels.groupby("item_uid")["annotator"].nunique() if len(labels) else pd.Series(dtype=int)
    a, b = st.columns(2)
    a.metric("Items with enough labels", f"{int((covered >= overlap).sum())} / {items}")
    b.metric("Labels", len(labels))
    for criterion, result in team.agreement(store, task_id).items():
        st.markdown(f"**{criterion}** ({result['scale']})")
        alpha = result["pass_fail_alpha" if result["scale"] == "pass/fail" else "krippendorff_alpha"]
        left, right = st.columns(2)
        left.metric("Krippendorff's alpha", figure_text(alpha), border=True,
                    help="1 = perfect agreement, 0 = chance, 0.67+ is the usual bar for tentative conclusions.")
        left.caption(interval_text(alpha))
        right.metric("Items graded by 2+ people", result["items_with_two_or_more"], border=True)
        pairs = [{"a": p["a"], "b": p["b"], "items": p["n"], "quadratic kappa": figure_text(p["quadratic_kappa"]),
                  "exact agreement": figure_text(p["exact_agreement"], percent=True)} for p in result["pairwise"]]
        if pairs and result["scale"] != "pass/fail":
            st.dataframe(pd.DataFrame(pairs), hide_index=True, width="stretch", key=f"team.pairs.{criterion}")
    stats = pd.DataFrame(team.annotator_stats(store, task_id))
    st.markdown("**Annotators**")
    if len(stats):
        st.dataframe(stats, hide_index=True, width="stretch")
    else:
        st.caption("No labels yet. Share a link from the Links tab.")


def disagreements_tab(task_id: int, criteria: dict) -> None:
    spread = st.slider("Show items whose scores differ by at least", 1, 4, 2, key="team.spread")
    conflicts = team.disagreements(get_store(), task_id, min_spread=spread)
    if not conflicts:
        st.info("No disagreements at this threshold.", icon=":material/handshake:")
        return
    open_count = sum(c["adjudicated"] is None for c in conflicts)
    st.caption(f"{len(conflicts)} items, {open_count} not settled yet.")
    options = {(c["item_uid"], c["criterion"]): c for c in conflicts}
    key = st.selectbox(
        "Item", list(options), key="team.conflict",
        format_func=lambda k: f"#{options[k]['position'] + 1} · {k[1]} · spread {options[k]['spread']}"
                              + (" · settled" if options[k]["adjudicated"] else ""),
    )
    conflict = options[key]
    uid, criterion = key
    item_col, form_col = st.columns([3, 2], gap="large")
    with item_col:
        show_item(read("item", uid))
        st.markdown("**What the annotators said**")
        st.dataframe(pd.DataFrame(conflict["labels"]), hide_index=True, width="stretch")
    with form_col:
        st.markdown("**Final label**")
        result = label_form(f"team.adjudicate.{uid}", [criteria[criterion]],
                            {criterion: conflict["adjudicated"]} if conflict["adjudicated"] else None,
                            can_go_back=False)
        with st.expander("History", icon=":material/history:"):
            st.dataframe(read("label_history", uid)[["created_at", "annotator", "criterion", "kind", "score",
                                                     "passed", "critique"]],
                         hide_index=True, width="stretch")
    if result is not None and result.action == "save":
        grade = result.grades[criterion]
        team.adjudicate(get_store(), task_id, uid, owner=owner, criterion=criterion, **grade)
        st.toast("Final label saved", icon=":material/gavel:")
        st.rerun()


with errors_shown():
    datasets = read("datasets")
    if not len(datasets):
        st.info("Upload a dataset first: a task is a set of its items.", icon=":material/info:")
        st.stop()
    create_task_form(datasets)

    tasks = read("tasks")
    if not len(tasks):
        st.info("No task yet: create one above, then give each annotator a personal link on its Links tab. "
                "Their labels land in the store as they save them.", icon=":material/info:")
        st.stop()
    titles = {int(r.id): f"#{r.id} {r.name} ({r.dataset} v{r.dataset_version}, {r.items} items)"
              for r in tasks.itertuples()}
    wanted = st.session_state.get("team.task")
    task_id = st.selectbox("Task", list(titles), format_func=titles.get,
                           index=list(titles).index(wanted) if wanted in titles else 0)
    st.session_state["team.task"] = task_id
    task = read("task", task_id)
    criteria = {c.name: c for c in computed(team.task_criteria, task)}
    facts = [f"grades {', '.join(criteria) or 'nothing yet'}", f"overlap {task['overlap']}"]
    if task["due_date"] is not None:
        facts.append(f"due {task['due_date']}")
    if task["closed_at"] is not None:
        facts.append("closed")
    st.caption(" · ".join(facts))

    links, progress, disagreements = st.tabs(["Links", "Progress and agreement", "Disagreements"])
    with links:
        links_tab(task_id)
    with progress:
        progress_tab(task_id, len(read("task_items", task_id)), task["overlap"])
        if task["closed_at"] is None and st.button("Close the task", icon=":material/lock:", key="team.close"):
            team.close_task(get_store(), task_id)
            st.rerun()
    with disagreements:
        disagreements_tab(task_id, criteria)
