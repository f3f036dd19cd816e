"""Work too long for one rerun (training, scoring candidates) runs in a thread of the server process.

The page keeps the job's id in its session state and polls it; what the job makes is stored, so closing the
browser loses nothing. One registry for every such job, so each page only says what the work is.
"""

from __future__ import annotations

import secrets as _secrets
import threading
from dataclasses import dataclass
from typing import Callable

from judge.errors import JudgeError


@dataclass
class BackgroundJob:
    error: str | None = None
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


_JOBS: dict[str, BackgroundJob] = {}
_JOBS_LOCK = threading.Lock()


def start_job(job: BackgroundJob, work: Callable[[], None], *, name: str) -> str:
    """Run `work()` in a daemon thread; an error it raises becomes `job.error` (the thread has nobody to
    raise to: the page shows it). Returns the job's id."""
    def target() -> None:
        try:
            work()
        except JudgeError as exc:
            job.error = str(exc)
        except Exception as exc:
            job.error = f"{type(exc).__name__}: {exc}"

    job_id = _secrets.token_hex(4)
    job.thread = threading.Thread(target=target, name=f"judge-{name}-{job_id}", daemon=True)
    with _JOBS_LOCK:
        _JOBS[job_id] = job
    job.thread.start()
    return job_id


def find_job(job_id: str | None) -> BackgroundJob | None:
    with _JOBS_LOCK:
        return _JOBS.get(job_id) if job_id else None
