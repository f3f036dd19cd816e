"""The funnel: cheap judges first, strong judges next, people last, with agreement you can guarantee.

    create_funnel(store, "support-resolved", dataset="support", criterion="resolved",
                  stages=["offline:format_checks", "distilled", "llm:resolved@openai/gpt-4.1-mini"])
    calibrate_funnel(store, "support-resolved", alpha=0.1, delta=0.1)   # thresholds from human labels
    run_funnel(store, "support-resolved")                               # each item settled by the first sure stage
    funnel_report(store, "support-resolved")                            # judge.funnel_report

A funnel is named, versioned and append-only (judge.store.funnels): a new list of stages or a calibration adds
a version. Calibration (judge.funnel_calibration) splits the criterion's labeled items of the dataset's
latest version at random (seeded) into a calibration set and a held-out set, passes the calibration items
through the stages in order and picks each stage's threshold on the ones that reach it. A run passes a
dataset version's items through the calibrated stages; what no stage settles becomes a labeling task for
people. Every stage runs through the runner (judge.funnel_stages), so a re-run never pays twice.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

import numpy as np
import pandas as pd

from judge.criteria import Criterion, check_criterion_name
from judge.errors import JudgeError
from judge.funnel_calibration import (
    DEFAULT_ALPHA,
    DEFAULT_CALIBRATION_SHARE,
    DEFAULT_DELTA,
    StageCalibration,
    check_risk,
    choose_threshold,
    split_items,
    uids_digest,
)
from judge.funnel_stages import TARGETS, Stage, agrees, check_stage, human_verdicts, parse_stage, run_stage

PEOPLE = "people"


@dataclass(frozen=True)
class FunnelRunSummary:
    """Where a funnel run's items went: settled per stage, sent to people (and the task holding them)."""
    funnel_run_id: int
    status: str
    items: int
    settled: list[int]
    people: int
    failed: list[int]
    task_id: int | None
    stage_labels: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.status != "done":
            return (f"funnel run {self.funnel_run_id} {self.status}: resume it with "
                    f"judge funnel run --resume {self.funnel_run_id}")
        parts = [f"{label}: {n}" + (f" ({f} failed calls)" if f else "")
                 for label, n, f in zip(self.stage_labels, self.settled, self.failed)]
        task = f" (labeling task {self.task_id})" if self.task_id else ""
        return (f"funnel run {self.funnel_run_id}: {self.items} items; settled by " + ", ".join(parts)
                + f"; {self.people} to people{task}")


def _name(name: Any) -> str:
    text = str(name or "").strip()
    if not text:
        raise JudgeError("A funnel needs a name, e.g. support-resolved.")
    return check_criterion_name(text)  # the same rule: letters, digits, spaces, '_', '-', '.'


def create_funnel(store, name: str, *, dataset: str, stages: Iterable[Stage | str | dict], criterion: str | None = None,
                  target: str = "pass/fail") -> int:
    """A funnel over one criterion of a dataset, stages cheapest first (people come last on their own), or a
    new version of it with these stages. Returns the version number."""
    name = _name(name)
    if target not in TARGETS:
        raise JudgeError(f"A funnel agrees with people on {' or '.join(TARGETS)}, not {target!r}.")
    measured = store.criterion(store.dataset(dataset)["name"], criterion)
    parsed = [s if isinstance(s, Stage) else Stage.from_dict(s) if isinstance(s, dict) else parse_stage(s)
              for s in stages]
    if not parsed:
        raise JudgeError("A funnel needs at least one judge stage (people come last on their own).")
    checked = [check_stage(store, stage, measured, target) for stage in parsed]
    with store.transaction():
        if store.funnel_exists(name):
            funnel = store.funnel(name)
            if (funnel["dataset_name"], funnel["criterion"]) != (dataset, measured.name):
                raise JudgeError(f"Funnel '{name}' grades '{funnel['criterion']}' of dataset "
                                 f"'{funnel['dataset_name']}': give this one another name.")
            funnel_id = funnel["id"]
        else:
            funnel_id = store.create_funnel(name, dataset, measured.name)
        return store.add_funnel_version(funnel_id, stages=[s.to_dict() for s in checked], target=target)


def funnel_context(store, name: str, *, calibrated: bool, version: int | None = None):
    """(funnel, version record, criterion, stages) of a funnel's latest (calibrated) version."""
    funnel = store.funnel(_name(name))
    record = store.funnel_version(funnel["id"], version, calibrated=calibrated)
    criterion = store.criterion(funnel["dataset_name"], funnel["criterion"])
    stages = [Stage.from_dict(s) for s in record["stages"]]
    return funnel, record, criterion, stages


