"""Prices: dated model ids match their family, overrides win, an unknown price stays unknown (never $0)."""

from __future__ import annotations

import pytest

from judge.pricing import BUILTIN_PRICES, call_cost, estimate_tokens, model_price


def test_a_dated_model_id_matches_its_longest_listed_family():
    assert model_price("openai/gpt-4o-mini-2024-07-18") == BUILTIN_PRICES["gpt-4o-mini"]
    assert model_price("openai/gpt-4o") == BUILTIN_PRICES["gpt-4o"]
    assert model_price("anthropic/claude-3-5-haiku-20241022") == BUILTIN_PRICES["claude-3-5-haiku"]
    assert model_price("openai/o3-mini") == BUILTIN_PRICES["o3-mini"]


def test_unknown_models_and_self_hosted_servers_have_no_price():
    assert model_price("openai/gpt-unreleased") is None
    assert model_price("openai-compatible/gpt-4o") is None  # same name, someone else's server
    assert model_price(None) is None


def test_overrides_win_by_full_name_then_bare_name():
    overrides = {"openai-compatible/llama3": (0.1, 0.2), "gpt-4o": (9.0, 9.0)}
    assert model_price("openai-compatible/llama3", overrides) == (0.1, 0.2)
    assert model_price("openai/gpt-4o", overrides) == (9.0, 9.0)


def test_cost_needs_both_a_price_and_token_usage():
    assert call_cost((1.0, 2.0), 1_000_000, 500_000) == pytest.approx(2.0)
    assert call_cost(None, 10, 10) is None
    assert call_cost((1.0, 2.0), None, 10) is None
    assert estimate_tokens("x" * 400) == 100


def test_price_overrides_are_stored_and_the_latest_wins(store):
    store.set_model_price("openai/gpt-x", 1, 2)
    store.set_model_price("openai/gpt-x", 3, 4)
    assert store.model_price_overrides() == {"openai/gpt-x": (3.0, 4.0)}
