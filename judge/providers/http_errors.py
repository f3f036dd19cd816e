"""Vendor-neutral reading of a failed HTTP call: is it worth retrying, how long to wait, what to show.

Both SDKs raise the same shapes (status code, response headers, decoded error body); the provider modules
unpack their SDK's exceptions and use these helpers so both vendors behave identically for the runner.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from judge.providers.base import ProviderError

# 408 request timeout, 409 lock conflict, 429 rate limit, 5xx (incl. Anthropic's 529 overloaded) pass with time.
RETRYABLE_STATUS = {408, 409, 429}
# Every call of the run would fail the same way: a rejected key, no permission, an unknown model or endpoint.
FATAL_STATUS = {401, 403, 404}
# Vendors echo a masked key in 401 messages ("sk-proj-abc***wxyz"): strip anything key-shaped.
_KEY_SHAPED = re.compile(r"\b(?:sk|key)-[A-Za-z0-9_*\-.]{4,}")


def is_retryable(status: int) -> bool:
    return status in RETRYABLE_STATUS or status >= 500


def retry_after_seconds(headers: Mapping[str, str] | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `Retry-After` given as seconds or as an HTTP date."""
    if not headers:
        return None
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def vendor_message(body: Any, fallback: str) -> str:
    """The human message inside an OpenAI `{"error": {...}}` or Anthropic `{"type": "error", ...}` body."""
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
    return fallback


def redact(text: str, secret: str | None) -> str:
    """Remove the key itself and anything key-shaped from a message before it leaves the provider."""
    if secret:
        text = text.replace(secret, "[redacted]")
    return _KEY_SHAPED.sub("[redacted]", text)


def status_error(vendor: str, status: int, message: str, headers: Mapping[str, str] | None,
                 *, key_variable: str, secret: str | None) -> ProviderError:
    """A ProviderError for an HTTP error reply; the message says what the vendor said and what to do."""
    message = redact(message, secret)
    retryable = is_retryable(status)
    if status in (401, 403):
        text = f"{vendor} rejected the API key (HTTP {status}): {message} Check {key_variable}."
    elif status == 404:
        text = (f"{vendor} does not know this model or endpoint (HTTP 404): {message} "
                "Check the model name (provider/model) and the base URL.")
    elif status == 429:
        text = f"{vendor} rate limit (HTTP 429): {message}"
    else:
        text = f"{vendor} returned HTTP {status}: {message}"
    return ProviderError(text, retryable=retryable, status=status, fatal=status in FATAL_STATUS,
                         retry_after=retry_after_seconds(headers) if retryable else None)
