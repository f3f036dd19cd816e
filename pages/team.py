"""Team labeling (owner): tasks, their links, progress and pace, agreement, and settling disagreements."""

import pandas as pd
import streamlit as st

from judge import team
from judge.labeling import DEFAULT_RUBRIC
from judge.ui import errors_shown, get_store, read
from judge.ui.auth import public_base_url, require_owner, route_through_app
from judge.ui.item_view import show_item
from judge.ui.label_form import label_form
from judge.ui.plain import plain

ANY = "(any)"
NEW_LINK_KEY = "team.new_link"

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
            rubrics = read("rubrics")
            rubric = st.selectbox("Rubric", ["(default rubric)", *rubrics["name"]] if len(rubrics) else
                                  ["(default rubric)"])
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
                    rubric=None if rubric == "(default rubric)" else rubric, sample_size=sample or None,
                    seed=seed, filter=chosen or None, due_date=due,
                )
                st.session_state["team.task"] = task_id
                st.rerun()


def _grid(count: int, per_row: int = 3) -> list:
    """`count` cells, `per_row` to a row: short filter menus side by side instead of one long column."""
    return [cell for start in range(0, count, per_row) for cell in st.columns(per_row)][:count]


def links_tab(task_id: int) -> None:
    new = st.session_state.get(NEW_LINK_KEY)
    if new and new["task_id"] == task_id:
        st.success(f"Link for {plain(new['who'])}: copy it now, it is shown only this once.", icon=":material/link:")
        st.code(new["url"], language=None)
    with st.form("team.create_link", border=True):
        left, mid, right = st.columns([2, 1, 1], vertical_alignment="bottom")
        annotator = left.text_input("Annotator name (empty = open link: each person types a name)",
                                    max_chars=team.MAX_NAME_CHARS)
        days = mid.number_input("Expires in days", 1, team.MAX_LINK_DAYS, team.DEFAULT_LINK_DAYS)
        base = right.text_input("Base URL", value=public_base_url(),
                                help="How annotators reach this dashboard, e.g. https://judge.example.com/wb")
        if st.form_submit_button("Create link", icon=":material/add_link:"):
            link = team.create_link(get_store(), task_id, annotator=annotator.strip() or None,
                                    expires_in=team.link_lifetime(days))
            st.session_state[NEW_LINK_KEY] = {"task_id": task_id, "who": link.annotator or "anyone (open link)",
                                              "url": link.url(base)}
            st.rerun()
    links = read("task_links", task_id)
    st.dataframe(links.drop(columns=["task_id", "task"]), hide_index=True, width="stretch")
    active = links[links["revoked_at"].isna()]
    if len(active):
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        labels = {int(r.id): f"#{r.id} {r.annotator or 'open link'}" for r in active.itertuples()}
        chosen = left.selectbox("Revoke a link", list(labels), format_func=labels.get, key="team.revoke_pick")
        if right.button("Revoke", icon=":material/link_off:", key="team.revoke"):
            team.revoke_link(get_store(), chosen)
            st.rerun()


@st.fragment(run_every="15s")
def progress_tab(task_id: int, items: int, overlap: int) -> None:
    """Refreshes on its own while the page is open, so counts and agreement follow the labels as they arrive."""
    with errors_shown():
        _progress(get_store(), task_id, items, overlap)


def _progress(store, task_id: int, items: int, overlap: int) -> None:
    labels = store.task_labels(task_id)
    covered = int((labels.groupby("item_uid")["annotator"].nunique() >= overlap).sum()) if len(labels) else 0
    a, b, c = st.columns(3)
    a.metric("Items with enough labels", f"{covered} / {items}")
    b.metric("Labels", len(labels))
    result = team.agreement(store, task_id)
    alpha = result["alpha_ordinal"]
    c.metric("Krippendorff's alpha (ordinal)", "n/a" if alpha is None else f"{alpha:.2f}",
             help=f"Over {result['items_with_2_plus_scores']} items scored by 2+ people. "
                  "1 = perfect agreement, 0 = chance, 0.67+ is the usual bar for tentative conclusions.")
    stats = pd.DataFrame(team.annotator_stats(store, task_id))
    st.markdown("**Annotators**")
    if len(stats):
        st.dataframe(stats, hide_index=True, width="stretch")
    else:
        st.caption("No labels yet. Share a link from the Links tab.")
    if result["pairs"]:
        st.markdown("**Pairwise Cohen's kappa** (quadratic weights, on the items both scored)")
        st.dataframe(pd.DataFrame(result["pairs"]), hide_index=True, width="stretch")


def disagreements_tab(task_id: int, rubric: dict) -> None:
    spread = st.slider("Show items whose scores differ by at least", 1, 4, 2, key="team.spread")
    conflicts = team.disagreements(get_store(), task_id, min_spread=spread)
    if not conflicts:
        st.info("No disagreements at this threshold.", icon=":material/handshake:")
        return
    open_count = sum(c["adjudicated"] is None for c in conflicts)
    st.caption(f"{len(conflicts)} items, {open_count} not settled yet.")
    options = {c["item_uid"]: c for c in conflicts}
    uid = st.selectbox(
        "Item", list(options), key="team.conflict",
        format_func=lambda u: f"#{options[u]['position'] + 1} · spread {options[u]['spread']}"
                              + (" · settled" if options[u]["adjudicated"] else ""),
    )
    conflict = options[uid]
    item_col, form_col = st.columns([3, 2], gap="large")
    with item_col:
        show_item(read("item", uid))
        st.markdown("**What the annotators said**")
        st.dataframe(pd.DataFrame(conflict["labels"]), hide_index=True, width="stretch")
    with form_col:
        st.markdown("**Final label**")
        result = label_form(f"team.adjudicate.{uid}", rubric, conflict["adjudicated"], can_go_back=False)
        with st.expander("History", icon=":material/history:"):
            st.dataframe(read("label_history", uid)[["created_at", "annotator", "kind", "score", "passed", "critique"]],
                         hide_index=True, width="stretch")
    if result is not None and result.action == "save":
        team.adjudicate(get_store(), task_id, uid, owner=owner, score=result.score, passed=result.passed,
                        critique=result.critique)
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
    rubric = read("rubric", rubric_id=task["rubric_id"]) if task["rubric_id"] else DEFAULT_RUBRIC
    facts = [f"overlap {task['overlap']}"]
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
        disagreements_tab(task_id, rubric)
