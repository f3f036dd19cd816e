"""Distill: a free, local judge learned from the people's labels, or from an LLM run (the teacher) and them."""

import streamlit as st

from judge.distill import distill_judge
from judge.teacher_distill import HUMAN_WEIGHT, distill_from_teacher
from judge.ui import errors_shown, read
from judge.ui.distill import start_distilling
from judge.ui.jobs import find_job
from judge.ui.reports import figure_text, interval_text
from judge.ui.run_labels import run_labels

JOB = "distill.job"

st.title("Distill a local judge")
st.caption("A classifier (TF-IDF of the output, overlap with input and reference, logistic regression) that "
           "scores 100,000 items in under a minute with no key. Every labeled item is scored out of fold, so its "
           "report measures how it generalizes; review labels teach it but never measure it.")

with errors_shown():
    runs = read("runs")
    finished = runs[(runs["status"] == "done") & (runs["source"] != "distilled")] if len(runs) else runs
    teach, people = st.tabs(["From a run and the people", "From the people's labels only"])
    with teach:
        if not len(finished):
            st.info("No finished judge run yet: run an LLM judge first; its verdicts teach the local one.",
                    icon=":material/info:")
        else:
            labels = run_labels(finished)
            teacher = st.selectbox("Teacher run", list(labels), format_func=labels.get, key="distill.teacher")
            weight = st.number_input("Weight of a human label (in teacher verdicts)", min_value=1.0, max_value=100.0,
                                     value=HUMAN_WEIGHT, key="distill.weight")
            if st.button("Distill from this run", icon=":material/school:", key="distill.from_run"):
                st.session_state[JOB] = start_distilling(f"from run {teacher}", distill_from_teacher, teacher,
                                                         human_weight=float(weight))
    with people:
        datasets = read("datasets")
        if len(datasets):
            dataset = st.selectbox("Dataset", list(datasets["name"]), key="distill.dataset")
            criteria = [c.name for c in read("criteria", dataset)]
            criterion = st.selectbox("Criterion", criteria, key=f"distill.criterion.{dataset}")
            if st.button("Distill from the labels", icon=":material/school:", key="distill.from_labels"):
                st.session_state[JOB] = start_distilling(f"from the labels of {dataset}", distill_judge, dataset,
                                                         criterion=criterion)


@st.fragment(run_every=1.0)
def progress() -> None:
    job = find_job(st.session_state.get(JOB))
    if job is None:
        return
    if job.running:
        st.info(f"Training {job.what}...", icon=":material/hourglass_top:")
    elif job.error:
        st.error(job.error, icon=":material/error:")
    elif hasattr(job.result, "student"):
        st.success(f"Run {job.result.run_id}: the local judge, out of fold, beside its teacher on the same "
                   f"{job.result.student['n']} labeled items ({job.result.figure}).", icon=":material/check:")
        student, teacher = st.columns(2)
        for column, title, fig in ((student, "Distilled (free, local)", job.result.student),
                                   (teacher, "Teacher", job.result.teacher)):
            column.metric(title, figure_text(fig), border=True)
            column.caption(interval_text(fig))
    else:
        st.success(job.result.describe(), icon=":material/check:")


progress()
