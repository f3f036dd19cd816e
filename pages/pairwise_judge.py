"""Pairwise judge: import pairs, judge each pair in both orders with an LLM, and see how far it agrees with
people and how much the slot an output sits in sways it."""

import streamlit as st

from judge.builtin_specs import DEFAULT_MODEL
from judge.pairwise import estimate_pairwise_run, run_pairwise_in_background, running_here, start_pairwise_run
from judge.reports.pairwise import pairwise_frame, pairwise_report
from judge.ui import computed, errors_shown, get_store, read
from judge.ui.judges import secrets
from judge.ui.pairwise_view import (PAIRWISE_RUN_COLUMNS, pair_upload, pairwise_run_upload, reply_detail,
                                    report_figures, run_status, spec_form, verdict_table, versions_form)

st.title("Pairwise judge")
st.caption("Which of two outputs is better: every pair is judged in both orders, and a verdict counts only when "
           "both orders agree (else it is a tie).")

with errors_shown():
    store = get_store()
    with st.expander("Import pairs", icon=":material/upload:", expanded=not len(read("pair_datasets"))):
        pair_upload(store)
        st.caption("Or pair two versions of an imported dataset (the same items, two app versions):")
        versions_form(store, read("datasets"))
    datasets = read("pair_datasets")
    if not len(datasets):
        st.stop()
    dataset = st.selectbox("Pair dataset", list(datasets["name"]), key="pairwise_judge.dataset")
    with st.expander("Import a pairwise run made elsewhere", icon=":material/input:"):
        st.caption("A file of pair ids and an external judge's choices: pair_id and choice (A shown first), or "
                   "choice_ab and choice_ba (both orders), each a, b or tie in the pair's own terms.")
        pairwise_run_upload(store, dataset)

    spec = spec_form(DEFAULT_MODEL)
    estimate = estimate_pairwise_run(store, dataset=dataset, spec=spec)
    when = st.radio("When", ["Now", "Batch"], horizontal=True, key="pairwise_judge.when",
                    help="Batch: through the provider's batch API, half the price, results within 24 hours.")
    st.caption(estimate.describe(batch=when == "Batch"))
    if st.button("Start pairwise run", icon=":material/play_arrow:", type="primary"):
        run_id = start_pairwise_run(store, dataset=dataset, spec=spec, secrets=secrets(), batch=when == "Batch")
        run_pairwise_in_background(store, run_id, secrets=secrets())
        st.session_state["pairwise_judge.run"] = run_id
        st.toast(f"Started {run_id}", icon=":material/play_circle:")

    runs = read("pairwise_runs", dataset)
    if not len(runs):
        st.info("No pairwise runs on this dataset yet.", icon=":material/info:")
        st.stop()
    st.dataframe(runs, hide_index=True, column_order=list(PAIRWISE_RUN_COLUMNS), column_config=PAIRWISE_RUN_COLUMNS)
    ids = list(runs["id"])
    wanted = st.session_state.get("pairwise_judge.run")
    run_id = st.selectbox("Report of run", ids, index=ids.index(wanted) if wanted in ids else 0)
    picked = runs.set_index("id").loc[run_id]
    if picked["source"] == "judge" and picked["status"] != "done" and not running_here(store, run_id) and st.button(
            "Resume run", icon=":material/resume:", key="pairwise_judge.resume",
            help="Ask only for the replies it has not got (and again for failed ones); a batch run collects "
                 "what it already sent. Nothing happens while another process is executing it."):
        run_pairwise_in_background(store, run_id, secrets=secrets())
        st.toast(f"Resumed {run_id}", icon=":material/play_circle:")
    run_status(run_id)
    report_figures(computed(pairwise_report, run_id))
    verdict_table(computed(pairwise_frame, run_id)[1])
    reply_detail(read("pairwise_verdicts", run_id))
