"""Upload: a file of LLM app outputs becomes a dataset version, with its label columns as labels."""

import streamlit as st

from judge.importing import DEFAULT_ANNOTATOR, ITEM_ROLES, LABEL_ROLES, explain_columns, import_file
from judge.readers import UPLOAD_TYPES
from judge.ui import errors_shown, get_store
from judge.ui.auth import route_through_app
from judge.ui.nav import page_link
from judge.ui.plain import plain
from judge.ui.uploads import (dataset_name_from, saved_upload, sheets_of, table_of, trace_format_of,
                              trace_import_form)

route_through_app()  # this page draws a form before it reads the store: apply app.py's sign-in first

ROLE_HELP = {
    "id": "A stable id per row; without one, ids are the row numbers.",
    "input": "What the user asked: the question or prompt.",
    "output": "What the LLM app answered (required): this is what gets graded.",
    "context": "Retrieved documents or other context the app was given.",
    "reference": "The expected answer, when you have one.",
    "score": "An existing human 1-5 score: imported as labels.",
    "passed": "An existing human pass/fail: imported as labels.",
    "critique": "An existing human critique: imported as labels.",
}
UNUSED = "(not in this file)"

st.title("Upload outputs")
st.caption(
    "A CSV, TSV, JSONL or JSON file (each also gzipped: .csv.gz, .jsonl.gz), an Excel .xlsx workbook or a "
    "Parquet file, with one row per LLM call. Columns are matched to roles automatically; every other column "
    "is kept as metadata you can filter and slice by. A Hugging Face dataset folder (save_to_disk, or Parquet "
    "shards) imports from the CLI: `judge import FOLDER`. A trace export (OpenTelemetry OTLP JSON, Langfuse, "
    "LangSmith) is recognised and imported one item per trace or per LLM span."
)

upload = st.file_uploader("File or trace export", type=list(UPLOAD_TYPES), key="upload.file")

if upload is None:
    st.info(
        "Expected columns: **output** (required), **input**, and optionally **context**, **reference**, **id**, "
        "and human labels as **score** (1-5), **passed** and **critique**.",
        icon=":material/info:",
    )
    st.stop()

with errors_shown():
    path = saved_upload(upload.name, upload.getvalue())
    trace_format = trace_format_of(str(path), path.stat().st_size)
    if trace_format:
        trace_import_form(path, trace_format, dataset_name_from(upload.name), upload.file_id)
        st.stop()
    sheets = sheets_of(str(path), path.stat().st_size)
    sheet = st.selectbox("Sheet", sheets, key=f"upload.sheet.{upload.file_id}") if len(sheets) > 1 else None
    table = table_of(str(path), path.stat().st_size, sheet)
    columns = list(table.columns)
    explained = explain_columns(columns)
    detected = {role: column for role, (column, _) in explained.items()}

    st.subheader("Preview")
    st.caption(f"{len(table):,} rows, {len(columns)} columns. The first 10 rows:")
    st.dataframe(table.head(10), hide_index=True, width="stretch")

    st.subheader("Column mapping")
    st.caption("Detected from the column names; change any role. Unmapped columns become metadata.")
    options = [UNUSED, *columns]
    mapping: dict[str, str | None] = {}
    for row_roles in (ITEM_ROLES, LABEL_ROLES):
        for column, role in zip(st.columns(len(ITEM_ROLES)), row_roles):
            chosen = column.selectbox(
                role.capitalize() + (" *" if role == "output" else ""), options,
                index=options.index(detected[role]) if role in detected else 0,
                key=f"upload.map.{upload.file_id}.{sheet}.{role}", help=ROLE_HELP[role],
            )
            mapping[role] = None if chosen == UNUSED else chosen
    with st.expander("Why these roles"):
        st.dataframe(
            [{"role": role, "column": column, "why": reason} for role, (column, reason) in explained.items()]
            or [{"role": "", "column": "", "why": "no column name matched a role; choose them above"}],
            hide_index=True, width="stretch",
        )
    metadata_columns = [c for c in columns if c not in mapping.values()]
    if metadata_columns:
        st.caption("Metadata: " + ", ".join(plain(c) for c in metadata_columns))

    has_labels = any(mapping[role] for role in LABEL_ROLES)
    with st.form("upload.form", border=False):
        name_col, annotator_col = st.columns(2)
        dataset = name_col.text_input(
            "Dataset name", value=dataset_name_from(upload.name), key=f"upload.dataset.{upload.file_id}",
            help="Uploading a changed file under the same name creates a new version of the dataset.",
        )
        annotator = annotator_col.text_input(
            "Annotator of the label columns",
            value=st.session_state.get("label.annotator") or DEFAULT_ANNOTATOR,
            disabled=not has_labels, key=f"upload.annotator.{upload.file_id}",
            help="Whose grades the score / passed / critique columns hold.",
        )
        label_map = st.text_input(
            "Label map (optional)", key=f"upload.label_map.{upload.file_id}", disabled=not has_labels,
            placeholder="Consistent=pass,Benign=pass,Unwanted=fail  or  A=5,B=3,C=1",
            help="Turns categorical labels in the score or passed column into 1-5 scores or pass/fail; stored "
                 "with the dataset version.",
        )
        submitted = st.form_submit_button("Import", type="primary", icon=":material/upload:")

    if submitted:
        with st.spinner("Importing…"):
            result = import_file(
                get_store(), path, dataset=dataset, column_map=mapping,
                annotator=annotator if has_labels else None, label_map=(label_map or None) if has_labels else None,
                sheet=sheet,
            )
        st.session_state["upload.result"] = result
        st.session_state["label.dataset"] = result.name

    result = st.session_state.get("upload.result")
    if result is not None and result.name == dataset.strip():
        if result.created:
            st.success(
                f"Imported **{result.rows:,} items** and **{result.labels:,} labels** "
                f"as {plain(result.name)} version {result.version}.", icon=":material/check_circle:",
            )
        else:
            st.info(f"{plain(result.name)} version {result.version}: already imported (no change).",
                    icon=":material/info:")
        for warning in result.warnings:
            st.warning(warning, icon=":material/warning:")
        link_col, data_col, _ = st.columns([1, 1, 3])
        with link_col:
            page_link("pages/label.py", label="Label it", icon=":material/edit_note:",
                      query_params={"dataset": result.name})
        with data_col:
            page_link("pages/datasets.py", label="See the dataset", icon=":material/table:",
                      query_params={"dataset": result.name})
