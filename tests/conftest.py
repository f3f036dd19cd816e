"""Shared fixtures: a real DuckDB store in a temporary file (never a mock)."""

from __future__ import annotations

import pytest

from judge.store import Store


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "judge.duckdb")
