"""A fake OpenAI- and Anthropic-compatible HTTP server, so tests and benchmarks never call a real vendor.

It speaks enough of both APIs for the official SDKs to talk to it unchanged (point them at it with
OPENAI_BASE_URL / ANTHROPIC_BASE_URL): POST /v1/chat/completions, POST /v1/messages, GET /v1/models.
It is a small asyncio HTTP/1.1 server with keep-alive on a background thread, so hundreds of slow
concurrent requests cost one thread and almost no CPU (http.server's thread-per-request does not keep up).

Scripting (thread-safe; call from the test thread while the server runs):
    server.reply_with(fn)          fn(request_json) -> {"reasoning", "score"[, "score_probs"]} | str | None
                                   (None = default reply; a str is the raw model text)
    server.latency = 0.2           seconds before every reply
    server.fail_rate(status=429, rate=0.1, retry_after=1)   seeded random failures
    server.fail_next(n, status=500, retry_after=None, message=None)
    server.hang_next(n)            never answer (the client times out)
    server.malformed_next(n, kind) / server.malformed_rate(rate, kind)
                                   kind "truncated": reply text is cut-off JSON (finish_reason "length"),
                                   "prose": reply text is not JSON, "body": the HTTP body itself is cut off
    server.logprobs = False        ignore logprob requests (like servers that do not support them)
    server.json_schema = False     answer 400 to response_format json_schema (like some local servers)
    server.reported_models = {"gpt-x": "gpt-x-2025-01-01"}   model id reported back (default: echo)
Records: server.requests (list of RecordedRequest(path, headers, body)), server.count, server.max_in_flight.
Prompt caching is simulated like each vendor does it (see _openai_cache, _anthropic_cache; server.cache_min_tokens),
and the batch endpoints of both vendors are in tests/fake_batches.py (server.batch_delay, batch_outcome, ...).

The default reply derives the score from a hash of the prompt, so runs are reproducible.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import random
import re
import threading
import time
import uuid
from typing import Any, Callable, NamedTuple

import pytest

from fake_batches import BatchEndpoints

REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           408: "Request Timeout", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable", 529: "Overloaded"}
OPENAI_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "permission_error",
                      404: "invalid_request_error", 429: "rate_limit_exceeded", 500: "server_error",
                      503: "server_error"}
ANTHROPIC_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                         404: "not_found_error", 429: "rate_limit_error", 500: "api_error", 529: "overloaded_error"}
MALFORMED_KINDS = ("truncated", "prose", "body")
TOKEN_PATTERN = re.compile(r"\w+|\s+|[^\w\s]+")


class RecordedRequest(NamedTuple):
    path: str
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or None for a request without a body


def default_verdict(prompt: str) -> dict[str, Any]:
    """A deterministic verdict: the same prompt always gets the same score."""
    score = 1 + int(hashlib.sha256(prompt.encode()).hexdigest(), 16) % 5
    return {"reasoning": f"Checked the response against the rubric step by step; it best matches level {score}.",
            "score": score}


def prompt_text(body: dict) -> str:
    """All text a request sends to the model, vendor-neutral (system + messages)."""
    parts = []
    system = body.get("system")
    if isinstance(system, list):
        parts += [block.get("text", "") for block in system if isinstance(block, dict)]
    elif isinstance(system, str):
        parts.append(system)
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts += [block.get("text", "") for block in content if isinstance(block, dict)]
    return "\n".join(parts)


def score_distribution(score: int) -> dict[int, float]:
    """A plausible judge distribution: most mass on the chosen score, some on its neighbours."""
    weights = {s: {0: 0.70, 1: 0.12, 2: 0.03}.get(abs(s - score), 0.01) for s in range(1, 6)}
    total = sum(weights.values())
    return {s: w / total for s, w in weights.items()}


def approx_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


class _Fault(NamedTuple):
    kind: str  # "status" | "hang" | "malformed"
    status: int = 0
    retry_after: float | str | None = None
    message: str | None = None
    malformed: str = "truncated"


class FakeLLMServer(BatchEndpoints):
    """Start with `start()` (or as a context manager); `openai_base_url` / `anthropic_base_url` point SDKs here."""

    def __init__(self, *, seed: int = 0, latency: float = 0.0):
        self.latency = latency
        self.logprobs = True
        self.json_schema = True
        self.reported_models: dict[str, str] = {}
        self.requests: list[RecordedRequest] = []
        self.count = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._reply_fn: Callable[[dict], Any] | None = None
        self._queued: list[_Fault] = []
        self._rates: list[tuple[float, _Fault]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[asyncio.Task] = set()
        self._stopping: asyncio.Event | None = None
        self.port = 0
        self.cache_min_tokens = 1024
        self._cached_prefixes: set[bytes] = set()
        self._init_batches()

    # ---- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> "FakeLLMServer":
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._stopping = asyncio.Event()
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._serve_connection, "127.0.0.1", 0, backlog=1024))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_until_complete(self._stopping.wait())
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*self._connections, return_exceptions=True))
            self._loop.run_until_complete(self._server.wait_closed())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="fake-llm", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake LLM server did not start")
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(10)
        self._thread = None

    def __enter__(self) -> "FakeLLMServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    def env(self) -> dict[str, str]:
        """Environment variables that point both SDKs (and judge.providers) at this server."""
        return {"OPENAI_BASE_URL": self.openai_base_url, "ANTHROPIC_BASE_URL": self.anthropic_base_url,
                "OPENAI_API_KEY": "sk-fake-openai-key", "ANTHROPIC_API_KEY": "sk-ant-fake-anthropic-key"}

    # ---- scripting -------------------------------------------------------------------------------------
    def reply_with(self, fn: Callable[[dict], Any] | None) -> None:
        with self._lock:
            self._reply_fn = fn

    def fail_next(self, n: int = 1, status: int = 500, *, retry_after: float | str | None = None,
                  message: str | None = None) -> None:
        """Fail the next n requests; retry_after is seconds, or a string sent verbatim (e.g. an HTTP date)."""
        with self._lock:
            self._queued += [_Fault("status", status, retry_after, message)] * n

    def fail_rate(self, status: int = 429, rate: float = 0.1, retry_after: float | str | None = None,
                  message: str | None = None) -> None:
        """Fail this share of requests with `status`; rate 0 removes the rule for that status."""
        with self._lock:
            self._rates = [r for r in self._rates if not (r[1].kind == "status" and r[1].status == status)]
            if rate > 0:
                self._rates.append((rate, _Fault("status", status, retry_after, message)))

    def hang_next(self, n: int = 1) -> None:
        with self._lock:
            self._queued += [_Fault("hang")] * n

    def malformed_next(self, n: int = 1, kind: str = "truncated") -> None:
        self._check_kind(kind)
        with self._lock:
            self._queued += [_Fault("malformed", malformed=kind)] * n

    def malformed_rate(self, rate: float = 0.1, kind: str = "truncated") -> None:
        self._check_kind(kind)
        with self._lock:
            self._rates = [r for r in self._rates if not (r[1].kind == "malformed" and r[1].malformed == kind)]
            if rate > 0:
                self._rates.append((rate, _Fault("malformed", malformed=kind)))

    def reset(self) -> None:
        """Forget scripted replies, faults and records (latency and capability flags stay)."""
        with self._lock:
            self._reply_fn, self._queued, self._rates = None, [], []
            self.requests, self.count, self.max_in_flight = [], 0, self.in_flight

    @staticmethod
    def _check_kind(kind: str) -> None:
        if kind not in MALFORMED_KINDS:
            raise ValueError(f"malformed kind must be one of {MALFORMED_KINDS}, got {kind!r}")

    def _next_fault(self) -> _Fault | None:
        with self._lock:
            if self._queued:
                return self._queued.pop(0)
            for rate, fault in self._rates:
                if self._random.random() < rate:
                    return fault
        return None

    # ---- HTTP/1.1 --------------------------------------------------------------------------------------
    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._connections.add(task)
        try:
            while True:
                request = await self._read_request(reader)
                if request is None:
                    break
                method, path, headers, raw = request
                keep_alive = headers.get("connection", "").lower() != "close"
                response = await self._handle(method, path, headers, raw, reader)
                if response is None:  # hung until the client gave up
                    break
                writer.write(response)
                await writer.drain()
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader):
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(chunk[:-2])
            raw = b"".join(chunks)
        else:
            raw = await reader.readexactly(int(headers.get("content-length", 0)))
        return method, target.split("?", 1)[0], headers, raw

    @staticmethod
    def _http(status: int, payload: bytes, extra: dict[str, str] | None = None) -> bytes:
        headers = {"content-type": "application/json", "content-length": str(len(payload)),
                   "connection": "keep-alive", **(extra or {})}
        head = f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        return head.encode("latin-1") + b"\r\n" + payload

    async def _handle(self, method, path, headers, raw, reader) -> bytes | None:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with self._lock:
            self.requests.append(RecordedRequest(path, headers, body))
            self.count += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if method == "GET" and path == "/v1/models":
                return self._http(200, json.dumps(self._models()).encode())
            batch_reply = self._batch_route(method, path, headers, raw, body)
            if batch_reply is not None:
                return batch_reply
            routes = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic"}
            if method != "POST" or path not in routes:
                return self._error(routes.get(path, "openai"), 404, f"Unknown route {method} {path}")
            vendor = routes[path]
            if not isinstance(body, dict):
                return self._error(vendor, 400, "Request body must be a JSON object.")
            if vendor == "anthropic" and headers.get("anthropic-version", "") >= "2026-10-21":
                for name in ("temperature", "top_p", "top_k"):
                    if name in body:  # API version 2026-10-21 removed sampling parameters
                        return self._error(vendor, 400, f"{name}: Extra inputs are not permitted")
            if self.latency:
                await asyncio.sleep(self.latency)
            fault = self._next_fault()
            if fault and fault.kind == "hang":
                await self._wait_for_disconnect(reader)
                return None
            if fault and fault.kind == "status":
                return self._error(vendor, fault.status, fault.message, fault.retry_after)
            return self._reply(vendor, body, fault.malformed if fault else None)
        finally:
            with self._lock:
                self.in_flight -= 1

    async def _wait_for_disconnect(self, reader: asyncio.StreamReader) -> None:
        """Hold the request open until the client closes the connection or the server stops."""
        eof = asyncio.ensure_future(reader.read())
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({eof, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            eof.cancel()
            stopping.cancel()

    def _error(self, vendor: str, status: int, message: str | None = None,
               retry_after: float | str | None = None) -> bytes:
        message = message or {429: "Rate limit reached for requests. Please try again later.",
                              400: "Invalid request."}.get(status, "The server had an error processing your request.")
        if vendor == "anthropic":
            payload = {"type": "error", "error": {"type": ANTHROPIC_ERROR_TYPES.get(status, "api_error"),
                                                  "message": message}}
        else:
            payload = {"error": {"message": message, "type": OPENAI_ERROR_TYPES.get(status, "server_error"),
                                 "param": None, "code": None}}
        extra = {"x-request-id": f"req_{uuid.uuid4().hex[:24]}"}
        if retry_after is not None:
            extra["retry-after"] = retry_after if isinstance(retry_after, str) else f"{retry_after:g}"
        return self._http(status, json.dumps(payload).encode(), extra)

    def _models(self) -> dict:
        names = ["gpt-4.1-mini", "gpt-4.1", "claude-sonnet-4-6", *self.reported_models.values()]
        return {"object": "list", "data": [{"id": n, "object": "model", "created": 1_700_000_000,
                                             "owned_by": "fake-llm"} for n in dict.fromkeys(names)]}

    # ---- replies ---------------------------------------------------------------------------------------
    def _scripted(self, body: dict) -> tuple[str, dict | None]:
        """(model text, verdict dict or None when the script returned raw text)."""
        with self._lock:
            fn = self._reply_fn
        result = fn(body) if fn else None
        if result is None:
            result = default_verdict(prompt_text(body))
        if isinstance(result, str):
            return result, None
        verdict = {"reasoning": result.get("reasoning", ""), "score": result.get("score")}
        return json.dumps(verdict), result

    def _reply(self, vendor: str, body: dict, malformed: str | None) -> bytes:
        if vendor == "openai":
            rf = body.get("response_format") or {}
            if rf.get("type") == "json_schema" and not self.json_schema:
                return self._error("openai", 400, "response_format 'json_schema' is not supported by this server.")
        data = json.dumps(self._completion_payload(vendor, body, malformed)).encode()
        if malformed == "body":
            data = data[: len(data) // 2]
        return self._http(200, data, {"x-request-id": f"req_{uuid.uuid4().hex[:24]}"})

    def _completion_payload(self, vendor: str, body: dict, malformed: str | None) -> dict:
        """The decoded reply of one call (direct or in a batch), with usage as the vendor reports it."""
        text, verdict = self._scripted(body)
        finish = "stop"
        if malformed == "prose":
            text, verdict = "The response looks mostly fine to me, I would rate it fairly well.", None
        elif malformed in ("truncated", "body"):
            text, verdict, finish = text[: max(1, len(text) // 2)], None, "length"
        model = body.get("model", "")
        model = self.reported_models.get(model, model)
        output_tokens = approx_tokens(text)
        if vendor == "openai":
            input_tokens, cached = self._openai_cache(body)
            payload = self._openai_payload(body, model, text, verdict, finish, input_tokens, output_tokens)
            payload["usage"]["prompt_tokens_details"]["cached_tokens"] = cached
        else:
            input_tokens, read, written = self._anthropic_cache(body)
            payload = self._anthropic_payload(body, model, text, verdict, finish, input_tokens, output_tokens)
            payload["usage"].update(cache_read_input_tokens=read, cache_creation_input_tokens=written)
        return payload

    # ---- prompt caching ------------------------------------------------------------------------------
    # OpenAI: automatic, the longest earlier-seen prefix in 128-token steps from cache_min_tokens, reported as
    # prompt_tokens_details.cached_tokens (part of prompt_tokens). Anthropic: explicit, the prefix up to a block
    # marked cache_control (tools, then system, then messages) is read if seen before, else written; usage
    # input_tokens counts only what follows the last breakpoint. Tokens are characters / 4.
    def _openai_cache(self, body: dict) -> tuple[int, int]:
        text = prompt_text(body)
        digest = hashlib.sha256(f"openai|{body.get('model')}|".encode())
        cached, step = 0, 128 * 4
        for end in range(step, len(text) + 1, step):
            digest.update(text[end - step:end].encode())
            if end // 4 < self.cache_min_tokens:
                continue
            key = digest.copy().digest()
            with self._lock:
                if key in self._cached_prefixes:
                    cached = end // 4
                else:
                    self._cached_prefixes.add(key)
        return approx_tokens(text), cached

    def _anthropic_cache(self, body: dict) -> tuple[int, int, int]:
        blocks: list[tuple[str, bool]] = [(json.dumps(tool, sort_keys=True), "cache_control" in tool)
                                          for tool in body.get("tools") or []]
        system = body.get("system")
        if isinstance(system, str):
            blocks.append((system, False))
        for block in system if isinstance(system, list) else []:
            blocks.append((block.get("text", ""), "cache_control" in block))
        for message in body.get("messages") or []:
            content = message.get("content")
            for block in [{"text": content}] if isinstance(content, str) else content or []:
                blocks.append((block.get("text", ""), "cache_control" in block))
        digest = hashlib.sha256(f"anthropic|{body.get('model')}|".encode())
        counted, breakpoints = 0, []
        for index, (text, marked) in enumerate(blocks):
            digest.update(text.encode() + b"\x00")
            if index >= len(body.get("tools") or []):
                counted += len(text)  # tool definitions are not counted as prompt text here
            if marked:
                breakpoints.append((counted // 4, digest.copy().digest()))
        total = approx_tokens(prompt_text(body))
        read = written = 0
        for tokens, key in breakpoints:
            if tokens < self.cache_min_tokens:
                continue
            with self._lock:
                if key in self._cached_prefixes:
                    read, written = tokens, 0
                else:
                    self._cached_prefixes.add(key)
                    written = tokens - read
        return max(0, total - read - written), read, written

    def _openai_payload(self, body, model, text, verdict, finish, input_tokens, output_tokens) -> dict:
        choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": text, "refusal": None,
                                                          "annotations": []},
                                  "logprobs": None, "finish_reason": finish}
        if body.get("logprobs") and self.logprobs:
            choice["logprobs"] = {"content": self._token_logprobs(text, verdict, int(body.get("top_logprobs") or 0)),
                                  "refusal": None}
        return {"id": f"chatcmpl-{uuid.uuid4().hex[:29]}", "object": "chat.completion", "created": int(time.time()),
                "model": model, "choices": [choice],
                "usage": {"prompt_tokens": input_tokens, "completion_tokens": output_tokens,
                          "total_tokens": input_tokens + output_tokens,
                          "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                          "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                                        "accepted_prediction_tokens": 0,
                                                        "rejected_prediction_tokens": 0}},
                "service_tier": "default", "system_fingerprint": "fp_fake0001"}

    def _token_logprobs(self, text: str, verdict: dict | None, top_k: int) -> list[dict]:
        """Tokenize the reply; the score digit gets a full 1..5 distribution in its top_logprobs."""
        score_at = None
        if verdict is not None:
            match = re.search(r'"score"\s*:\s*(\d)', text)
            score_at = match.start(1) if match else None
        probs = None
        if score_at is not None:
            probs = verdict.get("score_probs") or score_distribution(int(verdict["score"]))
            probs = {int(k): float(v) for k, v in probs.items()}
        tokens, offset = [], 0
        for match in TOKEN_PATTERN.finditer(text):
            token = match.group()
            if offset == score_at:
                ranked = sorted(probs.items(), key=lambda kv: -kv[1])
                top = [self._logprob_entry(str(s), p) for s, p in ranked if p > 0][:top_k]
                entry = self._logprob_entry(token, probs.get(int(token), 1e-9))
            else:
                entry = self._logprob_entry(token, 0.999)
                top = [entry, self._logprob_entry(token.upper() if token.islower() else "_", 0.0005)][:top_k]
            tokens.append({**entry, "top_logprobs": top})
            offset += len(token)
        return tokens

    @staticmethod
    def _logprob_entry(token: str, p: float) -> dict:
        return {"token": token, "logprob": math.log(max(p, 1e-12)), "bytes": list(token.encode())}

    def _anthropic_payload(self, body, model, text, verdict, finish, input_tokens, output_tokens) -> dict:
        tool_choice = body.get("tool_choice") or {}
        tools = {t.get("name"): t for t in body.get("tools") or []}
        forced = tool_choice.get("name") if tool_choice.get("type") == "tool" else None
        if forced is None and tool_choice.get("type") == "any" and tools:
            forced = next(iter(tools))
        tool_input = None
        if forced in tools and finish == "stop":
            try:
                tool_input = json.loads(text)
            except ValueError:
                tool_input = None
        if tool_input is not None and isinstance(tool_input, dict):
            content = [{"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:24]}", "name": forced,
                        "input": tool_input}]
            stop_reason = "tool_use"
        else:
            content = [{"type": "text", "text": text}]
            stop_reason = "end_turn" if finish == "stop" else "max_tokens"
        return {"id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message", "role": "assistant", "model": model,
                "content": content, "stop_reason": stop_reason, "stop_sequence": None,
                "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens,
                          "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                          "service_tier": "standard"}}


@pytest.fixture
def fake_llm(monkeypatch):
    """A running FakeLLMServer; the environment points judge.providers (and both SDKs) at it, with fake keys."""
    server = FakeLLMServer().start()
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    try:
        yield server
    finally:
        server.stop()