@dataclass(frozen=True)
class CalibrationResult:
    """A calibrated funnel version: each stage's threshold record, the strongest judge's alone, the split."""
    version: int
    stages: list[StageCalibration]
    strongest_alone: StageCalibration
    calibration_items: int
    heldout_items: int
    stage_labels: list[str]

    def describe(self) -> str:
        lines = [f"version {self.version}: {self.calibration_items} calibration labels, {self.heldout_items} "
                 f"held out for measuring"]
        for label, record in zip(self.stage_labels, self.stages):
            threshold = "escalates everything" if record.threshold is None else f"threshold {record.threshold:.4g}"
            lines.append(f"  {label}: {threshold}; {record.note}")
        return "\n".join(lines)


def calibrate_funnel(store, name: str, *, alpha: float = DEFAULT_ALPHA, delta: float = DEFAULT_DELTA,
                     share: float = DEFAULT_CALIBRATION_SHARE, seed: int = 0, secrets: Mapping | None = None,
                     concurrency: int | None = None, poll_seconds: float | None = None) -> CalibrationResult:
    """Thresholds for the funnel's latest stages from the human labels of its criterion, recorded with alpha,
    delta and both label sets as a new version: with probability >= 1 - delta, the verdicts the calibrated
    funnel settles agree with people >= 1 - alpha of the time (on items like the calibration items)."""
    alpha, delta = check_risk(alpha, delta)
    funnel, record, criterion, stages = funnel_context(store, name, calibrated=False)
    dataset = store.dataset(funnel["dataset_name"])
    humans = human_verdicts(store, int(dataset["id"]), criterion, record["target"])
    if len(humans) < 2:
        raise JudgeError(f"Dataset '{dataset['name']}' has {len(humans)} labeled items on '{criterion.name}': "
                         "calibration needs human labels to split into a calibration and a held-out set. "
                         "Label items first (judge label-next, or the Label page).")
    calibration, heldout = split_items(humans.index, share=share, seed=seed)
    with store.transaction():
        funnel_run_id = store.create_funnel_run(record["id"], int(dataset["id"]), "calibration", calibration)
    with _recorded(store, funnel_run_id):
        strongest = len(stages) - 1
        alone = _run_one(store, funnel_run_id, strongest, "alone", stages[strongest], dataset, criterion,
                         record["target"], calibration, secrets=secrets, concurrency=concurrency,
                         poll_seconds=poll_seconds)
        alone_record = choose_threshold(alone["confidence"].to_numpy(float), agrees(alone, humans, record["target"]),
                                        alpha=alpha, delta=delta, stage=strongest)
        delta_k = delta / len(stages)
        reaching, records = list(calibration), []
        for k, stage in enumerate(stages):
            outcomes = _run_one(store, funnel_run_id, k, "stage", stage, dataset, criterion, record["target"], reaching,
                                secrets=secrets, concurrency=concurrency, poll_seconds=poll_seconds)
            found = choose_threshold(outcomes["confidence"].to_numpy(float), agrees(outcomes, humans, record["target"]),
                                     alpha=alpha, delta=delta_k, stage=k, total_calibration=len(calibration))
            records.append(found)
            settled = _settles(outcomes, found.threshold)
            store.add_funnel_steps(funnel_run_id, k, _steps(outcomes, settled))
            reaching = outcomes.loc[~settled, "item_uid"].tolist()
        store.finish_funnel_run(funnel_run_id, "done")
    version = store.add_funnel_version(
        funnel["id"], stages=record["stages"], target=record["target"], alpha=alpha, delta=delta,
        calibration={"stages": [r.to_dict() for r in records], "strongest_alone": alone_record.to_dict()},
        split_seed=int(seed), calibration_share=float(share), calibration_uids=calibration, heldout_uids=heldout,
        calibration_hash=uids_digest(calibration), heldout_hash=uids_digest(heldout), dataset_id=int(dataset["id"]),
        calibration_run_id=funnel_run_id)
    return CalibrationResult(version, records, alone_record, len(calibration), len(heldout),
                             [s.label for s in stages])


@contextmanager
def _recorded(store, funnel_run_id: int) -> Iterator[None]:
    """A funnel run stopped by an error says so: status 'failed' with the message (or 'cancelled' on Ctrl-C),
    so its page and `judge funnel list` never show it running for ever."""
    try:
        yield
    except KeyboardInterrupt:
        store.finish_funnel_run(funnel_run_id, "cancelled")
        raise
    except Exception as exc:
        message = str(exc) if isinstance(exc, JudgeError) else f"{type(exc).__name__}: {exc}"
        store.finish_funnel_run(funnel_run_id, "failed", error=message)
        raise


