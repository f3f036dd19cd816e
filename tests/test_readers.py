"""The formats beyond CSV/JSONL/Parquet: JSON exports, gzip, Excel, Hugging Face folders, and label maps.

Every fixture is written by the test itself, in the layout the producing tool writes (openpyxl for Excel,
the Arrow IPC stream files and state.json of `datasets.Dataset.save_to_disk`, Parquet shards as on the Hub).
"""

from __future__ import annotations

import gzip
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from judge.errors import ImportFailed, JudgeError
from judge.importing import explain_columns, import_file, read_table
from judge.labelmap import LabelMap
from tests.test_import import snapshot, write

ROWS = [
    {"id": "s1", "document": "The cat sat on the mat.", "summary": "A cat sat.", "label": "Consistent"},
    {"id": "s2", "document": "Rain fell all day.", "summary": "It was sunny.", "label": "Unwanted"},
    {"id": "s3", "document": "Prices rose 3%.", "summary": "Prices went up.", "label": "Benign"},
]
FAITHBENCH_MAP = "Consistent=pass,Benign=pass,Questionable=fail,Unwanted=fail"
LABEL_AS_PASSED = {"passed": "label"}


def _workbook(path, sheets: dict[str, list[list]]):
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


def _table_rows(rows=ROWS):
    return [list(rows[0])] + [list(r.values()) for r in rows]


def _save_to_disk(folder, rows=ROWS, shards=1):
    """The folder `Dataset.save_to_disk` writes: Arrow IPC *stream* shards listed in state.json."""
    folder.mkdir(parents=True)
    table = pa.Table.from_pylist(rows)
    names, size = [], -(-len(rows) // shards)
    for index in range(shards):
        name = f"data-{index:05d}-of-{shards:05d}.arrow"
        with pa.OSFile(str(folder / name), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table.slice(index * size, size))
        names.append(name)
    (folder / "dataset_info.json").write_text(json.dumps({"features": {k: {"dtype": "string", "_type": "Value"}
                                                                         for k in rows[0]}}))
    (folder / "state.json").write_text(json.dumps({"_data_files": [{"filename": n} for n in names],
                                                    "_fingerprint": "f00d", "_split": "train"}))
    return folder


@pytest.mark.parametrize("name, content", [
    ("array.json", json.dumps(ROWS)),
    ("wrapped.json", json.dumps({"version": 2, "data": ROWS})),
    ("rows.csv.gz", gzip.compress(pd.DataFrame(ROWS).to_csv(index=False).encode())),
    ("rows.jsonl.gz", gzip.compress("\n".join(json.dumps(r) for r in ROWS).encode())),
])
def test_json_and_gzip_files_import(store, tmp_path, name, content):
    result = import_file(store, write(tmp_path, name, content), dataset="sums", label_map=FAITHBENCH_MAP,
                         column_map=LABEL_AS_PASSED)
    items = store.items(result.dataset_id)
    assert items["output"].tolist() == ["A cat sat.", "It was sunny.", "Prices went up."]
    assert items["context"].tolist()[0] == "The cat sat on the mat."
    labels = store.latest_labels(result.dataset_id).sort_values("item_uid")
    assert sorted(labels["passed"].tolist()) == [False, True, True]
    assert store.dataset("sums")["column_map"]["label_map"] == LabelMap.parse(FAITHBENCH_MAP).to_dict()


def test_xlsx_first_sheet_or_a_named_one(store, tmp_path):
    other = [{**r, "summary": r["summary"].upper()} for r in ROWS]
    path = _workbook(tmp_path / "book.xlsx", {"first": _table_rows(), "second": _table_rows(other)})
    assert read_table(path)["summary"].tolist() == ["A cat sat.", "It was sunny.", "Prices went up."]
    result = import_file(store, path, dataset="book", sheet="second")
    assert store.items(result.dataset_id)["output"].tolist()[0] == "A CAT SAT."
    with pytest.raises(ImportFailed, match="no sheet named 'third'; the sheets are first, second"):
        read_table(path, sheet="third")


def test_xlsx_numbers_and_dates_keep_their_values(tmp_path):
    from datetime import datetime

    path = _workbook(tmp_path / "typed.xlsx", {"s": [["output", "score", "when"], ["a", 4, datetime(2026, 1, 2)],
                                                     [None, None, None], ["b", 5.0, None]]})
    frame = read_table(path)
    assert frame.to_dict("records") == [{"output": "a", "score": 4, "when": "2026-01-02T00:00:00"},
                                        {"output": "b", "score": 5.0, "when": None}]


def test_hugging_face_save_to_disk_folder_and_dataset_dict(store, tmp_path):
    folder = _save_to_disk(tmp_path / "hf", shards=2)
    result = import_file(store, folder, dataset="hf", label_map=FAITHBENCH_MAP, column_map=LABEL_AS_PASSED)
    assert store.items(result.dataset_id)["item_id"].tolist() == ["s1", "s2", "s3"]
    dd = tmp_path / "dd"
    _save_to_disk(dd / "train")
    _save_to_disk(dd / "test", rows=ROWS[:1])
    (dd / "dataset_dict.json").write_text(json.dumps({"splits": ["train", "test"]}))
    assert len(read_table(dd, split="test")) == 1
    with pytest.raises(ImportFailed, match="splits train, test; choose one"):
        read_table(dd)


def test_a_minified_json_export_of_many_megabytes_on_one_line_imports(tmp_path):
    rows = [{"output": "x" * 50_000, "id": str(n)} for n in range(400)]  # 20 MB on one line
    assert len(read_table(write(tmp_path, "minified.json", json.dumps(rows)))) == 400


def test_tsv_gz_keeps_its_tab_delimiter(tmp_path):
    content = gzip.compress(b"input\toutput\nq, with comma\ta\n")
    assert read_table(write(tmp_path, "rows.tsv.gz", content)).to_dict("records") == [
        {"input": "q, with comma", "output": "a"}]


def test_folder_of_parquet_shards(store, tmp_path):
    folder = tmp_path / "shards" / "data"
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(ROWS[:2]), folder / "train-00000-of-00002.parquet")
    pq.write_table(pa.Table.from_pylist(ROWS[2:]), folder / "train-00001-of-00002.parquet")
    assert read_table(tmp_path / "shards")["id"].tolist() == ["s1", "s2", "s3"]


