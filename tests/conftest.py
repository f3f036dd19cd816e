"""Shared fixtures: a real DuckDB store in a temporary file (never a mock)."""

from __future__ import annotations

from pathlib import Path

import pytest

from judge.store import Store
from fake_llm import fake_llm  # noqa: F401  (fake OpenAI/Anthropic server)
from tests.browser import browser, dashboard, page, start_dashboard  # noqa: F401  (browser fixtures)


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "judge.duckdb")


@pytest.fixture
def shared_data() -> Path:
    """../shared/data beside the checkout: public datasets with human ratings (absent on a user's clone, so
    tests that read it skip when a file is missing)."""
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"
