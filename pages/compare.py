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

criteria = sorted({str(c) for c in runs["criterion"].dropna()})
criterion = st.selectbox("Criterion", ["(all)", *criteria], key="compare.criterion",
                         help="Runs are compared on the labels of one criterion: pick runs of the same one.")
shown = runs if criterion == "(all)" else runs[runs["criterion"] == criterion]
labels = run_labels(shown)
default = [run_id for run_id in default_comparison(runs) if run_id in labels] or default_comparison(shown)
picked = st.multiselect("Runs", list(labels), default=default, format_func=labels.get,
                        key="compare.runs", placeholder="Pick two or more runs made on the same dataset")
if len(picked) < 2:
    st.info("Pick two or more runs made on the same dataset.", icon=":material/info:")
    st.stop()

with errors_shown():
    result = report("compare_runs", picked)
    short = run_labels([row["run"] for row in result["runs"]], compact=True)
    measured = result["criterion"]
    pass_fail = measured["scale"] == "pass/fail"
    key, title = ("pass_fail_kappa", "Pass/fail kappa") if pass_fail else ("quadratic_kappa", "Quadratic kappa")
    st.caption(f"Criterion **{measured['name']}** ({measured['scale']}): {result['common_items']:,} items judged "
               f"by every run; {result['excluded_fewshot']:,} few-shot examples left out.")
    table = comparison_table(result["runs"], short)
    order = (["Run", "Labeled items", "Pass/fail kappa", "Recall of failures"] if pass_fail else
             ["Run", "Labeled items", "Quadratic kappa", "95% interval", "Pass/fail kappa", "Recall of failures"])
    st.dataframe(table, hide_index=True, key="compare.table", width="stretch", column_order=order)
    st.plotly_chart(interval_chart([(short[r["run"]["id"]], r[key]) for r in result["runs"]],
                                   title=f"{title} with 95% intervals", axis_title=title.lower()),
                    key="compare.chart")

    st.subheader("Cost and speed")
    st.dataframe(table, hide_index=True, key="compare.costs", width="stretch",
                 column_order=["Run", "Cost", "Cost per 1k items", "Kappa per $ per 1k", "p50 latency",
                               "p95 latency", "Parse failures"])
    if all(not r["cost_usd"] for r in result["runs"]):
        st.caption("These judges cost nothing to run (offline), so agreement per dollar is undefined.")

    st.subheader("Is one judge really better?")
    for d in result["differences"]:
        fig = d["difference"]
        verdict = (f"**{plain(short[d['better']])}** agrees better with people" if d["significant"]
                   else "no significant difference")
        p_value = f", p = {d['p_value']:.3f}" if d.get("p_value") is not None else ""
        st.markdown(f"- {plain(short[d['a']])} vs {plain(short[d['b']])}: {d['figure'].replace('_', ' ')} "
                    f"difference {figure_text(fig)} ({interval_text(fig)}{p_value}): {verdict}")
        if d.get("power_note"):
            st.caption(d["power_note"].capitalize() + ".")

    if result["inter_judge"]:  # on 1-5 scores; a pass/fail criterion has no scale to agree on
        st.subheader("Judges against each other")
        st.caption("How often the judges agree with each other, people aside.")
        st.dataframe([{"Judge A": short[p["a"]], "Judge B": short[p["b"]], "Items": p["n"],
                       "Quadratic kappa": figure_text(p["quadratic_kappa"]),
                       "95% interval": interval_text(p["quadratic_kappa"]),
                       "Exact agreement": figure_text(p["exact_agreement"], percent=True)}
                      for p in result["inter_judge"]], hide_index=True, key="compare.inter", width="stretch")
