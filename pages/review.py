"""Review: the judge labels, you refine. Accept or correct each verdict; corrections become few-shot examples."""

import streamlit as st

from judge.label_next import STRATEGIES
from judge.review import DEFAULT_BATCH, DEFAULT_STRATEGY, improve_from_review, review_batch, save_review
from judge.ui import errors_shown, get_store, read
from judge.ui.annotator import ask_annotator
from judge.ui.judges import secrets
from judge.ui.review import review_form
from judge.ui.run_labels import run_labels

st.title("Review the judge")
st.caption("The judge's score, pass/fail and reasoning are filled in: accept each, or correct it with a critique. "
           "Review labels are kept out of agreement figures (they lean towards the judge) and teach it as "
           "few-shot examples.")
annotator = ask_annotator()

with errors_shown():
    runs = read("runs")
    if not len(runs):
        st.info("No judge run yet: run a judge first.", icon=":material/info:")
        st.stop()
    labels = run_labels(runs)
    run_col, n_col, strategy_col = st.columns([3, 1, 1])
    run_id = run_col.selectbox("Run", list(labels), format_func=labels.get, key="review.run")
    n = n_col.number_input("Items", min_value=1, max_value=100, value=DEFAULT_BATCH, key="review.n")
    strategy = strategy_col.selectbox("Chosen by", STRATEGIES, index=STRATEGIES.index(DEFAULT_STRATEGY),
                                      key="review.strategy")
    key = (run_id, int(n), strategy)
    if st.session_state.get("review.key") != key:
        st.session_state["review.key"] = key
        st.session_state["review.batch"] = review_batch(get_store(), run_id, n=int(n), strategy=strategy)
    batch = st.session_state["review.batch"]

    done = st.session_state.get("review.result")
    if done and done["run"] == run_id:
        st.success(f"{done['accepted']} verdicts accepted, {done['corrected']} corrected.", icon=":material/check:")
        if done["corrected"]:
            rerun = st.checkbox("and re-run the new version on the items no review graded", value=True,
                                key="review.rerun")
            if st.button("Turn the corrections into few-shot examples (a new spec version)",
                         icon=":material/school:"):
                step = improve_from_review(get_store(), run_id, done["corrections"], rerun=rerun, background=True,
                                           secrets=secrets())
                st.session_state["review.result"] = None
                st.success(f"Saved version {step['version']} of the judge with {done['corrected']} new examples"
                           + (f"; re-running it on {step['items']} items as run {step['run_id']} (see Run)."
                              if step["run_id"] else ": re-run it on the Run page."), icon=":material/school:")
    if batch.empty:
        st.info("Every item of this run is labeled on its criterion.", icon=":material/celebration:")
        st.stop()
    reviewed = review_form(batch, pass_fail=read("report_run", run_id).get("scale") == "pass/fail")
    if reviewed is not None:
        result = save_review(get_store(), run_id, reviewed, annotator)
        st.session_state["review.result"] = {"run": run_id, **result}
        st.session_state["review.key"] = None
        st.rerun()
