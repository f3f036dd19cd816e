"""A pairwise run on the Report page: agreement with people's preferences, position bias, the human ceiling and
the figures per slice, each with its 95% interval and n (computed by judge.reports.pairwise)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from judge.reports.pairwise import pairwise_report, run_choices, slice_columns
from judge.ui import computed
from judge.ui.pairwise_view import report_figures
from judge.ui.reports import figure_text, interval_text


# The headline figures of a pairwise run on the Report page: (group, key, title, shown as a percentage).
HEADLINE = [("agreement", "accuracy", "Accuracy (a/b/tie)", True), ("agreement", "kappa", "Kappa (a/b/tie)", False),
            ("position", "position_consistency", "Position consistency", True),
            ("position", "first_position_win_rate", "First-position win rate", True),
            ("position", "tie_rate", "Tie rate", True)]
SLICE_FIGURES = {"accuracy": "Accuracy", "kappa": "Kappa", "position_consistency": "Consistency",
                 "first_position_win_rate": "First-position wins", "tie_rate": "Tie rate"}


def pairwise_run_report(store) -> None:
    """The Report page for a pairwise run: agreement with people's preferences, position bias, per slice."""
    choices = run_choices(store)
    run_id = st.selectbox("Pairwise run", list(choices), format_func=choices.get, key="report.pairwise_run")
    columns = computed(slice_columns, run_id)
    slice_by = st.selectbox("Slice by", columns, key="report.pairwise_slice") if columns else None
    report = computed(pairwise_report, run_id, slice_by=slice_by)
    run, labels = report["run"], report["labels"]
    st.caption(f"Judge **{run['spec_name']}** ({run['model'] or 'imported'}) on pair dataset **{run['dataset']}**, "
               f"orders {', '.join(run['orders'])}, measured on criterion **{run['criterion']}**: "
               f"{labels['pairs_with_human_preference']} pairs with a human preference ({labels['human_ties']} ties).")
    for column, (group, name, title, percent) in zip(st.columns(len(HEADLINE)), HEADLINE):
        fig = report[group][name]
        column.metric(title, figure_text(fig, percent=percent), help=fig.get("undefined"), border=True)
        column.caption(interval_text(fig, percent=percent))
    ceiling = report["human_ceiling"]["krippendorff_alpha"]
    st.markdown(f"People with each other (the ceiling): Krippendorff's alpha **{figure_text(ceiling)}** "
                f"({interval_text(ceiling)})")
    report_figures(report, key="report.pairwise")
    if slice_by:
        st.subheader("Agreement per slice")
        st.caption("Worst accuracy first; each figure with its 95% interval and n.")
        st.dataframe(pd.DataFrame([{slice_by: s["value"], "pairs": s["pairs"],
                                    **{title: f"{figure_text(s[k])} ({interval_text(s[k])})"
                                       for k, title in SLICE_FIGURES.items()}} for s in report["slices"]]),
                     hide_index=True, key="report.pairwise_slices", width="stretch")
