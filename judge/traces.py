"""Import traces as a dataset: OpenTelemetry OTLP JSON (GenAI and OpenInference conventions), Langfuse, LangSmith.

Each format is read into the same small model (a `Span`: its messages in and out, its plain input/output
values, the documents it retrieved, model and version tags), then turned into items: one per trace (the
final LLM call's last user turn and answer, every document retrieved in the trace) or one per LLM span.
The trace and span ids go into each item's metadata, so `judge export-verdicts --format otlp` can attach
verdicts to the very spans they judge. The README's "Traces" table lists which field feeds which role.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from judge import readers
from judge.errors import ImportFailed

TRACE_FORMATS = ("otlp", "langfuse", "langsmith")
PER_CHOICES = ("trace", "span")


@dataclass
class Span:
    """One step of a trace, whatever format it came from."""

    trace_id: str
    span_id: str
    parent_id: str | None = None
    name: str = ""
    kind: str = "other"  # "llm", "retriever" or "other"
    start: float | None = None  # seconds since the epoch, for ordering
    end: float | None = None
    input_messages: list[tuple[str, str]] = field(default_factory=list)
    output_messages: list[tuple[str, str]] = field(default_factory=list)
    input_value: str | None = None
    output_value: str | None = None
    documents: list[str] = field(default_factory=list)
    model: str | None = None
    app_version: str | None = None
    prompt_name: str | None = None
    prompt_version: str | None = None


# -- messages in any of the shapes the formats use ------------------------------------------------------
_ROLES = {"human": "user", "user": "user", "ai": "assistant", "assistant": "assistant", "system": "system",
          "tool": "tool", "function": "tool", "developer": "system", "model": "assistant",
          "generation": "assistant"}  # a LangChain Generation (completion models) is the model's answer
_LANGCHAIN_ROLES = {"HumanMessage": "user", "AIMessage": "assistant", "SystemMessage": "system",
                    "ToolMessage": "tool", "HumanMessageChunk": "user", "AIMessageChunk": "assistant"}


def _content_text(content: Any) -> str:
    """Text of a message content: a string, or parts ({"type": "text", "text"/"content": ...}) joined."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        for key in ("text", "content", "page_content", "value"):
            if isinstance(content.get(key), str):
                return content[key]
        return json.dumps(content, ensure_ascii=False)
    if isinstance(content, list):
        return "\n".join(t for t in (_content_text(part) for part in content) if t)
    return str(content)


def _message(value: Any, default_role: str = "user") -> tuple[str, str] | None:
    """(role, text) of one message: OpenAI/Anthropic dicts, GenAI semconv parts, LangChain serializations."""
    if isinstance(value, str):
        return (default_role, value)
    if not isinstance(value, dict):
        return None
    if value.get("lc") and isinstance(value.get("kwargs"), dict):  # LangChain's serialized constructor form
        kind = (value.get("id") or [""])[-1]
        return (_LANGCHAIN_ROLES.get(kind, default_role), _content_text(value["kwargs"].get("content")))
    if isinstance(value.get("message"), dict):  # an OpenAI choice, a GenAI choice event, a LangChain generation
        return _message(value["message"], "assistant")
    role = value.get("role") or value.get("type") or default_role
    if isinstance(value.get("data"), dict):  # LangChain's message_to_dict form: {"type": "ai", "data": {...}}
        value = value["data"]
    if "parts" in value:
        text = _content_text([p for p in value["parts"] if isinstance(p, dict) and p.get("type", "text") == "text"])
    else:
        text = _content_text(value.get("content", value.get("text")))
    return (_ROLES.get(str(role).lower(), str(role).lower()), text)


def _messages(value: Any, default_role: str = "user") -> list[tuple[str, str]]:
    """A list of messages from a list, a nested batch list ([[...]]), a {"messages": [...]} object or a JSON text."""
    if isinstance(value, str):
        parsed = _json_or_none(value)
        if isinstance(parsed, (list, dict)):
            return _messages(parsed, default_role)
        return [(default_role, value)] if value.strip() else []
    if isinstance(value, dict):
        for key in ("messages", "choices", "generations"):
            if isinstance(value.get(key), list):
                return _messages(value[key], default_role)
        one = _message(value, default_role)
        return [one] if one and one[1] else []
    if isinstance(value, list):
        if value and all(isinstance(v, list) for v in value):
            value = [m for batch in value for m in batch]
        found = [_message(v, default_role) for v in value]
        return [m for m in found if m and m[1]]
    return []


