"""Helpers of the Improve page: scoring candidates in a background thread, and the leaderboard as a table.

Scoring runs one judge run per candidate, which takes minutes: it runs in a thread of the server process
(like judge.runner.run_in_background) and the page polls the job, so closing the browser loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from judge import improve
from judge.improve import Leaderboard, score_candidates
from judge.specs import JudgeSpec
from judge.ui import computed, get_store
from judge.ui.jobs import BackgroundJob, start_job
from judge.ui.judges import secrets

CANDIDATES = "improve.candidates"  # session state: label -> spec body
JOB = "improve.job"                # session state: id of the scoring job this session started


@dataclass
class ScoringJob(BackgroundJob):
    dataset: str = ""
    labels: list[str] = field(default_factory=list)
    runs: dict[str, str] = field(default_factory=dict)  # label -> run id, as each run starts
    board: Leaderboard | None = None


def cached(name: str, *args: Any, **kwargs: Any) -> Any:
    """`judge.improve.<name>(store, ...)` (a split, corrections), cached until the store changes: a click on
    the page reruns it without reading every label again."""
    return computed(getattr(improve, name), *args, **kwargs)


def start_scoring(dataset: str, candidates: dict[str, dict[str, Any]], *, model: str | None, seed: int,
                  concurrency: int, criterion: str | None = None) -> str:
    """Validate the candidates, then score them on the held-out items in the background; returns a job id."""
    specs = [JudgeSpec.from_dict(body).validate() for body in candidates.values()]
    job = ScoringJob(dataset=dataset, labels=list(candidates))
    store, keys = get_store(), secrets()

    def work() -> None:
        job.board = score_candidates(store, dataset, specs, labels=job.labels, seed=seed, model=model,
                                     concurrency=concurrency, secrets=keys, criterion=criterion,
                                     on_run=lambda label, run_id: job.runs.__setitem__(label, run_id))

    return start_job(job, work, name="improve")


def default_judge(specs: dict[str, JudgeSpec], finished: set[str]) -> int:
    """Index of the judge to open on: an LLM judge with a finished run on the dataset (it has disagreements to
    learn from), else any judge with one, else the first."""
    names = [(spec.name, spec.kind) for spec in specs.values()]
    for wanted in (lambda name, kind: name in finished and kind == "llm", lambda name, kind: name in finished):
        found = [index for index, (name, kind) in enumerate(names) if wanted(name, kind)]
        if found:
            return found[0]
    return 0


def leaderboard_table(board: Leaderboard) -> pd.DataFrame:
    def ci(fig: dict[str, Any]) -> str:
        return "" if not fig.get("ci") else f"{fig['ci'][0]:+.2f} to {fig['ci'][1]:+.2f}"

    return pd.DataFrame([{
        "rank": row["rank"], "candidate": row["label"],
        "kappa": row[board.figure]["value"], "kappa 95% CI": ci(row[board.figure]),
        "exact": row["exact_agreement"]["value"], "pass/fail kappa": row["pass_fail_kappa"]["value"],
        "vs current": None if row["current"] else row["vs_current"]["value"],
        "vs current 95% CI": "" if row["current"] else ci(row["vs_current"]),
        "n": row["n"], "run": row["run_id"],
    } for row in board.rows])
