"""The labeling queue's options: a metadata filter, and a seeded sample whose seed and size live in the URL.

With `?seed=7&size=30` in the link, every teammate who opens it labels the same 30 items in the same order.
"""

from __future__ import annotations

import streamlit as st

from judge.ui.plain import plain

ANY = "(any)"
MAX_FILTER_VALUES = 100  # a column with more distinct values (free text, ids) is not a useful filter


def _int_param(name: str) -> int | None:
    value = st.query_params.get(name)
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _sync_param(name: str, value: int | None) -> None:
    if value is None:
        st.query_params.pop(name, None)
    else:
        st.query_params[name] = str(value)


def queue_options(metadata_columns: dict[str, list[str]]) -> tuple[dict[str, str], int | None, int | None]:
    """Draws the options; returns (metadata filter, seed, size)."""
    seed, size = _int_param("seed"), _int_param("size")
    filterable = {k: v for k, v in metadata_columns.items() if 1 < len(v) <= MAX_FILTER_VALUES}
    summary = "shared sample" if seed is not None else "unlabeled by you first"
    with st.expander(f"Queue: {summary}", icon=":material/tune:"):
        chosen: dict[str, str] = {}
        if filterable:
            st.caption("Only items whose metadata match:")
            for column, (name, values) in zip(st.columns(min(len(filterable), 4)) * 25, filterable.items()):
                value = column.selectbox(plain(name), [ANY, *values], key=f"label.filter.{name}")
                if value != ANY:
                    chosen[name] = value
        sample_col, size_col = st.columns(2)
        seed = sample_col.number_input(
            "Shared sample seed", min_value=0, step=1, value=seed, placeholder="off",
            help="Set a seed to label a random sample that is the same for everyone using this seed and size. "
                 "The seed and size are in the page URL: share it.",
        )
        size = size_col.number_input("Sample size", min_value=1, step=1, value=size, placeholder="all items")
    seed = int(seed) if seed is not None else None
    size = int(size) if size is not None else None
    _sync_param("seed", seed)
    _sync_param("size", size)
    return chosen, seed, size
