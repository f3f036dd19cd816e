"""The one small interface every provider implements; the runner knows nothing else about vendors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

# The structured reply every judge asks for: reasoning first, then the score.
VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "reasoning": {"type": "string", "description": "Step-by-step reasoning, written before the score."},
        "score": {"type": "integer", "enum": [1, 2, 3, 4, 5]},
    },
    "required": ["reasoning", "score"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class JudgeRequest:
    """One call: the rendered prompt and the sampling parameters (temperature, max_tokens, seed).

    `static_prefix` is the start of `prompt` that is the same for every item (see judge.caching): providers
    that cache explicitly (Anthropic) mark where it ends.
    """

    prompt: str
    system: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    logprobs: bool = False
    static_prefix: str = ""


@dataclass(frozen=True)
class Completion:
    """What came back: the raw text, the model id as the provider reported it, usage, score probabilities."""

    text: str
    model: str
    input_tokens: int | None = None  # every prompt token, those read from or written to the cache included
    output_tokens: int | None = None
    # p(score) for the score token, where the provider returns log-probabilities; else None.
    score_probs: dict[int, float] | None = None
    cached_input_tokens: int | None = None  # prompt tokens read from the provider's cache (cheaper)
    cache_write_tokens: int | None = None  # prompt tokens written to it (Anthropic bills them higher)


class ProviderError(Exception):
    """A failed call. `retryable` (429, 5xx, timeouts) tells the runner to back off and try again; `fatal`
    (a rejected key, no permission, an unknown model) says no other call of the run can succeed either, so
    the runner stops the run instead of recording the same failure for every row."""

    def __init__(self, message: str, *, retryable: bool, status: int | None = None,
                 retry_after: float | None = None, fatal: bool = False):
        super().__init__(message)
        self.retryable, self.status, self.retry_after = retryable, status, retry_after
        self.fatal = fatal


class Provider(Protocol):
    """`complete` sends one request; it raises ProviderError, never returns a made-up reply."""

    name: str
    model: str

    async def complete(self, request: JudgeRequest) -> Completion: ...

    async def aclose(self) -> None: ...
