"""Anthropic Messages API, with the verdict returned through a forced tool call.

Forcing the `record_verdict` tool (input_schema = VERDICT_SCHEMA) yields schema-shaped JSON on every Claude
model; native `output_config.format` structured output exists in anthropic 2.x but only newer models accept
it. Anthropic returns no log-probabilities, so `score_probs` is always None here.

anthropic 2.x speaks API version 2026-10-21, which rejects temperature, top_p and top_k (even at their
defaults) and has no seed: those params are therefore not sent; Claude's own sampling applies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import anthropic

from judge.providers.base import VERDICT_SCHEMA, Completion, JudgeRequest, ProviderError
from judge.providers.http_errors import redact, status_error, vendor_message
from judge.providers.keys import api_key, setting

VERDICT_TOOL = {"name": "record_verdict",
                "description": "Record your verdict: the step-by-step reasoning first, then the 1-5 score.",
                "input_schema": VERDICT_SCHEMA}
DEFAULT_MAX_TOKENS = 600  # the Messages API requires max_tokens
UNSUPPORTED_PARAMS = {"temperature", "top_p", "top_k", "seed"}


class AnthropicProvider:
    """`anthropic/<model>`: api.anthropic.com (or ANTHROPIC_BASE_URL), key from ANTHROPIC_API_KEY."""

    name = "anthropic"
    key_variable = "ANTHROPIC_API_KEY"

    def __init__(self, model: str, *, api_key: str, base_url: str | None, timeout: float):
        self.model = model
        self.base_url = base_url
        self.timeout = timeout
        # One client per provider: its connection pool (1000 connections by default) is shared by all calls.
        self._client = anthropic.AsyncAnthropic(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)

    @classmethod
    def create(cls, model: str, *, base_url: str | None, timeout: float,
               secrets: Mapping | None) -> "AnthropicProvider":
        return cls(model, api_key=api_key(cls.key_variable, secrets),
                   base_url=base_url or setting("ANTHROPIC_BASE_URL", secrets), timeout=timeout)

    def arguments(self, request: JudgeRequest) -> dict[str, Any]:
        """The exact keyword arguments for messages.create; sampling params are dropped (see module doc)."""
        params = {"max_tokens": DEFAULT_MAX_TOKENS, **request.params}
        arguments: dict[str, Any] = {"model": self.model, "messages": [{"role": "user", "content": request.prompt}],
                                     "tools": [VERDICT_TOOL],
                                     "tool_choice": {"type": "tool", "name": VERDICT_TOOL["name"]}}
        if request.system:
            arguments["system"] = request.system
        extra: dict[str, Any] = {}
        for key, value in params.items():
            if value is None or key in UNSUPPORTED_PARAMS:
                continue
            if key in ("max_tokens", "stop_sequences"):
                arguments[key] = value
            else:
                extra[key] = value
        if extra:
            arguments["extra_body"] = extra
        return arguments

    async def complete(self, request: JudgeRequest) -> Completion:
        try:
            message = await self._client.messages.create(**self.arguments(request))
        except (anthropic.AnthropicError, ValueError) as exc:
            raise self._error(exc) from None
        tool_inputs = [block.input for block in message.content
                       if block.type == "tool_use" and block.name == VERDICT_TOOL["name"]]
        if tool_inputs:
            text = json.dumps(tool_inputs[0], ensure_ascii=False)
        else:  # cut off by max_tokens or no tool call: hand the text to the tolerant parser
            text = "".join(block.text for block in message.content if block.type == "text")
        usage = message.usage
        return Completion(text=text, model=message.model or self.model,
                          input_tokens=usage.input_tokens if usage else None,
                          output_tokens=usage.output_tokens if usage else None)

    def _error(self, exc: Exception) -> ProviderError:
        """Map an SDK exception to a ProviderError whose message carries the vendor's words, never the key.

        Raised `from None`: the SDK exception's own text can echo the key (401 replies quote it).
        """
        secret = self._client.api_key
        if isinstance(exc, anthropic.APIStatusError):
            return status_error(self.name, exc.status_code, vendor_message(exc.body, exc.message),
                                exc.response.headers, key_variable=self.key_variable, secret=secret)
        if isinstance(exc, anthropic.APITimeoutError):
            return ProviderError(f"{self.name} did not answer within {self.timeout:g}s", retryable=True)
        if isinstance(exc, anthropic.APIConnectionError):
            cause = redact(str(exc.__cause__ or exc), secret)
            return ProviderError(f"could not reach {self.name} at {self._client.base_url}: {cause}", retryable=True)
        return ProviderError(f"{self.name} sent an unreadable reply: {redact(str(exc), secret)}", retryable=True)

    async def aclose(self) -> None:
        await self._client.close()