def _json_or_none(text: str) -> Any:
    if not text or text.lstrip()[:1] not in "[{":
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def _value_text(value: Any) -> str | None:
    """A plain input/output value: a string, or the one obvious text field of an object (query, answer, ...)."""
    if value is None:
        return None
    if isinstance(value, str):
        parsed = _json_or_none(value)
        if not isinstance(parsed, dict):
            return value
        value = parsed
    if isinstance(value, dict):
        for key in ("input", "query", "question", "output", "answer", "text", "content", "result", "response"):
            if isinstance(value.get(key), str):
                return value[key]
        strings = [v for v in value.values() if isinstance(v, str)]
        if len(strings) == 1:
            return strings[0]
        messages = _messages(value)
        if messages:
            return messages[-1][1]
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def _documents(value: Any) -> list[str]:
    """Retrieved documents: LangChain Documents ({"page_content"}), {"content"}/{"text"} objects or strings."""
    if isinstance(value, dict):
        for key in ("documents", "docs", "context", "contexts"):
            if key in value:
                return _documents(value[key])
        return [_content_text(value)]
    if isinstance(value, list):
        return [t for t in (_content_text(v) for v in value) if t]
    return [value] if isinstance(value, str) and value else []


def _seconds(value: Any) -> float | None:
    """Seconds since the epoch from ISO text (Langfuse, LangSmith) or epoch milliseconds."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return value / 1000 if value > 1e11 else float(value)
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


# -- OTLP JSON ----------------------------------------------------------------------------------------
def _any_value(value: dict) -> Any:
    """The Python value of an OTLP JSON AnyValue ({"stringValue": ...}, {"intValue": "3"}, arrays, kvlists)."""
    if not isinstance(value, dict):
        return value
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [_any_value(v) for v in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return {kv["key"]: _any_value(kv.get("value", {})) for kv in value["kvlistValue"].get("values", [])}
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def _attributes(items: list | None) -> dict[str, Any]:
    return {kv["key"]: _any_value(kv.get("value", {})) for kv in items or [] if isinstance(kv, dict) and "key" in kv}


def _indexed(attributes: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """Flattened lists (`llm.input_messages.0.message.role`, `gen_ai.prompt.0.content`) as a list of dicts."""
    pattern = re.compile(rf"^{re.escape(prefix)}\.(\d+)\.(.+)$")
    found: dict[int, dict[str, Any]] = {}
    for key, value in attributes.items():
        match = pattern.match(key)
        if match:
            found.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return [found[i] for i in sorted(found)]


def _openinference_messages(attributes: dict[str, Any], prefix: str, default_role: str) -> list[tuple[str, str]]:
    messages = []
    for entry in _indexed(attributes, prefix):
        text = entry.get("message.content")
        if text is None:  # content items: message.contents.N.message_content.text
            parts = _indexed(entry, "message.contents")
            text = "\n".join(str(p.get("message_content.text", "")) for p in parts if p.get("message_content.text"))
        if text:
            messages.append((_ROLES.get(str(entry.get("message.role", default_role)).lower(), default_role), text))
    return messages


def _flattened_genai_messages(attributes: dict[str, Any], prefix: str, default_role: str) -> list[tuple[str, str]]:
    """The older flattened form: gen_ai.prompt.N.role / gen_ai.prompt.N.content (and gen_ai.completion.N.*)."""
    return [(_ROLES.get(str(e.get("role", default_role)).lower(), default_role), _content_text(e.get("content")))
            for e in _indexed(attributes, prefix) if e.get("content")]


_EVENT_ROLES = {"gen_ai.system.message": "system", "gen_ai.user.message": "user",
                "gen_ai.assistant.message": "assistant", "gen_ai.tool.message": "tool"}


def _event_messages(events: list[dict]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Messages carried by span events: gen_ai.content.prompt/completion (attributes gen_ai.prompt /
    gen_ai.completion) and the per-message events gen_ai.{system,user,assistant,tool}.message and gen_ai.choice."""
    inputs, outputs = [], []
    for event in events or []:
        name, attributes = event.get("name", ""), _attributes(event.get("attributes"))
        body = attributes.get("gen_ai.event.content", attributes.get("content", attributes.get("message")))
        if name == "gen_ai.content.prompt" and "gen_ai.prompt" in attributes:
            inputs += _messages(attributes["gen_ai.prompt"])
        elif name == "gen_ai.content.completion" and "gen_ai.completion" in attributes:
            outputs += _messages(attributes["gen_ai.completion"], "assistant")
        elif name in _EVENT_ROLES and body is not None:
            parsed = _json_or_none(body) if isinstance(body, str) else body
            one = _message(parsed if isinstance(parsed, dict) else body, _EVENT_ROLES[name])
            if one and one[1]:
                inputs.append((_EVENT_ROLES[name], one[1]))
        elif name == "gen_ai.choice" and body is not None:
            parsed = _json_or_none(body) if isinstance(body, str) else body
            outputs += _messages(parsed if parsed is not None else body, "assistant")
    return inputs, outputs


