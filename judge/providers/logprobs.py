"""Turn token log-probabilities into p(score), so a judge's uncertainty is kept rather than thrown away.

The score digit of `{"reasoning": ..., "score": 4}` is one token; the top alternatives the model considered
at that position ("3", "4", "5" ...) give the distribution. Alternatives that are not 1-5 are dropped and the
rest renormalised, so the probabilities sum to 1.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

# The score as a JSON key ("score": 4) first: inside a JSON string a quote is escaped (\"score\"), so this
# cannot match a "score: 5" quoted in the reasoning, wherever it stands. Else the loose form of a text reply.
_SCORE_KEY = re.compile(r'"score"\s*:\s*"?([1-5])\b')
_SCORE_VALUE = re.compile(r"""["']?score["']?\s*:\s*["']?([1-5])\b""", re.IGNORECASE)
_SCORES = frozenset("12345")


def _field(entry: Any, name: str) -> Any:
    """A field of a logprob entry: a dict from the decoded JSON reply, or an SDK object with attributes."""
    return entry.get(name) if isinstance(entry, dict) else getattr(entry, name, None)


def _byte_length(token: Any) -> int:
    raw = _field(token, "bytes")
    return len(raw) if raw else len(_field(token, "token").encode())


def score_probs(text: str, tokens: Iterable[Any]) -> dict[int, float] | None:
    """p(score) over 1..5 at the token that holds the score digit of `text`, or None if it cannot be found.

    `tokens` are OpenAI logprob entries (`token`, `bytes`, `top_logprobs` of `token`/`logprob`), as dicts
    or SDK objects. Offsets are counted in UTF-8 bytes because a token may hold part of a multi-byte character.
    """
    match = None
    for pattern in (_SCORE_KEY, _SCORE_VALUE):
        for match in pattern.finditer(text):
            pass  # the last one wins: the reasoning may quote an earlier one
        if match is not None:
            break
    if match is None:
        return None
    target = len(text[: match.start(1)].encode())
    offset = 0
    for token in tokens:
        size = _byte_length(token)
        if offset <= target < offset + size:
            probs: dict[int, float] = {}
            for alternative in _field(token, "top_logprobs") or ():
                candidate = _field(alternative, "token").strip()
                if candidate in _SCORES:
                    score = int(candidate)
                    probs[score] = probs.get(score, 0.0) + math.exp(_field(alternative, "logprob"))
            total = sum(probs.values())
            if not probs or total <= 0:
                return None
            return {score: p / total for score, p in sorted(probs.items())}
        offset += size
    return None
