"""Compare: two or more judge runs on the same items. Is one judge really better, and at what price?"""

import streamlit as st

from judge.ui import errors_shown, read
from judge.ui.charts import interval_chart
from judge.ui.reports import figure_text, interval_text, report

st.title("Compare judges")
st.caption("Agreement on the items every run judged, with a paired bootstrap of each kappa difference.")

runs = read("runs")
labels = {row["id"]: f"{row['spec_name']} · {row['model'] or 'offline'} · {row['dataset']} · {row['id']}"
          for _, row in runs.iterrows()}
picked = st.multiselect("Runs", list(labels), format_func=labels.get, key="compare.runs")
if len(picked) < 2:
    st.info("Pick two or more runs made on the same dataset.", icon=":material/info:")
    st.stop()

with errors_shown():
    result = report("compare_runs", picked)
    st.caption(f"{result['common_items']} items judged by every run; {result['excluded_fewshot']} few-shot "
               "examples left out.")
    rows = result["runs"]
    st.dataframe([{
        "run": r["run"]["id"], "judge": r["run"]["spec_name"], "model": r["run"]["model"],
        "labeled": r["labeled_items"], "quadratic kappa": figure_text(r["quadratic_kappa"]),
        "interval": interval_text(r["quadratic_kappa"]), "pass/fail kappa": figure_text(r["pass_fail_kappa"]),
        "recall of failures": figure_text(r["failure_recall"]), "cost $": r["cost_usd"],
        "$ per 1k items": r["cost_per_1k_items"], "kappa per $/1k": r["agreement_per_dollar"],
        "p50 ms": r["latency_p50_ms"], "p95 ms": r["latency_p95_ms"], "parse failures": r["parse_failure_rate"],
    } for r in rows], hide_index=True, key="compare.table")
    st.plotly_chart(interval_chart([(f"{r['run']['spec_name']} · {r['run']['id'][-6:]}", r["quadratic_kappa"])
                                    for r in rows], title="Quadratic kappa with 95% intervals"),
                    key="compare.chart")

    st.subheader("Is one judge really better?")
    for d in result["differences"]:
        fig = d["quadratic_kappa_difference"]
        verdict = (f"**{d['better']}** agrees better with people" if d["significant"]
                   else "no significant difference")
        st.markdown(f"{d['a']} vs {d['b']}: kappa difference {figure_text(fig)} ({interval_text(fig)}): {verdict}")

    st.subheader("Judges against each other")
    st.dataframe([{"a": p["a"], "b": p["b"], "n": p["n"], "quadratic kappa": figure_text(p["quadratic_kappa"]),
                   "interval": interval_text(p["quadratic_kappa"]), "exact": figure_text(p["exact_agreement"])}
                  for p in result["inter_judge"]], hide_index=True, key="compare.inter")
