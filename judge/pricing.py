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
# Prompt caching: a cached input token costs this share of the input price (longest prefix wins). OpenAI
# charges nothing extra to write its cache; Anthropic bills a 5-minute cache write at 1.25x and a read at 0.1x.
CACHED_INPUT_SHARE: dict[str, float] = {
    "gpt-5": 0.1, "gpt-4.1": 0.25, "gpt-4o": 0.5, "o1": 0.5, "o1-mini": 0.5, "o3": 0.25, "o3-mini": 0.5,
    "o4-mini": 0.25, "claude": 0.1,
}
CACHE_WRITE_SHARE = {"openai": 1.0, "anthropic": 1.25}
# Both providers' batch APIs bill half the price of a direct call, input and output.
BATCH_DISCOUNT = 0.5
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


def cache_prices(model: str | None, price: tuple[float, float] | None) -> tuple[float, float] | None:
    """(cached read, cache write) USD per million input tokens for a model whose price is `price`.

    An openai-compatible server gets no discount (it reports no cached tokens anyway)."""
    if price is None or not model:
        return None
    provider, _, name = model.partition("/")
    if provider not in CACHE_WRITE_SHARE:
        return (price[0], price[0])
    matches = [p for p in CACHED_INPUT_SHARE if name == p or name.startswith(p + "-")]
    share = CACHED_INPUT_SHARE[max(matches, key=len)] if matches else 0.5
    return (price[0] * share, price[0] * CACHE_WRITE_SHARE[provider])


def call_cost(price: tuple[float, float] | None, input_tokens: int | None, output_tokens: int | None, *,
              cached_tokens: int | None = None, cache_write_tokens: int | None = None,
              cache_rates: tuple[float, float] | None = None, batch: bool = False) -> float | None:
    """USD for one call, or None when the price or the token usage is unknown.

    `input_tokens` counts every prompt token; those read from (`cached_tokens`) or written to the cache
    (`cache_write_tokens`) are billed at `cache_rates`; `batch` halves the whole price."""
    if price is None or input_tokens is None or output_tokens is None:
        return None
    read, written = cached_tokens or 0, cache_write_tokens or 0
    read_rate, write_rate = cache_rates or (price[0], price[0])
    usd = ((input_tokens - read - written) * price[0] + read * read_rate + written * write_rate
           + output_tokens * price[1]) / 1_000_000
    return usd * BATCH_DISCOUNT if batch else usd


def estimate_tokens(text: str) -> int:
    """Rough token count before a call: about four characters per token for English prose."""
    return max(1, len(text) // 4)
