"""Where verdicts go as they land: a journal line at once, the store in batches from a writer thread.

Opening the store costs ~25 ms of CPU, so verdicts reach DuckDB in batches (every `flush_seconds` or
`batch_size` rows) from a thread, never blocking the event loop. A batch waiting for its flush must still
survive a SIGKILL, or a resumed run would pay for those calls twice: so each verdict is first appended to
a journal file next to the store (one `write` to the OS page cache, microseconds). The journal is emptied
whenever everything in it has reached the store, and replayed into the store when a run is resumed.

The journal file also carries an exclusive `flock` for as long as a process executes the run, so two
processes can never execute the same run at once; the kernel releases it when the process dies.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from judge.errors import JudgeError

HEARTBEAT_SECONDS = 5.0


def journal_path(store_path: Path, run_id: str) -> Path:
    return Path(f"{store_path}.journal") / f"{run_id}.jsonl"


class RunBusy(JudgeError):
    """Another process is executing this run right now."""


class VerdictSink:
    """Accepts verdict rows from the event loop (`put`) and stores them; `close()` flushes the rest."""

    def __init__(self, store, run_id: str, *, flush_seconds: float = 1.0, batch_size: int = 500):
        self.store, self.run_id = store, run_id
        self.flush_seconds, self.batch_size = flush_seconds, batch_size
        self.path = journal_path(store.path, run_id)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise RunBusy(f"Run {run_id} is being executed by another process; wait for it or stop it first.") \
                from None
        self._replay()
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()  # guards _pending and the journal
        self._wake = threading.Event()
        self._stopping = False
        self.error: BaseException | None = None
        self.notice: str | None = None  # what the run waits for; stored with each heartbeat
        self._thread = threading.Thread(target=self._write_loop, name=f"verdicts-{run_id}", daemon=True)
        self._thread.start()

    def put(self, row: dict[str, Any], *, journal: bool = True) -> None:
        """Hand the row to the writer thread, journaling it first (durable against a kill of this process).

        Verdicts that cost nothing to redo (cache copies, offline scores) skip the journal, which then stays
        as small as the batch of paid verdicts waiting for their flush. The writer is woken only when a batch
        is full, not per row.
        """
        line = (json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8") \
            if journal else None
        with self._lock:
            if line is not None:
                os.write(self._fd, line)
            self._pending.append(row)
            full = len(self._pending) >= self.batch_size
        if full:
            self._wake.set()

    @property
    def backlog(self) -> int:
        """Rows waiting for the writer: the producer pauses while this is high, so memory stays flat."""
        return len(self._pending)

    def close(self) -> None:
        """Store what is left, then remove the journal and release the run."""
        self._stopping = True
        self._wake.set()
        self._thread.join()
        try:
            if self.error is None:
                self.path.unlink(missing_ok=True)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
        if self.error is not None:
            raise self.error

    # -- writer thread ------------------------------------------------------------------------------
    def _write_loop(self) -> None:
        batch: list[dict[str, Any]] = []
        last_beat = time.monotonic()
        while True:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            stopping = self._stopping
            with self._lock:
                batch.extend(self._pending)
                self._pending = []
            if batch or stopping or time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                if self._flush(batch):
                    batch = []
                last_beat = time.monotonic()
            if stopping:
                return

    def _flush(self, batch: list[dict[str, Any]]) -> bool:
        """One store transaction for the batch and the heartbeat; False (batch kept) if the store failed."""
        try:
            with self.store.transaction():
                self._store_rows(batch)
                self._heartbeat()
        except Exception as exc:  # the journal still holds the batch; retry on the next flush
            self.error = exc
            return False
        self.error = None
        with self._lock:
            if not self._pending:
                os.ftruncate(self._fd, 0)
        return True

    def _store_rows(self, rows: list[dict[str, Any]]) -> None:
        """Where the rows go: a run's verdicts (a pairwise run's sink stores its replies instead)."""
        self.store.add_verdicts(rows)

    def _heartbeat(self) -> None:
        self.store.heartbeat(self.run_id, notice=self.notice)

    def _replay(self) -> None:
        """Store what an earlier, killed execution journaled but never stored (a torn last line is skipped)."""
        with open(self._fd, "rb", closefd=False) as journal:
            journal.seek(0)
            rows = []
            for line in journal:
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    continue
        for start in range(0, len(rows), 1000):
            self._store_rows(rows[start:start + 1000])
        os.ftruncate(self._fd, 0)
