"""Widgets of the Pairwise judge page: importing pairs, starting a both-orders run, and its report."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from judge.pairs import import_pairs, pairs_from_versions
from judge.pairwise import DEFAULT_TEMPLATE, PairwiseSpec, cancel_pairwise_run, import_pairwise_run, load_pairwise_spec
from judge.ui import errors_shown, get_store, read
from judge.ui.charts import interval_chart
from judge.ui.judges import secrets
from judge.ui.uploads import dataset_name_from, saved_upload

FIGURE_TITLES = {
    "accuracy": "accuracy (both orders)", "kappa": "kappa a/b/tie", "decisive_accuracy": "accuracy when not a tie",
    "accuracy_ab_only": "accuracy, A shown first only",
    "accuracy_ba_only": "accuracy, B shown first only", "position_consistency": "position consistency",
    "first_position_win_rate": "first-position win rate", "tie_rate": "tie rate",
    "inconsistent_rate": "inconsistent rate",
}


def spec_form(default_model: str) -> PairwiseSpec:
    """The pairwise judge to run: model, criterion, orders, the disagreement rule, and (like `--judge SPEC.json`)
    the question and prompt template; InvalidSpec says what to fix."""
    left, right = st.columns(2, gap="large")
    model = left.text_input("Model", value=default_model, key="pairwise_judge.model").strip()
    criterion = left.text_input("Criterion", value="preference", key="pairwise_judge.criterion").strip()
    both = right.checkbox("Both orders (recommended)", value=True, key="pairwise_judge.both")
    rule = right.radio("When the two orders disagree", ["tie", "inconsistent"], horizontal=True,
                       key="pairwise_judge.rule")
    spec = load_pairwise_spec(model=model)
    with st.expander("Question and prompt template", icon=":material/description:"):
        spec.criteria = st.text_input("Question to the judge", value=spec.criteria, key="pairwise_judge.question")
        spec.template = st.text_area("Template: {output_a} and {output_b} are the outputs as shown; also {input}, "
                                     "{context}, {reference}, {criteria}, {rubric} and metadata columns",
                                     value=DEFAULT_TEMPLATE, height=320, key="pairwise_judge.template")
    spec.orders, spec.on_disagreement, spec.criterion = (["ab", "ba"] if both else ["ab"]), rule, criterion
    return spec.validate()


def pair_upload(store) -> None:
    """Upload a pair file (input, output_a, output_b, optional systems and preferences) into a pair dataset."""
    upload = st.file_uploader("Pair file", type=["csv", "tsv", "jsonl", "parquet", "json"], key="pairwise_judge.file")
    if upload is None:
        return
    name = st.text_input("Pair dataset name", value=dataset_name_from(upload.name), key="pairwise_judge.name")
    if st.button("Import pairs", icon=":material/upload:", type="primary"):
        result = import_pairs(store, saved_upload(upload.name, upload.getvalue()), dataset=name)
        st.success(f"{result.dataset}: {result.pairs} pairs ({result.new_pairs} new), {result.preferences} "
                   "preferences", icon=":material/check:")
        for warning in result.warnings:
            st.warning(warning, icon=":material/warning:")


def pairwise_run_upload(store, dataset: str) -> None:
    """Record an external judge's choices on `dataset` (pair_id, choice or choice_ab and choice_ba) as a run."""
    upload = st.file_uploader("Choices file", type=["csv", "tsv", "jsonl", "parquet", "json"],
                              key="pairwise_judge.run_file")
    if upload is not None and st.button("Import the run", icon=":material/upload:", key="pairwise_judge.run_import"):
        run_id = import_pairwise_run(store, saved_upload(upload.name, upload.getvalue()), dataset=dataset)
        st.session_state["pairwise_judge.run"] = run_id
        st.success(f"Imported pairwise run {run_id} on {dataset}.", icon=":material/check:")


def versions_form(store, datasets: pd.DataFrame) -> None:
    """Form pairs from two versions of an imported dataset: the same item ids, A = the first version's output."""
    if not len(datasets):
        return
    left, mid, right = st.columns([2, 1, 1], vertical_alignment="bottom")
    name = left.selectbox("Dataset", list(datasets["name"]), key="pairwise_judge.versions_dataset")
    latest = int(datasets.loc[datasets["name"] == name, "version"].iloc[0])
    first = mid.number_input("Version A", 1, latest, max(1, latest - 1), key="pairwise_judge.version_a")
    second = right.number_input("Version B", 1, latest, latest, key="pairwise_judge.version_b")
    if st.button("Form pairs", icon=":material/join_inner:", disabled=first == second):
        result = pairs_from_versions(store, name, int(first), int(second))
        st.success(f"{result.dataset}: {result.pairs} pairs ({result.new_pairs} new)", icon=":material/check:")
        for warning in result.warnings:
            st.warning(warning, icon=":material/warning:")


