"""Rankings: systems (app versions, models) ranked by a Bradley-Terry fit over pairwise verdicts or people's
preferences, with 95% intervals, the win-rate matrix and the probability that each beats each other."""

import pandas as pd
import streamlit as st

from judge.ranking import rank
from judge.ui import computed, errors_shown, read
from judge.ui.ranking_charts import matrix_heatmap, rating_chart

st.title("Rankings")
st.caption("Which system is better, with how much certainty: a Bradley-Terry model over every pairwise "
           "verdict (ties count half), intervals from 1,000 bootstrap resamples of the matches.")

with errors_shown():
    datasets = read("pair_datasets")
    if not len(datasets):
        st.info("No pairs yet: import some with `judge import-pairs FILE --dataset NAME`.", icon=":material/info:")
        st.stop()
    dataset = st.selectbox("Pair dataset", list(datasets["name"]), key="rankings.dataset")
    runs = read("pairwise_runs", dataset)
    source = st.radio("Rank from", ["Human preferences", "Pairwise judge runs"], horizontal=True,
                      key="rankings.source", disabled=not len(runs))
    if source == "Human preferences":
        result = computed(rank, dataset=dataset, human=True)
    else:
        labels = {r.id: f"{r.id} · {r.spec_name} ({r.model or r.source})" for r in runs.itertuples()}
        picked = st.multiselect("Runs (their verdicts are pooled)", list(labels), default=list(labels)[:1],
                                format_func=labels.get, key="rankings.runs")
        if not picked:
            st.info("Pick one or more pairwise runs.", icon=":material/info:")
            st.stop()
        result = computed(rank, runs=picked, compare_human=True)

    st.subheader(f"From {result['source']}", anchor=False)
    table = pd.DataFrame([{"Rank": r["rank"], "System": r["system"], "Rating": round(r["rating"]),
                           "95% interval": f"{r['rating_ci'][0]:.0f} to {r['rating_ci'][1]:.0f}",
                           "Matches": r["matches"], "Win rate": 100 * r["win_rate"]} for r in result["ranking"]])
    st.dataframe(table, hide_index=True, column_config={"Win rate": st.column_config.NumberColumn(format="%.1f%%")})
    tau = result.get("kendall_tau")
    if tau is not None:
        if tau["value"] is None:
            st.caption(f"Judge vs human ranking: {tau['undefined']}.")
        else:
            st.metric("Kendall tau, judge vs human ranking", f"{tau['value']:.2f}",
                      help=f"95% interval {tau['ci'][0]:.2f} to {tau['ci'][1]:.2f} over {tau['n']} pairs")
    st.plotly_chart(rating_chart(result["ranking"]))
    observed, model, stronger = st.tabs(["Observed win rate", "P(beats) in one match", "P(stronger)"])
    observed.plotly_chart(matrix_heatmap(result["win_rate_matrix"], result["systems"],
                                         title="Share of matches the row system won (ties half)"))
    model.plotly_chart(matrix_heatmap(result["p_win"], result["systems"],
                                      title="Bradley-Terry probability that the row system wins one match"))
    stronger.plotly_chart(matrix_heatmap(result["p_better"], result["systems"],
                                         title="Share of resamples in which the row system is stronger"))
