"""The hot path of every judge call: one prebuilt JSON POST over a shared keep-alive connection pool.

The vendor SDK resolves the configuration once, when a provider is built (key, base URL, organisation and
project, version and client headers); each call then sends the body with httpx2 and reads the reply with
`json.loads`. The SDK's own request pipeline (option models, TypedDict transforms of the arguments, pydantic
models of the reply) cost ~2.4 ms of CPU per call against ~1 ms this way, which is most of a judged row's
budget (bench/runner_bench.py). Failures are mapped here, identically for every vendor.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2

from judge.providers.base import ProviderError
from judge.providers.http_errors import redact, status_error, vendor_message

# Enough connections, all kept alive, for any concurrency the runner allows: a call never waits for a socket
# and never pays a new TCP (or TLS) handshake.
POOL_LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=1000, keepalive_expiry=30.0)


def http_client(timeout: float) -> httpx2.AsyncClient:
    """The pool a provider shares between the SDK (given as its http_client) and its own calls."""
    return httpx2.AsyncClient(timeout=timeout, limits=POOL_LIMITS)


class JSONEndpoint:
    """POST JSON to one URL with fixed headers; the decoded reply, or a ProviderError that never holds the key."""

    def __init__(self, client: httpx2.AsyncClient, url: str, headers: dict[str, str], *, vendor: str,
                 key_variable: str, secret: str | None, timeout: float):
        self.url, self.headers = url, headers
        self.vendor, self.key_variable, self.secret, self.timeout = vendor, key_variable, secret, timeout
        self._client = client

    async def post(self, body: dict[str, Any]) -> dict[str, Any]:
        content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            response = await self._client.post(self.url, content=content, headers=self.headers)
        except httpx2.TimeoutException:
            raise ProviderError(f"{self.vendor} did not answer within {self.timeout:g}s", retryable=True) from None
        except httpx2.HTTPError as exc:  # refused, reset, or a reply cut off mid-body: worth another try
            raise ProviderError(f"could not reach {self.vendor} at {self.url}: "
                                f"{redact(str(exc) or type(exc).__name__, self.secret)}", retryable=True) from None
        if response.status_code >= 400:
            raise self._status_error(response)
        try:
            reply = json.loads(response.content)
        except ValueError as exc:
            raise ProviderError(f"{self.vendor} sent an unreadable reply: {exc}", retryable=True) from None
        if not isinstance(reply, dict):
            raise ProviderError(f"{self.vendor} sent a reply that is not a JSON object", retryable=True)
        return reply

    def _status_error(self, response: httpx2.Response) -> ProviderError:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        fallback = response.text.strip()[:500] or response.reason_phrase or f"HTTP {response.status_code}"
        return status_error(self.vendor, response.status_code, vendor_message(body, fallback), response.headers,
                            key_variable=self.key_variable, secret=self.secret)

    async def aclose(self) -> None:
        await self._client.aclose()


def sdk_headers(client) -> dict[str, str]:
    """The headers the vendor SDK client would send (auth, versions, organisation), `Omit` entries dropped.

    `X-Stainless-Async` is left out: read outside an event loop it would say the client is not async.
    """
    headers = {**client.default_headers, **client.auth_headers}
    return {name: value for name, value in headers.items()
            if isinstance(value, str) and name != "X-Stainless-Async"}
