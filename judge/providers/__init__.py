"""LLM providers behind one small interface (see base.py); `get_provider("vendor/model")` picks one.

Vendor SDKs are imported only when a provider of that kind is built, so `import judge` stays light and works
without keys or network.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from judge.errors import InvalidSpec
from judge.providers.base import VERDICT_SCHEMA, Completion, JudgeRequest, Provider, ProviderError

# prefix -> "module:class"; the module (and its SDK) is imported on first use.
PROVIDERS = {
    "openai": "judge.providers.openai_provider:OpenAIProvider",
    "anthropic": "judge.providers.anthropic_provider:AnthropicProvider",
    "openai-compatible": "judge.providers.openai_provider:OpenAICompatibleProvider",
}

__all__ = ["PROVIDERS", "VERDICT_SCHEMA", "Completion", "JudgeRequest", "Provider", "ProviderError",
           "get_provider", "split_model"]


def split_model(model: str) -> tuple[str, str]:
    """("openai", "gpt-4.1-mini") from "openai/gpt-4.1-mini"; InvalidSpec for an unknown or missing prefix."""
    prefix, _, name = (model or "").strip().partition("/")
    if prefix not in PROVIDERS or not name:
        known = ", ".join(f"{p}/<model>" for p in PROVIDERS)
        raise InvalidSpec(f"Unknown model {model!r}: write it as one of {known} (e.g. openai/gpt-4.1-mini)")
    return prefix, name


def get_provider(model: str, *, base_url: str | None = None, timeout: float = 60.0,
                 secrets: Mapping | None = None) -> Provider:
    """A ready provider for `model`; keys come from `secrets` (e.g. st.secrets) or the environment.

    Raises InvalidSpec for an unknown provider or a missing base URL, MissingKey for a missing key.
    """
    prefix, name = split_model(model)
    module_name, class_name = PROVIDERS[prefix].split(":")
    provider_class = getattr(importlib.import_module(module_name), class_name)
    return provider_class.create(name, base_url=base_url, timeout=timeout, secrets=secrets)
