"""Exporting: one row per item with each annotator's current label, formula-safe CSV, and round trips."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from judge.errors import JudgeError
from judge.exporting import escape_formula, export_bytes, export_frame
from judge.importing import import_file, import_labels


@pytest.fixture
def labeled(store, tmp_path):
    path = tmp_path / "support.jsonl"
    rows = [
        {"id": "s1", "input": "=1+1", "output": "+44 20 7946 0000", "score": 4, "passed": True, "critique": "ok",
         "app_version": "v1", "turns": 3},
        {"id": "s2", "input": "@everyone", "output": "-5 credits", "score": 2, "passed": False,
         "critique": "meh", "app_version": "v2", "turns": "many"},
        {"id": "s3", "input": "plain", "output": "\tsneaky", "app_version": "v2", "turns": None},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    import_file(store, path, dataset="support", annotator="maya")
    uid = store.items(store.dataset("support")["id"])["uid"][0]
    store.add_label(uid, "jonas", score=3, critique="a bit terse")
    store.add_label(uid, "jonas", score=5, passed=True, critique="fine on a second look")
    return store


def test_wide_export_has_one_row_per_item_and_columns_per_annotator(labeled):
    frame = export_frame(labeled, "support")
    assert list(frame.columns) == [
        "item_id", "input", "output", "context", "reference", "app_version", "turns",
        "score:jonas", "passed:jonas", "critique:jonas", "score:maya", "passed:maya", "critique:maya",
    ]
    assert frame["item_id"].tolist() == ["s1", "s2", "s3"]
    assert frame["score:maya"].tolist()[:2] == [4, 2] and pd.isna(frame["score:maya"][2])
    # The latest of jonas's two labels wins.
    assert frame["score:jonas"][0] == 5 and frame["critique:jonas"][0] == "fine on a second look"


def test_adjudicated_labels_get_final_columns(labeled):
    uid = labeled.items(labeled.dataset("support")["id"])["uid"][1]
    labeled.add_label(uid, "owner", score=3, kind="adjudication")
    frame = export_frame(labeled, "support")
    assert frame["final_score"].tolist()[1] == 3 and frame["final_score"].isna().sum() == 2


def test_csv_export_escapes_formulas(labeled):
    text = export_bytes(labeled, "support", fmt="csv").decode("utf-8")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert frame["input"].tolist() == ["'=1+1", "'@everyone", "plain"]
    assert frame["output"].tolist() == ["'+44 20 7946 0000", "'-5 credits", "'\tsneaky"]
    assert escape_formula("\rcmd") == "'\rcmd" and escape_formula("a=b") == "a=b" and escape_formula(3) == 3


def test_jsonl_and_parquet_exports_keep_values(labeled):
    lines = export_bytes(labeled, "support", fmt="jsonl").decode("utf-8").splitlines()
    first = json.loads(lines[0])
    assert (first["input"], first["turns"], first["score:maya"], first["passed:maya"]) == ("=1+1", 3, 4, True)
    frame = pd.read_parquet(io.BytesIO(export_bytes(labeled, "support", fmt="parquet")))
    assert frame["item_id"].tolist() == ["s1", "s2", "s3"]
    assert frame["turns"].tolist()[:2] == ["3", "many"]  # mixed types are written as text


def test_an_exported_file_reimports_with_every_annotators_labels(labeled, store, tmp_path):
    path = tmp_path / "roundtrip.jsonl"
    path.write_bytes(export_bytes(labeled, "support", fmt="jsonl"))
    result = import_file(store, path, dataset="copy")
    original = store.latest_labels(store.dataset("support")["id"])
    copied = store.latest_labels(result.dataset_id)
    columns = ["annotator", "score", "passed", "critique"]
    assert copied[columns].fillna("").values.tolist() == original[columns].fillna("").values.tolist()
    assert store.items(result.dataset_id)["metadata"][0] == {"app_version": "v1", "turns": 3}


def test_long_export_is_what_import_labels_reads(labeled, store, tmp_path):
    frame = export_frame(labeled, "support", labels="long")
    assert frame[["item_id", "annotator", "score"]].values.tolist() == [
        ["s1", "jonas", 5], ["s1", "maya", 4], ["s2", "maya", 2],
    ]
    path = tmp_path / "long.csv"
    path.write_bytes(export_bytes(labeled, "support", fmt="csv", labels="long"))
    assert import_labels(store, path, dataset="support") == 0  # identical to the current labels


def test_unknown_format_or_layout_is_refused(labeled):
    with pytest.raises(JudgeError, match="csv, jsonl, parquet"):
        export_bytes(labeled, "support", fmt="xlsx")
    with pytest.raises(JudgeError, match="wide, long"):
        export_frame(labeled, "support", labels="tall")
