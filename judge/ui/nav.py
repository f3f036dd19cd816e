"""Links between pages that survive a page being absent from the navigation (optional pages, AppTest runs)."""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError


def page_link(candidates: str | tuple[str, ...], label: str, icon: str | None = None, **kwargs) -> bool:
    """Link to the first of `candidates` that is in the navigation; returns False (and draws nothing) if none is.

    Several names are accepted because a step (say "judge") may live on a page another part of the app adds.
    """
    for page in (candidates,) if isinstance(candidates, str) else candidates:
        try:
            st.page_link(page, label=label, icon=icon, **kwargs)
            return True
        except StreamlitPageNotFoundError:
            continue
    return False
