"""Where the store lives and the limits users can rely on (documented in the README)."""

import os
from pathlib import Path

DEFAULT_DB = Path("data") / "judge.duckdb"

# A cell larger than this is refused on import: it would make pages and prompts unusable.
MAX_CELL_CHARS = 100_000


def db_path(explicit: str | os.PathLike | None = None) -> Path:
    """The store file: an explicit path (`--db`), else `$JUDGE_DB`, else data/judge.duckdb."""
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("JUDGE_DB") or DEFAULT_DB)
