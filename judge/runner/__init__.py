"""Run a judge over a dataset: create the run, estimate it, execute or resume it, in the foreground or not.

    run_id = start_run(store, dataset="support", spec=load_spec(store, "faithfulness"), model="openai/gpt-4.1-mini")
    summary = execute_run(store, run_id)          # resumable: a second call only does what is missing

A run records what reproduces it (the spec body, template hash, model, base URL, parameters, dataset
version, code version) before the first call. See engine.py for the concurrency, calls.py for retries and
the adaptive rate limit, plan.py for the cache, sink.py for how verdicts survive a killed process.
"""

from __future__ import annotations

import asyncio
import secrets as _secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from importlib import metadata
from typing import Any, Callable

from judge.criteria import run_criterion
from judge.errors import InvalidSpec, JudgeError, NotFound, RunAborted
from judge.pricing import model_price
from judge.providers.base import Provider
from judge.runner.calls import AdaptiveLimit, RetryPolicy
from judge.runner.engine import Engine, Progress, weighted_score
from judge.runner.plan import Estimate, RunPlan, estimate_plan, plan_from_run, units_for
from judge.runner.sink import RunBusy, VerdictSink
from judge.specs import JudgeSpec

__all__ = ["AdaptiveLimit", "Estimate", "Progress", "RetryPolicy", "RunBusy", "RunSummary", "cancel_run",
           "estimate_run", "execute_run", "run_in_background", "start_run", "stop_background", "weighted_score"]


@dataclass(frozen=True)
class RunSummary:
    """How a run ended. cost_usd is None when any call's price is unknown; flip rates need samples > 1."""

    run_id: str
    status: str
    total: int
    done: int
    failed: int
    cached: int
    calls: int
    cost_usd: float | None
    elapsed_s: float
    mean_score: float | None
    pass_flip_rate: float | None = None
    score_flip_rate: float | None = None

    def describe(self) -> str:
        cost = "cost unknown" if self.cost_usd is None else f"${self.cost_usd:,.4f}"
        text = (f"run {self.run_id} {self.status}: {self.done:,}/{self.total:,} verdicts, {self.failed:,} failed, "
                f"{self.cached:,} from cache, {self.calls:,} API calls, {cost}, {self.elapsed_s:,.1f} s")
        if self.pass_flip_rate is not None:
            text += (f"; samples disagree on pass/fail for {self.pass_flip_rate:.1%} of items, "
                     f"on the score for {self.score_flip_rate:.1%}")
        return text


def code_version() -> str:
    try:
        return metadata.version("judge-workbench")
    except metadata.PackageNotFoundError:
        return "unknown"


def _build_plan(store, *, dataset: str, spec: JudgeSpec, model: str | None, base_url: str | None,
                concurrency: int, samples: int, timeout: float, dataset_version: int | None = None,
                item_uids: Iterable[str] | None = None) -> tuple[RunPlan, dict[str, Any]]:
    if int(concurrency) < 1 or int(samples) < 1:
        raise JudgeError("concurrency and samples must be at least 1.")
    if not 0 < float(timeout) < float("inf"):  # also refuses nan: every call would time out at once
        raise JudgeError(f"The timeout is seconds per call, more than 0, not {timeout!r}.")
    ds = store.dataset(dataset, dataset_version)
    spec.validate(columns=store.metadata_columns(ds["id"]).keys())
    model = (model or spec.model) if spec.kind == "llm" else None
    if spec.kind == "llm" and not model:
        raise InvalidSpec(f"Judge '{spec.name}' names no model: pass one such as openai/gpt-4.1-mini.")
    base_url = (base_url or spec.base_url) if spec.kind == "llm" else None
    subset = None
    if item_uids is not None:
        subset = tuple(sorted(set(item_uids)))
        unknown = set(subset) - set(store.item_uids(ds["id"]).values())
        if unknown:
            raise JudgeError(f"{len(unknown)} of the items to judge are not in dataset '{ds['name']}' "
                             f"version {ds['version']}; pick items of that version.")
    plan = RunPlan(run_id=None, dataset_id=int(ds["id"]), spec=spec, model=model, base_url=base_url,
                   samples=int(samples), concurrency=int(concurrency), timeout=float(timeout),
                   total_items=int(ds["row_count"]) if subset is None else len(subset), item_uids=subset)
    return plan, ds


