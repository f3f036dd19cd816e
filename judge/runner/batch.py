"""Batch mode: a run's pending work goes to the provider's batch API (half price, results within 24 h).

Each loop of `BatchEngine` submits what is pending and not already with the provider, polls the open batches
and collects those that ended. A batch is recorded with its units (item, sample, cache key, custom_id)
BEFORE it is sent and its provider ids as soon as they are known, so any process that resumes the run polls
and collects it and never sends the same work twice; a creation cut off before its id was stored is found
again at the provider (OpenAI: by our key in the batch metadata; Anthropic: by size and time).

Every result is settled: a reply becomes a verdict, an unreadable one gets its repair request, expired
units and transient errors are sent again (a follow-up batch, or direct calls with `batch_retry="sync"`)
up to MAX_BATCH_ATTEMPTS, other errors are stored with the provider's message and no score. Canceled units
stay without a verdict: a later resume sends them again.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import Any

from judge.errors import JudgeError
from judge.parsing import ParseFailure, parse_verdict, repair_prompt
from judge.providers.base import Completion, ProviderError
from judge.providers.batches import BatchResult, BatchState, batch_api
from judge.runner.calls import CallFailed
from judge.runner.engine import Engine, _Usage, weighted_score
from judge.runner.plan import Unit, pending_units

MAX_BATCH_ATTEMPTS = 3
# Without a fixed poll interval, polls start FIRST_POLL_SECONDS apart and back off to MAX_POLL_SECONDS: a small
# batch is collected within seconds, a 24-hour one costs a request a minute.
FIRST_POLL_SECONDS, MAX_POLL_SECONDS = 1.0, 60.0
# Consecutive failed submissions (provider down) before the run stops; a resume carries on.
MAX_SUBMIT_FAILURES = 5


def custom_id(kind: str, attempt: int, unit: Unit) -> str:
    """Names the unit of work (item, sample, cache key) within the 64 characters both providers allow."""
    digest = hashlib.sha256(f"{unit.item['uid']}|{unit.sample}|{unit.cache_key}".encode()).hexdigest()[:40]
    return f"{kind[0]}{attempt}-{digest}"


class BatchEngine(Engine):
    """Engine's settling, rows and progress, with batches instead of one call per unit."""

    def __init__(self, *args: Any, poll_seconds: float | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.api = batch_api(self.provider)
        self.poll_seconds = poll_seconds
        self.canceled = False
        self._held_back: set[tuple[str, int]] = set()  # canceled in this execution: sent again on a resume
        # Units settled in this execution (through the sink or a collected batch): a failed verdict counts as
        # pending work for the NEXT execution (a resume judges it again), never for this one.
        self._emitted: set[tuple[str, int]] = set()
        self._submit_failures = 0

    async def run(self, cancel) -> bool:
        stopped = await super().run(cancel)
        return stopped or self.canceled

    async def _judge_all(self) -> None:
        await self._recover_unrecorded()
        wait: float | None = None
        while True:
            if not self.canceled:
                await self._submit_pending()
            open_batches = await asyncio.to_thread(self.store.open_batches, self.plan.run_id)
            if not open_batches and not self._submit_failures:  # a failed submission is tried again after a wait
                return
            self.canceled |= any(batch["cancel_requested"] for batch in open_batches)
            collected = False
            for batch in open_batches:
                collected |= await self._poll(batch)
            wait = wait if not collected else None
            wait = self.poll_seconds or (FIRST_POLL_SECONDS if wait is None else min(wait * 1.5, MAX_POLL_SECONDS))
            if not collected:
                await asyncio.sleep(wait)

    # -- submitting ---------------------------------------------------------------------------------
    async def _recover_unrecorded(self) -> None:
        """A batch recorded but without its provider id: created before a crash (adopt it) or never (forget)."""
        for batch in await asyncio.to_thread(self.store.open_batches, self.plan.run_id):
            if batch["batch_id"] is not None:
                continue
            found = await self.api.find(batch, await asyncio.to_thread(self.store.known_batch_ids))
            if found is None:
                await asyncio.to_thread(self.store.forget_unsent_batch, batch["key"])
            else:
                await asyncio.to_thread(self.store.update_batch, batch["key"], batch_id=found, status="submitted")

    async def _submit_pending(self) -> None:
        run_id = self.plan.run_id
        in_flight = await asyncio.to_thread(self.store.units_in_open_batches, run_id)
        history = await asyncio.to_thread(self.store.unit_history, run_id)
        chunks = self._pending_chunks()
        group: list[tuple[dict[str, Any], bytes]] = []
        size, direct = 0, []
        while (settled := await asyncio.to_thread(self._settle_chunk, chunks)) is not None:
            to_call, stored, copied, failed = settled
            self._count(stored + copied, copied, failed)
            for unit in to_call:
                key = (unit.item["uid"], unit.sample)
                if key in in_flight or key in self._held_back or key in self._emitted:
                    continue
                past = history.get(key)
                if past is not None and past["outcome"] == "retry" and past["retries"] >= MAX_BATCH_ATTEMPTS:
                    self.emit(self._row(unit, error=f"no result after {past['retries']} batches: {past['reason']}"))
                    continue
                if past is not None and past["outcome"] in ("retry", "repair") and self.plan.batch_retry == "sync":
                    direct.append((unit, past))
                    continue
                entry = self._entry(unit, past)
                if group and (len(group) >= self.api.max_requests or size + len(entry[1]) > self.api.max_bytes):
                    await self._submit(group)
                    group, size = [], 0
                group.append(entry)
                size += len(entry[1])
        if group:
            await self._submit(group)
        await self._judge_directly(direct)

    def _entry(self, unit: Unit, past: dict[str, Any] | None) -> tuple[dict[str, Any], bytes]:
        """The unit's row in batch_units and its request line: a repair request if its reply was unreadable."""
        repair = past is not None and past["outcome"] == "repair"
        attempt = 0 if past is None else past["retries"] + 1
        kind = "repair" if repair else "judge"
        prompt = unit.prompt
        if repair:
            carried = past["carried"]
            prompt = f"{unit.prompt}\n\n{repair_prompt(carried['text'], carried['reason'])}"
        row = {"custom_id": custom_id(kind, attempt, unit), "attempt": attempt, "item_uid": unit.item["uid"],
               "sample": unit.sample, "cache_key": unit.cache_key, "kind": kind, "prompt": unit.prompt,
               "carried": past["carried"] if repair else None}
        return row, self.api.line(row["custom_id"], self.plan.request(prompt))

    async def _submit(self, group: list[tuple[dict[str, Any], bytes]]) -> None:
        """Record the batch, then send it; its provider ids are stored the moment they are known."""
        key = f"{self.plan.run_id}-{uuid.uuid4().hex[:10]}"
        units = [row for row, _ in group]
        rounds = max(row["attempt"] for row in units)
        await asyncio.to_thread(self.store.add_batch, key=key, run_id=self.plan.run_id, provider=self.api.vendor,
                                round=rounds, units=units)

        async def record(**fields: Any) -> None:
            await asyncio.to_thread(self.store.update_batch, key, **fields)

        try:
            batch_id = await self.api.submit(key, [line for _, line in group], record)
        except ProviderError as exc:
            await self._submit_failed(key, units, exc)
            return
        self._submit_failures = 0
        await record(batch_id=batch_id, status="submitted")

    async def _submit_failed(self, key: str, units: list[dict[str, Any]], exc: ProviderError) -> None:
        if exc.status in (401, 403):
            await asyncio.to_thread(self.store.forget_unsent_batch, key)
            raise JudgeError(str(exc))
        if exc.retryable:  # the provider may have created it before failing: look, else send it again later
            batch = next(b for b in await asyncio.to_thread(self.store.open_batches, self.plan.run_id)
                         if b["key"] == key)
            found = await self.api.find(batch, await asyncio.to_thread(self.store.known_batch_ids))
            if found is not None:
                await asyncio.to_thread(self.store.update_batch, key, batch_id=found, status="submitted")
                return
            await self.api.clean_up(batch, BatchState("never created", ended=True))  # its uploaded file, if any
            await asyncio.to_thread(self.store.forget_unsent_batch, key)
            self._submit_failures += 1
            if self._submit_failures >= MAX_SUBMIT_FAILURES:
                raise JudgeError(f"Could not submit a batch {self._submit_failures} times in a row: {exc}. "
                                 "Resume the run later (judge run --resume RUN).")
            return
        rows = [self._batch_row(unit, error=f"the provider refused the batch: {exc}") for unit in units]
        await asyncio.to_thread(self._collect, key,
                                rows, [(u["custom_id"], "stored", str(exc), None) for u in units],
                                status="failed", error=str(exc))
        self._count(len(rows), 0, len(rows))

    # -- polling and collecting ---------------------------------------------------------------------
    async def _poll(self, batch: dict[str, Any]) -> bool:
        """Collect the batch if it ended; False while the provider is still working on it (or unreachable)."""
        try:
            state = await self.api.state(batch["batch_id"])
        except ProviderError as exc:
            if exc.retryable:
                return False
            raise JudgeError(f"Cannot read batch {batch['batch_id']} of run {self.plan.run_id}: {exc}") from None
        if state.provider_status != batch["provider_status"]:
            await asyncio.to_thread(self.store.update_batch, batch["key"], provider_status=state.provider_status,
                                    output_file_id=state.output_file_id, error_file_id=state.error_file_id)
        if not state.ended:
            return False
        units = await asyncio.to_thread(self.store.batch_units, batch["key"])
        results: dict[str, BatchResult] = {}
        if state.refused is None:
            try:
                results = {result.custom_id: result async for result in self.api.results(batch["batch_id"], state)}
            except ProviderError as exc:
                if exc.retryable:  # read them again at the next poll; nothing is stored until all are read
                    return False
                raise JudgeError(f"Cannot read the results of batch {batch['batch_id']}: {exc}") from None
        rows, outcomes, direct = [], [], []
        history = await asyncio.to_thread(self.store.unit_history, self.plan.run_id)
        for unit in units:
            result = results.get(unit["custom_id"]) or self._missing(unit, state, batch)
            row, outcome = self._settle(unit, result, batch["batch_id"], history)
            if row is not None:
                rows.append(row)
            outcomes.append(outcome)
            if outcome[1] in ("retry", "repair") and self.plan.batch_retry == "sync":
                direct.append(unit)
        status = "failed" if state.refused is not None else "collected"
        await asyncio.to_thread(self._collect, batch["key"], rows, outcomes, status=status, error=state.refused)
        self._emitted.update((row["item_uid"], int(row["sample"])) for row in rows)
        self._count(len(rows), 0, sum(row["error"] is not None for row in rows))
        await self.api.clean_up(batch, state)
        if direct:
            history = await asyncio.to_thread(self.store.unit_history, self.plan.run_id)
            await self._judge_directly([(self._unit(u), history[(u["item_uid"], int(u["sample"]))]) for u in direct])
        return True

    def _missing(self, unit: dict[str, Any], state: BatchState, batch: dict[str, Any]) -> BatchResult:
        """A unit with no line in any result file: refused with its batch, canceled, or expired."""
        if state.refused is not None:
            return BatchResult(unit["custom_id"], "errored", message=f"the batch failed validation: {state.refused}")
        if state.cancelled or batch["cancel_requested"]:
            return BatchResult(unit["custom_id"], "canceled", message="the batch was canceled")
        return BatchResult(unit["custom_id"], "expired", message="no result before the batch ended",
                           retryable=True)

    def _settle(self, unit: dict[str, Any], result: BatchResult, batch_id: str,
                history: dict[tuple[str, int], dict[str, Any]]) -> tuple[dict | None, tuple]:
        """(verdict row or None, (custom_id, outcome, reason, carried)) for one result."""
        work = self._unit(unit)
        usage = _carried_usage(unit["carried"]) if unit["kind"] == "repair" else _Usage()
        first_reason = unit["carried"]["reason"] if unit["kind"] == "repair" else None
        cid = unit["custom_id"]
        if result.kind == "canceled":
            self.canceled = True
            self._held_back.add((unit["item_uid"], int(unit["sample"])))
            return None, (cid, "canceled", result.message, None)
        if result.kind != "succeeded":
            past = history.get((unit["item_uid"], int(unit["sample"])))
            retries = (past["retries"] if past else 0) + 1
            if result.retryable and retries < MAX_BATCH_ATTEMPTS:
                return None, (cid, "retry", result.message, None)
            what = "the repair request" if first_reason else "the batch request"
            error = f"{what} failed: {result.message}"
            if first_reason:
                error = f"unreadable reply ({first_reason}); {error}"
            row = self._batch_row(unit, usage=usage, error=error, batch_id=batch_id)
            return row, (cid, "stored", result.message, None)
        usage.add(result.completion, 0.0)
        try:
            reasoning, score = parse_verdict(result.completion.text)
        except ParseFailure as failure:
            if first_reason is None:
                carried = {"text": result.completion.text, "reason": failure.reason, **_usage_dict(usage)}
                return None, (cid, "repair", failure.reason, carried)
            row = self._row(work, completion=result.completion, usage=usage, price=self.price, batch_id=batch_id,
                            error=f"unreadable reply, even after one repair request: {failure.reason}")
            return _no_latency(row), (cid, "stored", failure.reason, None)
        row = self._row(work, completion=result.completion, usage=usage, price=self.price, score=score,
                        reasoning=reasoning, weighted_score=weighted_score(result.completion.score_probs),
                        score_probs=result.completion.score_probs, batch_id=batch_id)
        return _no_latency(row), (cid, "stored", None, None)

    # -- direct calls for retries and repairs (batch_retry="sync") ----------------------------------
    async def _judge_directly(self, work: list[tuple[Unit, dict[str, Any]]]) -> None:
        async def one(unit: Unit, past: dict[str, Any]) -> None:
            if past["outcome"] != "repair":
                self.emit(await self._judge(unit))
                return
            carried, usage = past["carried"], _carried_usage(past["carried"])
            try:
                completion, latency = await self._call(
                    f"{unit.prompt}\n\n{repair_prompt(carried['text'], carried['reason'])}")
            except CallFailed as exc:
                self.emit(self._row(unit, usage=usage, price=self.price,
                                    error=f"unreadable reply ({carried['reason']}); the repair call failed: {exc}"))
                return
            usage.add(completion, latency)
            try:
                reasoning, score = parse_verdict(completion.text)
            except ParseFailure as failure:
                self.emit(self._row(unit, completion=completion, usage=usage, price=self.price,
                                    error=f"unreadable reply, even after one repair request: {failure.reason}"))
                return
            self.emit(self._row(unit, completion=completion, usage=usage, price=self.price, score=score,
                                reasoning=reasoning, weighted_score=weighted_score(completion.score_probs),
                                score_probs=completion.score_probs))

        await asyncio.gather(*(one(unit, past) for unit, past in work))

    # -- helpers ------------------------------------------------------------------------------------
    def _pending_chunks(self):
        """The run's pending work for `_settle_chunk`: chunks of (unit, cache hit) of the dataset's items."""
        return pending_units(self.store, self.plan, copy_hits=True)

    def _collect(self, key: str, rows: list[dict[str, Any]], outcomes: list[tuple], *, status: str,
                 error: str | None) -> None:
        """Store a batch's verdicts, unit outcomes and status in one transaction."""
        self.store.collect_batch(key, rows, outcomes, status=status, error=error)

    def emit(self, row: dict[str, Any]) -> None:
        self._emitted.add((row["item_uid"], row["sample"]))
        super().emit(row)

    @staticmethod
    def _unit(unit: dict[str, Any]) -> Unit:
        return Unit({"uid": unit["item_uid"]}, int(unit["sample"]), unit["prompt"], unit["cache_key"])

    def _batch_row(self, unit: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return _no_latency(self._row(self._unit(unit), price=self.price, **fields))

    def _count(self, stored: int, copied: int, failed: int) -> None:
        progress = self.progress
        progress.done += stored
        progress.fresh += stored
        progress.cached += copied
        progress.failed += failed
        progress.calls = self.attempts[0]
        if self.on_progress is not None and (stored or copied):
            self.on_progress(progress)


def _usage_dict(usage: _Usage) -> dict[str, Any]:
    return {"calls": usage.calls, "input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
            "cached_input_tokens": usage.cached_input_tokens, "cache_write_tokens": usage.cache_write_tokens}


def _carried_usage(carried: dict[str, Any]) -> _Usage:
    """The usage of the first, unreadable reply, which the verdict pays for along with its repair."""
    usage = _Usage()
    usage.add(Completion(text="", model="", input_tokens=carried.get("input_tokens"),
                         output_tokens=carried.get("output_tokens"),
                         cached_input_tokens=carried.get("cached_input_tokens"),
                         cache_write_tokens=carried.get("cache_write_tokens")), 0.0)
    return usage


def _no_latency(row: dict[str, Any]) -> dict[str, Any]:
    """A batch reply has no per-call latency: stored as unknown rather than 0 ms."""
    return {**row, "latency_ms": None} if row.get("batch_id") else row


async def cancel_batches(store, plan, *, secrets=None) -> int:
    """Ask the provider to cancel every open batch of the run; marked in the store so collection knows."""
    from judge.providers import get_provider

    open_batches = await asyncio.to_thread(store.open_batches, plan.run_id)
    if not open_batches:
        return 0
    provider = get_provider(plan.model, base_url=plan.base_url, timeout=plan.timeout, secrets=secrets)
    api = batch_api(provider)
    try:
        for batch in open_batches:
            if batch["batch_id"] is not None:
                await api.cancel(batch["batch_id"])
            await asyncio.to_thread(store.update_batch, batch["key"], cancel_requested=True)
    finally:
        await provider.aclose()
    return len(open_batches)
