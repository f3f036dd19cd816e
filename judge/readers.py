"""Readers for the file formats beyond CSV/JSONL/Parquet: JSON exports, gzip, Excel, Hugging Face folders.

Each reader returns a `Parsed`: the rows as a frame of Python values, and for each row where a person finds
it (the file, and the row as that file counts rows), so an error names the file, row and column the same way
for every format. Nothing here touches the network: a Hugging Face dataset is read from the folder
`save_to_disk` wrote (Arrow IPC stream files) or from a folder of Parquet shards.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd

from judge.errors import ImportFailed

# Formats read by the pandas/csv code in judge.importing, and those read here; a trailing .gz is unwrapped.
TEXT_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson")
FILE_SUFFIXES = (*TEXT_SUFFIXES, ".json", ".parquet", ".xlsx")
GZIP_SUFFIXES = tuple(f"{s}.gz" for s in (".csv", ".tsv", ".jsonl", ".ndjson", ".json"))
UPLOAD_TYPES = ("csv", "tsv", "jsonl", "ndjson", "json", "parquet", "xlsx", "gz")

# How many rows a person can read, per format, for the end of an error message.
ROW_NOTES = {
    "csv": " (rows are file lines; the header is row 1)",
    "jsonl": " (rows are file lines)",
    "json": " (rows count the objects of the array from 1)",
    "xlsx": " (rows are sheet rows; the header is row 1)",
    "traces": " (rows count the items made from the traces, from 1)",
    "frame": " (rows count the DataFrame's rows from 1)",
}


@dataclass
class Parsed:
    """Rows read by one of these readers; `files[i]`/`rows[i]` locate row i (None: the 1-based position)."""

    fmt: str
    frame: pd.DataFrame
    sha256: str
    rows: list[int] | None = None
    files: list[str] | None = None


def format_of(path: Path) -> str:
    """The format suffix of a file (`.csv` for `x.csv.gz`); ImportFailed for an unsupported one."""
    name = path.name.lower()
    inner = name[:-3] if name.endswith(".gz") else name
    suffix = Path(inner).suffix
    if suffix in FILE_SUFFIXES and (inner == name or suffix in (s[:-3] for s in GZIP_SUFFIXES)):
        return suffix
    raise ImportFailed(path.name, f"unsupported file type '{''.join(path.suffixes[-2:]) or path.name}'; use "
                       ".csv, .tsv, .jsonl, .json (each optionally .gz), .parquet, .xlsx, or a folder holding a "
                       "Hugging Face dataset (save_to_disk) or Parquet shards.")


def file_bytes(path: Path) -> bytes:
    """The file's content, gunzipped when it ends in .gz."""
    raw = path.read_bytes()
    if not path.name.lower().endswith(".gz"):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise ImportFailed(path.name, f"not a readable gzip file ({exc}); compress it with gzip again.") from None


# -- JSON ---------------------------------------------------------------------------------------------
class RepeatedKey(ValueError):
    """An object names a key twice: json.loads would silently keep the last value."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """json.loads' object_pairs_hook that refuses a repeated key (a JSON header named twice)."""
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise RepeatedKey(key)
            seen.add(key)
    return found


def read_json(path: Path, text: str, sha256: str) -> Parsed:
    """A JSON array of objects, or an object holding exactly one such array (e.g. {"data": [...]})."""
    try:
        document = json.loads(text, object_pairs_hook=unique_keys)
    except json.JSONDecodeError as exc:
        raise ImportFailed(path.name, f"not valid JSON ({exc.msg} at line {exc.lineno}, character {exc.colno}).",
                           row=exc.lineno) from None
    except RepeatedKey as exc:
        raise ImportFailed(path.name, f"an object has the key '{exc.key}' twice; keep one.",
                           column=exc.key) from None
    records, where = _records_of(path, document)
    for position, record in enumerate(records):
        if not isinstance(record, dict):
            raise ImportFailed(path.name, f"{where}[{position}] is a {type(record).__name__}, not an object "
                               "({...}); every row must be an object.", row=position + 1)
    return Parsed("json", pd.DataFrame.from_records(records), sha256)


def _records_of(path: Path, document) -> tuple[list, str]:
    if isinstance(document, list):
        return document, "the array"
    if isinstance(document, dict):
        arrays = [key for key, value in document.items()
                  if isinstance(value, list) and value and all(isinstance(v, dict) for v in value)]
        if len(arrays) == 1:
            return document[arrays[0]], f'"{arrays[0]}"'
        if len(arrays) > 1:
            raise ImportFailed(path.name, f"the object holds several arrays of rows ({', '.join(arrays)}); "
                               "keep one, or save each as its own file.")
    raise ImportFailed(path.name, "expected an array of objects ([{...}, ...]) or an object holding one "
                       '(e.g. {"data": [...]}); found no such array.')


