"""Compare: two or more judge runs on the same items. Is one judge really better, and at what price?"""

import streamlit as st

from judge.ui import errors_shown, read
from judge.ui.charts import interval_chart
from judge.ui.nav import page_link
from judge.ui.plain import plain
from judge.ui.reports import comparison_table, figure_text, interval_text, report
from judge.ui.run_labels import default_comparison, run_labels

st.title("Compare judges")
st.caption("Agreement with people on the items every run judged, with a paired bootstrap of each kappa "
           "difference: is one judge really better, and at what price?")

runs = read("runs")
if len(runs) < 2:
    st.info("Compare needs two judge runs on the same dataset: run a second judge (or the same judge with another "
            "model) on a dataset you already judged.", icon=":material/info:")
    page_link("pages/run.py", label="Run a judge", icon=":material/play_circle:")
    st.stop()

labels = run_labels(runs)
picked = st.multiselect("Runs", list(labels), default=default_comparison(runs), format_func=labels.get,
                        key="compare.runs", placeholder="Pick two or more runs made on the same dataset")
if len(picked) < 2:
    st.info("Pick two or more runs made on the same dataset.", icon=":material/info:")
    st.stop()

with errors_shown():
    result = report("compare_runs", picked)
    short = run_labels([row["run"] for row in result["runs"]], compact=True)
    st.caption(f"{result['common_items']:,} items judged by every run; {result['excluded_fewshot']:,} few-shot "
               "examples left out.")
    table = comparison_table(result["runs"], short)
    st.dataframe(table, hide_index=True, key="compare.table", width="stretch",
                 column_order=["Run", "Labeled items", "Quadratic kappa", "95% interval", "Pass/fail kappa",
                               "Recall of failures"])
    st.plotly_chart(interval_chart([(short[r["run"]["id"]], r["quadratic_kappa"]) for r in result["runs"]],
                                   title="Quadratic kappa with 95% intervals", axis_title="quadratic kappa"),
                    key="compare.chart")

    st.subheader("Cost and speed")
    st.dataframe(table, hide_index=True, key="compare.costs", width="stretch",
                 column_order=["Run", "Cost", "Cost per 1k items", "Kappa per $ per 1k", "p50 latency",
                               "p95 latency", "Parse failures"])
    if all(not r["cost_usd"] for r in result["runs"]):
        st.caption("These judges cost nothing to run (offline), so agreement per dollar is undefined.")

    st.subheader("Is one judge really better?")
    for d in result["differences"]:
        fig = d["quadratic_kappa_difference"]
        verdict = (f"**{plain(short[d['better']])}** agrees better with people" if d["significant"]
                   else "no significant difference")
        st.markdown(f"- {plain(short[d['a']])} vs {plain(short[d['b']])}: kappa difference {figure_text(fig)} "
                    f"({interval_text(fig)}): {verdict}")

    st.subheader("Judges against each other")
    st.caption("How often the judges agree with each other, people aside.")
    st.dataframe([{"Judge A": short[p["a"]], "Judge B": short[p["b"]], "Items": p["n"],
                   "Quadratic kappa": figure_text(p["quadratic_kappa"]),
                   "95% interval": interval_text(p["quadratic_kappa"]),
                   "Exact agreement": figure_text(p["exact_agreement"], percent=True)}
                  for p in result["inter_judge"]], hide_index=True, key="compare.inter", width="stretch")
