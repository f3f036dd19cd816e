"""Importing files: column detection, labels and metadata, versions, and every kind of bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from judge.config import MAX_CELL_CHARS
from judge.errors import ImportFailed
from judge.importing import CONTEXT_SEPARATOR, detect_columns, import_file, import_labels, read_table


def snapshot(store) -> dict[str, list]:
    """Every row of every table: what "the store is unchanged" means."""
    with store.db.connect() as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in store.tables()}


def write(tmp_path, name: str, text: str | bytes):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


SUPPORT_CSV = (
    "id,question,response,ground_truth,score,passed,critique,App Version,channel\n"
    "a1,How do I export?,Use Settings > Export.,Settings > Export,5,pass,Exact.,v1.0,web\n"
    "a2,Refund window?,30 days.,14 days,2,fail,Invents a 30-day window.,v1.0,email\n"
    "a3,SSO on Basic?,Yes.,Only on Business,,,,v1.1,web\n"
)


# -- detection and mapping --------------------------------------------------------------------------------
def test_detect_columns_finds_the_usual_names():
    assert detect_columns(["ID", "Prompt", "completion", "documents", "Expected", "rating", "Pass", "feedback"]) == {
        "id": "ID", "input": "Prompt", "output": "completion", "context": "documents", "reference": "Expected",
        "score": "rating", "passed": "Pass", "critique": "feedback",
    }
    assert detect_columns(["question", "answer", "ground truth", "contexts"]) == {
        "input": "question", "output": "answer", "reference": "ground truth", "context": "contexts",
    }
    assert detect_columns(["foo", "bar"]) == {}


def test_csv_import_maps_columns_keeps_metadata_and_labels(store, tmp_path):
    result = import_file(store, write(tmp_path, "support.csv", SUPPORT_CSV), dataset="support", annotator="maya")
    assert (result.name, result.version, result.rows, result.labels, result.created) == ("support", 1, 3, 2, True)
    assert result.warnings == []
    items = store.items(result.dataset_id)
    assert items["item_id"].tolist() == ["a1", "a2", "a3"]
    assert items["input"].tolist()[0] == "How do I export?"
    assert items["output"].tolist()[1] == "30 days."
    assert items["reference"].tolist()[2] == "Only on Business"
    # Version tags are stored under their canonical name; other columns as they are.
    assert items["metadata"].tolist()[0] == {"app_version": "v1.0", "channel": "web"}
    assert store.metadata_columns(result.dataset_id) == {"app_version": ["v1.0", "v1.1"], "channel": ["email", "web"]}
    labels = store.latest_labels(result.dataset_id)
    assert labels[["annotator", "score", "passed", "critique", "source"]].values.tolist() == [
        ["maya", 5, True, "Exact.", "import"], ["maya", 2, False, "Invents a 30-day window.", "import"],
    ]
    assert store.dataset("support")["column_map"]["output"] == "response"


def test_label_columns_default_to_the_imported_annotator(store, tmp_path):
    result = import_file(store, write(tmp_path, "s.csv", SUPPORT_CSV), dataset="s")
    assert set(store.latest_labels(result.dataset_id)["annotator"]) == {"imported"}


def test_jsonl_context_lists_are_joined_and_structures_kept(store, tmp_path):
    lines = [
        {"id": 7, "input": "q", "output": {"op": "eq"}, "contexts": ["Plan A has 5 seats.", {"text": "Plan B has 20."}],
         "tags": ["a", "b"], "latency_ms": 812},
        {"id": 8, "input": "q2", "output": "plain", "contexts": [], "tags": [], "latency_ms": None},
    ]
    path = write(tmp_path, "rag.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n\n")
    result = import_file(store, path, dataset="rag")
    items = store.items(result.dataset_id)
    assert items["item_id"].tolist() == ["7", "8"]
    assert items["context"].tolist()[0] == "Plan A has 5 seats." + CONTEXT_SEPARATOR + "Plan B has 20."
    assert json.loads(items["output"].tolist()[0]) == {"op": "eq"}
    assert items["metadata"].tolist() == [{"tags": ["a", "b"], "latency_ms": 812}, {"tags": [], "latency_ms": None}]


def test_a_json_list_in_a_csv_context_cell_is_joined(store, tmp_path):
    path = write(tmp_path, "c.csv", 'input,output,context\nq,a,"[""first"", ""second""]"\n')
    result = import_file(store, path, dataset="c")
    assert store.items(result.dataset_id)["context"].tolist() == ["first" + CONTEXT_SEPARATOR + "second"]


def test_parquet_import(store, tmp_path):
    path = tmp_path / "p.parquet"
    pd.DataFrame({"prompt": ["q1", "q2"], "completion": ["a1", "a2"], "rating": [3, 4], "model_version": ["m1", "m2"]}
                 ).to_parquet(path)
    result = import_file(store, path, dataset="p", annotator="ana")
    assert result.labels == 2
    items = store.items(result.dataset_id)
    assert items["item_id"].tolist() == ["1", "2"]
    assert items["metadata"].tolist() == [{"model_version": "m1"}, {"model_version": "m2"}]


def test_without_an_id_column_ids_are_row_numbers(store, tmp_path):
    result = import_file(store, write(tmp_path, "n.csv", "input,output\nq1,a1\nq2,a2\nq3,a3\n"), dataset="n")
    assert store.items(result.dataset_id)["item_id"].tolist() == ["1", "2", "3"]


def test_the_column_map_overrides_detection(store, tmp_path):
    path = write(tmp_path, "m.csv", "q,answer,draft,ref\nq1,final,first try,r\n")
    result = import_file(store, path, dataset="m", column_map={"input": "q", "output": "draft", "reference": ""})
    item = store.items(result.dataset_id).iloc[0]
    assert (item["input"], item["output"]) == ("q1", "first try") and pd.isna(item["reference"])
    assert item["metadata"] == {"answer": "final", "ref": "r"}


def test_missing_input_is_a_warning_not_an_error(store, tmp_path):
    result = import_file(store, write(tmp_path, "o.csv", "output\nonly answers\n"), dataset="o")
    assert result.created and "input" in result.warnings[0]


def test_a_critique_without_a_grade_is_reported(store, tmp_path):
    path = write(tmp_path, "k.csv", "input,output,score,critique\nq,a,,just a note\nq2,a2,4,fine\n")
    result = import_file(store, path, dataset="k")
    assert result.labels == 1
    assert "1 critique" in result.warnings[0]


def test_annotator_score_columns_become_that_annotators_labels(store, tmp_path):
    path = write(tmp_path, "w.csv", "input,output,score:ana,passed:ana,score:bo,critique:bo\nq,a,4,true,2,meh\n")
    result = import_file(store, path, dataset="w")
    labels = store.latest_labels(result.dataset_id).sort_values("annotator")
    assert labels[["annotator", "score"]].values.tolist() == [["ana", 4], ["bo", 2]]
    assert labels["critique"].fillna("").tolist() == ["", "meh"]
    assert store.items(result.dataset_id)["metadata"].tolist() == [{}]


def test_an_annotator_column_names_who_gave_each_rows_label(store, tmp_path):
    path = write(tmp_path, "r.csv", "input,output,score,rater\nq,a,4,ana\nq2,a2,3,\n")
    result = import_file(store, path, dataset="r", annotator="fallback")
    assert store.latest_labels(result.dataset_id)["annotator"].tolist() == ["ana", "fallback"]


# -- versions ---------------------------------------------------------------------------------------------
def test_importing_the_same_file_twice_is_a_no_op(store, tmp_path):
    path = write(tmp_path, "s.csv", SUPPORT_CSV)
    first = import_file(store, path, dataset="s", annotator="maya")
    before = snapshot(store)
    again = import_file(store, path, dataset="s", annotator="maya")
    assert (again.created, again.version, again.dataset_id, again.labels) == (False, 1, first.dataset_id, 0)
    assert snapshot(store) == before


def test_a_changed_file_is_a_new_version_sharing_unchanged_items(store, tmp_path):
    first = import_file(store, write(tmp_path, "s.csv", SUPPORT_CSV), dataset="s", annotator="maya")
    changed = SUPPORT_CSV.replace("30 days.", "14 days.").replace("Invents a 30-day window.", "Right.")
    changed = changed.replace("14 days.,14 days,2,fail", "14 days.,14 days,5,pass")
    second = import_file(store, write(tmp_path, "s.csv", changed), dataset="s", annotator="maya")
    assert (second.version, second.created) == (2, True)
    assert store.dataset("s", 1)["row_count"] == 3 and store.dataset("s")["version"] == 2
    old, new = store.items(first.dataset_id), store.items(second.dataset_id)
    assert old["uid"][0] == new["uid"][0] and old["uid"][1] != new["uid"][1]
    assert old["output"][1] == "30 days."
    # Only the changed item got a new label; the unchanged one's label was not duplicated.
    assert second.labels == 1
    assert len(store.label_history(new["uid"][0])) == 1
    assert store.latest_labels(second.dataset_id)["score"].tolist() == [5, 5]


# -- labels in long form ----------------------------------------------------------------------------------
def _items(store, tmp_path, n=20):
    rows = "\n".join(f"it-{i},question {i},answer {i}" for i in range(n))
    return import_file(store, write(tmp_path, "items.csv", f"id,input,output\n{rows}\n"), dataset="team")


def test_long_form_labels_from_300_annotators(store, tmp_path):
    _items(store, tmp_path)
    rows = ["item_id,annotator,score,passed,critique"]
    for a in range(300):
        for k in range(3):
            score = 1 + (a + k) % 5
            rows.append(f"it-{(a + k) % 20},rater-{a:03d},{score},{str(score >= 4).lower()},note {a}/{k}")
    path = write(tmp_path, "labels.csv", "\n".join(rows) + "\n")
    assert import_labels(store, path, dataset="team") == 900
    assert len(store.annotators()) == 300
    labels = store.latest_labels(store.dataset("team")["id"])
    assert len(labels) == 900
    one = labels[(labels["annotator"] == "rater-007")].sort_values("critique")
    assert one["critique"].tolist() == ["note 7/0", "note 7/1", "note 7/2"]
    assert import_labels(store, path, dataset="team") == 0


def test_long_form_labels_with_pass_fail_only(store, tmp_path):
    _items(store, tmp_path, 3)
    path = write(tmp_path, "pf.csv", "item,labeler,verdict\nit-0,ana,pass\nit-1,ana,FAIL\n")
    assert import_labels(store, path, dataset="team", column_map={"id": "item"}) == 2
    assert store.latest_labels(store.dataset("team")["id"])["passed"].tolist() == [True, False]


@pytest.mark.parametrize("text, row, column, words", [
    ("item_id,annotator,score\nit-0,ana,4\nnope,ana,3\n", 3, "item_id", "not in dataset 'team'"),
    ("item_id,annotator,score\nit-0,ana,4\nit-1,,3\n", 3, "annotator", "annotator is empty"),
    ("item_id,annotator,score\nit-0,ana,4\nit-1,bo,9\n", 3, "score", "1 to 5"),
    ("item_id,annotator,score,critique\nit-0,ana,4,\nit-1,bo,,only words\n", 3, "score", "neither"),
    ("item_id,score\nit-0,4\n", None, "annotator", "no annotator column"),
])
def test_bad_long_form_labels_change_nothing(store, tmp_path, text, row, column, words):
    _items(store, tmp_path, 3)
    before = snapshot(store)
    with pytest.raises(ImportFailed) as failure:
        import_labels(store, write(tmp_path, "bad_labels.csv", text), dataset="team")
    message = str(failure.value)
    assert message.startswith("bad_labels.csv") and words in message
    assert (failure.value.row, failure.value.column) == (row, column)
    assert snapshot(store) == before


# -- bad input --------------------------------------------------------------------------------------------
BAD_FILES = [
    # (file name, content, row, column, words in the message)
    ("no_output.csv", "input,notes\nq,x\n", None, "output", "no output column"),
    ("dupes.csv", "id,input,output\n1,q,a\n2,q,a\n1,q,a\n", 4, "id", "duplicate id '1' (first on row 2)"),
    ("empty_id.csv", "id,input,output\n1,q,a\n,q,a\n", 3, "id", "id is empty"),
    ("empty.csv", "", None, None, "empty"),
    ("blank.jsonl", "\n  \n", None, None, "empty"),
    ("header_only.csv", "input,output\n", None, None, "no data rows"),
    ("latin1.csv", "input,output\nq,ok\nq,caf\xe9\n".encode("latin-1"), 3, None, "not UTF-8"),
    ("bad_line.jsonl", '{"input": "q", "output": "a"}\n{"input": "q2", "output": }\n', 2, None, "not a valid JSON line"),
    ("array_line.jsonl", '{"input": "q", "output": "a"}\n[1, 2]\n', 2, None, "one JSON object"),
    ("extra_field.csv", "input,output\nq,a\nq,a,surprise\n", 3, None, "3 fields but the header has 2"),
    ("open_quote.csv", 'input,output\nq,a\nq,"never closed\nmore\n', 3, None, "check the quotes"),
    ("two_headers.csv", "input,output,output\nq,a,b\n", 1, "output", "appears twice"),
    ("score_high.csv", "input,output,score\nq,a,4\nq,a,6\n", 3, "score", "whole number from 1 to 5"),
    ("score_half.csv", "input,output,score\nq,a,3.5\n", 2, "score", "whole number from 1 to 5"),
    ("score_word.jsonl", '{"input":"q","output":"a","score":"good"}\n', 1, "score", "whole number from 1 to 5"),
    ("pass_word.csv", "input,output,passed\nq,a,maybe\n", 2, "passed", "pass/fail"),
    ("big_cell.csv", f"input,output\nq,a\nq,{'x' * (MAX_CELL_CHARS + 1)}\n", 3, "output", "MAX_CELL_CHARS"),
    ("big_meta.jsonl", json.dumps({"input": "q", "output": "a", "notes": "y" * (MAX_CELL_CHARS + 1)}) + "\n",
     1, "notes", "the limit is"),
    ("table.docx", "whatever", None, None, "unsupported file type"),
    ("table.xml.gz", "whatever", None, None, "unsupported file type"),
    # issue 10 item 5: a lone CR splits no row silently, and old-Mac line ends are a message, not a traceback
    ("lone_cr.csv", "id,input,output\nr1,q,first part\rsecond part\nr2,q,b\n", 2, "output", "lone carriage return"),
    ("mac_lines.csv", "id,input,output\rr1,q,a\rr2,q,b\r", 1, None, "old Mac line ends"),
    # issue 10 item 10: the import lows
    ("csv_limit.csv", f"input,output\nq,a\nq,{'x' * 131_073}\n", 3, "output", "MAX_CELL_CHARS"),
    ("long_line.csv", "input,output\nq," + "x" * (17 * 2**20) + "\n", 2, None, "MAX_LINE_BYTES"),
    ("nested_meta.jsonl", json.dumps({"input": "q", "output": "a", "meta": {"deep": ["y" * 1_000_000]}}) + "\n",
     1, "meta", "the limit is"),
    ("wide.csv", ",".join(["output"] + [f"c{n}" for n in range(3000)]) + "\n" + "a," * 3000 + "a\n", 1, None,
     "MAX_COLUMNS"),
    ("wide.jsonl", json.dumps({"output": "a"}) + "\n" + json.dumps({f"k{n}": 1 for n in range(200_000)}) + "\n", 2,
     None, "MAX_COLUMNS"),
    ("tags.csv", "input,output,App Version,app_version\nq,a,1,2\n", 1, "app_version", "both name the version tag"),
    ("two_maya.csv", "input,output,score:maya,score: maya\nq,a,4,5\n", None, "score: maya", "both hold score"),
    ("broken_quote.csv", 'input,output\nq,a\nq,"x"y"\n', 3, None, "check the quotes"),
]


@pytest.mark.parametrize("name, content, row, column, words", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_input_names_file_row_and_column_and_changes_nothing(store, tmp_path, name, content, row, column,
                                                                 words):
    import_file(store, write(tmp_path, "good.csv", SUPPORT_CSV), dataset="target", annotator="maya")
    before = snapshot(store)
    with pytest.raises(ImportFailed) as failure:
        import_file(store, write(tmp_path, name, content), dataset="target", annotator="maya")
    message = str(failure.value)
    assert message.startswith(name), message
    assert words in message, message
    assert (failure.value.row, failure.value.column) == (row, column)
    if row is not None:
        assert f"row {row}" in message
    if column is not None:
        assert f"column '{column}'" in message
    assert snapshot(store) == before


def test_csv_rows_are_file_lines_even_with_multiline_cells(store, tmp_path):
    path = write(tmp_path, "ml.csv", 'input,output,score\nq,"line one\nline two",4\nq2,a2,7\n')
    with pytest.raises(ImportFailed) as failure:
        import_file(store, path, dataset="ml")
    assert failure.value.row == 4
    assert "header is row 1" in str(failure.value)


def test_a_failure_while_writing_rolls_everything_back(store, tmp_path):
    before = snapshot(store)
    path = write(tmp_path, "s.csv", SUPPORT_CSV)

    def broken_add_labels(labels, **kwargs):
        raise RuntimeError("disk full")

    store.add_labels = broken_add_labels
    with pytest.raises(RuntimeError):
        import_file(store, path, dataset="s")
    assert snapshot(store) == before


def test_a_bad_column_map_is_refused(store, tmp_path):
    path = write(tmp_path, "m.csv", "q,a\nx,y\n")
    with pytest.raises(ImportFailed, match="unknown role 'answer'"):
        import_file(store, path, dataset="m", column_map={"answer": "a"})
    with pytest.raises(ImportFailed, match="column 'nope'"):
        import_file(store, path, dataset="m", column_map={"output": "nope"})


def test_read_table_reads_all_formats(tmp_path):
    csv_path = write(tmp_path, "t.csv", "\ufeffinput,output\nNA,None\n")
    assert read_table(csv_path).to_dict("records") == [{"input": "NA", "output": "None"}]
    tsv_path = write(tmp_path, "t.tsv", "input\toutput\nq\ta, b\n")
    assert read_table(tsv_path).to_dict("records") == [{"input": "q", "output": "a, b"}]


def test_ids_that_only_look_different_are_imported_with_a_warning(store, tmp_path):
    text = "id,input,output\nA1,q,a\na1,q,b\n A2,q,c\nA2,q,d\ncaf\u00e9,q,e\ncafe\u0301,q,f\nz\u200b,q,g\nz,q,h\n"
    result = import_file(store, write(tmp_path, "lookalike.csv", text), dataset="ids")
    assert result.rows == 8
    warning = next(w for w in result.warnings if "look the same" in w)
    assert warning.startswith("4 id(s) in column 'id'") and "'A1' (row 2) and 'a1' (row 3)" in warning


def test_a_cr_inside_quotes_is_text(store, tmp_path):
    frame = read_table(write(tmp_path, "quoted_cr.csv", 'id,input,output\nr1,q,"first\rsecond"\nr2,q,b\n'))
    assert frame["output"].tolist() == ["first\rsecond", "b"]


def test_a_line_separator_inside_a_jsonl_string_is_text(store, tmp_path):
    line = json.dumps({"input": "q", "output": "one\u2028two\rthree"}, ensure_ascii=False)
    assert read_table(write(tmp_path, "sep.jsonl", line + "\n" + line + "\n"))["output"].tolist() == [
        "one\u2028two\rthree"] * 2
