"""Overview: what the store holds, and the next step for whoever opens the dashboard."""

import streamlit as st

from judge.labeling import MILESTONES
from judge.ui import errors_shown, read
from judge.ui.nav import page_link
from judge.ui.run_labels import model_text


st.title("Judge Workbench")
st.caption("Build an LLM judge that agrees with your people: upload outputs, label them, run judges, compare.")

with errors_shown():
    datasets = read("datasets")
    runs = read("runs")
    annotators = read("annotators")

    total_items = int(datasets["items"].sum()) if len(datasets) else 0
    labeled = int(datasets["labeled_items"].sum()) if len(datasets) else 0
    first_milestone = MILESTONES[0][0]
    if not len(datasets):
        next_step = "upload"
    elif labeled < first_milestone:
        next_step = "label"
    elif not len(runs):
        next_step = "judge"
    else:
        next_step = "align"

    steps = [
        ("upload", "1. Upload", "pages/upload.py", ":material/upload:",
         "A CSV, JSONL or Parquet file of your app's inputs and outputs."),
        ("label", "2. Label", "pages/label.py", ":material/edit_note:",
         f"Grade outputs 1-5 with a critique; {first_milestone} labels are enough to measure a judge."),
        ("judge", "3. Judge", "pages/run.py", ":material/gavel:",
         "Run an LLM or offline judge that scores each output 1-5 with its reasoning."),
        ("align", "4. Align", "pages/report.py", ":material/balance:",
         "See where the judge disagrees with people, improve it, and compare versions."),
    ]
    for column, (key, title, target, icon, text) in zip(st.columns(4), steps):
        with column.container(border=True, height="stretch"):
            st.markdown(f"**{title}**" + ("  :primary-badge[Next]" if key == next_step else ""))
            st.caption(text)
            if not page_link(target, label=f"Go to {title.split('. ')[1].lower()}", icon=icon):
                st.caption("This page is not installed.")

    st.subheader("Datasets")
    if not len(datasets):
        st.info("The store is empty. Upload a file to start, or load the demo data with `judge demo`.",
                icon=":material/info:")
    else:
        left, middle, right = st.columns(3)
        left.metric("Datasets", len(datasets))
        middle.metric("Items", f"{total_items:,}")
        right.metric("Labeled items", f"{labeled:,}", help="Items with at least one human label.")
        st.dataframe(
            datasets.assign(labeled_share=datasets["labeled_items"] / datasets["items"].clip(lower=1))[
                ["name", "version", "items", "labeled_items", "labeled_share", "created_at"]],
            hide_index=True,
            width="stretch",
            column_config={
                "name": "Dataset",
                "version": st.column_config.NumberColumn("Version", format="v%d"),
                "items": st.column_config.NumberColumn("Items", format="localized"),
                "labeled_items": st.column_config.NumberColumn("Labeled", format="localized",
                                                               help="Items with at least one human label"),
                "labeled_share": st.column_config.ProgressColumn(
                    "Share labeled", help="Share of this dataset's items with at least one label", format="percent",
                    min_value=0.0, max_value=1.0),
                "created_at": st.column_config.DatetimeColumn("Imported", format="YYYY-MM-DD HH:mm"),
            },
        )
        if len(annotators):
            st.caption("Annotators: " + ", ".join(
                f"{row.name} ({row.labels:,} label{'' if row.labels == 1 else 's'})" for row in annotators.itertuples()
            ))

    if len(runs):
        st.subheader("Recent judge runs")
        st.dataframe(
            runs.assign(model=runs["model"].map(model_text))[
                ["dataset", "criterion", "spec_name", "model", "version_tag", "status", "done", "total_items",
                 "mean_score", "pass_rate", "created_at"]].head(10),
            hide_index=True, width="stretch",
            column_config={
                "dataset": "Dataset", "criterion": "Criterion", "spec_name": "Judge",
                "model": st.column_config.TextColumn("Model", width="medium"), "version_tag": "App version",
                "status": "Status", "done": "Done", "total_items": "Items",
                "mean_score": st.column_config.NumberColumn("Mean score", format="%.2f",
                                                            help="Blank for a pass/fail criterion."),
                "pass_rate": st.column_config.NumberColumn("Pass rate", format="percent"),
                "created_at": st.column_config.DatetimeColumn("Started", format="YYYY-MM-DD HH:mm"),
            },
        )
        page_link("pages/report.py", label="See how the judges agree with people", icon=":material/balance:")
