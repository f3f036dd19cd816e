"""Trends: one judge over versions of the app, with the judge's own changes marked and regressions flagged."""

import streamlit as st

from judge.audit import agreement_by_version
from judge.reports import pin_baseline
from judge.ui import computed, errors_shown, get_store, read
from judge.ui.charts import trend_figure
from judge.ui.nav import page_link
from judge.ui.plain import plain
from judge.ui.reports import report, version_agreement_table
from judge.ui.run_labels import busiest_judge, run_labels

st.title("Trends")
st.caption("One judge's mean score and corrected pass rate per run, with 95% interval bands. Dotted lines mark a "
           "change of the judge itself (spec version or model): not an app regression.")

runs = read("runs")
judges = sorted({name for name in runs["spec_name"] if name}) if len(runs) else []
if not judges:
    st.info("Run a judge on a few versions of your app (tag each run with its app version) to see a trend.",
            icon=":material/info:")
    page_link("pages/run.py", label="Run a judge", icon=":material/play_circle:")
    st.stop()
pick_col, criterion_col = st.columns([2, 1])
judge_name = pick_col.selectbox("Judge", judges, index=judges.index(busiest_judge(runs)), key="trends.judge",
                                format_func=lambda name: f"{name} ({(runs['spec_name'] == name).sum()} runs)")
criteria = sorted({str(c) for c in runs.loc[runs["spec_name"] == judge_name, "criterion"].dropna()})
criterion = criterion_col.selectbox("Criterion", criteria, key=f"trends.criterion.{judge_name}") if criteria else None

with errors_shown():
    result = report("trend", judge_name, criterion=criterion)
    points = result["points"]
    if len(points) < 2:
        st.info("This judge has one run so far: run it again on the next version of your app to draw a trend.",
                icon=":material/info:")
    left, right = st.columns(2)
    left.plotly_chart(trend_figure(points, "corrected_pass_rate", title="Corrected pass rate",
                                   changes=result["judge_changes"], significance=result["significance"]),
                      key="trends.pass_rate")
    right.plotly_chart(trend_figure(points, "mean_score", title="Mean score (1-5)", changes=result["judge_changes"],
                                    significance=result["significance"]), key="trends.mean_score")
    if result["regressions"]:
        labels = run_labels(runs[runs["id"].isin(result["regressions"])], compact=True)
        st.error(f"Worse than the baseline ({result['regression_test']}): " + "; ".join(map(plain, labels.values())),
                 icon=":material/trending_down:")

    st.subheader("Agreement with people per version")
    st.caption("Drift shows here first: the judge's agreement on each version's labeled items, and on the items "
               "new in that version (label a random audit sample of them with `judge label-next --strategy random`).")
    st.dataframe(version_agreement_table(computed(agreement_by_version, judge_name, criterion=criterion)),
                 hide_index=True, width="stretch")

    st.subheader("Baseline")
    labels = run_labels(runs[runs["spec_name"] == judge_name], compact=True)
    baseline = result["baseline_run"]
    st.caption(f"Baseline: {plain(labels.get(baseline, baseline)) if baseline else 'none pinned'}. Later runs are "
               f"flagged when they are significantly worse ({result['regression_test']}).")
    ids = [p["run_id"] for p in points]
    pin = st.selectbox("Pin a run as the baseline", ids, index=len(ids) - 1, key="trends.pin",
                       format_func=lambda run_id: labels.get(run_id, run_id))
    if st.button("Pin baseline", key="trends.pin_button", icon=":material/push_pin:"):
        pin_baseline(get_store(), judge_name, pin)
        st.toast(f"{plain(labels.get(pin, pin))} is now the baseline of {plain(judge_name)}.")
        st.rerun()
