"""Annotator names: one validator for every way a name enters (links, the Label page, CLI and file imports).

A name is who a label belongs to, so two names that look alike are one person to whoever reads a report.
`name_problem` refuses what cannot be reviewed by eye (control, zero-width and bidi characters); `name_key`
is the identity two spellings share (NFKC, case-folded: `Maria`, `MARIA`, full-width `ｍａｒｉａ`);
`skeleton` goes further and maps Cyrillic and Greek look-alikes to Latin (`mаria` with a Cyrillic a), so a
name cannot pass for a reserved one. The map is a small hand-made subset of Unicode's confusables (UTS #39)
for the scripts people mix by accident or on purpose; it is used only to refuse, never to rename.
"""

from __future__ import annotations

import unicodedata

MAX_NAME_CHARS = 120
# Names the tool labels under itself: the owner's adjudications and labels that came in a file.
RESERVED_NAMES = frozenset({"owner", "imported"})

# Unicode categories a name may not hold: controls, format characters (zero-width, bidi overrides and
# isolates), surrogates, private use, and line/paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})

_LOOKALIKES = str.maketrans({
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j", "к": "k", "ӏ": "l",
    "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "ԁ": "d",
    "ԛ": "q", "ԝ": "w",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j", "ζ": "z",
    # Latin and digits that pass for letters
    "ı": "i", "ɑ": "a", "ɡ": "g", "ɩ": "i", "0": "o", "1": "l", "|": "l", "5": "s",
})


def name_problem(name: object, *, limit: int = MAX_NAME_CHARS) -> str | None:
    """Why `name` cannot be an annotator name (empty, too long, invisible or direction-changing characters),
    or None when it can."""
    text = unicodedata.normalize("NFC", str(name or "")).strip()
    if not text:
        return "the annotator name is empty"
    hidden = [ch for ch in text if unicodedata.category(ch) in _REFUSED_CATEGORIES]
    if hidden:
        shown = ", ".join(f"U+{ord(ch):04X}" for ch in dict.fromkeys(hidden))
        return (f"the annotator name {text!r} holds control, zero-width or text-direction characters ({shown}); "
                "remove them")
    if len(text) > limit:
        return f"the annotator name is {len(text):,} characters long; the limit is {limit:,}"
    return None


def name_key(name: str) -> str:
    """What two spellings of one name share: NFKC, case-folded, inner whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def skeleton(name: str) -> str:
    """name_key with accents dropped and look-alike letters mapped to Latin: equal skeletons look alike."""
    decomposed = unicodedata.normalize("NFKD", name_key(name))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.translate(_LOOKALIKES).replace("rn", "m").replace("vv", "w")


def lookalike_of(name: str, others) -> str | None:
    """The first of `others` that `name` looks like (same skeleton), or None."""
    mine = skeleton(name)
    return next((other for other in others if skeleton(other) == mine), None)
