"""Provider batch APIs, half price and results within 24 hours, through the official SDK clients.

OpenAI: upload a JSONL file (`files.create(purpose="batch")`), `batches.create` on /v1/chat/completions, poll
`batches.retrieve`, read `output_file_id` and `error_file_id` (`files.content`). Anthropic: `messages.batches.
create`, poll `processing_status`, stream `messages.batches.results`. Results arrive in any order and are
matched on `custom_id`. Both build each request body exactly as a direct call would (the provider's
`request_body`), so caching, the verdict schema and parameters are the same.

These are a few calls per thousands of verdicts, so they use the SDKs' typed methods; errors are mapped to
ProviderError like every other call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, AsyncIterator, Awaitable, Callable

from judge.errors import JudgeError
from judge.providers.base import Completion, JudgeRequest, ProviderError
from judge.providers.http_errors import is_retryable, redact, status_error, vendor_message

Record = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class BatchState:
    """Where a provider batch is: `ended` once no more results will come; `refused` if it was rejected whole."""

    provider_status: str
    ended: bool
    refused: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    cancelled: bool = False


@dataclass(frozen=True)
class BatchResult:
    """One request's outcome: succeeded (with its completion), errored, expired or canceled."""

    custom_id: str
    kind: str
    completion: Completion | None = None
    message: str | None = None
    retryable: bool = False


class _BatchAPI:
    vendor = ""
    max_requests = 0
    max_bytes = 0

    def __init__(self, provider):
        self.provider = provider
        self.sdk = provider._endpoint.sdk
        self.errors = provider._endpoint.errors

    async def _sdk(self, call: Awaitable[Any]) -> Any:
        """Await an SDK call, mapping its errors like a direct call's (never carrying the key)."""
        errors, secret = self.errors, self.sdk.api_key
        try:
            return await call
        except errors.APIStatusError as exc:
            raise status_error(self.vendor, exc.status_code, vendor_message(exc.body, exc.message),
                               exc.response.headers, key_variable=self.provider.key_variable,
                               secret=secret) from None
        except errors.APIConnectionError as exc:
            raise ProviderError(f"could not reach {self.vendor}: {redact(str(exc), secret)}", retryable=True) from None


