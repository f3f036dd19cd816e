"""Anthropic Messages API, with the verdict returned through a forced tool call.

Forcing the `record_verdict` tool (input_schema = VERDICT_SCHEMA) yields schema-shaped JSON on every Claude
model; native `output_config.format` structured output exists in anthropic 2.x but only newer models accept
it. Anthropic returns no log-probabilities, so `score_probs` is always None here.

Prompt caching is explicit on Anthropic: the request marks the end of its static part (the system prompt, or
the static start of the prompt) with `cache_control`; usage reports `input_tokens` (after the breakpoint),
`cache_read_input_tokens` and `cache_creation_input_tokens`, which are summed into Completion.input_tokens.

anthropic 2.x speaks API version 2026-10-21, which rejects temperature, top_p and top_k (even at their
defaults) and has no seed: those params are therefore not sent; Claude's own sampling applies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import anthropic

from judge.providers.base import VERDICT_SCHEMA, Completion, JudgeRequest, ProviderError
from judge.providers.keys import api_key, setting
from judge.providers.transport import SDKEndpoint, http_client

VERDICT_TOOL = {"name": "record_verdict",
                "description": "Record your verdict: the step-by-step reasoning first, then the 1-5 score.",
                "input_schema": VERDICT_SCHEMA}
DEFAULT_MAX_TOKENS = 600  # the Messages API requires max_tokens
UNSUPPORTED_PARAMS = {"temperature", "top_p", "top_k", "seed"}
TOOLS = [VERDICT_TOOL]
TOOL_CHOICE = {"type": "tool", "name": VERDICT_TOOL["name"]}
# Everything up to and including the block marked so (tools, system, the static start of the prompt) is cached.
CACHE_BREAKPOINT = {"type": "ephemeral"}


class AnthropicProvider:
    """`anthropic/<model>`: api.anthropic.com (or ANTHROPIC_BASE_URL), key from ANTHROPIC_API_KEY."""

    name = "anthropic"
    key_variable = "ANTHROPIC_API_KEY"

    def __init__(self, model: str, *, api_key: str, base_url: str | None, timeout: float):
        self.model = model
        self.base_url = base_url
        self.timeout = timeout
        # Retries are the runner's job (max_retries=0); see transport.py for how calls go through the SDK.
        sdk = anthropic.AsyncAnthropic(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0,
                                       http_client=http_client(timeout, anthropic))
        self._endpoint = SDKEndpoint(sdk, "/v1/messages", sdk_module=anthropic, vendor=self.name,
                                     key_variable=self.key_variable, timeout=timeout)

    @classmethod
    def create(cls, model: str, *, base_url: str | None, timeout: float,
               secrets: Mapping | None) -> "AnthropicProvider":
        return cls(model, api_key=api_key(cls.key_variable, secrets),
                   base_url=base_url or setting("ANTHROPIC_BASE_URL", secrets), timeout=timeout)

    def request_body(self, request: JudgeRequest) -> dict[str, Any]:
        """The exact JSON body of the messages call; sampling params are dropped (see module doc)."""
        body: dict[str, Any] = {"model": self.model, "max_tokens": DEFAULT_MAX_TOKENS,
                                "messages": [{"role": "user", "content": self._user_content(request)}],
                                "tools": TOOLS, "tool_choice": TOOL_CHOICE}
        if request.system:
            body["system"] = [{"type": "text", "text": request.system}]
            if not request.static_prefix:  # the cached prefix ends with the system prompt
                body["system"][0]["cache_control"] = CACHE_BREAKPOINT
        for key, value in request.params.items():
            if key in UNSUPPORTED_PARAMS:
                continue
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value
        if "max_tokens" not in body:  # the Messages API requires it
            body["max_tokens"] = DEFAULT_MAX_TOKENS
        return body

    @staticmethod
    def _user_content(request: JudgeRequest) -> str | list[dict[str, Any]]:
        """The prompt; with a static prefix, as two blocks with the cache breakpoint after the static one."""
        prefix = request.static_prefix
        if not prefix or not request.prompt.startswith(prefix) or len(prefix) == len(request.prompt):
            return request.prompt
        return [{"type": "text", "text": prefix, "cache_control": CACHE_BREAKPOINT},
                {"type": "text", "text": request.prompt[len(prefix):]}]

    async def complete(self, request: JudgeRequest) -> Completion:
        reply = await self._endpoint.post(self.request_body(request))
        try:
            return self._completion(reply)
        except (LookupError, TypeError, AttributeError, ValueError) as exc:
            raise ProviderError(f"{self.name} sent a reply in an unexpected shape ({type(exc).__name__}: {exc})",
                                retryable=True) from None

    def _completion(self, reply: dict[str, Any]) -> Completion:
        """The verdict tool's input as JSON text; without a tool call (cut off), the text for the tolerant parser."""
        blocks = reply.get("content") or []
        tool_inputs = [block.get("input") for block in blocks
                       if block.get("type") == "tool_use" and block.get("name") == VERDICT_TOOL["name"]]
        if tool_inputs:
            text = json.dumps(tool_inputs[0], ensure_ascii=False)
        else:
            text = "".join(block.get("text") or "" for block in blocks if block.get("type") == "text")
        usage = reply.get("usage") or {}
        read, written = usage.get("cache_read_input_tokens") or 0, usage.get("cache_creation_input_tokens") or 0
        uncached = usage.get("input_tokens")
        return Completion(text=text, model=reply.get("model") or self.model,
                          input_tokens=None if uncached is None else uncached + read + written,
                          output_tokens=usage.get("output_tokens"), cached_input_tokens=read,
                          cache_write_tokens=written)

    async def aclose(self) -> None:
        await self._endpoint.aclose()