BAD = [
    ("not_rows.json", json.dumps({"a": 1}), None, None, "array of objects"),
    ("mixed.json", json.dumps([ROWS[0], 3]), 2, None, "not an object"),
    ("broken.json", '[{"output": "a"},\n {"output": }]', 2, None, "not valid JSON"),
    ("broken.csv.gz", b"not gzip at all", None, None, "gzip"),
    ("dupe_id.json", json.dumps([ROWS[0], ROWS[0]]), 2, "id", "duplicate id 's1'"),
    ("dupe_key.json", '[{"output": "a", "output": "b"}]', None, "output", "the key 'output' twice"),
    ("dupe_key.jsonl", '{"output": "a"}\n{"output": "a", "id": 1, "id": 2}\n', 2, "id", "the key 'id' twice"),
]


@pytest.mark.parametrize("name, content, row, column, words", BAD, ids=[b[0] for b in BAD])
def test_bad_files_name_file_row_column_and_change_nothing(store, tmp_path, name, content, row, column, words):
    import_file(store, write(tmp_path, "good.json", json.dumps(ROWS)), dataset="target")
    before = snapshot(store)
    with pytest.raises(ImportFailed) as failure:
        import_file(store, write(tmp_path, name, content), dataset="target")
    assert str(failure.value).startswith(name) and words in str(failure.value), str(failure.value)
    assert (failure.value.row, failure.value.column) == (row, column)
    assert snapshot(store) == before