def _run_one(store, funnel_run_id: int, k: int, role: str, stage: Stage, dataset, criterion: Criterion, target: str,
             uids: list[str], *, secrets=None, cancel=None, concurrency=None,
             poll_seconds=None) -> pd.DataFrame | None:
    """One stage's outcomes on `uids` within a funnel run (resuming its judge run if it has one)."""
    if not uids:
        return pd.DataFrame(columns=["item_uid", "confidence", "passed", "score", "error"])
    known = store.funnel_stage_runs(funnel_run_id).get((k, role))
    result = run_stage(store, stage, dataset=dataset, criterion=criterion, target=target, item_uids=uids,
                       run_id=known, on_start=lambda run_id: store.set_funnel_stage_run(funnel_run_id, k, role, run_id),
                       secrets=secrets, cancel=cancel, concurrency=concurrency, poll_seconds=poll_seconds)
    return None if result is None else result[1]


def _settles(outcomes: pd.DataFrame, threshold: float | None) -> np.ndarray:
    confidence = outcomes["confidence"].to_numpy(float)
    if threshold is None:
        return np.zeros(len(outcomes), dtype=bool)
    return ~np.isnan(confidence) & (confidence >= threshold)


def _steps(outcomes: pd.DataFrame, settled: np.ndarray) -> list[dict[str, Any]]:
    steps = []
    for row, done in zip(outcomes.itertuples(index=False), settled):
        steps.append({"item_uid": row.item_uid,
                      "confidence": None if pd.isna(row.confidence) else float(row.confidence),
                      "passed": None if pd.isna(row.passed) else bool(row.passed),
                      "score": None if pd.isna(row.score) else int(row.score),
                      "error": None if pd.isna(row.error) else str(row.error), "settled": bool(done)})
    return steps


def run_funnel(store, name: str, *, dataset_version: int | None = None, task: bool = True, compare: bool = True,
               secrets: Mapping | None = None, cancel: threading.Event | None = None,
               concurrency: int | None = None, poll_seconds: float | None = None) -> FunnelRunSummary:
    """Pass every item of a dataset version (default: the latest) through the funnel's latest calibrated
    version; items no stage settles become a labeling task (`task`). With `compare`, the strongest judge
    also judges the held-out labeled items alone, for the report's comparison."""
    funnel, record, criterion, stages = funnel_context(store, name, calibrated=True)
    dataset = store.dataset(funnel["dataset_name"], dataset_version)
    with store.transaction():
        funnel_run_id = store.create_funnel_run(record["id"], int(dataset["id"]), "run")
    return resume_funnel_run(store, funnel_run_id, task=task, compare=compare, secrets=secrets, cancel=cancel,
                             concurrency=concurrency, poll_seconds=poll_seconds)


