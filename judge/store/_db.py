"""Short-lived DuckDB connections that take turns on one file, across threads and processes.

DuckDB lets one process open a file at a time (not even read-only beside a writer). So no process keeps the
store open: each unit of work takes an exclusive `flock` on `<store>.lock`, opens the file, runs in one
transaction, commits and closes. The dashboard, `judge import` and `judge run` in terminals therefore share
one store without lock errors; a caller waits its turn (a few ms, a few seconds behind a 100k-row import)
and only a wait beyond `timeout` surfaces, as `StoreBusy`.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from judge.errors import StoreBusy, StoreDamaged

_POLL_SECONDS = 0.005


class Database:
    def __init__(self, path: Path, *, timeout: float = 120.0):
        self.path = Path(path)
        self.timeout = timeout
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection inside one transaction; nested calls in the same thread share it."""
        con = getattr(self._local, "con", None)
        if con is not None:
            yield con
            return
        lock_fd = self._acquire_lock()
        try:
            con = self._open()
            self._local.con = con
            try:
                con.execute("BEGIN TRANSACTION")
                yield con
                con.execute("COMMIT")
            except BaseException as exc:
                try:
                    con.execute("ROLLBACK")
                except duckdb.Error:
                    pass  # a file that cannot be read cannot roll back either; nothing was committed
                if isinstance(exc, (duckdb.IOException, duckdb.SerializationException, duckdb.InternalException)):
                    raise self._damaged(exc) from exc
                raise
            finally:
                self._local.con = None
                con.close()
        finally:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)
            os.close(lock_fd)

    def _acquire_lock(self) -> int:
        fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        delay = _POLL_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise StoreBusy(
                        f"The store {self.path} stayed busy for {self.timeout:.0f} s "
                        "(another import or run is writing). Try again when it finishes."
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)

    def _damaged(self, exc: Exception) -> StoreDamaged:
        return StoreDamaged(f"The store {self.path} cannot be read or written ({type(exc).__name__}: {exc}). "
                            "If the file was cut short or damaged, restore it from a backup, or point --db "
                            "(or $JUDGE_DB) at another file.")

    def _open(self) -> duckdb.DuckDBPyConnection:
        """Open the file; a process that ignores our lock file (a DuckDB shell, say) is waited out too."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return duckdb.connect(str(self.path))
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise self._damaged(exc) from exc
                if time.monotonic() > deadline:
                    raise StoreBusy(f"Could not open the store {self.path}: {exc}") from exc
                time.sleep(0.05)
            except (duckdb.SerializationException, duckdb.InternalException) as exc:
                raise self._damaged(exc) from exc


def register_frame(con: duckdb.DuckDBPyConnection, name: str, frame) -> None:
    """Register a DataFrame as a view on `con`.

    DuckDB refuses `register` while the connection holds a partly fetched result (a `fetchone()` of a SELECT
    earlier in the same transaction), so the pending result is replaced by a finished one first.
    """
    con.execute("SELECT 1").fetchall()
    con.register(name, frame)