class OpenAIBatches(_BatchAPI):
    vendor = "openai"
    max_requests = 50_000
    max_bytes = 200 * 1024 * 1024
    endpoint = "/v1/chat/completions"

    def line(self, custom_id: str, request: JudgeRequest) -> bytes:
        body = {"custom_id": custom_id, "method": "POST", "url": self.endpoint,
                "body": self.provider.request_body(request)}
        return (json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n").encode()

    async def submit(self, key: str, lines: list[bytes], record: Record) -> str:
        uploaded = await self._sdk(self.sdk.files.create(file=(f"{key}.jsonl", b"".join(lines), "application/jsonl"),
                                                         purpose="batch"))
        await record(input_file_id=uploaded.id)
        batch = await self._sdk(self.sdk.batches.create(input_file_id=uploaded.id, endpoint=self.endpoint,
                                                        completion_window="24h", metadata={"judge_batch": key}))
        return batch.id

    async def find(self, batch: dict[str, Any], known: set[str]) -> str | None:
        """The provider's id of a batch whose creation was cut off before its id was stored (by our key)."""
        since = (_utc(batch["created_at"]) - timedelta(days=1)).timestamp()
        page = await self._sdk(self.sdk.batches.list(limit=100))
        async for found in page:  # newest first: stop at batches older than ours
            if found.created_at < since:
                break
            if (found.metadata or {}).get("judge_batch") == batch["key"] and found.id not in known:
                return found.id
        return None

    async def state(self, batch_id: str) -> BatchState:
        batch = await self._sdk(self.sdk.batches.retrieve(batch_id))
        refused = None
        if batch.status == "failed":
            messages = [f"line {e.line}: {e.message}" if e.line else str(e.message)
                        for e in ((batch.errors.data or []) if batch.errors else [])]
            refused = "; ".join(messages) or "the batch failed validation"
        return BatchState(batch.status, batch.status in ("completed", "expired", "cancelled", "failed"), refused,
                          batch.output_file_id, batch.error_file_id, batch.status in ("cancelling", "cancelled"))

    async def results(self, batch_id: str, state: BatchState) -> AsyncIterator[BatchResult]:
        for file_id in (state.output_file_id, state.error_file_id):
            if not file_id:
                continue
            content = await self._sdk(self.sdk.files.content(file_id))
            for raw in content.text.splitlines():
                if raw.strip():
                    yield self._result(json.loads(raw))

    def _result(self, line: dict[str, Any]) -> BatchResult:
        custom_id, response, error = line.get("custom_id"), line.get("response") or {}, line.get("error")
        status = response.get("status_code")
        if status == 200:
            try:
                return BatchResult(custom_id, "succeeded", self.provider._completion(response.get("body") or {}))
            except (ProviderError, LookupError, TypeError, AttributeError, ValueError) as exc:
                return BatchResult(custom_id, "errored", message=f"a reply in an unexpected shape: {exc}",
                                   retryable=True)
        if error:
            code, message = error.get("code"), error.get("message") or str(error)
            kind = {"batch_expired": "expired", "batch_cancelled": "canceled"}.get(code, "errored")
            return BatchResult(custom_id, kind, message=f"{code}: {message}" if code else message,
                               retryable=kind == "expired")
        message = vendor_message(response.get("body"), f"HTTP {status}")
        return BatchResult(custom_id, "errored", message=f"HTTP {status}: {message}",
                           retryable=bool(status) and is_retryable(int(status)))

    async def cancel(self, batch_id: str) -> None:
        await self._sdk(self.sdk.batches.cancel(batch_id))

    async def clean_up(self, batch: dict[str, Any], state: BatchState) -> None:
        """Delete the batch's files once its results are stored (they would stay for 30 days otherwise)."""
        for file_id in (batch.get("input_file_id"), state.output_file_id, state.error_file_id):
            if file_id:
                try:
                    await self._sdk(self.sdk.files.delete(file_id))
                except ProviderError:
                    pass  # a file left behind costs nothing; the verdicts are stored


class AnthropicBatches(_BatchAPI):
    vendor = "anthropic"
    max_requests = 100_000
    max_bytes = 256 * 1024 * 1024
    retryable_errors = {"api_error", "overloaded_error", "rate_limit_error", "timeout_error"}

    def line(self, custom_id: str, request: JudgeRequest) -> bytes:
        body = {"custom_id": custom_id, "params": self.provider.request_body(request)}
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    async def submit(self, key: str, lines: list[bytes], record: Record) -> str:
        batch = await self._sdk(self.sdk.messages.batches.create(requests=[json.loads(line) for line in lines]))
        return batch.id

    async def find(self, batch: dict[str, Any], known: set[str]) -> str | None:
        """Anthropic batches carry no metadata: adopt the one unclaimed batch of the same size created since
        about when ours was recorded (a day's margin: the store's clock may not be UTC); none means it was never
        created."""
        since = _utc(batch["created_at"]) - timedelta(days=1)
        page = await self._sdk(self.sdk.messages.batches.list(limit=100))
        candidates = []
        async for found in page:  # newest first: stop at batches older than ours
            if _utc(found.created_at) < since:
                break
            counts = found.request_counts
            size = counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired
            if found.id not in known and size == batch["requests"]:
                candidates.append(found.id)
        if len(candidates) > 1:
            raise JudgeError(f"Cannot tell which of the Anthropic batches {', '.join(candidates)} belongs to batch "
                             f"{batch['key']} of run {batch['run_id']}; cancel the extra ones in the console.")
        return candidates[0] if candidates else None

    async def state(self, batch_id: str) -> BatchState:
        batch = await self._sdk(self.sdk.messages.batches.retrieve(batch_id))
        return BatchState(batch.processing_status, batch.processing_status == "ended",
                          cancelled=batch.cancel_initiated_at is not None)

    async def results(self, batch_id: str, state: BatchState) -> AsyncIterator[BatchResult]:
        decoder = await self._sdk(self.sdk.messages.batches.results(batch_id))
        async for entry in decoder:
            yield self._result(entry.model_dump(mode="json"))

    def _result(self, line: dict[str, Any]) -> BatchResult:
        custom_id, result = line.get("custom_id"), line.get("result") or {}
        kind = result.get("type")
        if kind == "succeeded":
            try:
                return BatchResult(custom_id, "succeeded", self.provider._completion(result.get("message") or {}))
            except (LookupError, TypeError, AttributeError, ValueError) as exc:
                return BatchResult(custom_id, "errored", message=f"a reply in an unexpected shape: {exc}",
                                   retryable=True)
        if kind == "errored":
            error = ((result.get("error") or {}).get("error")) or {}
            return BatchResult(custom_id, "errored", message=f"{error.get('type')}: {error.get('message')}",
                               retryable=error.get("type") in self.retryable_errors)
        return BatchResult(custom_id, "expired" if kind == "expired" else "canceled",
                           message=f"the request was {kind}", retryable=kind == "expired")

    async def cancel(self, batch_id: str) -> None:
        await self._sdk(self.sdk.messages.batches.cancel(batch_id))

    async def clean_up(self, batch: dict[str, Any], state: BatchState) -> None:
        return None  # Anthropic keeps results for 29 days and has nothing to delete per request


def _utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def batch_api(provider) -> _BatchAPI:
    """The batch API of a provider; JudgeError for one without (openai-compatible servers, your own)."""
    kinds = {"openai": OpenAIBatches, "anthropic": AnthropicBatches}
    if getattr(provider, "name", None) not in kinds:
        raise JudgeError(f"Batch mode needs an openai/ or anthropic/ model; {getattr(provider, 'name', provider)!r} "
                         "has no batch API. Run it without --batch.")
    return kinds[provider.name](provider)