def estimate_run(store, *, dataset: str | None = None, spec: JudgeSpec | None = None, model: str | None = None,
                 base_url: str | None = None, samples: int = 1, run_id: str | None = None) -> Estimate:
    """Calls, cache hits, tokens and cost of a planned run, or of what a resumed `run_id` has left to do."""
    if run_id is not None:
        return estimate_plan(store, plan_from_run(store, run_id))
    if dataset is None or spec is None:
        raise JudgeError("estimate_run needs a dataset and a spec, or the id of an existing run.")
    plan, _ = _build_plan(store, dataset=dataset, spec=spec, model=model, base_url=base_url, concurrency=1,
                          samples=samples, timeout=60.0)
    return estimate_plan(store, plan)


def start_run(store, *, dataset: str, spec: JudgeSpec, model: str | None = None, base_url: str | None = None,
              concurrency: int = 16, samples: int = 1, version_tag: str | None = None, timeout: float = 60.0,
              dataset_version: int | None = None, name: str | None = None, secrets: Mapping | None = None,
              item_uids: Iterable[str] | None = None, criterion: str | None = None, batch: bool = False,
              batch_retry: str = "batch", poll_seconds: float | None = None) -> str:
    """Validate everything a run needs (spec against the dataset's columns, model, API key), record it, return its id.

    `item_uids` judges only those items of the dataset (e.g. a held-out split), else every item. `criterion`
    names the criterion whose labels the run is measured on (default: the spec's, else the dataset's only one).
    The run records the exact spec body, criterion, pass threshold and rubric version: reports read those.
    `batch` sends the work through the provider's batch API (half price, results within 24 h; see batch.py);
    failed units are retried in a follow-up batch, or by direct calls with `batch_retry="sync"`; the batches
    are polled every `poll_seconds` (default: from 1 s backing off to 60 s) by whichever process executes or
    resumes the run.
    """
    if batch_retry not in ("batch", "sync"):
        raise JudgeError(f"batch_retry must be 'batch' or 'sync', not {batch_retry!r}.")
    plan, ds = _build_plan(store, dataset=dataset, spec=spec, model=model, base_url=base_url,
                           concurrency=concurrency, samples=samples, timeout=timeout,
                           dataset_version=dataset_version, item_uids=item_uids)
    if plan.is_llm:
        from judge.providers import get_provider

        provider = get_provider(plan.model, base_url=plan.base_url, timeout=plan.timeout, secrets=secrets)
        if batch:
            from judge.providers.batches import batch_api

            batch_api(provider)
    elif batch:
        raise JudgeError(f"Judge '{spec.name}' runs offline ({spec.kind}): there is nothing to batch.")
    criterion_name, measured_on = run_criterion(store, ds["name"], spec.judged_criterion, criterion)
    run_id = f"{datetime.now():%Y%m%d-%H%M%S}-{_secrets.token_hex(3)}"
    store.create_run(
        run_id=run_id, dataset_id=plan.dataset_id, spec_name=spec.name, spec_id=_saved_spec_id(store, spec),
        model=plan.model, base_url=plan.base_url, samples=plan.samples, version_tag=version_tag,
        total_items=plan.total_items, template_hash=spec.template_hash(), code_version=code_version(), name=name,
        spec_body=spec.to_dict(), criterion=criterion_name, pass_threshold=spec.pass_threshold,
        rubric_id=measured_on.rubric_id if measured_on else None,
        params={"spec": spec.to_dict(), "concurrency": plan.concurrency, "timeout": plan.timeout,
                "dataset": ds["name"], "dataset_version": int(ds["version"]),
                **({"item_uids": list(plan.item_uids)} if plan.item_uids is not None else {}),
                **({"batch": True, "batch_retry": batch_retry, "poll_seconds": poll_seconds} if batch else {})},
    )
    return run_id


