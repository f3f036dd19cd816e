"""Import LLM app outputs (CSV, JSONL, JSON, Excel, Parquet, Hugging Face folders) as a dataset version.

Everything is read and validated before the store is touched, then written in one transaction: a failed
import leaves the store exactly as it was. The same file imported twice changes nothing; a changed file
becomes the next version of the dataset. Columns that are not mapped to a role are kept as item metadata.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from judge import readers
from judge.config import MAX_CELL_CHARS, MAX_COLUMNS, MAX_LINE_BYTES
from judge.criteria import (
    DEFAULT_CRITERION, SCALE_PASS_FAIL, SCALE_SCORE, InvalidCriterion, check_criterion_name, coerce_passed,
    coerce_score, guess_scale, is_missing, resolve_pass_column, round_score,
)
from judge.errors import ImportFailed, NotFound
from judge.labelmap import LabelMap
from judge.names import name_problem
from judge.store.datasets import item_uid

# Recognised column names per role, best first; matched case-insensitively, spaces and dashes as "_".
ROLE_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "item_id", "example_id", "sample_id", "record_id", "row_id"),
    "input": ("input", "prompt", "question", "query", "user_input", "instruction", "dialog_history",
              "dialogue_history", "history", "conversation", "user_message"),
    "output": ("output", "response", "answer", "completion", "generation", "model_output", "prediction",
               "summary", "generated_text", "generated_summary", "hypothesis", "story", "model_response",
               "assistant_message", "claim"),
    "context": ("context", "contexts", "documents", "retrieved_contexts", "retrieved_context", "passages",
                "passage", "docs", "document", "doc", "article", "source", "source_text", "knowledge", "fact",
                "facts", "evidence", "grounding", "premise"),
    "reference": ("reference", "ground_truth", "expected", "expected_output", "reference_answer", "gold_answer",
                  "reference_summary", "references", "target", "gold", "highlights"),
    "score": ("score", "human_score", "rating", "grade"),
    "passed": ("passed", "pass", "pass_fail", "human_pass", "verdict"),
    "critique": ("critique", "human_critique", "comment", "comments", "feedback", "notes"),
    "annotator": ("annotator", "annotator_name", "labeler", "labeller", "rater", "reviewer"),
    "criterion": ("criterion", "criteria", "dimension", "aspect"),
}
ITEM_ROLES = ("id", "input", "output", "context", "reference")
LABEL_ROLES = ("score", "passed", "critique")
ROLES = tuple(role for role in ROLE_ALIASES if role != "criterion")  # a long-form label file's role only
DEFAULT_ANNOTATOR = "imported"

# Version tags are plain metadata columns; these spellings are stored under one canonical key.
VERSION_TAGS = ("app_version", "prompt_version", "model_version", "version")

# Columns named "score:<annotator>" (and passed:, critique:) carry that annotator's labels, and
# "score[<criterion>]:<annotator>" those on one criterion: what `judge export` writes, so an exported dataset
# re-imports with every annotator's labels on every criterion.
_ANNOTATOR_COLUMN = re.compile(r"^(score|passed|critique)(?:\[([^\]]+)\])?:(.+)$")

CONTEXT_SEPARATOR = "\n\n---\n\n"



@dataclass
class ImportResult:
    dataset_id: int
    name: str
    version: int
    rows: int
    labels: int
    created: bool
    warnings: list[str] = field(default_factory=list)


def _normalized(column: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(column).strip().lower())


def detect_columns(columns: Iterable[str], roles: Iterable[str] = ROLES) -> dict[str, str]:
    """Guess which column plays each role (id, input, output, context, reference, score, passed, critique,
    annotator) from its name; roles without a recognisable column are left out."""
    return {role: column for role, (column, _) in explain_columns(columns, roles).items()}


def explain_columns(columns: Iterable[str], roles: Iterable[str] = ROLES) -> dict[str, tuple[str, str]]:
    """Like detect_columns, with why each column was chosen: {role: (column, reason)} (shown on Upload)."""
    by_name: dict[str, str] = {}
    for column in columns:
        by_name.setdefault(_normalized(column), column)
    found: dict[str, tuple[str, str]] = {}
    for role in roles:
        aliases = ROLE_ALIASES[role]
        for rank, alias in enumerate(aliases):
            column = by_name.get(alias)
            if column is not None and column not in (c for c, _ in found.values()):
                passed_over = [a for a in aliases[:rank] if a in by_name]
                reason = (f"its name matches '{alias}', alias {rank + 1} of {len(aliases)} for {role}"
                          + (f" ('{passed_over[0]}' already plays another role)" if passed_over else ""))
                found[role] = (column, reason)
                break
    return found


# -- reading ----------------------------------------------------------------------------------------------
@dataclass
class _Table:
    """A parsed file plus what it takes to name a row the way a person sees it in that file."""

    path: Path
    fmt: str
    frame: pd.DataFrame
    sha256: str
    rows: list[int] | None = None  # the file row of each data row (None: its 1-based position)
    files: list[str] | None = None  # the shard each row is in, for a folder of files

    def row(self, position: int) -> int:
        """The file row of the data row at 0-based `position` (CSV: the line, the header being line 1)."""
        return self.rows[position] if self.rows is not None else position + 1

    def fail(self, message: str, position: int | None = None, column: str | None = None) -> ImportFailed:
        row, file = None, self.path.name
        if position is not None:
            row = self.row(position)
            file = self.files[position] if self.files is not None else file
            message += readers.ROW_NOTES.get(self.fmt, " (rows count from 1)")
        return ImportFailed(file, message, row=row, column=column)


# Cells are limited by MAX_CELL_CHARS with a message naming the cell, not by the csv module's own 131,072.
csv.field_size_limit(sys.maxsize)
# One encoder for every row: json.dumps builds a new one per call when given options.
_JSON = json.JSONEncoder(ensure_ascii=False)


def _delimiter(path: Path) -> str:
    return "\t" if readers.format_of(path) == ".tsv" else ","


def _lines(text: str) -> Iterable[str]:
    """The text's lines, split at line feeds only, lazily: a lone CR or U+2028 is part of its line."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end + 1
        yield text[start:end]
        start = end