def resume_funnel_run(store, funnel_run_id: int, *, task: bool = True, compare: bool = True,
                      secrets: Mapping | None = None, cancel: threading.Event | None = None,
                      concurrency: int | None = None, poll_seconds: float | None = None) -> FunnelRunSummary:
    """Finish a funnel run: stages already recorded are kept, a stage's judge run is resumed (only the calls
    it misses are made), the rest run. Cancelled (status 'cancelled') when `cancel` stops a stage."""
    run = store.funnel_run(funnel_run_id)
    record = store.funnel_version_by_id(run["funnel_version_id"])
    if record["calibration"] is None or run["purpose"] != "run":
        raise JudgeError(f"Funnel run {funnel_run_id} is a calibration pass: it has nothing to resume.")
    with store.transaction():
        funnel = store.funnel_by_id(record["funnel_id"])
        dataset = store.dataset_by_id(run["dataset_id"])
        criterion = store.criterion(funnel["dataset_name"], funnel["criterion"])
        items = store.items(int(dataset["id"]))["uid"].tolist()
    stages = [Stage.from_dict(s) for s in record["stages"]]
    thresholds = [r["threshold"] for r in record["calibration"]["stages"]]
    store.finish_funnel_run(funnel_run_id, "running")
    with _recorded(store, funnel_run_id):
        options = dict(secrets=secrets, cancel=cancel, concurrency=concurrency, poll_seconds=poll_seconds)
        strongest = len(stages) - 1
        if compare:
            heldout = [uid for uid in record["heldout_uids"] or [] if uid in set(items)]
            if _run_one(store, funnel_run_id, strongest, "alone", stages[strongest], dataset, criterion,
                        record["target"], heldout, **options) is None:
                store.finish_funnel_run(funnel_run_id, "cancelled")
                return summarize_funnel_run(store, funnel_run_id)
        done = store.funnel_stages_done(funnel_run_id)
        for k, stage in enumerate(stages):
            steps = store.funnel_steps(funnel_run_id)
            settled = set(steps.loc[steps["settled"].astype(bool), "item_uid"]) if len(steps) else set()
            if k in done:
                continue
            reaching = [uid for uid in items if uid not in settled]
            outcomes = _run_one(store, funnel_run_id, k, "stage", stage, dataset, criterion, record["target"], reaching,
                                **options)
            if outcomes is None:
                store.finish_funnel_run(funnel_run_id, "cancelled")
                return summarize_funnel_run(store, funnel_run_id)
            store.add_funnel_steps(funnel_run_id, k, _steps(outcomes, _settles(outcomes, thresholds[k])))
        steps = store.funnel_steps(funnel_run_id)
        settled = set(steps.loc[steps["settled"].astype(bool), "item_uid"]) if len(steps) else set()
        escalated = [uid for uid in items if uid not in settled]
        task_id = None
        with store.transaction():
            if task and escalated and store.funnel_run(funnel_run_id)["task_id"] is None:
                task_id = store.create_task(f"funnel {funnel['name']} run {funnel_run_id}: for people",
                                            int(dataset["id"]), escalated, criterion_ids=[criterion.id],
                                            instructions=f"No judge of funnel '{funnel['name']}' was sure enough about "
                                                         f"these items on '{criterion.name}'.")
            store.finish_funnel_run(funnel_run_id, "done", task_id=task_id)
    return summarize_funnel_run(store, funnel_run_id)


def summarize_funnel_run(store, funnel_run_id: int) -> FunnelRunSummary:
    with store.transaction():
        run = store.funnel_run(funnel_run_id)
        record = store.funnel_version_by_id(run["funnel_version_id"])
        steps = store.funnel_steps(funnel_run_id)
        items = len(store.items(int(run["dataset_id"])))
    stages = [Stage.from_dict(s) for s in record["stages"]]
    settled = [int(((steps["stage"] == k) & steps["settled"].astype(bool)).sum()) for k in range(len(stages))]
    failed = [int(((steps["stage"] == k) & steps["error"].notna()).sum()) for k in range(len(stages))]
    return FunnelRunSummary(funnel_run_id, run["status"], items, settled, items - sum(settled), failed,
                            run["task_id"], [s.label for s in stages])


def list_funnels(store) -> pd.DataFrame:
    """Every funnel: dataset, criterion, latest version, whether it is calibrated, alpha, delta, runs."""
    return store.funnels()


# -- in the background (the dashboard) ------------------------------------------------------------------
_BACKGROUND: dict[tuple[str, str], dict[str, Any]] = {}
_BACKGROUND_LOCK = threading.Lock()


def funnel_in_background(store, name: str, action: str, **options: Any) -> threading.Thread:
    """Calibrate (`action` 'calibrate') or run ('run') a funnel in a daemon thread of this process, so a page
    never waits on judge calls; `funnel_background_state` says how it went. One at a time per funnel."""
    actions = {"calibrate": calibrate_funnel, "run": run_funnel}
    if action not in actions:
        raise JudgeError(f"A funnel can be calibrated or run in the background, not {action!r}.")
    key = (str(store.path), name)
    with _BACKGROUND_LOCK:
        current = _BACKGROUND.get(key)
        if current is not None and current["thread"].is_alive():
            raise JudgeError(f"Funnel '{name}' is already busy ({current['action']}): wait for it to finish.")
        state: dict[str, Any] = {"action": action, "error": None, "result": None}

        def target() -> None:
            try:
                state["result"] = actions[action](store, name, **options)
            except JudgeError as exc:  # nobody is there to catch it: the page shows it
                state["error"] = str(exc)

        state["thread"] = threading.Thread(target=target, name=f"judge-funnel-{name}", daemon=True)
        _BACKGROUND[key] = state
        state["thread"].start()
        return state["thread"]


def funnel_background_state(store, name: str) -> dict[str, Any] | None:
    """{'action', 'running', 'error', 'result'} of the funnel's latest background work here, or None."""
    with _BACKGROUND_LOCK:
        state = _BACKGROUND.get((str(store.path), name))
    if state is None:
        return None
    return {"action": state["action"], "running": state["thread"].is_alive(), "error": state["error"],
            "result": state["result"]}
