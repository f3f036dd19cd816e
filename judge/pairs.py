"""Pairs: one input with two outputs (A and B) to choose between, and people's preferences between them.

A team compares two versions of an app on the same inputs, or two models, by asking which of two outputs is
better on a criterion ("helpfulness", "which version is better"). A pair dataset holds the pairs; a
preference is one annotator's choice on one criterion: `a`, `b` or `tie`, with an optional critique, and the
order the two outputs were shown in (a person labeling in the dashboard sees them in a per-annotator random
order, recorded with the choice). Preferences are append-only like labels: the latest per (pair, annotator,
criterion) is current.

Pairs come from a file (`import_pairs`: CSV, TSV, JSONL, Parquet, a JSON array such as LLMBar's
`dataset.json`, or a folder of those), or are formed from two imported versions of a dataset
(`pairs_from_versions`: the same item id, the two versions' outputs).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from judge.config import MAX_CELL_CHARS
from judge.criteria import check_criterion_name, is_blank, is_missing
from judge.errors import ImportFailed, JudgeError, NotFound

CHOICES = ("a", "b", "tie")
ORDERS = ("ab", "ba")
DEFAULT_PREFERENCE_CRITERION = "preference"
DEFAULT_ANNOTATOR = "imported"
PAIR_FILE_TYPES = (".csv", ".tsv", ".jsonl", ".ndjson", ".parquet", ".json")

# Recognised column names per role, best first; matched case-insensitively, spaces and dashes as "_".
PAIR_ROLE_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "pair_id", "item_id", "example_id", "question_id", "row_id"),
    "input": ("input", "prompt", "question", "query", "instruction", "user_input"),
    "output_a": ("output_a", "response_a", "answer_a", "completion_a", "output_1", "response_1", "output1"),
    "output_b": ("output_b", "response_b", "answer_b", "completion_b", "output_2", "response_2", "output2"),
    "system_a": ("system_a", "model_a", "version_a", "app_version_a"),
    "system_b": ("system_b", "model_b", "version_b", "app_version_b"),
    "context": ("context", "contexts", "documents", "passages"),
    "reference": ("reference", "ground_truth", "expected", "expected_output"),
    "preference": ("preference", "label", "winner", "choice", "human_preference", "better"),
    "critique": ("critique", "comment", "comments", "feedback", "rationale"),
    "annotator": ("annotator", "judge", "labeler", "rater", "reviewer"),
}
# How preference cells are read: LLMBar's label 1/2 names the better output_1/output_2; Chatbot Arena's
# winner is model_a / model_b / tie / "tie (bothbad)".
_CHOICE_WORDS = {"a": "a", "1": "a", "output_1": "a", "output_a": "a", "model_a": "a", "response_a": "a",
                 "b": "b", "2": "b", "output_2": "b", "output_b": "b", "model_b": "b", "response_b": "b",
                 "tie": "tie", "0": "tie", "tie (bothbad)": "tie", "both": "tie", "equal": "tie", "draw": "tie"}


class InvalidPreference(JudgeError, ValueError):
    """A preference that is not a, b or tie (or a shown order that is not ab or ba)."""


def coerce_choice(value: Any, *, what: str = "A preference") -> str | None:
    """'a', 'b' or 'tie' from the spellings files use (a/b/tie, 1/2, model_a/model_b); None when blank."""
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    word = str(value).strip().lower()
    if word not in _CHOICE_WORDS:
        raise InvalidPreference(f"{what} must be a, b or tie (or 1 / 2 for the first / second output), "
                                f"not {value!r}.")
    return _CHOICE_WORDS[word]


def check_order(order: Any) -> str:
    if order not in ORDERS:
        raise InvalidPreference(f"A shown order is 'ab' (A shown first) or 'ba' (B shown first), not {order!r}.")
    return order


def pair_uid(dataset: str, pair_id: str, fields: dict[str, Any]) -> str:
    """Content address of a pair: the same pair imported again keeps its uid and its preferences."""
    parts = [dataset, pair_id, *(fields.get(k) for k in ("input", "output_a", "output_b", "system_a", "system_b",
                                                        "context", "reference"))]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()[:32]


def shown_order(pair_uid_: str, annotator: str) -> str:
    """The order one annotator sees a pair in: random across pairs, stable across reloads for that person."""
    seed = hashlib.sha256(f"{pair_uid_}|{annotator}".encode()).digest()
    return random.Random(seed).choice(ORDERS)


@dataclass
class PairImport:
    dataset: str
    pairs: int
    new_pairs: int
    preferences: int
    mapping: dict[str, str]
    warnings: list[str] = field(default_factory=list)


# -- reading files -----------------------------------------------------------------------------------------
def _normalized(column: str) -> str:
    return str(column).strip().lower().replace(" ", "_").replace("-", "_")


def detect_pair_columns(columns: Iterable[str]) -> dict[str, str]:
    """Role -> column for the columns present (first alias that matches wins)."""
    by_name = {_normalized(c): c for c in columns}
    found: dict[str, str] = {}
    for role, aliases in PAIR_ROLE_ALIASES.items():
        for alias in aliases:
            if alias in by_name and by_name[alias] not in found.values():
                found[role] = by_name[alias]
                break
    return found


def _read_json_array(path: Path) -> pd.DataFrame:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ImportFailed(path.name, "the file is not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise ImportFailed(path.name, f"not valid JSON ({exc.msg}, line {exc.lineno}).") from None
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise ImportFailed(path.name, "a .json pair file is a JSON array of objects, one per pair.")
    if not data:
        raise ImportFailed(path.name, "the file has no pairs.")
    return pd.DataFrame(data)


def _read_pair_file(path: Path) -> tuple[pd.DataFrame, int]:
    """The rows and the number a person gives the first data row (CSV: 2, after the header; else 1)."""
    if path.suffix.lower() == ".json":
        return _read_json_array(path), 1
    from judge.importing import read_table

    return read_table(path), 2 if path.suffix.lower() in (".csv", ".tsv") else 1


def _pair_files(path: Path) -> list[tuple[Path, str | None]]:
    """(file, subset) for a file, or every pair file under a folder with its folder path as the subset."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in PAIR_FILE_TYPES)
        if not files:
            raise ImportFailed(str(path), f"the folder holds no pair files ({', '.join(PAIR_FILE_TYPES)}).")
        return [(f, str(f.parent.relative_to(path)) if f.parent != path else f.stem) for f in files]
    if not path.is_file():
        raise ImportFailed(str(path), "no such file or folder.")
    return [(path, None)]


