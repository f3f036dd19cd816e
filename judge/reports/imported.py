"""Scores another system produced, stored as a run (source = 'import') so they are measured like any judge."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path

import pandas as pd

from judge.criteria import InvalidLabel, coerce_score, is_missing, run_criterion
from judge.errors import ImportFailed
from judge.importing import detect_columns, read_table


def import_run(store, path: str | Path, *, dataset: str, score_column: str, name: str,
               reasoning_column: str | None = None, id_column: str | None = None,
               version_tag: str | None = None, criterion: str | None = None, pass_threshold: int = 4) -> str:
    """Store one 1-5 score per item from `path` as a finished run of the judge `name`; returns the run id.

    The run is measured on `criterion` (default: one named like the judge, else the dataset's only one),
    a score passing at `pass_threshold`.

    Rows are matched to the latest version of `dataset` by item id. A value that is not a whole 1-5 score
    is kept as a failed verdict (counted as a parse failure), never turned into a made-up score.
    """
    file = Path(path).name
    frame = read_table(path)
    target = store.dataset(dataset)
    id_column = id_column or target["column_map"].get("id") or detect_columns(list(frame.columns)).get("id")
    for role, column in (("id", id_column), ("score", score_column), ("reasoning", reasoning_column)):
        if column is not None and column not in frame.columns:
            raise ImportFailed(file, f"no {role} column '{column}'; columns are: {', '.join(frame.columns)}.")
    if id_column is None:
        raise ImportFailed(file, "no item id column found; name it with --id-column COL.")
    if not (name or "").strip():
        raise ImportFailed(file, "an imported run needs a judge name (--name NAME).")

    uid_of = store.item_uids(target["id"])
    rows, seen = [], set()
    for position, record in enumerate(frame.to_dict("records")):
        item_id = _text(record[id_column])
        if item_id not in uid_of:
            raise ImportFailed(file, f"item id '{item_id}' is not in dataset '{target['name']}' "
                               f"(version {target['version']}).", row=position + 2, column=id_column)
        if item_id in seen:
            raise ImportFailed(file, f"item id '{item_id}' appears twice.", row=position + 2, column=id_column)
        seen.add(item_id)
        score, error = _score(record[score_column])
        reasoning = _text(record[reasoning_column]) if reasoning_column else None
        rows.append({"item_uid": uid_of[item_id], "score": score, "reasoning": reasoning, "error": error})
    verdicts = pd.DataFrame(rows, columns=["item_uid", "score", "reasoning", "error"]).astype(
        {"score": "Int8", "reasoning": "string", "error": "string"})
    run_id = f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    criterion_name, measured = run_criterion(store, target["name"], name.strip(), criterion)
    store.add_imported_run({"id": run_id, "name": name.strip(), "dataset_id": target["id"],
                            "spec_name": name.strip(), "version_tag": version_tag, "criterion": criterion_name,
                            "pass_threshold": int(pass_threshold),
                            "rubric_id": measured.rubric_id if measured else None}, verdicts)
    return run_id


def _text(value) -> str | None:
    if is_missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _score(value) -> tuple[int | None, str | None]:
    try:
        score = coerce_score(value)
    except InvalidLabel:
        score = None
    if score is None:
        return None, f"imported score {_text(value)!r} is not a whole number from 1 to 5"
    return score, None
