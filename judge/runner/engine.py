"""The asyncio side of a run: a producer walks the pending work, `concurrency` workers judge it.

What needs no call is settled by the producer, one chunk per store visit: cache hits are copied in bulk by
SQL, offline scores and unrenderable prompts are stored with them. Paid verdicts leave through `emit` to the
VerdictSink, which journals them and hands them to the store's writer thread (see sink.py). Memory stays
flat: a bounded work queue, and a producer that waits while the writer is behind.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from judge.errors import RunAborted
from judge.offline import score_offline
from judge.parsing import ParseFailure, parse_verdict, repair_prompt
from judge.pricing import cache_prices, call_cost
from judge.providers.base import Completion, Provider
from judge.runner.calls import AdaptiveLimit, CallFailed, RetryPolicy, call_with_retries
from judge.runner.plan import COPIED, RunPlan, Unit, pending_units
from judge.runner.sink import VerdictSink

_PRODUCER_DONE = object()
MAX_BACKLOG = 2_000
# Between the unreadable first reply and the reply to the repair request, in a verdict's raw_reply.
REPAIR_SEPARATOR = "\n\n--- reply to the repair request ---\n"


@dataclass
class Progress:
    """Live counters of a run, passed to the `progress` callback after every verdict."""

    total: int
    done: int = 0
    failed: int = 0
    cached: int = 0
    calls: int = 0
    started: float = field(default_factory=time.monotonic)
    fresh: int = 0
    waiting: str | None = None  # why calls are backing off (a rate limit, say), until `waiting_until`
    waiting_until: float = 0.0  # time.monotonic() when that back-off ends

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def wait_text(self) -> str | None:
        """"waiting 120 s: <reason>" while a back-off lasts, else None."""
        left = self.waiting_until - time.monotonic()
        return None if self.waiting is None or left <= 0 else f"waiting {left:,.0f} s: {self.waiting}"

    @property
    def rate(self) -> float:
        """Verdicts per second landed by this execution."""
        return self.fresh / self.elapsed if self.elapsed > 0 else 0.0


class Engine:
    def __init__(self, plan: RunPlan, store, sink: VerdictSink, progress: Progress, *,
                 provider: Provider | None, price: tuple[float, float] | None, policy: RetryPolicy,
                 on_progress: Callable[[Progress], None] | None = None):
        self.plan, self.store, self.sink, self.progress = plan, store, sink, progress
        self.provider, self.price, self.policy = provider, price, policy
        self.cache_rates = cache_prices(plan.model, price)
        self.on_progress = on_progress
        self.limit = AdaptiveLimit(plan.concurrency)
        self.rng = random.Random(plan.run_id)
        self.attempts = [0]
        self.aborted: RunAborted | None = None  # set by the first worker whose call says no call can succeed

    # -- orchestration ------------------------------------------------------------------------------
    async def run(self, cancel: threading.Event | None) -> bool:
        """Judge all pending work; True if `cancel` stopped it first; RunAborted if a call said none can succeed."""
        task = asyncio.create_task(self._judge_all())
        while not task.done():
            await asyncio.wait({task}, timeout=0.1)
            stop = self.aborted is not None or (cancel is not None and cancel.is_set())
            if stop and not task.done():
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
                if self.aborted is not None:
                    raise self.aborted
                return True
        if self.aborted is not None:
            raise self.aborted
        task.result()
        return False

    async def _judge_all(self) -> None:
        work: asyncio.Queue = asyncio.Queue(maxsize=self.plan.concurrency * 2)
        workers = [asyncio.create_task(self._worker(work))
                   for _ in range(self.plan.concurrency if self.plan.is_llm else 0)]
        chunks = pending_units(self.store, self.plan, copy_hits=True)
        try:
            while (settled := await asyncio.to_thread(self._settle_chunk, chunks)) is not None:
                to_call, stored, copied, failed = settled
                progress = self.progress  # counted here, on the loop's thread, like every other verdict
                progress.done += stored + copied
                progress.fresh += stored + copied
                progress.cached += copied
                progress.failed += failed
                if self.on_progress is not None:
                    self.on_progress(progress)
                for unit in to_call:
                    await work.put(unit)
                while self.sink.backlog > MAX_BACKLOG:
                    await asyncio.sleep(0.05)
            for _ in workers:
                await work.put(None)
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    def _settle_chunk(self, chunks) -> tuple[list[Unit], int, int, int] | None:
        """In a thread, in ONE store visit: the next chunk, its cache hits copied in bulk, its offline scores
        and unrenderable prompts stored. Returns (units that need a call, verdicts stored, cache hits copied,
        failures among them), or None when no work is left."""
        with self.store.transaction():
            chunk = next(chunks, None)
            if chunk is None:
                return None
            rows, to_call, copied = [], [], 0
            for unit, hit in chunk:
                if hit is COPIED:
                    copied += 1
                elif unit.render_error is not None:
                    rows.append(self._row(unit, error=unit.render_error))
                elif not self.plan.is_llm:
                    rows.append(self._offline_row(unit))
                else:
                    to_call.append(unit)
            self.store.add_verdicts(rows)
        return to_call, len(rows), copied, sum(row["error"] is not None for row in rows)

    async def _worker(self, work: asyncio.Queue) -> None:
        """Judge units until the queue ends; after a fatal call failure no worker makes another call, and the
        unit that met it stays without a verdict (pending, so a resume judges it)."""
        while (unit := await work.get()) is not None and self.aborted is None:
            try:
                row = await self._judge(unit)
            except RunAborted as exc:
                self.aborted = self.aborted or exc
                return
            self.emit(row)  # a reply that landed while another call failed for good was paid for: keep it

    def emit(self, row: dict[str, Any]) -> None:
        self.sink.put(row, journal=True)
        progress = self.progress
        progress.done += 1
        progress.fresh += 1
        progress.failed += row["error"] is not None
        progress.calls = self.attempts[0]
        if self.on_progress is not None:
            self.on_progress(progress)

    async def verdict(self, unit: Unit) -> dict[str, Any]:
        """The verdict row of one unit exactly as a run would record it (offline score, unrenderable prompt,
        or a call with retries, parsing and one repair), without storing it: what "try on 5 rows" shows."""
        if unit.render_error is not None:
            return self._row(unit, error=unit.render_error)
        if not self.plan.is_llm:
            return self._offline_row(unit)
        return await self._judge(unit)

    # -- one LLM verdict ----------------------------------------------------------------------------
    async def _call(self, prompt: str) -> tuple[Completion, float]:
        request = self.plan.request(prompt)
        result = await call_with_retries(self.provider, request, self.limit, policy=self.policy,
                                         timeout=self.plan.timeout, rng=self.rng, counter=self.attempts,
                                         on_wait=self._waiting)
        if self.progress.waiting is not None:
            self.progress.waiting = None
            self._notice(None)
        return result.completion, result.latency_ms

    def _waiting(self, reason: str, seconds: float) -> None:
        """A call backs off: the progress line shows why and for how long, the Run page via the heartbeat."""
        progress = self.progress
        progress.waiting, progress.waiting_until = reason, time.monotonic() + seconds
        until = time.strftime("%H:%M:%S", time.localtime(time.time() + seconds))
        self._notice(f"waiting {seconds:,.0f} s (until {until}): {reason}")
        if self.on_progress is not None:
            self.on_progress(progress)

    def _notice(self, text: str | None) -> None:
        """What the Run page shows of a wait, through the sink's heartbeat; a trial (judge_items) has no sink."""
        if self.sink is not None:
            self.sink.notice = text

    async def _judge(self, unit: Unit) -> dict[str, Any]:
        """Call, parse; on an unreadable reply make ONE repair call; failures keep their reason, no score."""
        usage = _Usage()
        try:
            completion, latency = await self._call(unit.prompt)
        except CallFailed as exc:
            return self._row(unit, error=str(exc))
        usage.add(completion, latency)
        try:
            reasoning, score = parse_verdict(completion.text)
        except ParseFailure as first:
            unreadable = completion.text
            try:
                completion, latency = await self._call(f"{unit.prompt}\n\n{repair_prompt(unreadable, first.reason)}")
            except CallFailed as exc:
                return self._row(unit, completion=completion, usage=usage, price=self.price,
                                 error=f"unreadable reply ({first.reason}); the repair call failed: {exc}")
            usage.add(completion, latency)
            both = f"{unreadable}{REPAIR_SEPARATOR}{completion.text}"  # the audit keeps the unreadable reply too
            try:
                reasoning, score = parse_verdict(completion.text)
            except ParseFailure as second:
                return self._row(unit, completion=completion, usage=usage, price=self.price, raw_reply=both,
                                 error=f"unreadable reply ({first.reason}), even after one repair request: "
                                       f"{second.reason}")
            return self._row(unit, completion=completion, usage=usage, price=self.price, score=score,
                             reasoning=reasoning, weighted_score=weighted_score(completion.score_probs),
                             score_probs=completion.score_probs, raw_reply=both)
        return self._row(unit, completion=completion, usage=usage, price=self.price, score=score,
                         reasoning=reasoning, weighted_score=weighted_score(completion.score_probs),
                         score_probs=completion.score_probs)

    # -- rows ---------------------------------------------------------------------------------------
    def _row(self, unit: Unit, *, completion: Completion | None = None, usage: "_Usage | None" = None,
             price: tuple[float, float] | None = None, score: int | None = None, reasoning: str | None = None,
             weighted_score: float | None = None, error: str | None = None,
             raw_reply: str | None = None, batch_id: str | None = None,
             score_probs: dict[int, float] | None = None) -> dict[str, Any]:
        usage = usage or _Usage()
        cost = call_cost(price, usage.input_tokens, usage.output_tokens, cached_tokens=usage.cached_input_tokens,
                         cache_write_tokens=usage.cache_write_tokens, cache_rates=self.cache_rates,
                         batch=batch_id is not None) if usage.calls else None
        return {
            "run_id": self.plan.run_id, "item_uid": unit.item["uid"], "sample": unit.sample,
            "score": score, "weighted_score": weighted_score,
            "passed": None if score is None else score >= self.plan.spec.pass_threshold,
            "reasoning": reasoning, "raw_reply": raw_reply or (completion.text if completion else None),
            "prompt": unit.prompt, "model_reported": completion.model if completion else None,
            "input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
            "latency_ms": usage.latency_ms if usage.calls else None,
            "cost_usd": cost, "cache_key": unit.cache_key, "cached": False, "error": error,
            "cached_input_tokens": usage.cached_input_tokens, "cache_write_tokens": usage.cache_write_tokens,
            "batch_id": batch_id, "score_probs": json.dumps(score_probs) if score_probs else None,
        }

    def _offline_row(self, unit: Unit) -> dict[str, Any]:
        started = time.perf_counter()
        verdict = score_offline(self.plan.spec, unit.item)
        passed = verdict.passed
        if passed is None and verdict.score is not None:
            passed = verdict.score >= self.plan.spec.pass_threshold
        return {**self._row(unit, score=verdict.score, reasoning=verdict.reasoning, error=verdict.error),
                "passed": passed, "model_reported": f"offline/{self.plan.spec.kind}", "cost_usd": 0.0,
                "latency_ms": (time.perf_counter() - started) * 1000}