def test_bad_rows_in_sheets_and_shards_are_located(store, tmp_path):
    rows = _table_rows() + [["s1", "doc", "dupe", "Consistent"]]
    with pytest.raises(ImportFailed) as failure:
        import_file(store, _workbook(tmp_path / "book.xlsx", {"s": [[], *rows]}), dataset="x")
    assert "the first row (the header) is empty" in str(failure.value)
    with pytest.raises(ImportFailed) as failure:
        import_file(store, _workbook(tmp_path / "dupe.xlsx", {"s": rows}), dataset="x")
    assert (failure.value.row, failure.value.column) == (5, "id") and "sheet rows" in str(failure.value)
    folder = _save_to_disk(tmp_path / "hf", rows=[*ROWS, {**ROWS[0], "label": "Fine"}], shards=2)
    with pytest.raises(ImportFailed) as failure:
        import_file(store, folder, dataset="x", label_map=FAITHBENCH_MAP, column_map={"id": "", **LABEL_AS_PASSED})
    assert str(failure.value).startswith("hf/data-00001-of-00002.arrow, row 2, column 'label'")
    assert store.datasets().empty


def test_label_map_unmapped_value_and_parsing(store, tmp_path):
    path = write(tmp_path, "labels.json", json.dumps([*ROWS, {**ROWS[0], "id": "s4", "label": "Questionable?"}]))
    with pytest.raises(ImportFailed) as failure:
        import_file(store, path, dataset="x", label_map=FAITHBENCH_MAP, column_map=LABEL_AS_PASSED)
    assert (failure.value.row, failure.value.column) == (4, "label")
    assert "The label 'Questionable?' is not in the label map (it maps Consistent, Benign" in str(failure.value)
    assert LabelMap.parse("A=5, B=1").to_dict() == {"role": "score", "values": {"A": 5, "B": 1}}
    for bad, words in [("A=5,B=pass", "all be pass/fail or all be"), ("A", "LABEL=TARGET"), ("A=1,A=2", "twice")]:
        with pytest.raises(JudgeError, match=words):
            LabelMap.parse(bad)
    with pytest.raises(ImportFailed, match="no passed column is mapped"):
        import_file(store, path, dataset="x", label_map=FAITHBENCH_MAP)


def test_a_different_label_map_is_a_new_version(store, tmp_path):
    path = write(tmp_path, "rows.json", json.dumps(ROWS))
    first = import_file(store, path, dataset="x", label_map=FAITHBENCH_MAP, column_map=LABEL_AS_PASSED)
    assert not import_file(store, path, dataset="x", label_map=FAITHBENCH_MAP, column_map=LABEL_AS_PASSED).created
    second = import_file(store, path, dataset="x", label_map="Consistent=5,Benign=4,Questionable=2,Unwanted=1",
                         column_map={"score": "label"}, criterion="consistency")  # 1-5: another criterion
    assert second.version == first.version + 1
    assert sorted(store.latest_labels(second.dataset_id, criterion="consistency")["score"].tolist()) == [1, 4, 5]


def test_roles_of_summarization_and_rag_sets_are_explained():
    found = explain_columns(["doc", "summary", "retrieved_contexts", "generated_text", "article"])
    assert {r: c for r, (c, _) in found.items()} == {"output": "summary", "context": "retrieved_contexts"}
    assert found["output"][1].startswith("its name matches 'summary'")


def test_label_map_on_long_form_labels_from_the_cli(store, tmp_path, capsys):
    from judge.cli import main

    import_file(store, write(tmp_path, "rows.json", json.dumps(ROWS)), dataset="x")
    labels = write(tmp_path, "long.csv", "item_id,annotator,verdict\ns1,ana,Consistent\ns2,ana,Unwanted\n")
    assert main(["--db", str(store.path), "import-labels", str(labels), "--dataset", "x", "--map", "passed=verdict",
                 "--label-map", FAITHBENCH_MAP]) == 0
    assert "added 2 labels" in capsys.readouterr().out
    latest = store.latest_labels(store.dataset("x")["id"]).sort_values("item_uid")
    assert sorted(latest["passed"].tolist()) == [False, True]
