"""Trends: one judge over versions of the app, with the judge's own changes marked and regressions flagged."""

import streamlit as st

from judge.ui import errors_shown, get_store, read
from judge.ui.charts import trend_figure
from judge.ui.reports import report

st.title("Trends")
st.caption("Mean score and corrected pass rate per run, with 95% interval bands. Dotted lines mark a change of "
           "the judge itself (spec version or model): not an app regression.")

runs = read("runs")
judges = sorted({name for name in runs["spec_name"] if name}) if len(runs) else []
if not judges:
    st.info("Run a judge on a few versions of your app to see a trend.", icon=":material/info:")
    st.stop()
judge_name = st.selectbox("Judge", judges, key="trends.judge")

with errors_shown():
    result = report("trend", judge_name)
    points = result["points"]
    st.plotly_chart(trend_figure(points, "corrected_pass_rate", title="Corrected pass rate",
                                 changes=result["judge_changes"]), key="trends.pass_rate")
    st.plotly_chart(trend_figure(points, "mean_score", title="Mean score", changes=result["judge_changes"]),
                    key="trends.mean_score")
    if result["regressions"]:
        st.error(f"Worse than the baseline beyond the intervals: {', '.join(result['regressions'])}",
                 icon=":material/trending_down:")
    st.caption(f"Baseline: {result['baseline_run'] or 'none pinned'}")
    ids = [p["run_id"] for p in points]
    pin = st.selectbox("Pin a run as the baseline", ids, index=len(ids) - 1, key="trends.pin")
    if st.button("Pin baseline", key="trends.pin_button", icon=":material/push_pin:"):
        get_store().pin_baseline(judge_name, pin)
        st.toast(f"{pin} is now the baseline of {judge_name}.")
        st.rerun()