_LLM_OPERATIONS = {"chat", "text_completion", "generate_content", "completion"}


def _otlp_id(value: Any, size: int) -> str:
    """A trace (16 bytes) or span (8 bytes) id as hex: OTLP/JSON writes hex, protobuf's own JSON writes base64."""
    text = str(value or "")
    if len(text) == 2 * size and all(c in "0123456789abcdefABCDEF" for c in text):
        return text.lower()
    try:
        decoded = base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return text
    return decoded.hex() if len(decoded) == size else text


def _otlp_span(raw: dict, resource: dict[str, Any]) -> Span:
    attributes = _attributes(raw.get("attributes"))
    events_in, events_out = _event_messages(raw.get("events", []))
    inputs = (_messages(attributes.get("gen_ai.input.messages"))
              or _flattened_genai_messages(attributes, "gen_ai.prompt", "user")
              or _messages(attributes.get("gen_ai.prompt"))
              or _openinference_messages(attributes, "llm.input_messages", "user") or events_in)
    system = attributes.get("gen_ai.system_instructions")
    if system and not any(role == "system" for role, _ in inputs):
        inputs = [("system", _content_text(_json_or_none(system) if isinstance(system, str) else system) or system),
                  *inputs]
    outputs = (_messages(attributes.get("gen_ai.output.messages"), "assistant")
               or _flattened_genai_messages(attributes, "gen_ai.completion", "assistant")
               or _messages(attributes.get("gen_ai.completion"), "assistant")
               or _openinference_messages(attributes, "llm.output_messages", "assistant") or events_out)
    documents = [str(d["document.content"]) for d in _indexed(attributes, "retrieval.documents")
                 if d.get("document.content")]
    oi_kind = str(attributes.get("openinference.span.kind", "")).upper()
    operation = str(attributes.get("gen_ai.operation.name", "")).lower()
    kind = ("retriever" if documents or oi_kind == "RETRIEVER" or operation == "retrieval"
            else "llm" if oi_kind == "LLM" or operation in _LLM_OPERATIONS or inputs or outputs else "other")
    start, end = raw.get("startTimeUnixNano"), raw.get("endTimeUnixNano")
    return Span(
        trace_id=_otlp_id(raw.get("traceId"), 16), span_id=_otlp_id(raw.get("spanId"), 8),
        parent_id=_otlp_id(raw.get("parentSpanId"), 8) or None, name=str(raw.get("name", "")), kind=kind,
        start=int(start) / 1e9 if start else None, end=int(end) / 1e9 if end else None,
        input_messages=inputs, output_messages=outputs,
        input_value=_value_text(attributes.get("input.value")),
        output_value=_value_text(attributes.get("output.value")),
        documents=documents,
        model=attributes.get("gen_ai.response.model") or attributes.get("gen_ai.request.model")
        or attributes.get("llm.model_name"),
        app_version=resource.get("service.version"),
        prompt_name=attributes.get("llm.prompt_template.name") or attributes.get("gen_ai.prompt.name"),
        prompt_version=attributes.get("llm.prompt_template.version") or attributes.get("gen_ai.prompt.version"),
    )