def report_figures(report: dict[str, Any], *, key: str = "pairwise_judge") -> None:
    agreement, position = report["agreement"], report["position"]
    left, right = st.columns(2)
    left.plotly_chart(interval_chart([(FIGURE_TITLES[k], v) for k, v in agreement.items()],
                                     title="Agreement with people (95% intervals)"), key=f"{key}.agreement")
    right.plotly_chart(interval_chart([(FIGURE_TITLES[k], v) for k, v in position.items()],
                                      title="Position bias (fair: consistency 1, first-position 0.5)"),
                       key=f"{key}.position")
    rows = [{"Figure": FIGURE_TITLES[name], "Value": fig["value"], "95% low": (fig["ci"] or [None])[0],
             "95% high": (fig["ci"] or [None, None])[1], "n": fig["n"]}
            for group in (agreement, position) for name, fig in group.items()]
    st.dataframe(pd.DataFrame(rows), hide_index=True,
                 column_config={column: st.column_config.NumberColumn(format="%.3f")
                                for column in ("Value", "95% low", "95% high")})
    stats = report["run_stats"]
    cost = "unknown" if stats["cost_usd"] is None else f"${stats['cost_usd']:.4f}"
    st.caption(f"{stats['pairs']} pairs, {stats['replies']} replies ({stats['cached']} from cache, "
               f"{stats['failed']} failed), cost {cost}; {report['labels']['pairs_with_human_preference']} pairs "
               "have a human preference.")


@st.fragment(run_every="2s")
def run_status(run_id: str) -> None:
    """Follows the run through the store while the page is open: replies so far, failures, cost, its batches
    (with Cancel batch while the provider still works on one)."""
    with errors_shown():
        run = read("pairwise_run", run_id)
        total = int(run["total_pairs"]) * len(run["orders"])
        cost = "unknown" if run["cost_usd"] is None or pd.isna(run["cost_usd"]) else f"${run['cost_usd']:,.4f}"
        st.progress(min(run["done"] / total, 1.0) if total else 1.0,
                    text=f"{run['status']}: {run['done']:,} of {total:,} replies, {run['failed']:,} failed, "
                         f"{run['cached']:,} from cache, cost {cost}")
        if run["error"]:
            st.error(run["error"], icon=":material/error:")
        batches = read("run_batches", run_id)
        if not len(batches):
            return
        st.dataframe(batches[["round", "provider", "batch_id", "status", "requests", "stored", "resent", "canceled"]],
                     hide_index=True)
        if batches["status"].isin(["submitting", "submitted"]).any() and st.button(
                "Cancel batch", icon=":material/cancel:", key="pairwise_judge.cancel"):
            st.toast(f"Asked the provider to cancel {cancel_pairwise_run(get_store(), run_id, secrets=secrets())} "
                     "batch(es); what they finished is still collected.", icon=":material/cancel:")


# The run list's columns, in order, with readable headers.
PAIRWISE_RUN_COLUMNS = {
    "name": "Run", "criterion": "Criterion", "model": "Model", "source": "Source", "status": "Status",
    "total_pairs": "Pairs", "batch": "Batch", "replies": "Replies", "failed": "Failed",
    "cost_usd": st.column_config.NumberColumn("Cost", format="$%.4f"),
    "created_at": st.column_config.DatetimeColumn("Started", format="YYYY-MM-DD HH:mm"), "id": "Run id",
}


def verdict_table(frame: pd.DataFrame) -> None:
    """One row per pair: each order's choice, the verdict and the human preference (text only)."""
    st.dataframe(frame[["pair_id", "system_a", "system_b", "choice_ab", "choice_ba", "verdict", "human"]],
                 hide_index=True)


def reply_detail(replies: pd.DataFrame) -> None:
    """Both replies of one pair side by side (A shown first, B shown first): choice, reasoning, raw reply, error."""
    if not len(replies):
        return
    pair_id = st.selectbox("Look closer at a pair", list(dict.fromkeys(replies["pair_id"])),
                           key="pairwise_judge.detail")
    shown = replies[replies["pair_id"] == pair_id].set_index("shown_order")
    for column, order in zip(st.columns(2), ("ab", "ba")):
        column.markdown(f"**{'A' if order == 'ab' else 'B'} shown first**")
        if order not in shown.index:
            column.caption("not asked in this order")
            continue
        reply = shown.loc[order]
        column.text(f"choice: {reply['choice'] if isinstance(reply['choice'], str) else '-'}")
        column.text(reply["reasoning"] if isinstance(reply["reasoning"], str) else "(no reasoning)")
        if isinstance(reply["error"], str):
            column.text(f"error: {reply['error']}")