def _cell(value: Any, file: str, row: int, column: str) -> str | None:
    if is_missing(value):
        return None
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = str(value)
    if len(text) > MAX_CELL_CHARS:
        raise ImportFailed(file, f"the cell has {len(text):,} characters; the limit is {MAX_CELL_CHARS:,}.",
                           row=row, column=column)
    return text


def read_pairs(path: str | Path, *, dataset: str, column_map: dict[str, str | None] | None = None,
               annotator: str = DEFAULT_ANNOTATOR, criterion: str = DEFAULT_PREFERENCE_CRITERION
               ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str], list[str]]:
    """(pairs, preferences, mapping, warnings) read and validated from a file or folder; nothing is stored."""
    criterion = check_criterion_name(criterion)
    path = Path(path)
    pair_rows: list[dict[str, Any]] = []
    preference_rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    mapping: dict[str, str] = {}
    seen_ids: dict[str, tuple[str, str]] = {}
    files = _pair_files(path)
    for file, subset in files:
        frame, first_row = _read_pair_file(file)
        frame.columns = [str(c) for c in frame.columns]
        mapping = detect_pair_columns(frame.columns)
        for role, column in (column_map or {}).items():
            if role not in PAIR_ROLE_ALIASES:
                raise ImportFailed(file.name, f"unknown role '{role}' in the mapping; roles: "
                                              f"{', '.join(PAIR_ROLE_ALIASES)}.")
            if column:
                if column not in frame.columns:
                    raise ImportFailed(file.name, f"no column '{column}' to map to {role}; columns: "
                                                  f"{', '.join(frame.columns)}.")
                mapping[role] = column
            else:
                mapping.pop(role, None)
        for role in ("output_a", "output_b"):
            if role not in mapping:
                raise ImportFailed(file.name, f"no {role} column (looked for "
                                              f"{', '.join(PAIR_ROLE_ALIASES[role])}); map one with --map {role}=COLUMN.")
        if "input" not in mapping:
            warnings.append(f"{file.name}: no input column; pairs are compared without an input.")
        used = set(mapping.values())
        extra = [c for c in frame.columns if c not in used]
        for offset, record in enumerate(frame.to_dict("records")):
            row = first_row + offset
            values = {role: _cell(record.get(column), file.name, row, column) for role, column in mapping.items()
                      if role not in ("preference", "annotator", "critique")}
            for role in ("output_a", "output_b"):
                if values.get(role) is None:
                    raise ImportFailed(file.name, f"{role} is empty.", row=row, column=mapping[role])
            own_id = values.pop("id", None) or str(offset + 1)
            pair_id = f"{subset}/{own_id}" if len(files) > 1 else own_id
            uid = pair_uid(dataset, pair_id, values)
            if pair_id in seen_ids and seen_ids[pair_id][0] != uid:
                raise ImportFailed(file.name, f"pair id '{pair_id}' appears twice with different content (first at "
                                              f"{seen_ids[pair_id][1]}); rows of one pair must repeat it exactly.",
                                   row=row, column=mapping.get("id"))
            if pair_id not in seen_ids:
                seen_ids[pair_id] = (uid, f"{file.name} row {row}")
                metadata = {c: _plain(record.get(c)) for c in extra}
                if subset:
                    metadata["subset"] = subset
                pair_rows.append({"uid": uid, "pair_id": pair_id, **{k: values.get(k) for k in (
                                  "input", "output_a", "output_b", "system_a", "system_b", "context", "reference")},
                                  "metadata": json.dumps(metadata, ensure_ascii=False, default=str),
                                  "position": len(pair_rows)})
            if "preference" in mapping:
                try:
                    choice = coerce_choice(record.get(mapping["preference"]))
                except InvalidPreference as exc:
                    raise ImportFailed(file.name, str(exc), row=row, column=mapping["preference"]) from None
                if choice is not None:
                    who = (_cell(record.get(mapping["annotator"]), file.name, row, mapping["annotator"])
                           if "annotator" in mapping else None) or annotator
                    critique = (_cell(record.get(mapping["critique"]), file.name, row, mapping["critique"])
                                if "critique" in mapping else None)
                    preference_rows.append({"pair_uid": uid, "annotator": who.strip(), "criterion": criterion,
                                            "choice": choice, "shown_order": None, "critique": critique})
    pairs = pd.DataFrame(pair_rows)
    preferences = pd.DataFrame(preference_rows, columns=["pair_uid", "annotator", "criterion", "choice",
                                                         "shown_order", "critique"])
    return pairs, preferences, mapping, warnings


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        value = value.tolist()
    return None if not isinstance(value, (list, dict)) and is_missing(value) else value