def _otlp_spans(documents: list[dict]) -> list[Span]:
    spans = []
    for document in documents:
        for resource_spans in document.get("resourceSpans", []):
            resource = _attributes((resource_spans.get("resource") or {}).get("attributes"))
            scopes = resource_spans.get("scopeSpans") or resource_spans.get("instrumentationLibrarySpans") or []
            for scope_spans in scopes:
                spans += [_otlp_span(raw, resource) for raw in scope_spans.get("spans", [])]
    return spans


# -- Langfuse -----------------------------------------------------------------------------------------
def _langfuse_spans(traces: list[dict], observations: list[dict]) -> list[Span]:
    """Langfuse traces (the UI's "Download JSON": a trace with its observations) and observation exports."""
    spans = []
    for trace in traces:
        root = Span(trace_id=str(trace["id"]), span_id=str(trace["id"]), name=str(trace.get("name") or ""),
                    start=_seconds(trace.get("timestamp")), input_value=_value_text(trace.get("input")),
                    output_value=_value_text(trace.get("output")),
                    app_version=trace.get("release") or trace.get("version"))
        spans.append(root)
        observations = observations + [{**o, "traceId": o.get("traceId") or trace["id"]}
                                       for o in trace.get("observations") or []]
    release = {s.trace_id: s.app_version for s in spans}
    for o in observations:
        kind = {"GENERATION": "llm", "RETRIEVER": "retriever"}.get(str(o.get("type", "")).upper(), "other")
        documents = _documents(o.get("output")) if kind == "retriever" else []
        spans.append(Span(
            trace_id=str(o.get("traceId", "")), span_id=str(o.get("id", "")),
            parent_id=o.get("parentObservationId") or str(o.get("traceId", "")), name=str(o.get("name") or ""),
            kind=kind, start=_seconds(o.get("startTime")), end=_seconds(o.get("endTime")),
            input_messages=_messages(o.get("input")) if kind == "llm" else [],
            output_messages=_messages(o.get("output"), "assistant") if kind == "llm" else [],
            input_value=_value_text(o.get("input")), output_value=_value_text(o.get("output")),
            documents=documents, model=o.get("model"),
            app_version=release.get(str(o.get("traceId"))),
            prompt_name=o.get("promptName"),
            prompt_version=None if o.get("promptVersion") is None else str(o.get("promptVersion")),
        ))
    return spans


# -- LangSmith ----------------------------------------------------------------------------------------
def _langsmith_spans(runs: list[dict]) -> list[Span]:
    """LangSmith runs (the run data format: run_type, inputs, outputs, trace_id, parent_run_id, extra)."""
    spans = []
    for run in runs:
        extra = run.get("extra") or {}
        metadata = extra.get("metadata") or {}
        params = extra.get("invocation_params") or {}
        kind = {"llm": "llm", "retriever": "retriever"}.get(str(run.get("run_type", "")).lower(), "other")
        inputs, outputs = run.get("inputs") or {}, run.get("outputs") or {}
        input_messages = []
        if kind == "llm":
            input_messages = _messages(inputs.get("messages")) if "messages" in inputs else _messages(
                inputs.get("prompts") or inputs.get("prompt") or [])
        spans.append(Span(
            trace_id=str(run.get("trace_id") or run.get("id")), span_id=str(run.get("id")),
            parent_id=run.get("parent_run_id"), name=str(run.get("name") or ""), kind=kind,
            start=_seconds(run.get("start_time")), end=_seconds(run.get("end_time")),
            input_messages=input_messages,
            output_messages=_messages(outputs, "assistant") if kind == "llm" else [],
            input_value=_value_text(inputs), output_value=_value_text(outputs),
            documents=_documents(outputs) if kind == "retriever" else [],
            model=metadata.get("ls_model_name") or params.get("model") or params.get("model_name"),
            app_version=metadata.get("app_version") or metadata.get("revision_id") or metadata.get("version"),
            prompt_name=metadata.get("prompt_name"),
            prompt_version=None if metadata.get("prompt_version") is None else str(metadata["prompt_version"]),
        ))
    return spans


