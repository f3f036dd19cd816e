"""OpenAI chat completions, and every server that copies that API (Ollama, vLLM, LM Studio, llama.cpp).

The verdict is requested with strict `json_schema` structured output. A server or model that answers 400 to
`response_format` is switched, once and for the life of this provider, to plain-text mode: the prompt asks
for the JSON and the runner's tolerant parser reads it. Capabilities are learned from the server's answer,
never guessed from the model's name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import openai

from judge.errors import InvalidSpec
from judge.providers.base import VERDICT_SCHEMA, Completion, JudgeRequest, ProviderError
from judge.providers.http_errors import redact, status_error, vendor_message
from judge.providers.keys import api_key, setting
from judge.providers.logprobs import score_probs

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
        # One client per provider: its connection pool (1000 connections by default) is shared by all calls.
        self._client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)

    @classmethod
    def create(cls, model: str, *, base_url: str | None, timeout: float,
               secrets: Mapping | None) -> "OpenAIProvider":
        return cls(model, api_key=api_key(cls.key_variable, secrets),
                   base_url=base_url or setting("OPENAI_BASE_URL", secrets), timeout=timeout)

    def arguments(self, request: JudgeRequest) -> dict[str, Any]:
        """The exact keyword arguments for chat.completions.create; params set to None are left out."""
        params = {"temperature": 0, **request.params}
        prompt = request.prompt if self.structured_output else request.prompt + PLAIN_TEXT_INSTRUCTION
        messages = ([{"role": "system", "content": request.system}] if request.system else [])
        messages.append({"role": "user", "content": prompt})
        arguments: dict[str, Any] = {"model": self.model, "messages": messages}
        if self.structured_output:
            arguments["response_format"] = RESPONSE_FORMAT
        extra: dict[str, Any] = {}
        for key, value in params.items():
            if value is None:
                continue
            if key == "max_tokens":
                arguments[self.max_tokens_parameter] = value
            elif key in ("temperature", "seed", "top_p", "frequency_penalty", "presence_penalty", "stop"):
                arguments[key] = value
            else:  # server-specific options (e.g. vLLM's top_k) travel in the body unchanged
                extra[key] = value
        if extra:
            arguments["extra_body"] = extra
        if request.logprobs:
            arguments.update(logprobs=True, top_logprobs=TOP_LOGPROBS)
        return arguments

    async def complete(self, request: JudgeRequest) -> Completion:
        try:
            response = await self._client.chat.completions.create(**self.arguments(request))
        except openai.BadRequestError as exc:
            if not (self.structured_output and _about_response_format(exc)):
                raise self._error(exc) from None
            self.structured_output = False
            return await self.complete(request)
        except (openai.OpenAIError, ValueError) as exc:
            raise self._error(exc) from None
        if not response.choices:
            raise ProviderError(f"{self.name} returned no choices for model {self.model}", retryable=True)
        choice = response.choices[0]
        text = choice.message.content or choice.message.refusal or ""
        tokens = choice.logprobs.content if choice.logprobs and choice.logprobs.content else None
        usage = response.usage
        return Completion(text=text, model=response.model or self.model,
                          input_tokens=usage.prompt_tokens if usage else None,
                          output_tokens=usage.completion_tokens if usage else None,
                          score_probs=score_probs(text, tokens) if tokens else None)

    def _error(self, exc: Exception) -> ProviderError:
        """Map an SDK exception to a ProviderError whose message carries the vendor's words, never the key.

        Raised `from None`: the SDK exception's own text can echo the key (401 replies quote it).
        """
        secret = self._client.api_key
        if isinstance(exc, openai.APIStatusError):
            return status_error(self.name, exc.status_code, vendor_message(exc.body, exc.message),
                                exc.response.headers, key_variable=self.key_variable, secret=secret)
        if isinstance(exc, openai.APITimeoutError):
            return ProviderError(f"{self.name} did not answer within {self.timeout:g}s", retryable=True)
        if isinstance(exc, openai.APIConnectionError):
            cause = redact(str(exc.__cause__ or exc), secret)
            return ProviderError(f"could not reach {self.name} at {self._client.base_url}: {cause}", retryable=True)
        # A reply the SDK could not decode (cut-off body, non-JSON from a proxy) is transient.
        return ProviderError(f"{self.name} sent an unreadable reply: {redact(str(exc), secret)}", retryable=True)

    async def aclose(self) -> None:
        await self._client.close()


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


def _about_response_format(exc: openai.BadRequestError) -> bool:
    text = json.dumps(exc.body) if exc.body is not None else exc.message
    return "response_format" in text or "json_schema" in text
