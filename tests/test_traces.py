"""Traces in (OTLP JSON with GenAI and OpenInference attributes, Langfuse, LangSmith) and verdicts back out.

The fixtures under tests/fixtures/traces/ were written from the specifications (their README cites them);
the OTLP ones are also parsed with the opentelemetry-proto package, so they are valid OTLP/JSON.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pandas as pd
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from judge.cli import main
from judge.errors import ImportFailed
from judge.importing import CONTEXT_SEPARATOR
from judge.runner import execute_run, start_run
from judge.specs import load_spec
from judge.traces import import_traces
from judge.verdict_export import export_verdicts, otlp_document
from tests.test_import import snapshot, write

FIXTURES = Path(__file__).parent / "fixtures" / "traces"


def _items(store, name):
    items = store.items(store.dataset(name)["id"])
    return {row.item_id: row for row in items.itertuples()}


def _proto_ready(document: dict) -> dict:
    """OTLP/JSON writes trace and span ids as hex; protobuf's JSON mapping reads bytes as base64."""
    if isinstance(document, list):
        return [_proto_ready(v) for v in document]
    if not isinstance(document, dict):
        return document
    return {k: base64.b64encode(bytes.fromhex(v)).decode() if k in ("traceId", "spanId", "parentSpanId") and v
            else _proto_ready(v) for k, v in document.items()}


@pytest.mark.parametrize("name", ["otlp_genai_chat.json", "otlp_openinference_rag.json"])
def test_the_otlp_fixtures_are_valid_otlp_json(name):
    request = json_format.Parse(json.dumps(_proto_ready(json.loads((FIXTURES / name).read_text()))),
                                ExportTraceServiceRequest())
    assert request.resource_spans[0].scope_spans[0].spans


def test_genai_multi_turn_chat_keeps_the_last_user_turn_and_the_history(store):
    result = import_traces(store, FIXTURES / "otlp_genai_chat.json", dataset="chat")
    assert result.rows == 2
    chat = _items(store, "chat")["5b8efff798038103d269b633813fc60c"]
    assert chat.input == "And if I no longer have access to my email?"
    assert chat.output == "Contact support with your account id; they verify you by phone."
    assert chat.metadata["earlier_turns"] == ("user: How do I reset my password?\n"
                                              "assistant: Open Settings > Security and choose Reset.")
    assert chat.metadata["system_prompt"] == "You are the Acme support assistant."
    assert chat.metadata["model"] == "gpt-4.1-mini-2025-04-14" and chat.metadata["app_version"] == "2.3.0"
    assert (chat.metadata["trace_id"], chat.metadata["span_id"]) == ("5b8efff798038103d269b633813fc60c",
                                                                     "eee19b7ec3c1b174")
    assert chat.metadata["started_at"] == "2025-12-01T10:00:00+00:00"
    assert _items(store, "chat")["0af7651916cd43dd8448eb211c80319c"].metadata["system_prompt"] == "Answer briefly."


def test_base64_ids_from_protobufs_own_json_are_read_as_hex(store, tmp_path):
    document = _proto_ready(json.loads((FIXTURES / "otlp_openinference_rag.json").read_text()))
    import_traces(store, write(tmp_path, "b64.json", json.dumps(document)), dataset="b64")
    item = _items(store, "b64")["8448eb211c80319c0af7651916cd43dd"]
    assert item.metadata["span_id"] == "3333333333333333" and item.context.startswith("Refunds:")


def test_older_genai_attributes_and_events(store):
    import_traces(store, FIXTURES / "otlp_genai_legacy.jsonl", dataset="legacy")
    items = {row.input: row.output for row in _items(store, "legacy").values()}
    assert items == {"What are your opening hours?": "We are open 9-17 on weekdays.",
                     "Can I pay by invoice?": "Yes, on the Business plan.",
                     "Is there a student discount?": "Yes, 30% with a valid student id."}


def test_openinference_rag_trace_gives_the_retrieved_documents_as_context(store):
    import_traces(store, FIXTURES / "otlp_openinference_rag.json", dataset="rag")
    item = _items(store, "rag")["8448eb211c80319c0af7651916cd43dd"]
    assert item.input == "What is the refund window?"
    assert item.context == CONTEXT_SEPARATOR.join([
        "Refunds: customers may request a refund within 14 days of purchase.",
        "Shipping: orders ship within 2 business days."])
    assert item.metadata["model"] == "claude-sonnet-4-5" and item.metadata["prompt_version"] == "rag-v4"
    assert item.metadata["app_version"] == "0.9.1" and item.metadata["span_id"] == "3333333333333333"


@pytest.mark.parametrize("name, item_id, expected", [
    ("langfuse_trace.json", "lf-trace-1", {"input": "How do I change my plan?", "app_version": "2.4.0",
                                           "context": "Plans can be changed under Billing > Plan.",
                                           "prompt_version": "3", "model": "gpt-4.1"}),
    ("langfuse_observations.jsonl", "lf-trace-3", {"input": "Where is my invoice?", "model": "gpt-4.1-mini",
                                                   "output": "Invoices are under Billing > History."}),
    ("langsmith_runs.jsonl", "0b9e9a84-0000-4000-8000-000000000001",
     {"input": "Which regions do you ship to?", "output": "We ship to the EU and the UK.", "model": "gpt-4o",
      "context": "We ship to all EU countries and the UK.", "app_version": "1.8.2"}),
])
def test_langfuse_and_langsmith_exports(store, name, item_id, expected):
    import_traces(store, FIXTURES / name, dataset="t")
    item = _items(store, "t")[item_id]
    for key, value in expected.items():
        assert (getattr(item, key) if key in ("input", "output", "context") else item.metadata[key]) == value, key


