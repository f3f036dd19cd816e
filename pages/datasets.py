"""Datasets: a version's items with their current labels, how the labels are spread, and exports."""

import pandas as pd
import plotly.express as px
import streamlit as st

from judge.exporting import EXPORT_FORMATS, export_bytes
from judge.labeling import annotator_counts, items_with_labels, score_distribution
from judge.ui import errors_shown, get_store, read
from judge.ui.charts import PRIMARY
from judge.ui.nav import page_link

MIME_TYPES = {"csv": "text/csv", "jsonl": "application/x-ndjson", "parquet": "application/vnd.apache.parquet"}

st.title("Datasets")
st.caption("Each version's items with their current labels, how people score them, and exports.")

with errors_shown():
    datasets = read("datasets")
    if not len(datasets):
        st.info("No dataset yet: upload a CSV, JSONL or Parquet file of your app's outputs, or load the demo data "
                "with `judge demo`.", icon=":material/info:")
        page_link("pages/upload.py", label="Upload outputs", icon=":material/upload:")
        st.stop()

    names = list(datasets["name"])
    wanted = st.query_params.get("dataset")
    name_col, version_col, criterion_col = st.columns([2, 1, 2])
    name = name_col.selectbox("Dataset", names, index=names.index(wanted) if wanted in names else 0)
    st.query_params["dataset"] = name
    versions = read("dataset_versions", name)
    version = version_col.selectbox(
        "Version", list(versions["version"]), format_func=lambda v: f"v{v}", key=f"datasets.version.{name}",
    )
    dataset = read("dataset", name, int(version))
    criteria = [c.name for c in read("criteria", name)]
    criterion = criterion_col.selectbox("Criterion", criteria, key=f"datasets.criterion.{name}",
                                        help="Labels, scores and pass rates below are of this criterion.")
    items = read("items", dataset["id"])
    labels = read("latest_labels", dataset["id"], criterion=criterion)
    table = items_with_labels(items, labels)

    labeled = int((table["annotators"] > 0).sum())
    metrics = st.columns(5)
    metrics[0].metric("Items", f"{len(items):,}")
    metrics[1].metric("Labeled items", f"{labeled:,}", help="Items with at least one human label.")
    metrics[2].metric("Labels", f"{len(labels):,}", help="Current labels: each annotator's latest per item.")
    metrics[3].metric("Annotators", labels["annotator"].nunique() if len(labels) else 0)
    pass_rate = labels["passed"].dropna().astype(bool).mean() if len(labels) else None
    metrics[4].metric("Pass rate", "–" if pass_rate is None or pass_rate != pass_rate else f"{pass_rate:.0%}")
    st.caption(
        f"Version {dataset['version']} imported {pd.Timestamp(dataset['created_at']):%Y-%m-%d %H:%M} "
        f"from `{dataset['source_file'] or 'unknown file'}`."
    )

    chart_col, people_col = st.columns([3, 2], gap="large")
    with chart_col:
        st.markdown("**Score distribution**")
        if len(labels):
            figure = px.bar(score_distribution(labels), x="score", y="labels", text="labels",
                            color_discrete_sequence=[PRIMARY])
            figure.update_layout(height=260, margin=dict(l=0, r=0, t=10, b=0), xaxis_title="Score",
                                 yaxis_title="Labels", plot_bgcolor="rgba(0,0,0,0)")
            figure.update_traces(textposition="outside", cliponaxis=False)
            st.plotly_chart(figure, config={"displayModeBar": False}, key="datasets.distribution")
        else:
            st.caption("No labels yet.")
            page_link("pages/label.py", label="Start labeling", icon=":material/edit_note:",
                      query_params={"dataset": name})
    with people_col:
        st.markdown("**Annotators**")
        st.dataframe(
            annotator_counts(labels).assign(pass_rate=lambda people: people["pass_rate"] * 100),
            hide_index=True, width="stretch",
            column_config={
                "annotator": "Annotator",
                "labels": "Labels",
                "mean_score": st.column_config.NumberColumn("Mean score", format="%.2f"),
                "pass_rate": st.column_config.NumberColumn("Pass rate", format="%.0f%%"),
            },
        )

    st.markdown("**Items and their latest labels**")
    metadata = pd.DataFrame(items["metadata"].tolist(), index=items.index)
    shown = pd.concat([table.drop(columns=["uid"]), metadata.drop(columns=table.columns, errors="ignore")], axis=1)
    shown[["critique", "annotator"]] = shown[["critique", "annotator"]].astype(object).fillna("")
    st.dataframe(
        shown, hide_index=True, width="stretch", height=420,
        column_config={
            "item_id": "Id",
            "input": st.column_config.TextColumn("Input", width="medium"),
            "output": st.column_config.TextColumn("Output", width="medium"),
            "score": st.column_config.NumberColumn("Latest score", help="The most recent label by anyone"),
            "passed": st.column_config.CheckboxColumn("Passed"),
            "critique": st.column_config.TextColumn("Critique", width="medium"),
            "annotator": "By",
            "annotators": st.column_config.NumberColumn("Annotators", help="People who labeled this item"),
            "mean_score": st.column_config.NumberColumn("Mean score", format="%.2f"),
        },
    )

    st.markdown("**Export**")
    st.caption("One row per item with every metadata column and score / passed / critique per annotator; "
               "`judge import` reads it back whole. CSV cells that would run as spreadsheet formulas are escaped.")
    for column, fmt in zip(st.columns(6), EXPORT_FORMATS):
        column.download_button(
            fmt.upper(), data=lambda fmt=fmt: export_bytes(get_store(), name, fmt=fmt, version=int(version)),
            file_name=f"{name}-v{version}.{fmt}", mime=MIME_TYPES[fmt], icon=":material/download:",
            on_click="ignore", key=f"datasets.export.{fmt}", width="stretch",
        )
