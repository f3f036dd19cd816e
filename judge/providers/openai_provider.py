"""OpenAI chat completions, and every server that copies that API (Ollama, vLLM, LM Studio, llama.cpp).

The verdict is requested with strict `json_schema` structured output. A server or model that answers 400 to
`response_format` is switched, once and for the life of this provider, to plain-text mode: the prompt asks
for the JSON and the runner's tolerant parser reads it. Capabilities are learned from the server's answer,
never guessed from the model's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import openai

from judge.errors import InvalidSpec
from judge.providers.base import VERDICT_SCHEMA, Completion, JudgeRequest, ProviderError
from judge.providers.keys import api_key, setting
from judge.providers.logprobs import score_probs
from judge.providers.transport import SDKEndpoint, http_client

RESPONSE_FORMAT = {"type": "json_schema",
                   "json_schema": {"name": "verdict", "strict": True, "schema": VERDICT_SCHEMA}}
PLAIN_TEXT_INSTRUCTION = ('\n\nReply with only a JSON object, no other text: '
                          '{"reasoning": "<your step-by-step reasoning>", "score": <integer 1-5>}')
TOP_LOGPROBS = 5
# Local servers need no key, but the SDK insists on one.
PLACEHOLDER_KEY = "not-needed"


class OpenAIProvider:
    """`openai/<model>`: api.openai.com (or OPENAI_BASE_URL), key from OPENAI_API_KEY."""

    name = "openai"
    key_variable = "OPENAI_API_KEY"
    # OpenAI deprecated max_tokens for max_completion_tokens (reasoning models accept only the latter).
    max_tokens_parameter = "max_completion_tokens"

    def __init__(self, model: str, *, api_key: str, base_url: str | None, timeout: float):
        self.model = model
        self.base_url = base_url
        self.timeout = timeout
        self.structured_output = True
        # Retries are the runner's job (max_retries=0); see transport.py for how calls go through the SDK.
        sdk = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0,
                                 http_client=http_client(timeout, openai))
        self._endpoint = SDKEndpoint(sdk, "/chat/completions", sdk_module=openai, vendor=self.name,
                                     key_variable=self.key_variable, timeout=timeout)

    @classmethod
    def create(cls, model: str, *, base_url: str | None, timeout: float,
               secrets: Mapping | None) -> "OpenAIProvider":
        return cls(model, api_key=api_key(cls.key_variable, secrets),
                   base_url=base_url or setting("OPENAI_BASE_URL", secrets), timeout=timeout)

    def request_body(self, request: JudgeRequest) -> dict[str, Any]:
        """The exact JSON body of the chat completion call; params set to None are left out."""
        prompt = request.prompt if self.structured_output else request.prompt + PLAIN_TEXT_INSTRUCTION
        messages = ([{"role": "system", "content": request.system}] if request.system else [])
        messages.append({"role": "user", "content": prompt})
        body: dict[str, Any] = {"model": self.model, "messages": messages}
        if self.structured_output:
            body["response_format"] = RESPONSE_FORMAT
        body["temperature"] = 0
        for key, value in request.params.items():
            if value is None:
                body.pop(key, None)
            elif key == "max_tokens":
                body[self.max_tokens_parameter] = value
            else:  # standard sampling options, and server-specific ones (e.g. vLLM's top_k), go in as given
                body[key] = value
        if request.logprobs:
            body["logprobs"], body["top_logprobs"] = True, TOP_LOGPROBS
        return body

    async def complete(self, request: JudgeRequest) -> Completion:
        try:
            reply = await self._endpoint.post(self.request_body(request))
        except ProviderError as exc:
            if not (self.structured_output and exc.status == 400 and _about_response_format(str(exc))):
                raise
            self.structured_output = False
            return await self.complete(request)
        try:
            return self._completion(reply)
        except (LookupError, TypeError, AttributeError, ValueError) as exc:
            raise ProviderError(f"{self.name} sent a reply in an unexpected shape ({type(exc).__name__}: {exc})",
                                retryable=True) from None

    def _completion(self, reply: dict[str, Any]) -> Completion:
        """Read the decoded chat completion: text, reported model, usage, p(score) from the log-probabilities."""
        if not reply.get("choices"):
            raise ProviderError(f"{self.name} returned no choices for model {self.model}", retryable=True)
        choice = reply["choices"][0]
        message = choice.get("message") or {}
        text = message.get("content") or message.get("refusal") or ""
        tokens = (choice.get("logprobs") or {}).get("content")
        usage = reply.get("usage") or {}
        cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
        return Completion(text=text, model=reply.get("model") or self.model,
                          input_tokens=usage.get("prompt_tokens"), output_tokens=usage.get("completion_tokens"),
                          score_probs=score_probs(text, tokens) if tokens else None,
                          cached_input_tokens=cached, cache_write_tokens=0 if cached is not None else None)

    async def aclose(self) -> None:
        await self._endpoint.aclose()


class OpenAICompatibleProvider(OpenAIProvider):
    """`openai-compatible/<model>`: a local or self-hosted server speaking the OpenAI API at a base URL you give.

    The key is optional (OPENAI_COMPATIBLE_API_KEY), and `max_tokens` is sent under its classic name, which
    these servers understand.
    """

    name = "openai-compatible"
    key_variable = "OPENAI_COMPATIBLE_API_KEY"
    max_tokens_parameter = "max_tokens"

    @classmethod
    def create(cls, model: str, *, base_url: str | None, timeout: float,
               secrets: Mapping | None) -> "OpenAICompatibleProvider":
        base_url = base_url or setting("OPENAI_COMPATIBLE_BASE_URL", secrets)
        if not base_url:
            raise InvalidSpec(f"openai-compatible/{model} needs a base URL, e.g. http://localhost:11434/v1 "
                              "(Ollama), http://localhost:8000/v1 (vLLM), http://localhost:1234/v1 (LM Studio); "
                              "set it on the judge spec or in OPENAI_COMPATIBLE_BASE_URL")
        return cls(model, api_key=setting(cls.key_variable, secrets) or PLACEHOLDER_KEY, base_url=base_url,
                   timeout=timeout)


def _about_response_format(message: str) -> bool:
    return "response_format" in message or "json_schema" in message
