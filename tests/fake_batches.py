"""The batch endpoints of the fake server (tests/fake_llm.py): OpenAI files + batches, Anthropic message batches.

OpenAI: POST /v1/files (multipart, purpose=batch), GET /v1/files/{id}[/content], DELETE /v1/files/{id},
POST /v1/batches, GET /v1/batches[/{id}], POST /v1/batches/{id}/cancel. Anthropic: POST /v1/messages/batches,
GET /v1/messages/batches[/{id}], GET /v1/messages/batches/{id}/results, POST /v1/messages/batches/{id}/cancel.

A batch ends `server.batch_delay` seconds after it is created; its requests are then answered like direct
calls (same scripted replies, same prompt caching). Scripting:
    server.batch_delay = 0.2                  processing time of every batch
    server.batch_outcome = fn(custom_id, request_body) -> None | "errored" | "invalid" | "expired" | "prose"
                                              errored: a transient error (OpenAI error-file line with HTTP 500,
                                              Anthropic api_error); invalid: HTTP 400 / invalid_request_error;
                                              expired: not processed in time; prose: an unreadable reply
    server.refuse_next_batch("message")       the next batch fails validation (OpenAI status failed; Anthropic 400)
    server.fail_next_submission(n, status)    the next n batch creations fail with that HTTP status, creating nothing
    server.done_before_cancel = 0.5           share of a canceled batch's requests finished before the cancel
Records: server.batches (id -> FakeBatch: vendor, custom_ids, status, ...), server.files.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any


@dataclass
class FakeBatch:
    id: str
    vendor: str
    requests: list[dict[str, Any]]  # OpenAI: {custom_id, method, url, body}; Anthropic: {custom_id, params}
    created: float
    input_file_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    refused: str | None = None
    cancel_at: float | None = None
    results: list[dict[str, Any]] | None = None  # filled when the batch ends
    output_file_id: str | None = None
    error_file_id: str | None = None

    @property
    def custom_ids(self) -> list[str]:
        return [request["custom_id"] for request in self.requests]


class BatchEndpoints:
    """Mixed into FakeLLMServer; `_batch_route` answers a batch request or returns None for other paths."""

    def _init_batches(self) -> None:
        self.batch_delay = 0.0
        self.batch_outcome = None
        self.done_before_cancel = 0.0
        self.batches: dict[str, FakeBatch] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self._refusals: list[str] = []
        self._submission_failures: list[int] = []

    def refuse_next_batch(self, message: str = "Invalid request on line 1: model not found") -> None:
        with self._lock:
            self._refusals.append(message)

    def fail_next_submission(self, n: int = 1, status: int = 503) -> None:
        with self._lock:
            self._submission_failures += [status] * n

    def _submission_failure(self, vendor: str) -> bytes | None:
        with self._lock:
            status = self._submission_failures.pop(0) if self._submission_failures else None
        return None if status is None else self._error(vendor, status)

    # ---- routing ---------------------------------------------------------------------------------------
    def _batch_route(self, method: str, path: str, headers: dict[str, str], raw: bytes, body: Any) -> bytes | None:
        openai_file = re.fullmatch(r"/v1/files/([\w-]+)(/content)?", path)
        openai_batch = re.fullmatch(r"/v1/batches/([\w-]+)(/cancel)?", path)
        claude_batch = re.fullmatch(r"/v1/messages/batches/([\w-]+)(/results|/cancel)?", path)
        if path == "/v1/files" and method == "POST":
            return self._upload(headers, raw)
        if openai_file and method == "GET":
            return self._file(openai_file.group(1), content=bool(openai_file.group(2)))
        if openai_file and method == "DELETE":
            self.files.pop(openai_file.group(1), None)
            return self._json({"id": openai_file.group(1), "object": "file", "deleted": True})
        if path == "/v1/batches" and method == "POST":
            return self._submission_failure("openai") or self._create_openai(body)
        if path == "/v1/batches" and method == "GET":
            batches = [self._openai_view(b) for b in reversed(self.batches.values()) if b.vendor == "openai"]
            return self._json({"object": "list", "data": batches, "has_more": False,
                               "first_id": batches[0]["id"] if batches else None,
                               "last_id": batches[-1]["id"] if batches else None})
        if openai_batch and openai_batch.group(1) in self.batches:
            batch = self.batches[openai_batch.group(1)]
            if openai_batch.group(2) and method == "POST":
                batch.cancel_at = batch.cancel_at or time.monotonic()
            return self._json(self._openai_view(batch))
        if path == "/v1/messages/batches" and method == "POST":
            return self._submission_failure("anthropic") or self._create_anthropic(body)
        if path == "/v1/messages/batches" and method == "GET":
            batches = [self._anthropic_view(b) for b in reversed(self.batches.values()) if b.vendor == "anthropic"]
            return self._json({"data": batches, "has_more": False,
                               "first_id": batches[0]["id"] if batches else None,
                               "last_id": batches[-1]["id"] if batches else None})
        if claude_batch and claude_batch.group(1) in self.batches:
            batch = self.batches[claude_batch.group(1)]
            if claude_batch.group(2) == "/cancel" and method == "POST":
                batch.cancel_at = batch.cancel_at or time.monotonic()
            if claude_batch.group(2) == "/results":
                self._settle(batch)
                if batch.results is None:
                    return self._error("anthropic", 400, "The batch is still processing.")
                lines = "".join(json.dumps(r) + "\n" for r in batch.results).encode()
                return self._http(200, lines, {"content-type": "application/binary"})
            return self._json(self._anthropic_view(batch))
        if openai_file or openai_batch or claude_batch:
            vendor = "anthropic" if claude_batch else "openai"
            return self._error(vendor, 404, f"No such object: {path}")
        return None

    def _json(self, payload: dict[str, Any]) -> bytes:
        return self._http(200, json.dumps(payload).encode())

    # ---- OpenAI ----------------------------------------------------------------------------------------
    def _upload(self, headers: dict[str, str], raw: bytes) -> bytes:
        boundary = headers.get("content-type", "").split("boundary=", 1)[-1].strip('"').encode()
        fields: dict[str, tuple[str | None, bytes]] = {}
        for part in raw.split(b"--" + boundary):
            head, _, content = part.partition(b"\r\n\r\n")
            name = re.search(rb'name="([^"]*)"', head)
            if name:
                filename = re.search(rb'filename="([^"]*)"', head)
                fields[name.group(1).decode()] = (filename.group(1).decode() if filename else None,
                                                  content.removesuffix(b"\r\n"))
        if "file" not in fields or fields.get("purpose", (None, b""))[1] != b"batch":
            return self._error("openai", 400, "Upload a file with purpose=batch.")
        file_id = self._add_file(fields["file"][1], fields["file"][0] or "upload.jsonl", "batch")
        return self._json(self.files[file_id]["object"])

    def _add_file(self, content: bytes, filename: str, purpose: str) -> str:
        file_id = f"file-{uuid.uuid4().hex[:24]}"
        self.files[file_id] = {"content": content, "object": {
            "id": file_id, "object": "file", "bytes": len(content), "created_at": int(time.time()),
            "filename": filename, "purpose": purpose, "status": "processed"}}
        return file_id

    def _file(self, file_id: str, *, content: bool) -> bytes:
        if file_id not in self.files:
            return self._error("openai", 404, f"No such File object: {file_id}")
        if content:
            return self._http(200, self.files[file_id]["content"], {"content-type": "application/octet-stream"})
        return self._json(self.files[file_id]["object"])

    def _create_openai(self, body: dict[str, Any]) -> bytes:
        file = self.files.get(body.get("input_file_id") or "")
        if file is None:
            return self._error("openai", 400, f"No such File object: {body.get('input_file_id')}")
        requests = [json.loads(line) for line in file["content"].splitlines() if line.strip()]
        batch = FakeBatch(f"batch_{uuid.uuid4().hex[:24]}", "openai", requests, time.monotonic(),
                          input_file_id=body["input_file_id"], metadata=body.get("metadata") or {})
        with self._lock:
            batch.refused = self._refusals.pop(0) if self._refusals else None
        ids = batch.custom_ids
        if batch.refused is None and len(set(ids)) != len(ids):
            batch.refused = "Duplicate custom_id in the input file."
        if batch.refused is None and any(r.get("url") != body.get("endpoint") for r in requests):
            batch.refused = "Every request's url must be the batch endpoint."
        self.batches[batch.id] = batch
        return self._json(self._openai_view(batch))

    def _openai_view(self, batch: FakeBatch) -> dict[str, Any]:
        self._settle(batch)
        created = int(time.time() - (time.monotonic() - batch.created))
        if batch.refused:
            status = "failed"
        elif batch.results is None:
            status = "cancelling" if batch.cancel_at else "in_progress"
        elif batch.cancel_at:
            status = "cancelled"
        elif any(r.get("error") and r["error"].get("code") == "batch_expired" for r in batch.results):
            status = "expired"
        else:
            status = "completed"
        failed = sum(1 for r in batch.results or [] if (r.get("response") or {}).get("status_code") != 200)
        return {"id": batch.id, "object": "batch", "endpoint": "/v1/chat/completions",
                "input_file_id": batch.input_file_id, "completion_window": "24h", "status": status,
                "created_at": created, "expires_at": created + 86400, "metadata": batch.metadata,
                "output_file_id": batch.output_file_id, "error_file_id": batch.error_file_id,
                "errors": {"object": "list", "data": [{"code": "invalid_request", "message": batch.refused,
                                                       "param": None, "line": 1}]} if batch.refused else None,
                "request_counts": {"total": len(batch.requests), "failed": failed,
                                   "completed": len(batch.results or []) - failed}}

    # ---- Anthropic -------------------------------------------------------------------------------------
    def _create_anthropic(self, body: Any) -> bytes:
        requests = (body or {}).get("requests") if isinstance(body, dict) else None
        with self._lock:
            refused = self._refusals.pop(0) if self._refusals else None
        if not requests:
            refused = refused or "requests: at least one request is required"
        ids = [r.get("custom_id") for r in requests or []]
        if refused is None and len(set(ids)) != len(ids):
            refused = "Duplicate custom_id values in the batch."
        if refused is None and any(not re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", str(i)) for i in ids):
            refused = "custom_id must be 1-64 letters, digits, underscores or hyphens."
        if refused:
            return self._error("anthropic", 400, refused)
        batch = FakeBatch(f"msgbatch_{uuid.uuid4().hex[:24]}", "anthropic", requests, time.monotonic())
        self.batches[batch.id] = batch
        return self._json(self._anthropic_view(batch))

    def _anthropic_view(self, batch: FakeBatch) -> dict[str, Any]:
        self._settle(batch)
        created = datetime.now(timezone.utc) - timedelta(seconds=time.monotonic() - batch.created)
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if batch.results is None:
            counts["processing"] = len(batch.requests)
        else:
            for result in batch.results:
                counts[result["result"]["type"]] += 1
        ended = batch.results is not None
        return {"id": batch.id, "type": "message_batch", "created_at": created.isoformat(),
                "expires_at": (created + timedelta(hours=24)).isoformat(),
                "processing_status": "ended" if ended else ("canceling" if batch.cancel_at else "in_progress"),
                "request_counts": counts, "ended_at": datetime.now(timezone.utc).isoformat() if ended else None,
                "cancel_initiated_at": created.isoformat() if batch.cancel_at else None, "archived_at": None,
                "results_url": f"{self.url}/v1/messages/batches/{batch.id}/results" if ended else None}

    # ---- processing ------------------------------------------------------------------------------------
    def _settle(self, batch: FakeBatch) -> None:
        """Answer every request once the batch's time is up (or it was canceled), exactly once."""
        if batch.results is not None or batch.refused:
            return
        if batch.cancel_at is None and time.monotonic() - batch.created < self.batch_delay:
            return
        finished = len(batch.requests) if batch.cancel_at is None else \
            int(len(batch.requests) * self.done_before_cancel)
        results = [self._batch_result(batch.vendor, request, canceled=i >= finished)
                   for i, request in enumerate(batch.requests)]
        batch.results = [r for r in results if r is not None]
        if batch.vendor == "openai":
            good = [r for r in batch.results if (r.get("response") or {}).get("status_code") == 200]
            bad = [r for r in batch.results if r not in good]
            if good:
                batch.output_file_id = self._add_file("".join(json.dumps(r) + "\n" for r in good).encode(),
                                                      "batch_output.jsonl", "batch_output")
            if bad:
                batch.error_file_id = self._add_file("".join(json.dumps(r) + "\n" for r in bad).encode(),
                                                     "batch_errors.jsonl", "batch_output")

    def _batch_result(self, vendor: str, request: dict[str, Any], *, canceled: bool) -> dict[str, Any] | None:
        custom_id = request["custom_id"]
        body = request.get("body") if vendor == "openai" else request.get("params")
        outcome = "canceled" if canceled else (self.batch_outcome(custom_id, body) if self.batch_outcome else None)
        with self._lock:
            self.count += 1
        if vendor == "openai":
            line = {"id": f"batch_req_{uuid.uuid4().hex[:24]}", "custom_id": custom_id, "response": None,
                    "error": None}
            if outcome == "canceled":
                return None  # a canceled OpenAI batch lists only what it finished
            if outcome == "expired":
                line["error"] = {"code": "batch_expired",
                                 "message": "This request could not be executed before the completion window expired."}
            elif outcome in ("errored", "invalid"):
                status = 500 if outcome == "errored" else 400
                message = "The server had an error." if status == 500 else "Invalid value for 'model'."
                line["response"] = {"status_code": status, "request_id": uuid.uuid4().hex,
                                    "body": {"error": {"message": message, "type": "server_error" if status == 500
                                                       else "invalid_request_error", "param": None, "code": None}}}
            else:
                payload = self._completion_payload("openai", body, "prose" if outcome == "prose" else None)
                line["response"] = {"status_code": 200, "request_id": uuid.uuid4().hex, "body": payload}
            return line
        if outcome in ("canceled", "expired"):
            return {"custom_id": custom_id, "result": {"type": outcome}}
        if outcome in ("errored", "invalid"):
            kind = "api_error" if outcome == "errored" else "invalid_request_error"
            return {"custom_id": custom_id, "result": {"type": "errored", "error": {
                "type": "error", "error": {"type": kind, "message": f"fake {kind}"}}}}
        payload = self._completion_payload("anthropic", body, "prose" if outcome == "prose" else None)
        return {"custom_id": custom_id, "result": {"type": "succeeded", "message": payload}}