# -- reading a file -----------------------------------------------------------------------------------
def _load(path: Path) -> list[Any]:
    """The JSON documents of a file: one JSON value, or one per line (JSONL); .gz is unwrapped."""
    raw = readers.file_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed(path.name, "is not UTF-8 text; a trace export is JSON.") from None
    try:
        return [json.loads(text)]
    except json.JSONDecodeError as whole:
        documents = []
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                documents.append(json.loads(line))
            except json.JSONDecodeError as exc:
                if number == 1:
                    raise ImportFailed(path.name, f"not valid JSON ({whole.msg} at line {whole.lineno}, character "
                                       f"{whole.colno}).", row=whole.lineno) from None
                raise ImportFailed(path.name, f"not a valid JSON line ({exc.msg}, character {exc.colno}).",
                                   row=number) from None
        return documents


_RECORD_KEYS = ("resourceSpans", "observations", "run_type")  # a record itself, not a container of records
_CONTAINER_KEYS = ("data", "runs", "traces", "items")


def _records(documents: list[Any]) -> list[Any]:
    """Flatten the containers exports use: a list, {"data": [...]}, {"runs": [...]}, {"traces": [...]}."""
    out = []
    for document in documents:
        if isinstance(document, list):
            out += _records(document)
        elif isinstance(document, dict) and not any(k in document for k in _RECORD_KEYS) \
                and any(isinstance(document.get(k), list) for k in _CONTAINER_KEYS):
            out += _records([document[next(k for k in _CONTAINER_KEYS if isinstance(document.get(k), list))]])
        else:
            out.append(document)
    return out


def detect_format(records: list[Any]) -> str:
    """otlp, langfuse or langsmith, from the keys of the records."""
    dicts = [r for r in records if isinstance(r, dict)]
    if dicts and all("resourceSpans" in r for r in dicts):
        return "otlp"
    if dicts and all("run_type" in r for r in dicts):
        return "langsmith"
    if dicts and all("observations" in r or ("traceId" in r and "type" in r) for r in dicts):
        return "langfuse"
    return ""


def sniff_format(path: str | Path) -> str:
    """The trace format of a .json/.jsonl file (otlp, langfuse, langsmith), or "" when it is not a trace export."""
    try:
        return detect_format(_records(_load(Path(path))))
    except ImportFailed:
        return ""