def test_a_langsmith_completion_run_with_prompts_and_generations(store, tmp_path):
    run = {"id": "r1", "trace_id": "r1", "run_type": "llm", "inputs": {"prompts": ["Translate 'chat' to English."]},
           "outputs": {"generations": [[{"text": "cat", "type": "Generation"}]]},
           "extra": {"invocation_params": {"model_name": "gpt-3.5-turbo-instruct"}}}
    import_traces(store, write(tmp_path, "completion.json", json.dumps([run])), dataset="c")
    item = _items(store, "c")["r1"]
    assert (item.input, item.output, item.metadata["model"]) == ("Translate 'chat' to English.", "cat",
                                                                 "gpt-3.5-turbo-instruct")


def test_one_item_per_llm_span_and_reimport_is_a_no_op(store):
    result = import_traces(store, FIXTURES / "otlp_openinference_rag.json", dataset="spans", per="span")
    assert list(_items(store, "spans")) == ["8448eb211c80319c0af7651916cd43dd:3333333333333333"]
    again = import_traces(store, FIXTURES / "otlp_openinference_rag.json", dataset="spans", per="span")
    assert not again.created and again.version == result.version
    assert import_traces(store, FIXTURES / "otlp_openinference_rag.json", dataset="spans").version == 2


@pytest.mark.parametrize("content, words, row", [
    ('{"hello": "world"}', "not a trace export", None),
    ('{"resourceSpans": []}\n{"resourceSpans": [}\n', "not a valid JSON line", 2),
    (json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "ab", "spanId": "cd", "name": "x"}]}]}]}),
     "has an answer", None),
])
def test_bad_trace_exports_change_nothing(store, tmp_path, content, words, row):
    before = snapshot(store)
    with pytest.raises(ImportFailed) as failure:
        import_traces(store, write(tmp_path, "bad.json", content), dataset="t")
    assert str(failure.value).startswith("bad.json") and words in str(failure.value)
    assert failure.value.row == row
    assert snapshot(store) == before


@pytest.fixture
def judged(store):
    """The RAG and chat traces judged by the offline format checks through the real runner, one human label."""
    import_traces(store, FIXTURES / "otlp_genai_chat.json", dataset="chat")
    run_id = start_run(store, dataset="chat", spec=load_spec(store, "format_checks"))
    execute_run(store, run_id)
    uid = store.item_uids(store.dataset("chat")["id"])["5b8efff798038103d269b633813fc60c"]
    store.add_label(uid, "maya", score=2, passed=False, critique="does not say how to verify")
    return store, run_id


def test_otlp_verdicts_link_to_the_judged_spans_and_round_trip_through_opentelemetry_proto(judged):
    store, run_id = judged
    document = json.loads(export_verdicts(store, run_id, fmt="otlp"))
    request = json_format.Parse(json.dumps(_proto_ready(document)), ExportLogsServiceRequest())
    records = request.resource_logs[0].scope_logs[0].log_records
    assert len(records) == 2 and {r.event_name for r in records} == {"gen_ai.evaluation.result"}
    by_span = {r.span_id.hex(): r for r in records}
    record = by_span["eee19b7ec3c1b174"]
    assert record.trace_id.hex() == "5b8efff798038103d269b633813fc60c"
    attributes = {a.key: json_format.MessageToDict(a.value) for a in record.attributes}
    assert attributes["gen_ai.evaluation.name"] == {"stringValue": "format_checks"}
    assert attributes["gen_ai.evaluation.score.label"] == {"stringValue": "pass"}
    assert attributes["gen_ai.evaluation.score.value"] == {"doubleValue": 5.0}
    assert "gen_ai.evaluation.explanation" in attributes
    assert json_format.MessageToDict(request, preserving_proto_field_name=False)["resourceLogs"][0][
        "scopeLogs"][0]["logRecords"][0]["eventName"] == "gen_ai.evaluation.result"
    assert otlp_document(store, run_id) == document


def test_tabular_verdicts_are_joined_with_the_human_labels(judged, tmp_path, capsys):
    store, run_id = judged
    db = str(store.path)
    for fmt in ("csv", "jsonl", "parquet"):
        out = tmp_path / f"verdicts.{fmt}"
        assert main(["--db", db, "export-verdicts", "--run", run_id, "--format", fmt, "-o", str(out)]) == 0
        frame = {"csv": pd.read_csv, "jsonl": lambda p: pd.read_json(p, lines=True),
                 "parquet": pd.read_parquet}[fmt](out)
        row = frame.set_index("item_id").loc["5b8efff798038103d269b633813fc60c"]
        assert (row["judge"], row["score"], bool(row["passed"])) == ("format_checks", 5, True)
        assert (row["score:maya"], bool(row["passed:maya"])) == (2, False)
        assert row["critique:maya"] == "does not say how to verify"
    assert main(["--db", db, "export-verdicts", "--run", run_id, "-o", str(tmp_path / "verdicts.csv")]) == 2
    assert "already exists" in capsys.readouterr().err


def test_cli_import_traces(store, capsys):
    db = str(store.path)
    assert main(["--db", db, "import-traces", str(FIXTURES / "langsmith_runs.jsonl"), "--dataset", "ls",
                 "--per", "span"]) == 0
    assert "imported 1 items (one per span) into ls v1" in capsys.readouterr().out
    assert main(["--db", db, "import-traces", str(FIXTURES / "langsmith_runs.jsonl"), "--dataset", "ls",
                 "--format", "otlp"]) == 2
    assert "no spans" in capsys.readouterr().err