def judge_items(store, spec: JudgeSpec, items: list[dict[str, Any]], *, model: str | None = None,
                base_url: str | None = None, timeout: float = 60.0, concurrency: int = 8,
                secrets: Mapping | None = None, retry: RetryPolicy | None = None,
                provider: Provider | None = None) -> list[dict[str, Any]]:
    """Verdict rows for `items` through the runner's own call path (rendering, retries with backoff, reply
    parsing, one repair request, pass threshold, cost) without recording a run: nothing is stored."""
    model = (model or spec.model) if spec.kind == "llm" else None
    plan = RunPlan(run_id=None, dataset_id=-1, spec=spec, model=model, base_url=(base_url or spec.base_url),
                   samples=1, concurrency=max(1, int(concurrency)), timeout=float(timeout), total_items=len(items))
    if plan.is_llm and provider is None:
        from judge.providers import get_provider

        provider = get_provider(plan.model or "", base_url=plan.base_url, timeout=plan.timeout, secrets=secrets)
    engine = Engine(plan, store, None, Progress(total=len(items)), provider=provider, policy=retry or RetryPolicy(),
                    price=model_price(plan.model, store.model_price_overrides()))
    units = units_for(plan, [{**item, "missing": [0]} for item in items])

    async def judge_all() -> list[dict[str, Any]]:
        try:
            return list(await asyncio.gather(*(engine.verdict(unit) for unit in units)))
        finally:
            if provider is not None:
                await provider.aclose()

    return _run_coroutine(judge_all())


def _saved_spec_id(store, spec: JudgeSpec) -> int | None:
    """The saved spec version this run uses, if the spec is saved unchanged (a built-in or file spec has none)."""
    try:
        record = store.spec_record(spec.name)
    except NotFound:
        return None
    return int(record["id"]) if record["body_hash"] == spec.body_hash() else None


def execute_run(store, run_id: str, *, progress: Callable[[Progress], None] | None = None,
                cancel: threading.Event | None = None, retry: RetryPolicy | None = None,
                concurrency: int | None = None, secrets: Mapping | None = None,
                provider: Provider | None = None, poll_seconds: float | None = None) -> RunSummary:
    """Judge every item of the run that has no verdict yet (all of them the first time); resumable.

    A failed verdict is not done: each execution first drops the run's failed verdicts and judges those rows
    again (a failure is never turned into a score). A call that no other call can get past (a rejected key,
    an unknown model) stops the run at once: status 'failed', RunAborted with the vendor's reason.
    A batch run submits, polls (every `poll_seconds`, else the run's, else backing off from 1 s to 60 s) and
    collects until every unit is settled; resuming it polls and collects the batches already submitted, and
    submits only what is in none of them.

    `progress` is called after every verdict with a Progress; setting `cancel` stops the run cleanly
    (status 'cancelled', every landed verdict kept). RunBusy if another process is executing the run.
    `provider` replaces the one the run's model names (your own Provider implementation); it is closed at the end.
    """
    with store.transaction():  # one store visit for everything the start needs
        plan = plan_from_run(store, run_id)
        prices = store.model_price_overrides()
    if concurrency is not None:
        plan = replace(plan, concurrency=max(1, int(concurrency)))
    if plan.is_llm and provider is None:
        from judge.providers import get_provider

        provider = get_provider(plan.model, base_url=plan.base_url, timeout=plan.timeout, secrets=secrets)
    sink = VerdictSink(store, run_id)  # replays the journal of a killed execution first
    with store.transaction():
        store.discard_failed_verdicts(run_id)
        store.set_run_status(run_id, "running")
        counts = store.run_counts(run_id)
    tracker = Progress(total=plan.total_items * plan.samples, done=counts["done"], failed=counts["failed"],
                       cached=counts["cached"])
    engine_options = dict(provider=provider, policy=retry or RetryPolicy(), price=model_price(plan.model, prices),
                          on_progress=progress)
    try:
        if plan.batch:
            from judge.runner.batch import BatchEngine

            engine = BatchEngine(plan, store, sink, tracker, poll_seconds=poll_seconds or plan.poll_seconds,
                                 **engine_options)
        else:
            engine = Engine(plan, store, sink, tracker, **engine_options)
    except BaseException:
        sink.close()
        raise
    status, error = "failed", None
    try:
        cancelled = _run_coroutine(_drive(engine, provider, cancel))
        status = "cancelled" if cancelled else "done"
    except KeyboardInterrupt:
        status = "cancelled"
        raise
    except RunAborted as exc:
        error = (f"Run {run_id} stopped at the first call that cannot succeed: {exc} The rows not judged yet "
                 f"have no verdict; fix this, then resume with judge run --resume {run_id}.")
        raise RunAborted(error) from None
    except JudgeError as exc:
        error = str(exc)
        raise
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        try:
            sink.close()
        finally:
            store.set_run_status(run_id, status, error=error)
    return summarize(store, run_id, calls=engine.attempts[0], elapsed_s=tracker.elapsed)


