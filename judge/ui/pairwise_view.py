"""Widgets of the Pairwise judge page: importing pairs, starting a both-orders run, and its report."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from judge.pairs import import_pairs, pairs_from_versions
from judge.ui.charts import interval_chart
from judge.ui.uploads import dataset_name_from, saved_upload

FIGURE_TITLES = {
    "accuracy": "accuracy (both orders)", "kappa": "kappa a/b/tie", "decisive_accuracy": "accuracy when not a tie",
    "accuracy_ab_only": "accuracy, A shown first only",
    "accuracy_ba_only": "accuracy, B shown first only", "position_consistency": "position consistency",
    "first_position_win_rate": "first-position win rate", "tie_rate": "tie rate",
    "inconsistent_rate": "inconsistent rate",
}


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


def report_figures(report: dict[str, Any]) -> None:
    agreement, position = report["agreement"], report["position"]
    left, right = st.columns(2)
    left.plotly_chart(interval_chart([(FIGURE_TITLES[k], v) for k, v in agreement.items()],
                                     title="Agreement with people (95% intervals)"), key="pairwise_judge.agreement")
    right.plotly_chart(interval_chart([(FIGURE_TITLES[k], v) for k, v in position.items()],
                                      title="Position bias (fair: consistency 1, first-position 0.5)"),
                       key="pairwise_judge.position")
    rows = [{"figure": FIGURE_TITLES[name], "value": fig["value"], "low": (fig["ci"] or [None])[0],
             "high": (fig["ci"] or [None, None])[1], "n": fig["n"]}
            for group in (agreement, position) for name, fig in group.items()]
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    stats = report["run_stats"]
    cost = "unknown" if stats["cost_usd"] is None else f"${stats['cost_usd']:.4f}"
    st.caption(f"{stats['pairs']} pairs, {stats['replies']} replies ({stats['cached']} from cache, "
               f"{stats['failed']} failed), cost {cost}; {report['labels']['pairs_with_human_preference']} pairs "
               "have a human preference.")


def verdict_table(frame: pd.DataFrame) -> None:
    """One row per pair: each order's choice, the verdict and the human preference (text only)."""
    st.dataframe(frame[["pair_id", "system_a", "system_b", "choice_ab", "choice_ba", "verdict", "human"]],
                 hide_index=True)
