"""Cached report computations for the Align pages: recomputed only after a write to the store.

A report over many items takes a second or so; caching it keyed on the store's version keeps page reruns
(a click, a selection) instant while any new label or verdict still shows at once.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from judge import reports
from judge.ui import _store, _store_version, get_store


@st.cache_data(show_spinner="Computing agreement...", max_entries=64)
def _compute(path: str, version: tuple[int, int], name: str, args: tuple, kwargs: tuple) -> Any:
    return getattr(reports, name)(_store(path), *args, **dict(kwargs))


def report(name: str, *args: Any, **kwargs: Any) -> Any:
    """`judge.reports.<name>(store, ...)`, cached until the store changes."""
    path = str(get_store().path)
    return _compute(path, _store_version(path), name, args, tuple(sorted(kwargs.items())))


def figure_text(fig: dict[str, Any] | None, digits: int = 3) -> str:
    """A figure as '0.812', or 'n/a' when undefined (the interval text says why)."""
    if not fig or fig["value"] is None:
        return "n/a"
    return f"{fig['value']:.{digits}f}"


def interval_text(fig: dict[str, Any] | None, digits: int = 3) -> str:
    """'95% CI 0.72-0.88 · n=60', or why the figure is undefined."""
    if not fig:
        return ""
    if fig["value"] is None:
        return f"undefined: {fig['undefined']} · n={fig['n']}"
    if not fig["ci"]:
        return f"n={fig['n']}"
    low, high = fig["ci"]
    return f"95% CI {low:.{digits}f} to {high:.{digits}f} · n={fig['n']}"