async def _drive(engine: Engine, provider, cancel: threading.Event | None) -> bool:
    try:
        return await engine.run(cancel)
    finally:
        if provider is not None:
            await provider.aclose()


def _run_coroutine(coroutine) -> Any:
    """asyncio.run, also from a thread that already runs an event loop (a notebook): then in a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="judge-run")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def summarize(store, run_id: str, *, calls: int = 0, elapsed_s: float = 0.0) -> RunSummary:
    with store.transaction():
        run = store.run(run_id)
        flips = store.sample_flip_rates(run_id) if int(run["samples"]) > 1 else {}
    return RunSummary(
        run_id=run_id, status=run["status"], total=int(run["total_items"] or 0) * int(run["samples"]),
        done=run["done"], failed=run["failed"], cached=run["cached"], calls=calls, cost_usd=run["cost_usd"],
        elapsed_s=elapsed_s, mean_score=None if run["mean_score"] is None else float(run["mean_score"]),
        pass_flip_rate=flips.get("pass_flip_rate"), score_flip_rate=flips.get("score_flip_rate"),
    )


_BACKGROUND: dict[tuple[str, str], tuple[threading.Thread, threading.Event]] = {}
_BACKGROUND_LOCK = threading.Lock()


def run_in_background(store, run_id: str, *, secrets: Mapping | None = None) -> threading.Thread:
    """Execute the run in a daemon thread of this process (the dashboard's server): it keeps going when the
    browser closes, and the run page follows it through the store. One thread per run per store."""
    key = (str(store.path), run_id)
    with _BACKGROUND_LOCK:
        running = _BACKGROUND.get(key)
        if running is not None and running[0].is_alive():
            return running[0]
        cancel = threading.Event()

        def target() -> None:
            try:
                execute_run(store, run_id, cancel=cancel, secrets=secrets)
            except RunBusy:
                return  # another process is executing it; the page follows that one through the store
            except JudgeError as exc:  # nobody is there to catch it: the run page shows it from the run row
                store.set_run_status(run_id, "failed", error=str(exc))

        thread = threading.Thread(target=target, name=f"judge-run-{run_id}", daemon=True)
        _BACKGROUND[key] = (thread, cancel)
        thread.start()
        return thread


def stop_background(store, run_id: str) -> bool:
    """Ask a background run of this process to stop (status 'cancelled'); False if none is running here."""
    with _BACKGROUND_LOCK:
        running = _BACKGROUND.get((str(store.path), run_id))
    if running is None or not running[0].is_alive():
        return False
    running[1].set()
    return True


def cancel_run(store, run_id: str, *, secrets: Mapping | None = None) -> int:
    """Cancel a run: its open provider batches are canceled at the provider (what they finished is still
    collected, by the process polling them or by the next resume), and a direct run executing in this
    process is stopped. Returns how many batches were asked to cancel."""
    from judge.runner.batch import cancel_batches

    plan = plan_from_run(store, run_id)
    if not plan.batch:
        stop_background(store, run_id)
        return 0
    return _run_coroutine(cancel_batches(store, plan, secrets=secrets))
