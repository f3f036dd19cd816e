"""Show one item to a person, safely: every field is literal text, never Markdown or HTML.

Outputs come from an LLM and inputs from users, so either may hold `<script>`, `<img onerror=...>` or
Markdown that would restyle the page. `st.text` renders its body as plain text, so nothing in an item can
execute or change how the page looks.
"""

from __future__ import annotations

from typing import Any, Mapping

import streamlit as st

from judge.criteria import is_blank

FIELD_TITLES = {"input": "Input", "output": "Output", "context": "Context", "reference": "Reference"}
MAX_FIELD_HEIGHT = 360


def _present(value: Any) -> bool:
    return not is_blank(value)


def show_field(title: str, value: Any, *, height: int | None = MAX_FIELD_HEIGHT) -> None:
    st.markdown(f"**{title}**")
    long_text = len(str(value)) > 1200
    with st.container(border=True, height=height if long_text else "content"):
        st.text(str(value), width="stretch")


def show_item(item: Mapping[str, Any]) -> None:
    """Input and output first (what is graded), then context and reference side by side, then metadata."""
    for field in ("input", "output"):
        if _present(item.get(field)):
            show_field(FIELD_TITLES[field], item[field])
        elif field == "output":
            st.warning("This item has no output.", icon=":material/warning:")
    extras = [field for field in ("context", "reference") if _present(item.get(field))]
    for column, field in zip(st.columns(len(extras)) if extras else [], extras):
        with column:
            show_field(FIELD_TITLES[field], item[field])
    metadata = {k: v for k, v in (item.get("metadata") or {}).items() if _present(v)}
    if metadata:
        st.caption("Metadata")
        st.text("   ·   ".join(f"{key}: {value}" for key, value in metadata.items()), width="stretch")
