"""Read a judge's reply into (reasoning, score), strictly first, then tolerantly, never inventing a score.

Models asked for `{"reasoning": ..., "score": n}` reply with exactly that most of the time; the rest wraps it
in code fences or prose, uses single quotes or trailing commas, or ends with a "Score: 4" line. All of those
are read. A number counts only where the reply states it AS the verdict: the value of a `score` key, or a
last line that says nothing but the score. A number inside reasoning ("a score of 5 would need citations"),
a score on another scale ("8/10", "2 out of 10"), a missing, fractional or out-of-range score is a
`ParseFailure` with a reason: the runner then makes one repair attempt with `repair_prompt` and otherwise
records the error and the raw reply, never a guessed score.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from judge.errors import JudgeError

REASONING_KEYS = ("reasoning", "rationale", "explanation", "reason", "thoughts", "critique")
SCORE_KEYS = ("score", "rating", "grade")

_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
# A line that states the verdict and nothing else: "Score: 4", "**Final score:** 4/5", "Rating = 3 out of 5."
_SCORE_LINE = re.compile(
    r"""^[\s*_#>`-]*(?:final\s+|overall\s+)?(?:score|rating|grade|verdict)[\s*_`]*(?:is|=|:)[\s*_`]*"""
    r"""(?P<value>-?\d+(?:\.\d+)?)[\s*_`]*(?:(?:/|out\s+of)\s*(?P<scale>\d+))?[\s*_`.!]*$""",
    re.IGNORECASE,
)
# The score as a string value: "4", "4/5", "4 out of 5"; any other scale is refused.
_SCORE_STRING = re.compile(r"^\s*(?P<value>-?\d+(?:\.\d+)?)\s*(?:(?:/|out\s+of)\s*(?P<scale>\d+))?\s*$",
                           re.IGNORECASE)


class ParseFailure(JudgeError):
    """A reply with no usable 1-5 score; `reason` says why in a few words (stored as the verdict error)."""

    def __init__(self, reason: str):
        super().__init__(f"Could not read the judge's reply: {reason}.")
        self.reason = reason


def parse_verdict(text: str) -> tuple[str, int]:
    """(reasoning, score) from a judge reply; raises ParseFailure when it holds no valid 1-5 score."""
    if text is None or not str(text).strip():
        raise ParseFailure("empty reply")
    text = str(text).strip()
    objects = _json_objects(text)
    with_score = [obj for obj in objects if _find_key(obj, SCORE_KEYS) is not None]
    if with_score:
        # The last object is the answer; earlier ones are usually the model echoing the requested format.
        verdict = with_score[-1]
        score = _valid_score(verdict[_find_key(verdict, SCORE_KEYS)])
        reasoning_key = _find_key(verdict, REASONING_KEYS)
        reasoning = verdict[reasoning_key] if reasoning_key else ""
        return _reasoning_text(reasoning), score
    if objects or text.lstrip().startswith(("{", "```")):
        raise ParseFailure("no score key in the reply's JSON (it may be truncated)")
    return _final_score_line(text)


def repair_prompt(raw: str, reason: str | None = None) -> str:
    """The one follow-up the runner sends when a reply cannot be read: asks for the JSON alone."""
    why = f" ({reason})" if reason else ""
    return (
        f"Your previous reply could not be read as a verdict{why}. Reply again with ONLY a JSON object, "
        'no code fences and no other text, with exactly two keys in this order: "reasoning" (a string with '
        'your step-by-step reasoning) and "score" (an integer from 1 to 5), for example:\n'
        '{"reasoning": "The response ... therefore 4.", "score": 4}\n\n'
        f"Your previous reply was:\n<<<\n{raw}\n>>>"
    )


# -- helpers ----------------------------------------------------------------------------------------
def _final_score_line(text: str) -> tuple[str, int]:
    """(reasoning, score) from prose whose LAST line states the score alone; any other number is reasoning."""
    lines = [line for line in text.splitlines() if line.strip()]
    stated = [(index, match) for index, line in enumerate(lines) if (match := _SCORE_LINE.match(line))]
    if not stated or stated[-1][0] != len(lines) - 1:
        where = "a score line, but not as the last line" if stated else "no JSON object and no final 'Score: n' line"
        raise ParseFailure(f"{where} in the reply")
    values = {match.group("value") for _, match in stated}
    if len(values) > 1:
        raise ParseFailure(f"the reply states several scores ({', '.join(sorted(values))})")
    match = stated[-1][1]
    score = _valid_score(match.group("value"), scale=match.group("scale"))
    return "\n".join(lines[:-1]).strip(), score



def _json_objects(text: str) -> list[dict[str, Any]]:
    """Every top-level {...} object in the text (fenced ones included) that some reading accepts."""
    candidates = [text, *(block.strip() for block in _FENCE.findall(text))]
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    for candidate in candidates:
        for span in [candidate, *_brace_spans(candidate)]:
            if span in seen:
                continue
            seen.add(span)
            obj = _loads_tolerant(span)
            if isinstance(obj, dict):
                found.append(obj)
    return found


def _brace_spans(text: str) -> list[str]:
    """Balanced {...} substrings at the outermost level, skipping braces inside quoted strings."""
    spans, depth, start, quote, escaped = [], 0, 0, None, False
    for index, char in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
            continue
        if char in "\"'" and depth > 0:
            # An apostrophe in prose ("don't") inside an object would derail us, so only a quote that opens
            # a JSON-like token (after { , : [ or whitespace) starts a string.
            previous = text[:index].rstrip()[-1:] if text[:index].rstrip() else ""
            if char == '"' or previous in "{,:[":
                quote = char
            continue
        if char == "{":
            if depth == 0:
                start = index
            depth += 1
        elif char == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                spans.append(text[start: index + 1])
    return spans


def _loads_tolerant(span: str) -> Any:
    span = span.strip()
    if not span.startswith("{"):
        return None
    attempts = [span, _TRAILING_COMMA.sub(r"\1", span)]
    for attempt in attempts:
        try:
            return json.loads(attempt)
        except ValueError:
            pass
    pythonic = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", re.sub(r"\bnull\b", "None", span)))
    for attempt in (span, pythonic):
        try:
            return ast.literal_eval(attempt)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            pass
    return None


def _find_key(obj: dict[str, Any], names: tuple[str, ...]) -> str | None:
    lowered = {str(key).strip().lower(): key for key in obj}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


def _valid_score(value: Any, *, scale: str | None = None) -> int:
    if isinstance(value, bool):
        raise ParseFailure(f"score {value!r} is not a number")
    if isinstance(value, str):
        match = _SCORE_STRING.match(value)
        if match is None:
            raise ParseFailure(f"score {value.strip()!r} is not a number")
        value, scale = float(match.group("value")), match.group("scale") or scale
    if scale is not None and int(scale) != 5:
        raise ParseFailure(f"score {value:g}/{scale} is on another scale than 1-5")
    if not isinstance(value, (int, float)):
        raise ParseFailure(f"score {value!r} is not a number")
    if not float(value).is_integer():
        raise ParseFailure(f"score {value} is not a whole number from 1 to 5")
    if not 1 <= int(value) <= 5:
        raise ParseFailure(f"score {int(value)} is outside 1-5")
    return int(value)


def _reasoning_text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return "\n".join(str(step) for step in value).strip()
    return "" if value is None else json.dumps(value, ensure_ascii=False)