def _refuse_long_lines(path: Path, raw: bytes) -> None:
    """Refuse a line too long to hold a row of legal cells before parsing it takes gigabytes of memory.

    A line longer than MAX_LINE_BYTES covers a whole aligned window of half that size, so only windows
    without a line feed (a handful of C-speed searches for a normal file) need a closer look."""
    window = MAX_LINE_BYTES // 2
    for start in range(0, len(raw), window):
        if raw.find(b"\n", start, start + window) != -1:
            continue
        line_start = raw.rfind(b"\n", 0, start) + 1
        line_end = raw.find(b"\n", start)
        length = (len(raw) if line_end == -1 else line_end) - line_start
        if length > MAX_LINE_BYTES:
            raise ImportFailed(path.name, f"this line is {length / 2**20:,.0f} MiB long; one line may hold at most "
                               f"{MAX_LINE_BYTES / 2**20:,.0f} MiB (judge.config.MAX_LINE_BYTES), and a cell at most "
                               f"{MAX_CELL_CHARS:,} characters. Is the file broken, or one record?",
                               row=raw.count(b"\n", 0, line_start) + 1)


def _decode(path: Path, raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ImportFailed(
            path.name, f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}). "
            "Save it as UTF-8 (in Excel: Save As > 'CSV UTF-8') and import again.", row=line,
        ) from None
    if not text.strip():
        raise ImportFailed(path.name, "the file is empty.")
    return text


def _read_csv(path: Path, text: str, sha256: str) -> _Table:
    """Parse with the csv module in strict mode, which also knows on which line each record starts."""
    delimiter = _delimiter(path)
    _refuse_lone_carriage_returns(path, text, delimiter)
    header = _csv_header(path, text, delimiter)
    records, starts = _csv_records(path, text, delimiter, header)
    frame = pd.DataFrame(records, columns=header, dtype=object)  # short rows are padded with None
    for column in frame.columns:
        cells = frame[column]
        frame[column] = cells.where(cells != "", None)  # an empty cell is a missing value
    if any(tuple(header[:len(head)]) == head for head in _EXPORT_HEADS):  # written by `judge export`
        frame.columns = [_unescape_cell(c) for c in header]
        frame = frame.map(_unescape_cell)
    return _Table(path, "csv", frame, sha256, rows=starts)


# `judge export` writes these columns first (wide and long form) and escapes every cell starting with a
# formula sign or a quote with one leading quote (judge.exporting.escape_formula): a file that starts this
# way gets it removed again.
_EXPORT_HEADS = (("item_id", "input", "output", "context", "reference"),
                 ("item_id", "annotator", "criterion", "score", "passed", "critique"),
                 ("item_id", "annotator", "score", "passed", "critique"))


def _unescape_cell(value: Any) -> Any:
    return value[1:] if type(value) is str and value.startswith("'") else value


def _csv_header(path: Path, text: str, delimiter: str) -> list[str]:
    reader = csv.reader(_lines(text), delimiter=delimiter)
    header = next(reader)
    if len(header) > MAX_COLUMNS:
        raise ImportFailed(path.name, f"the header has {len(header):,} columns; the limit is {MAX_COLUMNS:,} "
                           "(judge.config.MAX_COLUMNS). Is the delimiter right?", row=1)
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise ImportFailed(path.name, "this column name appears twice in the header; rename one.",
                               row=1, column=column)
        seen.add(column)
    return header


def _csv_records(path: Path, text: str, delimiter: str, header: list[str]) -> tuple[list[list[str]], list[int]]:
    """The data records and the line each starts on, read strictly: a broken quote such as "x"y" is an error."""
    records, starts, previous = [], [], 0
    reader = csv.reader(_LINE.findall(text), delimiter=delimiter, strict=True)
    try:
        next(reader)  # the header, already checked
        previous = reader.line_num
        for record in reader:
            if record and len(record) > len(header):
                raise ImportFailed(path.name, f"this row has {len(record)} fields but the header has "
                                   f"{len(header)}; quote cells that contain '{delimiter}'.", row=previous + 1)
            if record:
                records.append(record)
                starts.append(previous + 1)
            previous = reader.line_num
    except csv.Error as exc:
        raise ImportFailed(path.name, f"not valid CSV ({exc}); check the quotes on this row.",
                           row=previous + 1) from None
    return records, starts