def read_spans(path: str | Path, fmt: str | None = None) -> tuple[list[Span], str, str]:
    """(spans, format, sha256 of the bytes) of a trace export; ImportFailed names the file and what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(str(path), "no such file.")
    documents = _load(path)
    sha256 = hashlib.sha256(json.dumps(documents, sort_keys=True).encode()).hexdigest()
    records = _records(documents)
    fmt = fmt or detect_format(records)
    if fmt == "otlp":
        spans = _otlp_spans(records)
    elif fmt == "langsmith":
        spans = _langsmith_spans(records)
    elif fmt == "langfuse":
        spans = _langfuse_spans([r for r in records if "observations" in r],
                                [r for r in records if "observations" not in r])
    else:
        raise ImportFailed(path.name, "not a trace export this tool reads: expected OTLP JSON (resourceSpans), "
                           "Langfuse traces or observations (observations, or traceId and type), or LangSmith "
                           f"runs (run_type). Choose the format with --format ({', '.join(TRACE_FORMATS)}).")
    if not spans:
        raise ImportFailed(path.name, "the export holds no spans.")
    return spans, fmt, sha256


# -- items --------------------------------------------------------------------------------------------
def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()


def _order(span: Span) -> tuple[float, float]:
    return (span.start if span.start is not None else 0.0, span.end if span.end is not None else 0.0)


def _last(messages: list[tuple[str, str]], role: str) -> str | None:
    return next((text for r, text in reversed(messages) if r == role), None)


def _item(item_id: str, call: Span | None, root: Span | None, trace: list[Span], before: float | None,
          fmt: str) -> dict[str, Any]:
    """One item: the call's last user turn and answer (else the root's plain values), earlier turns as metadata."""
    inputs = call.input_messages if call else []
    user = _last(inputs, "user")
    if user is None:
        user = (root.input_value if root else None) or (call.input_value if call else None)
    answer = _last(call.output_messages, "assistant") if call else None
    if answer is None:
        answer = (call.output_value if call else None) or (root.output_value if root else None)
    last_user = max((i for i, (r, _) in enumerate(inputs) if r == "user"), default=len(inputs))
    earlier = [f"{r}: {t}" for r, t in inputs[:last_user] if r != "system"]
    retrievers = sorted((s for s in trace if s.documents), key=_order)
    if before is not None:
        retrievers = [s for s in retrievers if s.start is None or s.start <= before] or retrievers
    anchor = call or root
    app_version = next((s.app_version for s in (anchor, root) if s is not None and s.app_version), None)
    return {
        "item_id": item_id, "input": user, "output": answer,
        "context": [d for s in retrievers for d in s.documents] or None,
        "trace_id": anchor.trace_id, "span_id": anchor.span_id,
        "model": (call.model if call else None)
        or next((s.model for s in sorted(trace, key=_order, reverse=True) if s.model), None),
        "app_version": app_version,
        "prompt_name": next((s.prompt_name for s in trace if s.prompt_name), None),
        "prompt_version": next((s.prompt_version for s in trace if s.prompt_version), None),
        "system_prompt": _last(inputs, "system"),
        "earlier_turns": "\n".join(earlier) or None,
        "started_at": _iso(min((s.start for s in trace if s.start is not None), default=None)),
        "ended_at": _iso(max((s.end for s in trace if s.end is not None), default=None)),
        "trace_format": fmt,
    }


def trace_items(spans: Iterable[Span], *, per: str = "trace", fmt: str = "") -> list[dict[str, Any]]:
    """Items from spans: one per trace (its final LLM call, else its root's values) or one per LLM span."""
    if per not in PER_CHOICES:
        raise ImportFailed("traces", f"--per is one of {', '.join(PER_CHOICES)}, not '{per}'.")
    by_trace: dict[str, list[Span]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, []).append(span)
    items = []
    for trace_id, trace in by_trace.items():
        ids = {s.span_id for s in trace}
        roots = [s for s in trace if not s.parent_id or s.parent_id not in ids or s.parent_id == s.span_id]
        root = min(roots, key=_order) if roots else None
        calls = sorted((s for s in trace if s.kind == "llm"), key=lambda s: (_order(s)[1], _order(s)[0]))
        if per == "trace":
            items.append(_item(trace_id, calls[-1] if calls else None, root, trace, None, fmt))
        else:
            items += [_item(f"{trace_id}:{c.span_id}", c, root, trace, c.start, fmt) for c in calls]
    return [i for i in items if i["output"] is not None]


def import_traces(store, path: str | Path, *, dataset: str, per: str = "trace", fmt: str | None = None):
    """Import a trace export as the next version of `dataset` (an ImportResult, like import_file)."""
    from judge.importing import import_records

    spans, fmt, sha256 = read_spans(path, fmt)
    items = trace_items(spans, per=per, fmt=fmt)
    if not items:
        raise ImportFailed(Path(path).name, f"no {'trace' if per == 'trace' else 'LLM span'} in the export has an "
                           "answer (an assistant message or an output value) to judge.")
    frame = pd.DataFrame(items)
    frame = frame[[c for c in frame.columns if frame[c].notna().any()]]
    return import_records(store, frame, source=path, sha256=hashlib.sha256(f"{sha256}:{per}".encode()).hexdigest(),
                          fmt="traces", dataset=dataset)