class _Usage:
    """Tokens and latency summed over the calls behind one verdict (a repair call costs too)."""

    def __init__(self):
        self.calls, self.latency_ms = 0, 0.0
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.cached_input_tokens: int | None = None
        self.cache_write_tokens: int | None = None

    def add(self, completion: Completion, latency_ms: float) -> None:
        self.calls += 1
        self.latency_ms += latency_ms
        if completion.input_tokens is not None:
            self.input_tokens = (self.input_tokens or 0) + completion.input_tokens
        if completion.output_tokens is not None:
            self.output_tokens = (self.output_tokens or 0) + completion.output_tokens
        if completion.cached_input_tokens is not None:
            self.cached_input_tokens = (self.cached_input_tokens or 0) + completion.cached_input_tokens
        if completion.cache_write_tokens is not None:
            self.cache_write_tokens = (self.cache_write_tokens or 0) + completion.cache_write_tokens


def weighted_score(score_probs: dict[int, float] | None) -> float | None:
    """sum(s * p(s)) over the scores, renormalized: a finer-grained score than the argmax."""
    if not score_probs:
        return None
    total = sum(p for s, p in score_probs.items() if 1 <= int(s) <= 5)
    if total <= 0:
        return None
    return sum(int(s) * p for s, p in score_probs.items() if 1 <= int(s) <= 5) / total