def import_pairs(store, path: str | Path, *, dataset: str, column_map: dict[str, str | None] | None = None,
                 annotator: str = DEFAULT_ANNOTATOR, criterion: str = DEFAULT_PREFERENCE_CRITERION) -> PairImport:
    """Import pairs (and the preferences in the file) into a pair dataset, in one transaction.

    Importing the same file again adds nothing; new pairs are appended. Several rows of one pair (one per
    annotator) are one pair with several preferences.
    """
    dataset = _dataset_name(dataset)
    pairs, preferences, mapping, warnings = read_pairs(path, dataset=dataset, column_map=column_map,
                                                       annotator=annotator, criterion=criterion)
    with store.transaction():
        new = store.add_pairs(dataset, pairs, source_file=str(path))
        added = store.add_preferences(preferences.drop_duplicates(), source="import") if len(preferences) else 0
    return PairImport(dataset, len(pairs), new, added, mapping, warnings)


def _dataset_name(name: Any) -> str:
    if is_blank(name):
        raise JudgeError("A pair dataset needs a name (--dataset NAME).")
    return str(name).strip()


def record_preference(store, pair_uid_: str, annotator: str, choice: Any, *, criterion: str =
                      DEFAULT_PREFERENCE_CRITERION, shown: str | None = None, critique: str | None = None,
                      source: str = "ui") -> bool:
    """Save one person's preference (validated); False when it equals their current one."""
    choice = coerce_choice(choice)
    if choice is None:
        raise InvalidPreference("A preference needs a choice: a, b or tie.")
    if shown is not None:
        check_order(shown)
    if is_blank(annotator):
        raise InvalidPreference("A preference needs the annotator's name.")
    if not store.has_pair(pair_uid_):
        raise NotFound(f"No pair {pair_uid_}: preferences are given on imported pairs (judge pairs lists them).")
    row = pd.DataFrame([{"pair_uid": pair_uid_, "annotator": annotator.strip(), "criterion":
                         check_criterion_name(criterion), "choice": choice, "shown_order": shown,
                         "critique": None if is_blank(critique) else critique.strip()}])
    return store.add_preferences(row, source=source) > 0


