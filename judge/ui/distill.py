"""Helpers of the Distill page: training a local judge in a background thread of the server.

Training on a teacher run over 100,000 items takes up to two minutes, too long for a rerun: it runs in a
thread of the server process (as judge.ui.improve scores candidates) and the page polls the job; the
result is a run in the store, so closing the browser loses nothing.
"""

from __future__ import annotations

import secrets as _secrets
import threading
from dataclasses import dataclass
from typing import Any, Callable

from judge.errors import JudgeError
from judge.ui import get_store


@dataclass
class DistillJob:
    what: str
    result: Any = None
    error: str | None = None
    thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()


_JOBS: dict[str, DistillJob] = {}
_JOBS_LOCK = threading.Lock()


def start_distilling(what: str, train: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Run `train(store, *args, **kwargs)` (distill_judge or distill_from_teacher) in the background."""
    job, store = DistillJob(what=what), get_store()

    def target() -> None:
        try:
            job.result = train(store, *args, **kwargs)
        except JudgeError as exc:
            job.error = str(exc)
        except Exception as exc:  # the thread has nobody to raise to: the page shows it
            job.error = f"{type(exc).__name__}: {exc}"

    job_id = _secrets.token_hex(4)
    job.thread = threading.Thread(target=target, name=f"judge-distill-{job_id}", daemon=True)
    with _JOBS_LOCK:
        _JOBS[job_id] = job
    job.thread.start()
    return job_id


def distill_job(job_id: str | None) -> DistillJob | None:
    with _JOBS_LOCK:
        return _JOBS.get(job_id) if job_id else None
