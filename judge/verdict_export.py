"""A run's verdicts out of the store: as OpenTelemetry evaluation events, or as a table joined with the labels.

`otlp`: an OTLP/JSON logs export (`ExportLogsServiceRequest`) with one `gen_ai.evaluation.result` event per
verdict, following the GenAI semantic conventions: `gen_ai.evaluation.name` (the judge), `.score.value`,
`.score.label` (pass/fail), `.explanation` (the judge's reasoning), `error.type` when the call failed. An item
imported from traces (`judge import-traces`) keeps its trace and span ids, so each event carries the traceId
and spanId of the very span it judges and any OTLP backend shows it there. Ids are hex, as OTLP/JSON wants.

`csv`, `jsonl`, `parquet`: one row per verdict with the item and every annotator's current label beside it
(`score:<annotator>`, `passed:<annotator>`, `final_*`), the join people otherwise do by hand in a notebook.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd

from judge.errors import JudgeError
from judge.exporting import export_frame, to_bytes

VERDICT_FORMATS = ("otlp", "csv", "jsonl", "parquet")
EVENT_NAME = "gen_ai.evaluation.result"
_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_SPAN_ID = re.compile(r"^[0-9a-f]{16}$")
_VERDICT_COLUMNS = ("sample", "score", "passed", "reasoning", "error", "model_reported", "cost_usd", "latency_ms",
                    "cached")


def verdict_frame(store, run_id: str) -> pd.DataFrame:
    """One row per verdict: run, judge, verdict fields, then the item and its current human labels."""
    run = store.run(run_id)
    verdicts = store.verdicts(run_id)
    items = export_frame(store, run["dataset"], version=int(run["dataset_version"]))
    frame = verdicts[["item_id", *_VERDICT_COLUMNS]].merge(items, on="item_id", how="left")
    frame.insert(0, "judge", run["spec_name"])
    frame.insert(0, "run_id", run_id)
    return frame


def _attribute(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": str(value)}}


def _hex_id(value: Any, pattern: re.Pattern) -> str | None:
    """An OTLP trace/span id (lower-case hex) from the imported id; UUIDs lose their dashes."""
    if not isinstance(value, str):
        return None
    candidate = value.replace("-", "").lower()
    return candidate if pattern.match(candidate) and set(candidate) != {"0"} else None


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and value != value) and value is not pd.NA


def otlp_document(store, run_id: str) -> dict[str, Any]:
    """The run's verdicts as an OTLP/JSON ExportLogsServiceRequest of gen_ai.evaluation.result events."""
    run = store.run(run_id)
    verdicts = store.verdicts(run_id)
    metadata = store.items(int(run["dataset_id"])).set_index("uid")["metadata"].to_dict()
    records = []
    for row in verdicts.itertuples(index=False):
        meta = metadata.get(row.item_uid, {})
        attributes = [_attribute("gen_ai.evaluation.name", run["spec_name"])]
        if _present(row.score):
            attributes.append(_attribute("gen_ai.evaluation.score.value", float(row.score)))
        if _present(row.passed):
            attributes.append(_attribute("gen_ai.evaluation.score.label", "pass" if bool(row.passed) else "fail"))
        if _present(row.reasoning) and row.reasoning:
            attributes.append(_attribute("gen_ai.evaluation.explanation", row.reasoning))
        if _present(row.error) and row.error:
            attributes.append(_attribute("error.type", str(row.error).split(":")[0][:120]))
        attributes += [_attribute("judge_workbench.run_id", run_id), _attribute("judge_workbench.item_id", row.item_id),
                       _attribute("judge_workbench.sample", int(row.sample))]
        if run["model"]:
            attributes.append(_attribute("judge_workbench.judge_model", run["model"]))
        for key in ("trace_id", "span_id"):
            if meta.get(key):
                attributes.append(_attribute(f"judge_workbench.source_{key}", meta[key]))
        created = pd.Timestamp(row.created_at)
        created = created.tz_localize("UTC") if created.tzinfo is None else created
        record = {"timeUnixNano": str(created.value), "observedTimeUnixNano": str(created.value),
                  "severityNumber": 9, "severityText": "INFO", "eventName": EVENT_NAME, "attributes": attributes}
        trace_id, span_id = _hex_id(meta.get("trace_id"), _TRACE_ID), _hex_id(meta.get("span_id"), _SPAN_ID)
        if trace_id:
            record["traceId"] = trace_id
            if span_id:
                record["spanId"] = span_id
        records.append(record)
    resource = [_attribute("service.name", "judge-workbench")]
    scope = {"name": "judge-workbench", "version": str(run.get("code_version") or "")}
    return {"resourceLogs": [{"resource": {"attributes": resource},
                              "scopeLogs": [{"scope": scope, "logRecords": records}]}]}


def export_verdicts(store, run_id: str, *, fmt: str = "otlp") -> bytes:
    """The run's verdicts as a file's bytes in `fmt` (see the module docstring)."""
    if fmt not in VERDICT_FORMATS:
        raise JudgeError(f"The verdict export format is one of {', '.join(VERDICT_FORMATS)}, not '{fmt}'.")
    if fmt == "otlp":
        return json.dumps(otlp_document(store, run_id), ensure_ascii=False, indent=1).encode("utf-8")
    return to_bytes(verdict_frame(store, run_id), fmt)
