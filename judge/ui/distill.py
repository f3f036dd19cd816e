"""Helpers of the Distill page: training a local judge in a background thread of the server.

Training on a teacher run over 100,000 items takes up to two minutes, too long for a rerun: it runs in a
thread of the server process (as judge.ui.improve scores candidates) and the page polls the job; the
result is a run in the store, so closing the browser loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from judge.ui import get_store
from judge.ui.jobs import BackgroundJob, start_job


@dataclass
class DistillJob(BackgroundJob):
    what: str = ""
    result: Any = None


def start_distilling(what: str, train: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Run `train(store, *args, **kwargs)` (distill_judge or distill_from_teacher) in the background."""
    job, store = DistillJob(what=what), get_store()

    def work() -> None:
        job.result = train(store, *args, **kwargs)

    return start_job(job, work, name="distill")
