"""Where API keys and base URLs come from: the `secrets` mapping the caller passes, then the environment.

Keys are looked up at the moment a provider is built and handed straight to the vendor's client; they are
never logged, written to the store, or put into an exception message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from judge.errors import MissingKey


def setting(name: str, secrets: Mapping | None = None) -> str | None:
    """The value of `name` from `secrets` (e.g. st.secrets) or else the environment; blank counts as unset."""
    value = None
    if secrets is not None:
        try:
            value = secrets.get(name)
        except (KeyError, FileNotFoundError):  # st.secrets raises FileNotFoundError without a secrets.toml
            value = None
    if not value:
        value = os.environ.get(name)
    return str(value).strip() if value and str(value).strip() else None


def api_key(name: str, secrets: Mapping | None = None) -> str:
    """The key named `name`, or MissingKey telling the user where to set it."""
    key = setting(name, secrets)
    if key is None:
        raise MissingKey(f"Set {name} in the environment or in .streamlit/secrets.toml")
    return key
