"""Uploaded files as real files: the importer reads paths (and names the file in its errors)."""

from __future__ import annotations

import hashlib
import re
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from judge.importing import read_table

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


def dataset_name_from(filename: str) -> str:
    """A readable default dataset name: the file stem in lowercase words joined by dashes."""
    stem = Path(filename).name.split(".")[0].lower()
    return re.sub(r"[^a-z0-9]+", "-", stem).strip("-") or "dataset"