# -- Excel --------------------------------------------------------------------------------------------
def read_xlsx(path: Path, raw: bytes, sha256: str, sheet: str | None = None) -> Parsed:
    """The first sheet (or `sheet`) of an .xlsx workbook; row 1 is the header. Formulas give their saved value."""
    import io
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFailed(path.name, f"not a readable .xlsx workbook ({exc}); save it from Excel as .xlsx.") from None
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise ImportFailed(path.name, f"no sheet named '{sheet}'; the sheets are "
                               f"{', '.join(workbook.sheetnames)}.")
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        rows = worksheet.iter_rows(values_only=True)
        header_cells = next(rows, None)
        if header_cells is None:
            raise ImportFailed(path.name, f"sheet '{worksheet.title}' is empty.")
        header = _sheet_header(path, header_cells)
        records, numbers = [], []
        for number, cells in enumerate(rows, start=2):
            values = [_cell(v) for v in cells[:len(header)]]
            if all(v is None for v in values):
                continue
            extra = [v for v in cells[len(header):] if v is not None]
            if extra:
                raise ImportFailed(path.name, f"this row has a value right of the last named column "
                                   f"({len(header)}); give that column a header.", row=number)
            records.append(values + [None] * (len(header) - len(values)))
            numbers.append(number)
    finally:
        workbook.close()
    return Parsed("xlsx", pd.DataFrame(records, columns=header, dtype=object), sha256, rows=numbers)


def sheet_names(path: Path) -> list[str]:
    """The sheets of an .xlsx workbook, in order (the Upload page offers them)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True)
    except Exception:  # a damaged workbook: the reader reports it with its message
        return []
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def _sheet_header(path: Path, cells: tuple) -> list[str]:
    names = [None if c is None else str(c).strip() for c in cells]
    while names and not names[-1]:
        names.pop()
    seen: set[str] = set()
    for index, name in enumerate(names):
        if not name:
            raise ImportFailed(path.name, f"column {index + 1} of the header is empty; name it.", row=1)
        if name in seen:
            raise ImportFailed(path.name, "this column name appears twice in the header; rename one.",
                               row=1, column=name)
        seen.add(name)
    if not names:
        raise ImportFailed(path.name, "the first row (the header) is empty.", row=1)
    return names


def _cell(value):
    """Dates as ISO text (JSON-ready metadata), whole floats as they are: pandas keeps object cells as given."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, str) and not value.strip():
        return None
    return value


# -- Hugging Face folders -----------------------------------------------------------------------------
def read_folder(path: Path, split: str | None = None) -> Parsed:
    """A Hugging Face dataset saved with `save_to_disk` (one split, or `split` of a DatasetDict), or a folder
    of Parquet shards (read in name order)."""
    if (path / "dataset_dict.json").is_file():
        splits = json.loads((path / "dataset_dict.json").read_text(encoding="utf-8")).get("splits", [])
        if split is None and len(splits) == 1:
            split = splits[0]
        if split not in splits:
            raise ImportFailed(path.name, f"this Hugging Face DatasetDict has the splits {', '.join(splits)}; "
                               "choose one (CLI: --split NAME).")
        return read_folder(path / split)
    if split is not None:
        raise ImportFailed(path.name, "--split applies to a Hugging Face DatasetDict folder (with "
                           "dataset_dict.json); this folder holds one dataset.")
    if (path / "state.json").is_file():
        state = json.loads((path / "state.json").read_text(encoding="utf-8"))
        shards = [path / entry["filename"] for entry in state.get("_data_files", [])]
        return _read_shards(path, shards, _arrow_table, "arrow")
    shards = sorted(p for p in path.rglob("*.parquet") if p.is_file())
    if shards:
        return _read_shards(path, shards, _parquet_table, "parquet")
    raise ImportFailed(path.name, "this folder holds neither a Hugging Face dataset (state.json and .arrow "
                       "files, from save_to_disk) nor .parquet files.")


def _arrow_table(shard: Path):
    import pyarrow as pa

    with pa.memory_map(str(shard)) as source:
        try:
            return pa.ipc.open_stream(source).read_all()
        except pa.ArrowInvalid:
            source.seek(0)
            return pa.ipc.open_file(source).read_all()


def _parquet_table(shard: Path):
    import pyarrow.parquet as pq

    return pq.read_table(shard)


def _read_shards(folder: Path, shards: list[Path], read, fmt: str) -> Parsed:
    import pyarrow as pa

    digest, frames, rows, files = hashlib.sha256(), [], [], []
    for shard in shards:
        name = f"{folder.name}/{shard.relative_to(folder)}"
        if not shard.is_file():
            raise ImportFailed(name, "a data file listed in state.json is missing; save the dataset again.")
        try:
            table = read(shard)
        except (pa.ArrowException, OSError) as exc:
            raise ImportFailed(name, f"not a readable {fmt} file ({exc}).") from None
        digest.update(name.encode() + b"\0" + shard.read_bytes())
        frames.append(table.to_pandas(types_mapper=None).astype(object))
        rows += range(1, table.num_rows + 1)
        files += [name] * table.num_rows
    if not frames:
        raise ImportFailed(folder.name, "the dataset lists no data files.")
    columns = list(frames[0].columns)
    for frame, shard in zip(frames[1:], shards[1:]):
        if list(frame.columns) != columns:
            raise ImportFailed(f"{folder.name}/{shard.name}", "this shard's columns differ from the first "
                               f"shard's ({', '.join(columns)}).")
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return Parsed(fmt, frame, digest.hexdigest(), rows=rows, files=files)
