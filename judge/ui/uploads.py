"""Uploaded files as real files: the importer reads paths (and names the file in its errors)."""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from judge.importing import read_table
from judge.readers import sheet_names
from judge.traces import PER_CHOICES, import_traces, sniff_format
from judge.verdict_export import VERDICT_FORMATS, export_verdicts

_UPLOAD_DIR = Path(tempfile.gettempdir()) / "judge-workbench-uploads"


def saved_upload(name: str, data: bytes) -> Path:
    """The upload written under its own name in a folder per content hash (same bytes, same path)."""
    folder = _UPLOAD_DIR / hashlib.sha256(data).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / Path(name).name
    if not path.exists() or path.stat().st_size != len(data):
        path.write_bytes(data)
    return path


@st.cache_data(show_spinner="Reading the file…", max_entries=8)
def table_of(path: str, size: int, sheet: str | None = None) -> pd.DataFrame:
    """The parsed file, cached per path, size and sheet so editing the mapping does not re-read it."""
    return read_table(path, sheet=sheet)


@st.cache_data(show_spinner=False, max_entries=8)
def sheets_of(path: str, size: int) -> list[str]:
    """The sheets of an uploaded workbook (none for other files), cached per path and size."""
    return sheet_names(Path(path)) if path.lower().endswith(".xlsx") else []


def dataset_name_from(filename: str) -> str:
    """A readable default dataset name: the file stem in lowercase words joined by dashes."""
    stem = Path(filename).name.split(".")[0].lower()
    return re.sub(r"[^a-z0-9]+", "-", stem).strip("-") or "dataset"


@st.cache_data(show_spinner=False, max_entries=8)
def trace_format_of(path: str, size: int) -> str:
    """otlp, langfuse or langsmith when a JSON upload is a trace export (then it imports as traces), else ""."""
    if not path.lower().endswith((".json", ".jsonl", ".json.gz", ".jsonl.gz", ".ndjson")):
        return ""
    return sniff_format(path)


def trace_import_form(path: Path, fmt: str, default_name: str, key: str) -> None:
    """Import a trace export: one item per trace or per LLM span (what `judge import-traces` does)."""
    from judge.ui import get_store

    st.info(f"This is a {fmt.upper() if fmt == 'otlp' else fmt.capitalize()} trace export: each trace (or each "
            "LLM span) becomes an item, with its last user turn as input, the final answer as output and the "
            "retrieved documents as context; trace and span ids are kept.", icon=":material/timeline:")
    with st.form(f"upload.traces.{key}", border=False):
        name_col, per_col = st.columns(2)
        dataset = name_col.text_input("Dataset name", value=default_name, key=f"upload.trace_dataset.{key}")
        per = per_col.selectbox("One item per", PER_CHOICES, key=f"upload.trace_per.{key}")
        if st.form_submit_button("Import traces", type="primary", icon=":material/upload:"):
            result = import_traces(get_store(), path, dataset=dataset, per=per, fmt=fmt)
            if result.created:
                st.success(f"Imported **{result.rows:,} items** as `{result.name}` version {result.version}.",
                           icon=":material/check_circle:")
            else:
                st.info(f"`{result.name}` version {result.version}: already imported (no change).",
                        icon=":material/info:")


_VERDICT_MIME = {"otlp": "application/json", "csv": "text/csv", "jsonl": "application/jsonl",
                 "parquet": "application/vnd.apache.parquet"}


def verdict_downloads(run_id: str) -> None:
    """Download buttons for a run's verdicts (what `judge export-verdicts` writes), built only when pressed."""
    from judge.ui import get_store

    st.markdown("**Verdicts out**")
    st.caption("OTLP: one gen_ai.evaluation.result event per verdict, linked to the judged span when the items "
               "came from traces. CSV, JSONL, Parquet: the verdicts joined with every annotator's label.")
    for column, fmt in zip(st.columns(6), VERDICT_FORMATS):
        column.download_button(
            fmt.upper(), data=lambda fmt=fmt: export_verdicts(get_store(), run_id, fmt=fmt),
            file_name=f"{run_id}-verdicts.{'otlp.json' if fmt == 'otlp' else fmt}", mime=_VERDICT_MIME[fmt],
            icon=":material/download:", on_click="ignore", key=f"run.verdicts.{fmt}", width="stretch",
        )

