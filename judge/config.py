"""Where the store lives and the limits users can rely on (documented in the README)."""

import os
from pathlib import Path

DEFAULT_DB = Path("data") / "judge.duckdb"

# A cell larger than this is refused on import: it would make pages and prompts unusable.
MAX_CELL_CHARS = 100_000

# A header with more columns than this is refused (a wrong delimiter or a generated file, not a dataset).
MAX_COLUMNS = 2_000

# A line longer than this is refused before it is parsed: parsing a 1 GB line would take gigabytes of memory.
MAX_LINE_BYTES = 16 * 2**20


def db_path(explicit: str | os.PathLike | None = None) -> Path:
    """The store file: an explicit path (`--db`), else `$JUDGE_DB`, else data/judge.duckdb."""
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("JUDGE_DB") or DEFAULT_DB)