def pairs_from_versions(store, dataset: str, version_a: int, version_b: int, *, into: str | None = None,
                        dataset_b: str | None = None) -> PairImport:
    """Pairs of the same item id in two imported versions (or two datasets): A = version_a's output.

    Items whose input differs between the versions are refused (they are not the same question); items
    with the same output in both are left out (there is nothing to choose) and counted in the warnings.
    """
    first = store.dataset(dataset, version_a)
    second = store.dataset(dataset_b or dataset, version_b)
    items_a = store.items(first["id"]).set_index("item_id")
    items_b = store.items(second["id"]).set_index("item_id")
    common = [item_id for item_id in items_a.index if item_id in items_b.index]
    if not common:
        raise JudgeError(f"Versions {version_a} and {version_b} share no item ids: pairs need the same items "
                         "in both versions.")
    name = _dataset_name(into or f"{dataset} v{version_a} vs v{version_b}")
    system_a = f"{first['name']} v{first['version']}"
    system_b = f"{second['name']} v{second['version']}"
    rows, same = [], 0
    for item_id in common:
        a, b = items_a.loc[item_id], items_b.loc[item_id]
        if (a["input"] or "") != (b["input"] or ""):
            raise JudgeError(f"Item '{item_id}' has a different input in {system_a} and {system_b}: pairs compare "
                             "two outputs for the same input.")
        if a["output"] == b["output"]:
            same += 1
            continue
        values = {"input": a["input"], "output_a": a["output"], "output_b": b["output"], "system_a": system_a,
                  "system_b": system_b, "context": a["context"], "reference": a["reference"]}
        rows.append({"uid": pair_uid(name, str(item_id), values), "pair_id": str(item_id), **values,
                     "metadata": json.dumps(a["metadata"] or {}, ensure_ascii=False, default=str),
                     "position": len(rows)})
    warnings = [f"{same} item(s) have the same output in both versions and were left out."] if same else []
    frame = pd.DataFrame(rows, columns=["uid", "pair_id", "input", "output_a", "output_b", "system_a", "system_b",
                                        "context", "reference", "metadata", "position"])
    new = store.add_pairs(name, frame, source_file=f"{system_a} vs {system_b}") if rows else 0
    return PairImport(name, len(rows), new, 0, {}, warnings)


# -- labeling ----------------------------------------------------------------------------------------------
SLOTS = ("first", "second", "tie")


@dataclass
class PairQueue:
    """What one annotator has left on a pair dataset and criterion, in import order."""
    total: int
    done: int
    remaining: list[str]


def pair_queue(store, dataset: str, annotator: str, *, criterion: str = DEFAULT_PREFERENCE_CRITERION) -> PairQueue:
    with store.transaction():
        pairs = store.pairs(dataset)
        mine = set(store.preferences(dataset, criterion=criterion, annotator=annotator)["pair_uid"])
    remaining = [uid for uid in pairs["uid"] if uid not in mine]
    return PairQueue(total=len(pairs), done=len(pairs) - len(remaining), remaining=remaining)


def shown_pair(store, dataset: str, uid: str, annotator: str) -> dict[str, Any]:
    """A pair as this annotator sees it: `shown` order, and `first` / `second` output in that order."""
    pairs = store.pairs(dataset).set_index("uid")
    if uid not in pairs.index:
        raise JudgeError(f"Pair dataset '{dataset}' has no pair {uid}.")
    pair = {"uid": uid, **pairs.loc[uid].to_dict()}
    order = shown_order(uid, annotator)
    first, second = ("output_a", "output_b") if order == "ab" else ("output_b", "output_a")
    return {**pair, "shown": order, "first": pair[first], "second": pair[second]}


def save_shown_choice(store, pair: dict[str, Any], annotator: str, slot: str, *,
                      criterion: str = DEFAULT_PREFERENCE_CRITERION, critique: str | None = None,
                      source: str = "ui") -> bool:
    """Record a choice made on the screen (the first or second output shown, or a tie) as a/b/tie."""
    if slot not in SLOTS:
        raise InvalidPreference(f"A choice on screen is first, second or tie, not {slot!r}.")
    order = pair["shown"]
    if slot == "tie":
        choice = "tie"
    else:
        choice = order[0] if slot == "first" else order[1]
    return record_preference(store, pair["uid"], annotator, choice, criterion=criterion, shown=order,
                             critique=critique, source=source)
