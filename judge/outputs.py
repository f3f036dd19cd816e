"""Writing a file the user named (exports, cards, verdicts): never over the store, never over a file by surprise.

Every command that writes a file goes through `write_output`: it refuses the store itself, its lock file,
DuckDB's write-ahead log and the runner's journal folder; refuses an existing file unless `force`; and writes
through a temporary file in the same folder renamed into place, so a crash or a full disk never leaves half a
file where a good one was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from judge.errors import JudgeError


class OutputRefused(JudgeError):
    """The output path is the store (or one of its files), or an existing file without --force."""


def store_files(store_path: str | os.PathLike) -> list[Path]:
    """The store and the files beside it that belong to it: lock, write-ahead log, runner journal folder."""
    store = Path(store_path).resolve()
    return [store, *(store.with_name(store.name + suffix) for suffix in (".lock", ".wal", ".journal"))]


def check_output(path: str | os.PathLike, *, store_path: str | os.PathLike | None, force: bool = False) -> Path:
    """The resolved output path, or OutputRefused saying why it may not be written."""
    target = Path(path).resolve()
    for protected in store_files(store_path) if store_path is not None else []:
        if target == protected or protected in target.parents:
            raise OutputRefused(f"{path} is the store's own file ({protected.name}); writing there would destroy "
                                "the store. Choose another output file.")
    if target.is_dir():
        raise OutputRefused(f"{path} is a folder; name a file to write.")
    if target.exists() and not force:
        raise OutputRefused(f"{path} already exists; pass --force to replace it, or choose another name.")
    if not target.parent.is_dir():
        raise OutputRefused(f"the folder {target.parent} does not exist; create it or choose another path.")
    return target


def write_output(path: str | os.PathLike, data: bytes | str, *, store_path: str | os.PathLike | None,
                 force: bool = False) -> Path:
    """Write `data` to `path` atomically (temporary file + rename), after check_output; returns the path."""
    target = check_output(path, store_path=store_path, force=force)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)  # mkstemp's 0600 would make an export unreadable to the team
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
