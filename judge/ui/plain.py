"""Text that came from a file or a person, placed inside Markdown (a widget label, a caption) as typed.

Streamlit reads labels, captions and messages as Markdown: a column named ``a` ![t](http://x/beacon.png) `b``
would load an image in the owner's browser and show a link. `plain` backslash-escapes every character
Markdown (and Streamlit's `:icon:` and `:color[...]` directives) could read, so it renders as the same text.
"""

from __future__ import annotations

_MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()#+-.!<>|~:$=\"'&")


def plain(text: object) -> str:
    """`text` escaped for Markdown, newlines folded to spaces (a label or caption is one line)."""
    flat = " ".join(str(text).splitlines())
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in flat)
