"""Prompt caching: which part of a judge's prompt is the same for every item, and what caching saves.

Providers discount a repeated prompt prefix: OpenAI caches automatically from 1,024 tokens (in 128-token
steps) and reports `prompt_tokens_details.cached_tokens`; Anthropic caches up to a block marked with
`cache_control` (from 1,024 tokens on most models) and bills reads at 0.1x and writes at 1.25x the input
price. A request therefore sends what does not depend on the item first: the system prompt, then the
template's text up to its first item variable (criteria, rubric, few-shot examples, instructions). Built-in
templates put the item last, so that prefix is nearly the whole prompt.
"""

from __future__ import annotations

import string

from judge.pricing import estimate_tokens
from judge.specs import SPEC_VARIABLES, JudgeSpec, render_examples, render_rubric

# Below this many prompt tokens neither provider caches anything.
MIN_CACHEABLE_TOKENS = 1024


def static_prefix(spec: JudgeSpec) -> str:
    """The start of every prompt this spec renders: template text and {criteria}/{rubric}/{examples} up to the
    first variable that depends on the item ("" when the template starts with one)."""
    values = {"criteria": spec.criteria.strip(), "rubric": render_rubric(spec.rubric),
              "examples": render_examples(spec.examples)}
    parts: list[str] = []
    try:
        parsed = list(string.Formatter().parse(spec.template or ""))
    except ValueError:  # a malformed template: validate() says what is wrong with it
        return ""
    for literal, name, _, _ in parsed:
        if name is None:
            parts.append(literal)
            break
        name = name.strip()
        if name not in SPEC_VARIABLES:
            parts.append(literal)
            break
        if name == "examples" and not values["examples"] and literal.endswith("\n\n"):
            literal = literal[:-2]  # the renderer drops the blank lines around an empty examples slot
        parts += [literal, values[name]]
    return "".join(parts)


def cacheable_tokens(spec: JudgeSpec) -> int:
    """About how many tokens of each request are the same for every item (system prompt and static prefix)."""
    if spec.kind != "llm":
        return 0
    return (estimate_tokens(spec.system) if spec.system else 0) + \
        (estimate_tokens(static_prefix(spec)) if static_prefix(spec) else 0)


def caching_note(spec: JudgeSpec) -> str:
    """What the Judges page says about a spec's cacheable prompt."""
    tokens = cacheable_tokens(spec)
    if tokens >= MIN_CACHEABLE_TOKENS:
        verdict = "every call after the first reads them from the provider's cache (0.1-0.5x the input price)"
    else:
        verdict = (f"providers cache a prefix from {MIN_CACHEABLE_TOKENS:,} tokens, so these calls pay full price; "
                   "move text that is the same for every row (rubric, examples) before the first item variable")
    return (f"Cacheable: about {tokens:,} tokens of each prompt are the same for every row (system prompt and the "
            f"template up to its first item variable): {verdict}.")