# A line and its line feed: the csv module needs the line ends to read quoted cells that span lines.
_LINE = re.compile(r"[^\n]*\n|[^\n]+$")


def _refuse_lone_carriage_returns(path: Path, text: str, delimiter: str) -> None:
    """A CR without LF outside quotes would end a row in the middle of a cell: refuse it with its place."""
    quotes, counted_to, line, lines_to = 0, 0, 1, 0
    for match in re.finditer("\r(?!\n)", text):
        position = match.start()
        quotes += text.count('"', counted_to, position)
        counted_to = position
        if quotes % 2:
            continue  # inside a quoted cell: a CR there is text like any other
        line += text.count("\n", lines_to, position)
        lines_to = position
        if "\n" not in text:
            raise ImportFailed(path.name, "the lines end with a lone carriage return (old Mac line ends); save "
                               "the file with LF or CRLF line ends.", row=line)
        start = text.rfind("\n", 0, position) + 1
        cells = next(csv.reader([text[start:position]], delimiter=delimiter), [""])
        column = None
        if line > 1:
            header = _csv_header(path, text, delimiter)
            column = header[min(len(cells), len(header)) - 1] if header else None
        raise ImportFailed(path.name, "this cell holds a lone carriage return (CR) outside quotes, which "
                           "would split the row; quote the cell or replace the CR with a line feed.",
                           row=line, column=column)


def _read_jsonl(path: Path, text: str, sha256: str) -> _Table:
    records, lines, keys = [], [], set()
    for number, line in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line, object_pairs_hook=readers.unique_keys)
        except json.JSONDecodeError as exc:
            reason = exc.msg.removesuffix(" at")  # "Unterminated string starting at" + " at character 7"
            raise ImportFailed(path.name, f"not a valid JSON line ({reason} at character {exc.colno}).",
                               row=number) from None
        except readers.RepeatedKey as exc:
            raise ImportFailed(path.name, f"this object has the key '{exc.key}' twice; keep one.", row=number,
                               column=exc.key) from None
        if not isinstance(record, dict):
            raise ImportFailed(path.name, "each line must be one JSON object ({...}).", row=number)
        keys.update(record)
        if len(keys) > MAX_COLUMNS:  # before pandas spends seconds on a frame this wide
            raise ImportFailed(path.name, f"the lines so far have {len(keys):,} different keys; the limit is "
                               f"{MAX_COLUMNS:,} columns (judge.config.MAX_COLUMNS).", row=number)
        records.append(record)
        lines.append(number)
    return _Table(path, "jsonl", pd.DataFrame.from_records(records), sha256, rows=lines)


def _read_parquet(path: Path, raw: bytes, sha256: str) -> _Table:
    try:
        frame = pd.read_parquet(io.BytesIO(raw))
    except Exception as exc:  # pyarrow raises many unrelated types for a damaged file
        raise ImportFailed(path.name, f"not a readable Parquet file ({exc}).") from None
    return _Table(path, "parquet", frame, sha256)


def _read(path: str | Path, *, sheet: str | None = None, split: str | None = None) -> _Table:
    path = Path(path)
    if path.is_dir():
        parsed = readers.read_folder(path, split)
        table = _Table(path, parsed.fmt, parsed.frame, parsed.sha256, rows=parsed.rows, files=parsed.files)
        return _checked(table)
    if not path.is_file():
        raise ImportFailed(str(path), "no such file or folder.")
    suffix = readers.format_of(path)
    if sheet is not None and suffix != ".xlsx":
        raise ImportFailed(path.name, "a sheet can only be chosen in an .xlsx workbook.")
    if split is not None:
        raise ImportFailed(path.name, "a split can only be chosen in a Hugging Face dataset folder.")
    raw = readers.file_bytes(path)
    sha256 = hashlib.sha256(raw).hexdigest()
    if suffix == ".parquet":
        table = _read_parquet(path, raw, sha256)
    elif suffix == ".xlsx":
        parsed = readers.read_xlsx(path, raw, sha256, sheet)
        table = _Table(path, parsed.fmt, parsed.frame, parsed.sha256, rows=parsed.rows)
    else:
        if suffix != ".json":  # a JSON export is often one minified line: its cells are measured after parsing
            _refuse_long_lines(path, raw)
        text = _decode(path, raw)
        if suffix in (".csv", ".tsv"):
            table = _read_csv(path, text, sha256)
        elif suffix == ".json":
            parsed = readers.read_json(path, text, sha256)
            table = _Table(path, parsed.fmt, parsed.frame, parsed.sha256)
        else:
            table = _read_jsonl(path, text, sha256)
    return _checked(table)


