"""What a judge call costs: a built-in price table per model, overridable per store.

The built-in prices are APPROXIMATE list prices in USD per million tokens as published by OpenAI and
Anthropic, checked on PRICES_AS_OF. Vendors change them: set your own with
`judge prices set MODEL INPUT_USD OUTPUT_USD` (stored in the `model_prices` table; the latest wins).
A model with no known price has cost None ("unknown"), never $0.
"""

from __future__ import annotations

from typing import Mapping

PRICES_AS_OF = "2025-08"

# Model name (without the provider prefix) -> (input, output) USD per million tokens. A dated model id
# such as "claude-3-5-haiku-20241022" or "gpt-4o-mini-2024-07-18" matches its longest listed prefix.
BUILTIN_PRICES: dict[str, tuple[float, float]] = {
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4-turbo": (10.00, 30.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o1": (15.00, 60.00),
    "o1-mini": (1.10, 4.40),
    "o3": (2.00, 8.00),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    "claude-opus-4-1": (15.00, 75.00),
    "claude-opus-4": (15.00, 75.00),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-3-7-sonnet": (3.00, 15.00),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-3-haiku": (0.25, 1.25),
    "claude-3-opus": (15.00, 75.00),
}
# Providers whose model names are the vendor's own; an openai-compatible server's are not.
_PRICED_PROVIDERS = ("openai", "anthropic")


def model_price(model: str | None, overrides: Mapping[str, tuple[float, float]] | None = None
                ) -> tuple[float, float] | None:
    """(input, output) USD per million tokens for "provider/model", or None when unknown.

    An override for the exact "provider/model" string wins, then one for the bare model name, then the
    built-in table (only for OpenAI and Anthropic models).
    """
    if not model:
        return None
    overrides = overrides or {}
    provider, _, name = model.partition("/") if "/" in model else ("", "", model)
    for key in (model, name):
        if key in overrides:
            return tuple(overrides[key])
    if provider and provider not in _PRICED_PROVIDERS:
        return None
    matches = [prefix for prefix in BUILTIN_PRICES if name == prefix or name.startswith(prefix + "-")]
    return BUILTIN_PRICES[max(matches, key=len)] if matches else None


def call_cost(price: tuple[float, float] | None, input_tokens: int | None, output_tokens: int | None
              ) -> float | None:
    """USD for one call, or None when the price or the token usage is unknown."""
    if price is None or input_tokens is None or output_tokens is None:
        return None
    return (input_tokens * price[0] + output_tokens * price[1]) / 1_000_000


def estimate_tokens(text: str) -> int:
    """Rough token count before a call: about four characters per token for English prose."""
    return max(1, len(text) // 4)
