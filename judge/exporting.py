"""Export a dataset version with its current human labels, as CSV, JSONL or Parquet.

Wide form (the default): one row per item with item_id, input, output, context, reference, every metadata
column, then `score:<annotator>`, `passed:<annotator>`, `critique:<annotator>` per annotator (and
`final_score`, `final_passed`, `final_critique` when items were adjudicated). A dataset with several criteria
names the criterion in brackets: `score[coherence]:<annotator>`, `final_score[coherence]`. `judge import`
reads those annotator columns back as labels on their criteria, so an export re-imports whole. `passed` is
what the annotator ticked (empty when the pass/fail follows the score), so re-imported labels resolve the
same. Long form (`labels="long"`): one row per (item, annotator, criterion) label, exactly what
`judge import-labels` reads.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd

from judge.errors import JudgeError

EXPORT_FORMATS = ("csv", "jsonl", "parquet")
LABEL_LAYOUTS = ("wide", "long")
ITEM_COLUMNS = ("item_id", "input", "output", "context", "reference")

# A spreadsheet runs a cell starting with one of these as a formula: prefix it with a quote instead. A cell
# that already starts with a quote gets one too, so that `judge import` can drop exactly one leading quote
# from every cell of an export and get the original text back (a spreadsheet hides that quote as well).
_ESCAPED_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def escape_formula(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, made inert with a leading single quote."""
    if isinstance(value, str) and value.startswith(_ESCAPED_STARTS):
        return "'" + value
    return value


def _wide(store, dataset_id: int) -> pd.DataFrame:
    items = store.items(dataset_id)
    frame = items[["uid", *ITEM_COLUMNS]].astype(object).where(items[["uid", *ITEM_COLUMNS]].notna(), None)
    metadata = pd.DataFrame.from_records(items["metadata"].tolist(), index=frame.index)
    metadata.columns = [f"metadata.{c}" if c in frame.columns else c for c in metadata.columns]
    frame = pd.concat([frame, metadata], axis=1)

    labels = store.latest_labels(dataset_id)
    several = len({c.name for c in store.criteria(store.dataset_by_id(dataset_id)["name"])}) > 1

    def name(field: str, criterion: str) -> str:
        return f"{field}[{criterion}]" if several else field

    fields = (("score", "score"), ("passed", "ticked"), ("critique", "critique"))
    for (annotator, criterion), given in labels.groupby(["annotator", "criterion"], sort=True):
        by_uid = given.set_index("item_uid")
        for field, source in fields:
            frame[f"{name(field, criterion)}:{annotator}"] = frame["uid"].map(by_uid[source])
    final = store.latest_labels(dataset_id, kind="adjudication")
    final = final.sort_values("label_id").drop_duplicates(["item_uid", "criterion"], keep="last")
    for criterion, given in final.groupby("criterion", sort=True):
        by_uid = given.set_index("item_uid")
        for field, source in fields:
            frame[f"final_{name(field, criterion)}"] = frame["uid"].map(by_uid[source])
    for column in frame.columns:
        if column.startswith(("score:", "final_score")):
            frame[column] = frame[column].astype("Int8")
        elif column.startswith(("passed:", "final_passed")):
            frame[column] = frame[column].astype("boolean")
    return frame.drop(columns="uid")


def _long(store, dataset_id: int) -> pd.DataFrame:
    ids = store.items(dataset_id).set_index("uid")["item_id"]
    labels = store.latest_labels(dataset_id)
    frame = pd.DataFrame({"item_id": labels["item_uid"].map(ids), "annotator": labels["annotator"],
                          "criterion": labels["criterion"], "score": labels["score"].astype("Int8"),
                          "passed": labels["ticked"].astype("boolean"),
                          "critique": labels["critique"], "created_at": labels["created_at"]})
    return frame.reset_index(drop=True)


def export_frame(store, dataset: str, *, version: int | None = None, labels: str = "wide") -> pd.DataFrame:
    """The rows an export writes (see the module docstring for the two layouts)."""
    if labels not in LABEL_LAYOUTS:
        raise JudgeError(f"The label layout is one of {', '.join(LABEL_LAYOUTS)}, not '{labels}'.")
    dataset_id = store.dataset(dataset, version)["id"]
    return _wide(store, dataset_id) if labels == "wide" else _long(store, dataset_id)


def _parquet_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Parquet needs one type per column: a metadata column mixing types is written as JSON text."""
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype != object:
            continue
        kinds = {type(v) for v in frame[column] if v is not None and v == v}
        if len(kinds) > 1 or kinds & {dict, list}:
            frame[column] = [None if v is None or v != v else v if isinstance(v, str)
                             else json.dumps(v, ensure_ascii=False) for v in frame[column]]
    return frame


def to_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """`frame` as a file of format csv (formula-escaped, UTF-8), jsonl or parquet."""
    if fmt == "csv":
        safe = frame.astype(object).map(escape_formula)
        safe.columns = [escape_formula(str(c)) for c in frame.columns]
        return safe.to_csv(index=False).encode("utf-8")
    if fmt == "jsonl":
        return frame.to_json(orient="records", lines=True, force_ascii=False, date_format="iso").encode("utf-8")
    if fmt == "parquet":
        buffer = io.BytesIO()
        _parquet_ready(frame).to_parquet(buffer, index=False)
        return buffer.getvalue()
    raise JudgeError(f"The export format is one of {', '.join(EXPORT_FORMATS)}, not '{fmt}'.")


def export_bytes(store, dataset: str, *, fmt: str = "csv", version: int | None = None, labels: str = "wide") -> bytes:
    """A dataset version with its current labels as a file's bytes (what the dataset page downloads)."""
    return to_bytes(export_frame(store, dataset, version=version, labels=labels), fmt)
