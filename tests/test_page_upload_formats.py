"""The Upload page with the new formats: an Excel workbook with a chosen sheet, a label map, the role reasons."""

from __future__ import annotations

import gzip
import json

from judge.store import Store
from tests.test_pages_data import button, db, markdown, open_page, upload  # noqa: F401  (db is a fixture)
from tests.test_readers import ROWS, _table_rows, _workbook


def test_upload_an_xlsx_sheet_with_a_label_map_and_see_why_each_role(db, tmp_path):  # noqa: F811
    other = [{**r, "summary": r["summary"].upper()} for r in ROWS]
    path = _workbook(tmp_path / "faith.xlsx", {"notes": [["just", "notes"], [1, 2]],
                                               "labels": _table_rows(other)})
    at = upload(open_page("pages/upload.py"), "faith.xlsx", path.read_bytes())
    assert "Excel .xlsx" in markdown(at) and ".jsonl.gz" in markdown(at)
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "Sheet")).select("labels").run()
    roles = {s.label.rstrip(" *"): s.key for s in at.selectbox}
    assert at.selectbox(key=roles["Output"]).value == "summary"
    assert at.selectbox(key=roles["Context"]).value == "document"
    why = at.dataframe[1].value
    assert why.set_index("role").loc["output", "why"].startswith("its name matches 'summary'")
    at.selectbox(key=roles["Passed"]).select("label").run()
    at.text_input(key=next(t.key for t in at.text_input if t.label.startswith("Label map"))).input(
        "Consistent=pass,Benign=pass,Questionable=fail,Unwanted=fail")  # sent with the form's submit
    button(at, "Import").click().run()
    assert "Imported **3 items** and **3 labels** as faith version 1" in markdown(at), markdown(at)
    store = Store(db)
    assert store.items(store.dataset("faith")["id"])["output"].tolist()[0] == "A CAT SAT."
    assert store.dataset("faith")["column_map"]["label_map"]["values"]["Unwanted"] is False


def test_upload_a_gzipped_jsonl_file(db, tmp_path):  # noqa: F811
    content = gzip.compress("\n".join(json.dumps(r) for r in ROWS).encode())
    at = upload(open_page("pages/upload.py"), "runs.jsonl.gz", content)
    assert at.dataframe[0].value.shape == (3, 4)
    assert at.text_input(key=next(t.key for t in at.text_input if t.label == "Dataset name")).value == "runs"


def test_upload_a_trace_export_imports_it_as_traces(db, tmp_path):  # noqa: F811
    from tests.test_traces import FIXTURES

    at = upload(open_page("pages/upload.py"), "rag.json", (FIXTURES / "otlp_openinference_rag.json").read_bytes())
    assert "OTLP trace export" in "\n".join(i.value for i in at.info)
    at.selectbox(key=next(s.key for s in at.selectbox if s.label == "One item per")).select("span")
    button(at, "Import traces").click().run()
    assert "Imported **1 items** as `rag` version 1" in markdown(at), markdown(at)
    items = Store(db).items(Store(db).dataset("rag")["id"])
    assert items["item_id"].tolist() == ["8448eb211c80319c0af7651916cd43dd:3333333333333333"]


def test_run_page_offers_the_verdicts_as_otlp_and_tables(db, tmp_path):  # noqa: F811
    from judge.runner import execute_run, start_run
    from judge.specs import load_spec
    from judge.traces import import_traces
    from tests.test_traces import FIXTURES

    store = Store(db)
    import_traces(store, FIXTURES / "otlp_genai_chat.json", dataset="chat")
    execute_run(store, start_run(store, dataset="chat", spec=load_spec(store, "format_checks")))
    at = open_page("pages/run.py")
    assert [b.label for b in at.get("download_button")] == ["OTLP", "CSV", "JSONL", "PARQUET"]