def _checked(table: _Table) -> _Table:
    if table.frame.empty:
        raise ImportFailed(table.path.name, "the file has no data rows.")
    if len(table.frame.columns) > MAX_COLUMNS:
        raise ImportFailed(table.path.name, f"the rows have {len(table.frame.columns):,} different keys; the "
                           f"limit is {MAX_COLUMNS:,} columns (judge.config.MAX_COLUMNS).")
    table.frame.columns = [str(c) for c in table.frame.columns]
    return table


def read_table(path: str | Path, *, sheet: str | None = None, split: str | None = None) -> pd.DataFrame:
    """The rows of a CSV/TSV, JSONL, JSON (each optionally gzipped), Parquet or .xlsx file (`sheet`: not the
    first), or of a Hugging Face dataset folder (`split` of a DatasetDict); ImportFailed names the file, row
    and column of a problem."""
    return _read(path, sheet=sheet, split=split).frame


# -- cell values ------------------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """A JSON-ready Python value (numpy scalars and arrays from Parquet become int/float/list)."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return None if is_missing(value) else value


def _text(value: Any) -> str | None:
    if type(value) is str:
        return value
    value = _plain(value)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return _JSON.encode(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _passage(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("text", "content", "page_content", "passage"):
            if isinstance(value.get(key), str):
                return value[key]
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _context_text(value: Any) -> str | None:
    """Context as one text: a list of passages (or a JSON list in a CSV cell) is joined with separators."""
    value = _plain(value)
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list):
            value = parsed
    if isinstance(value, list):
        passages = [_passage(v).strip() for v in value if not is_missing(v)]
        return CONTEXT_SEPARATOR.join(p for p in passages if p) or None
    return _text(value)


_SCORE_TEXTS = {str(n): n for n in range(1, 6)}


def _score(value: Any) -> int | None:
    if type(value) is str and value.strip() in _SCORE_TEXTS:  # the common case, without the general path
        return _SCORE_TEXTS[value.strip()]
    return coerce_score(_plain(value))


def _passed(value: Any) -> bool | None:
    return coerce_passed(_plain(value))


def _stripped_text(value: Any) -> str | None:
    text = _text(value)
    return text.strip() or None if text is not None else None


_CONVERTERS = {"score": _score, "passed": _passed, "critique": _stripped_text}


def _label_column(table: _Table, column: str, role: str, round_rule: str | None = None,
                  label_map: LabelMap | None = None) -> list[Any]:
    """Convert every cell of a label column (through `label_map` when it maps this role; scores rounded by
    `round_rule` first, when given); a bad cell fails with its row and column."""
    convert, values = _CONVERTERS[role], []
    mapped = label_map is not None and label_map.role == role
    for position, value in enumerate(table.frame[column].tolist()):
        try:
            if mapped:
                value = label_map.apply(_stripped_text(value))
            values.append(convert(round_score(value, round_rule) if role == "score" else value))
        except ValueError as exc:
            reason = str(exc)
            hint = (" Mean ratings (such as 3.67) can be rounded with --round nearest."
                    if role == "score" and round_rule is None and _is_fraction(value) else "")
            message = (f"{reason[:1].upper() + reason[1:]}{hint} If the column holds something else, leave the role unused "
                       f"(--map {role}=).")
            raise table.fail(message, position, column) from None
    return values


def _is_fraction(value: Any) -> bool:
    try:
        return 1 <= float(value) <= 5 and not float(value).is_integer()
    except (TypeError, ValueError):
        return False


def _nested_chars(value: Any) -> int:
    """The size of a cell that is not text as stored: nested JSON values (JSONL objects, Parquet lists) as JSON."""
    if isinstance(value, (dict, list, tuple)) or hasattr(value, "tolist"):
        return len(_text(value) or "")
    return 0


def _check_sizes(table: _Table, columns: dict[str, list[Any]]) -> None:
    for column, values in columns.items():
        lengths = [len(v) if type(v) is str else 0 if v is None else _nested_chars(v) for v in values]
        if lengths and max(lengths) > MAX_CELL_CHARS:
            position = next(i for i, n in enumerate(lengths) if n > MAX_CELL_CHARS)
            raise table.fail(f"this cell has {lengths[position]:,} characters; the limit is {MAX_CELL_CHARS:,} "
                             "(judge.config.MAX_CELL_CHARS). Shorten it or leave it out.", position, column)


def _ids(table: _Table, column: str | None) -> list[str]:
    """Item ids from the id column (unique, non-empty), else the 1-based data row number."""
    if column is None:
        return [str(n) for n in range(1, len(table.frame) + 1)]
    ids = [_text(v) for v in table.frame[column].tolist()]
    first_seen: dict[str, int] = {}
    for position, item_id in enumerate(ids):
        if item_id is None or not item_id.strip():
            raise table.fail("the id is empty; every row needs a unique id.", position, column)
        if item_id in first_seen:
            raise table.fail(f"duplicate id '{item_id}' (first on row {table.row(first_seen[item_id])}); "
                             "ids must be unique.", position, column)
        first_seen[item_id] = position
    return ids


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def _lookalike_ids(table: _Table, ids: list[str], column: str | None) -> list[str]:
    """Ids that differ only by case, surrounding spaces, Unicode form or invisible characters look like one
    item but are two: say so (they stay separate, as the file has them)."""
    if column is None:
        return []
    first_of: dict[str, int] = {}
    pairs = []
    for position, item_id in enumerate(ids):
        key = unicodedata.normalize("NFKC", item_id).translate(_INVISIBLE).strip().casefold()
        if key in first_of:
            pairs.append((first_of[key], position))
        else:
            first_of[key] = position
    if not pairs:
        return []
    first, second = pairs[0]
    return [f"{len(pairs)} id(s) in column '{column}' look the same as an earlier one but differ in case, spaces, "
            f"Unicode form or invisible characters, e.g. {ids[first]!r} (row {table.row(first)}) and "
            f"{ids[second]!r} (row {table.row(second)}); they are imported as separate items."]


# -- column mapping ---------------------------------------------------------------------------------------
def _mapping(table: _Table, column_map: dict[str, str | None] | None, roles: tuple[str, ...]) -> dict[str, str]:
    """Detected roles overridden by the caller's map; a role mapped to None or "" is left unused."""
    columns = list(table.frame.columns)
    mapping = detect_columns([c for c in columns if not _ANNOTATOR_COLUMN.match(c)], roles)
    for role, column in (column_map or {}).items():
        if role not in roles:
            raise ImportFailed(table.path.name, f"unknown role '{role}' in the column map; roles are "
                               f"{', '.join(roles)}.")
        if not column:
            mapping.pop(role, None)
            continue
        if column not in columns:
            raise ImportFailed(table.path.name, f"the column map sends {role} to a column the file does not "
                               f"have. Columns: {', '.join(columns)}.", column=column)
        mapping = {r: c for r, c in mapping.items() if c != column}
        mapping[role] = column
    return mapping


def _require(table: _Table, mapping: dict[str, str], role: str, hint: str) -> None:
    if role not in mapping:
        raise ImportFailed(table.path.name, f"no {role} column found ({hint}). Columns: "
                           f"{', '.join(table.frame.columns)}. Name one '{role}' or map it "
                           f"(CLI: --map {role}=COLUMN).", column=role)


def _metadata_key(column: str) -> str:
    normalized = _normalized(column)
    return normalized if normalized in VERSION_TAGS else column


def _metadata_json(table: _Table, columns: list[str]) -> list[str]:
    keys = [_metadata_key(c) for c in columns]
    seen: dict[str, str] = {}
    for column, key in zip(columns, keys):
        if key in seen:
            raise ImportFailed(table.path.name, f"columns '{seen[key]}' and '{column}' both name the version tag "
                               f"'{key}'; keep one or rename the other.", row=1 if table.fmt in ("csv", "xlsx")
                               else None, column=column)
        seen[key] = column
    rows = zip(*(table.frame[c].tolist() for c in columns)) if columns else ([] for _ in range(len(table.frame)))
    return [_JSON.encode(dict(zip(keys, map(_plain, values)))) for values in rows]


# -- import -----------------------------------------------------------------------------------------------
def _label_frames(
    table: _Table, mapping: dict[str, str], uids: list[str], annotator: str, *,
    criteria_columns: dict[str, str], default_criterion: str | None, round_rule: str | None,
    label_map: LabelMap | None = None,
) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """Labels from the plain score/passed/critique columns (on `default_criterion`), the per-annotator
    'score:<name>' / 'score[<criterion>]:<name>' columns and the `criteria_columns` (criterion -> column
    holding its grade). Returns (labels with a `criterion` column, warnings, the scale each criterion's
    columns suggest)."""
    sets: list[tuple[list[str | None], dict[str, str], str | None]] = []
    plain = {role: mapping[role] for role in LABEL_ROLES if role in mapping}
    names = [annotator] * len(uids)
    if "annotator" in mapping:
        names = [_stripped_text(v) or annotator for v in table.frame[mapping["annotator"]].tolist()]
        for position, who in enumerate(names):
            _check_annotator(table, who, position, mapping["annotator"])
    if plain:
        sets.append((names, plain, default_criterion))
    per_annotator: dict[tuple[str, str | None], dict[str, str]] = {}
    for column in table.frame.columns:
        match = _ANNOTATOR_COLUMN.match(column)
        if match:
            role, criterion, who = match.group(1), match.group(2), match.group(3).strip()
            _check_annotator(table, who, None, column)
            given = per_annotator.setdefault((who, criterion.strip() if criterion else default_criterion), {})
            if role in given:
                raise ImportFailed(table.path.name, f"columns '{given[role]}' and '{column}' both hold "
                                   f"{role} labels of '{who}'; keep one.", column=column)
            given[role] = column
    sets += [([who] * len(uids), roles, criterion) for (who, criterion), roles in per_annotator.items()]
    for criterion, column in criteria_columns.items():
        role = "passed" if guess_scale(table.frame[column].tolist()) == SCALE_PASS_FAIL else "score"
        sets.append((names, {role: column}, criterion))

    frames, warnings, scales = [], [], {}
    for who, roles, criterion in sets:
        values = {role: _label_column(table, column, role, round_rule, label_map) if column else [None] * len(uids)
                  for role, column in ((r, roles.get(r)) for r in LABEL_ROLES)}
        frame = pd.DataFrame({"item_uid": uids, "annotator": who, "criterion": criterion,
                              "position": range(len(uids)), "score_column": roles.get("score"), **values})
        graded = frame["score"].notna() | frame["passed"].notna()
        orphan = int((~graded & frame["critique"].notna()).sum())
        if orphan:
            warnings.append(f"{orphan} critique(s) in '{roles['critique']}' have no score or pass/fail and "
                            "were not imported as labels.")
        if frame["score"].notna().any() or scales.get(criterion) == SCALE_SCORE:
            scales[criterion] = SCALE_SCORE
        elif graded.any():
            scales.setdefault(criterion, SCALE_PASS_FAIL)
        frames.append(frame[graded])
    labels = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return labels, warnings, scales


def _criteria_columns(table: _Table, criteria: Iterable[str] | dict[str, str] | None) -> dict[str, str]:
    """criterion -> column from `--criteria a,b` (columns named like the criteria) or {criterion: column}."""
    if not criteria:
        return {}
    pairs = criteria.items() if isinstance(criteria, dict) else [
        tuple(part.split("=", 1)) if "=" in part else (part, part) for part in criteria]
    out = {}
    for name, column in pairs:
        name, column = str(name).strip(), str(column).strip()
        try:
            name = check_criterion_name(name)
        except InvalidCriterion as exc:
            raise ImportFailed(table.path.name, str(exc)) from None
        if column not in table.frame.columns:
            raise ImportFailed(table.path.name, f"criterion '{name}' reads the column '{column}', which the file "
                               f"does not have. Columns: {', '.join(table.frame.columns)}. Name a column with "
                               f"--criteria {name}=COLUMN.", column=column)
        out[name] = column
    return out


def _default_criterion(store, dataset: str, named: str | None, needed: bool) -> str | None:
    """The criterion plain label columns grade: named, else the dataset's only one, else 'overall'."""
    if named:
        try:
            return check_criterion_name(named)
        except InvalidCriterion as exc:
            raise ImportFailed(dataset, str(exc)) from None
    existing = store.criteria_records(dataset)
    if len(existing) == 1:
        return existing[0]["name"]
    if not existing:
        return DEFAULT_CRITERION
    if needed:
        raise ImportFailed(dataset, f"the dataset has the criteria {', '.join(r['name'] for r in existing)}: "
                           "name the one the label columns grade with --criterion NAME.")
    return None


def _resolve_labels(store, table: _Table, dataset: str, labels: pd.DataFrame, scales: dict[str, str]) -> pd.DataFrame:
    """Give each label its criterion (defined now when new, on the scale its columns suggest), that
    criterion's rubric version and its resolved pass/fail: the one rule of judge.criteria, as everywhere."""
    rubrics = set(store.rubrics()["name"]) if len(labels) else set()
    resolved = []
    for name, group in labels.groupby("criterion", sort=False):
        scale = scales.get(name, SCALE_SCORE)
        known = {r["name"]: r for r in store.criteria_records(dataset)}
        if name in known:
            scale = known[name]["scale"]
        rubric = name if name in rubrics else (dataset if dataset in rubrics else None)
        store.define_criterion(dataset, name, scale, rubric_name=rubric)
        criterion = store.criterion(dataset, name)
        if criterion.is_pass_fail and group["score"].notna().any():
            first = group[group["score"].notna()].iloc[0]
            raise table.fail(f"criterion '{name}' is graded pass/fail, so this column cannot hold 1-5 scores. "
                             "Import it under another criterion name (--criterion NAME).",
                             int(first["position"]), first["score_column"])
        resolved.append(group.assign(
            criterion_id=criterion.id, rubric_id=criterion.rubric_id,
            effective_passed=resolve_pass_column(group["score"], group["passed"], criterion.pass_threshold)))
    return pd.concat(resolved, ignore_index=True)


def _check_annotator(table: _Table, name: str, position: int | None, column: str) -> None:
    """The same name rules as a labeling link (judge.names): nothing invisible or direction-changing."""
    problem = name_problem(name)
    if problem:
        raise table.fail(problem + ".", position, column)


def _content_hash(table: _Table, mapping: dict[str, str], annotator: str, how: dict[str, Any]) -> str:
    """The file's bytes and how they were read: the same file mapped differently (other roles, criteria,
    rounding or label map) is a new version. The annotator counts only when the file has label columns."""
    has_labels = (any(role in mapping for role in LABEL_ROLES) or any(map(_ANNOTATOR_COLUMN.match, table.frame.columns))
                  or bool(how.get("criteria")))
    key = json.dumps([table.sha256, sorted(mapping.items()), annotator if has_labels else None,
                      *([how] if any(how.values()) else [])], sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()


def _latest_version(store, name: str) -> dict[str, Any] | None:
    try:
        return store.dataset(name)
    except NotFound:
        return None


def import_file(
    store,
    path: str | Path,
    *,
    dataset: str,
    column_map: dict[str, str | None] | None = None,
    annotator: str | None = None,
    criteria: Iterable[str] | dict[str, str] | None = None,
    criterion: str | None = None,
    round_scores: str | None = None,
    label_map: LabelMap | str | None = None,
    sheet: str | None = None,
    split: str | None = None,
) -> ImportResult:
    """Import a file as the next version of `dataset`, with its human-label columns as labels of `annotator`.

    `criteria` names criteria whose grades are columns of the file (["coherence", "fluency"] reads the
    columns of those names; {"helpfulness": "score"} names the column), each 1-5 or pass/fail as its values
    say. The plain score/passed/critique columns grade `criterion` (default: the dataset's only criterion,
    else "overall"). `round_scores="nearest"` rounds mean ratings to whole scores (halves up). `label_map` (a
    LabelMap or its text, "Consistent=pass,Unwanted=fail" or "A=5,B=1") turns categorical labels into
    pass/fail or 1-5 scores; it is stored with the version. `sheet` picks an .xlsx sheet (default: the
    first), `split` a split of a Hugging Face DatasetDict folder.
    Nothing changes when the latest version came from the identical file and mapping (created=False).
    """
    if not (dataset or "").strip():
        raise ImportFailed(str(path), "a dataset needs a name (CLI: --dataset NAME).")
    if isinstance(label_map, str):
        label_map = LabelMap.parse(label_map)
    table = _read(path, sheet=sheet, split=split)
    return _import_table(store, table, dataset=dataset, column_map=column_map, annotator=annotator,
                         label_map=label_map, criteria=criteria, criterion=criterion, round_scores=round_scores)


def import_records(store, records: pd.DataFrame, *, source: str | Path, sha256: str, fmt: str,
                   dataset: str, column_map: dict[str, str | None] | None = None) -> ImportResult:
    """Import rows another reader made (judge.traces: one row per trace or span) with the same checks,
    versioning and single transaction as a file; `source` and `sha256` name and identify what they came from."""
    if not (dataset or "").strip():
        raise ImportFailed(str(source), "a dataset needs a name (CLI: --dataset NAME).")
    table = _checked(_Table(Path(source), fmt, records, sha256))
    return _import_table(store, table, dataset=dataset, column_map=column_map, annotator=None, label_map=None)


def _import_table(store, table: _Table, *, dataset: str, column_map: dict[str, str | None] | None,
                  annotator: str | None, label_map: LabelMap | None,
                  criteria: Iterable[str] | dict[str, str] | None = None, criterion: str | None = None,
                  round_scores: str | None = None) -> ImportResult:
    name = dataset.strip()
    annotator = (annotator or "").strip() or DEFAULT_ANNOTATOR
    if name_problem(annotator):
        raise ImportFailed(table.path.name, f"--annotator: {name_problem(annotator)}.")
    mapping = _mapping(table, column_map, ROLES)
    if label_map is not None and label_map.role not in mapping:
        raise ImportFailed(table.path.name, f"the label map gives {label_map.describe_role()} but no "
                           f"{label_map.role} column is mapped; map the label column with "
                           f"--map {label_map.role}=COLUMN.", column=label_map.role)
    if not any(role in mapping for role in LABEL_ROLES):
        mapping.pop("annotator", None)  # without labels, a reviewer column is ordinary metadata
    _require(table, mapping, "output", "it holds what the LLM app answered; e.g. output, response, answer")
    warnings = []
    if "input" not in mapping:
        warnings.append("No input column: judges that look at the question will have nothing to read. "
                        "Map one with --map input=COLUMN.")

    _check_sizes(table, {c: table.frame[c].tolist() for c in table.frame.columns})
    criteria_columns = _criteria_columns(table, criteria)
    for column in criteria_columns.values():  # a criterion's column is a grade, not an item field or metadata
        mapping = {role: c for role, c in mapping.items() if c != column}
    if round_scores not in (None, "nearest"):
        raise ImportFailed(table.path.name, f"unknown rounding rule '{round_scores}'; the rule is 'nearest' "
                           "(whole scores, halves round up).")
    content_hash = _content_hash(table, mapping, annotator, {
        "criteria": criteria_columns, "criterion": criterion, "round": round_scores,
        "label_map": label_map.to_dict() if label_map is not None else None})
    latest = _latest_version(store, name)
    if latest and latest["content_hash"] == content_hash:
        return ImportResult(latest["id"], name, latest["version"], latest["row_count"], 0, False, warnings)

    ids = _ids(table, mapping.get("id"))
    warnings += _lookalike_ids(table, ids, mapping.get("id"))
    texts = {"input": None, "output": None, "context": None, "reference": None}
    for role in texts:
        column = mapping.get(role)
        convert = _context_text if role == "context" else _text
        texts[role] = [convert(v) for v in table.frame[column].tolist()] if column else [None] * len(ids)
    _check_sizes(table, {mapping[r]: v for r, v in texts.items() if r in mapping})
    metadata_columns = [c for c in table.frame.columns if c not in mapping.values()
                        and c not in criteria_columns.values() and not _ANNOTATOR_COLUMN.match(c)]

    uids = [item_uid(name, *row) for row in zip(ids, texts["input"], texts["output"], texts["context"],
                                                texts["reference"])]
    items = pd.DataFrame({"uid": uids, "item_id": ids, **texts,
                          "metadata": _metadata_json(table, metadata_columns)})
    with store.transaction():
        has_plain = any(role in mapping for role in LABEL_ROLES) or any(
            (m := _ANNOTATOR_COLUMN.match(c)) and not m.group(2) for c in table.frame.columns)
        default = _default_criterion(store, name, criterion, has_plain)
        labels, label_warnings, scales = _label_frames(
            table, mapping, uids, annotator, criteria_columns=criteria_columns, default_criterion=default,
            round_rule=round_scores, label_map=label_map)
        stored_map = dict(mapping)
        if not labels.empty:
            stored_map.update(annotator_name=annotator, criteria=criteria_columns, criterion=default,
                              round=round_scores)
        if label_map is not None:
            stored_map["label_map"] = label_map.to_dict()
        dataset_id, version, created = store.add_dataset_version(
            name, items, content_hash=content_hash,
            source_file=table.path.name, column_map=stored_map,
        )
        added = 0
        if created and not labels.empty:
            added = store.add_labels(_resolve_labels(store, table, name, labels, scales))
        if not store.criteria_records(name):
            store.define_criterion(name, default or DEFAULT_CRITERION, SCALE_SCORE,
                                   rubric_name=name if name in set(store.rubrics()["name"]) else None)
    return ImportResult(dataset_id, name, version, len(items), added, created, warnings + label_warnings)


def import_labels(store, path: str | Path, *, dataset: str, column_map: dict[str, str | None] | None = None,
                  criterion: str | None = None, round_scores: str | None = None,
                  label_map: LabelMap | str | None = None) -> int:
    """Import long-form labels (one row per item, annotator and criterion) onto the latest version of `dataset`.

    A `criterion` column names each label's criterion (new ones are defined, on the scale their grades
    suggest); without one, every label grades `criterion` (default: the dataset's only criterion).
    Annotators are created as needed; labels identical to an annotator's current label are skipped, so the
    same file imported twice adds nothing. `label_map` turns categorical labels into pass/fail or 1-5 (as in
    import_file). Returns the number of labels added.
    """
    if isinstance(label_map, str):
        label_map = LabelMap.parse(label_map)
    table = _read(path)
    _check_sizes(table, {c: table.frame[c].tolist() for c in table.frame.columns})
    mapping = _mapping(table, column_map, ("id", "annotator", "criterion", *LABEL_ROLES))
    _require(table, mapping, "id", "the item id each label belongs to; e.g. item_id")
    _require(table, mapping, "annotator", "who gave the label; e.g. annotator")
    if "score" not in mapping and "passed" not in mapping:
        _require(table, mapping, "score", "a 1-5 score or a pass/fail column is needed")

    target = store.dataset(dataset)
    uid_of = store.item_uids(target["id"])
    id_column, annotator_column = mapping["id"], mapping["annotator"]
    uids, names = [], []
    for position, (item_id, who) in enumerate(zip(table.frame[id_column].tolist(),
                                                  table.frame[annotator_column].tolist())):
        item_id, who = _text(item_id), _stripped_text(who)
        if item_id not in uid_of:
            raise table.fail(f"item id '{item_id}' is not in dataset '{target['name']}' "
                             f"(version {target['version']}).", position, id_column)
        if who is None:
            raise table.fail("the annotator is empty; every label needs one.", position, annotator_column)
        _check_annotator(table, who, position, annotator_column)
        uids.append(uid_of[item_id])
        names.append(who)
    values = {role: _label_column(table, mapping[role], role, round_scores, label_map) if role in mapping
              else [None] * len(uids) for role in LABEL_ROLES}
    labels = pd.DataFrame({"item_uid": uids, "annotator": names, "position": range(len(uids)),
                           "score_column": mapping.get("score"), **values})
    ungraded = labels["score"].isna() & labels["passed"].isna()
    if ungraded.any():
        position = int(ungraded.idxmax())
        raise table.fail("this label has neither a score nor a pass/fail.", position,
                         mapping.get("score") or mapping.get("passed"))
    with store.transaction():
        if "criterion" in mapping:
            named = []
            for position, value in enumerate(table.frame[mapping["criterion"]].tolist()):
                try:
                    named.append(check_criterion_name(_stripped_text(value)))
                except InvalidCriterion as exc:
                    raise table.fail(str(exc), position, mapping["criterion"]) from None
            labels["criterion"] = named
        else:
            labels["criterion"] = _default_criterion(store, target["name"], criterion, True)
        scales = {name: SCALE_SCORE if group["score"].notna().any() else SCALE_PASS_FAIL
                  for name, group in labels.groupby("criterion")}
        return store.add_labels(_resolve_labels(store, table, target["name"], labels, scales))
