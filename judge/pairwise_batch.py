"""Pairwise runs through the provider's batch API: half the price, results within 24 hours.

A pairwise run in batch mode is the runner's batch engine (judge/runner/batch.py) with pairwise work: each
unit is one (pair, shown order), its item uid `<pair uid>|<order>`, its request built exactly as a direct
pairwise call (`judge.pairwise`), and its cache key the one direct pairwise replies use, so an earlier reply
(direct or batch, any pairwise run) is copied instead of sent. Everything else is the engine's: a batch and
its units are recorded before they are sent and its provider ids the moment they are known, so a resume
(another process, after a kill) polls and collects what was sent and never sends it twice; every result
type is settled (repairs and transient errors go in a follow-up batch, or as direct calls with
`batch_retry="sync"`); replies from a batch cost the batch price. Replies land in `pairwise_verdicts`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any, Callable

from judge.errors import JudgeError
from judge.pricing import model_price
from judge.runner.batch import BatchEngine, cancel_batches
from judge.runner.calls import RetryPolicy
from judge.runner.engine import Progress
from judge.runner.plan import RunPlan, Unit
from judge.runner.sink import VerdictSink

CHUNK_SIZE = 1000
BATCH_RETRIES = ("batch", "sync")


def unit_uid(pair_uid: str, order: str) -> str:
    """The item uid of one (pair, shown order) unit in batch_units."""
    return f"{pair_uid}|{order}"


class PairwiseSink(VerdictSink):
    """The runner's journaled writer, storing pairwise replies (a pairwise run has no heartbeat)."""

    def _store_rows(self, rows: list[dict[str, Any]]) -> None:
        self.store.add_pairwise_verdicts(rows)

    def _heartbeat(self) -> None:
        return None


class PairwiseBatchEngine(BatchEngine):
    """BatchEngine over the (pair, shown order) replies a pairwise run has not got yet."""

    def __init__(self, plan: RunPlan, store, sink: PairwiseSink, progress: Progress, *, run: dict[str, Any],
                 spec, **options: Any):
        super().__init__(plan, store, sink, progress, **options)
        self.run_record, self.pairwise_spec = run, spec

    def _pending_chunks(self) -> Iterator[list[tuple[dict[str, Any], str]]]:
        """(pair, order) without a reply and in no open batch, CHUNK_SIZE at a time."""
        run_id = self.plan.run_id
        with self.store.transaction():
            done = self.store.done_pair_orders(run_id)
            in_flight = self.store.units_in_open_batches(run_id)
            pairs = self.store.pairs(self.run_record["dataset_name"]).to_dict("records")
        todo = [(pair, order) for pair in pairs for order in self.run_record["orders"]
                if (pair["uid"], order) not in done and (unit_uid(pair["uid"], order), 0) not in in_flight]
        for start in range(0, len(todo), CHUNK_SIZE):
            yield todo[start:start + CHUNK_SIZE]

    def _settle_chunk(self, chunks) -> tuple[list[Unit], int, int, int] | None:
        """Render the chunk's prompts; store cache copies and unrenderable prompts in one store visit; return
        (units to send, replies stored, cache copies, failures among them), or None when nothing is left."""
        from judge.pairwise import _cache_key, _copied, _shown_item

        chunk = next(chunks, None)
        if chunk is None:
            return None
        rows, units = [], []
        for pair, order in chunk:
            item = _shown_item(pair, order)
            try:
                prompt = self.plan.spec.render(item)
            except JudgeError as exc:  # this pair lacks a variable: its reply is an error, the run goes on
                rows.append(self._row(Unit(item, 0, "", ""), error=f"cannot render the prompt: {exc}"))
                continue
            key = _cache_key(self.pairwise_spec, self.plan.model, self.plan.base_url, prompt)
            units.append((pair["uid"], order, Unit(item, 0, prompt, key)))
        with self.store.transaction():
            hits = self.store.cached_pairwise_verdicts(unit.cache_key for _, _, unit in units)
            copies = [_copied(self.plan.run_id, uid, order, hits[unit.cache_key])
                      for uid, order, unit in units if unit.cache_key in hits]
            self.store.add_pairwise_verdicts(rows + copies)
        to_call = [unit for _, _, unit in units if unit.cache_key not in hits]
        return to_call, len(rows), len(copies), len(rows)

    def _collect(self, key: str, rows: list[dict[str, Any]], outcomes: list[tuple], *, status: str,
                 error: str | None) -> None:
        with self.store.transaction():  # the replies with their batch's outcome and status, one transaction
            self.store.add_pairwise_verdicts(rows)
            self.store.collect_batch(key, [], outcomes, status=status, error=error)

    def _row(self, unit: Unit, **fields: Any) -> dict[str, Any]:
        """The engine's verdict row as a pairwise reply (its choice in the pair's terms); item_uid and sample
        stay, they are how the engine knows the unit is settled."""
        from judge.pairwise import pair_choice, slot_choice

        row = super()._row(unit, **fields)
        pair_uid, _, order = unit.item["uid"].rpartition("|")
        return {"run_id": row["run_id"], "pair_uid": pair_uid, "shown_order": order, "score": row["score"],
                "choice": pair_choice(slot_choice(row["score"]), order), "reasoning": row["reasoning"],
                "raw_reply": row["raw_reply"], "prompt": row["prompt"], "model_reported": row["model_reported"],
                "input_tokens": row["input_tokens"], "output_tokens": row["output_tokens"],
                "latency_ms": row["latency_ms"], "cost_usd": row["cost_usd"], "cache_key": row["cache_key"],
                "cached": False, "error": row["error"], "batch_id": row["batch_id"],
                "item_uid": row["item_uid"], "sample": row["sample"]}


def batch_plan(run: dict[str, Any], llm_spec, *, concurrency: int, poll_seconds: float | None = None) -> RunPlan:
    """The runner's plan of a pairwise batch run, from its stored record."""
    settings = run["batch"] or {}
    return RunPlan(run_id=run["id"], dataset_id=-1, spec=llm_spec, model=run["model"], base_url=run["base_url"],
                   samples=1, concurrency=max(1, int(concurrency)), timeout=60.0,
                   total_items=int(run["total_pairs"]) * len(run["orders"]), batch=True,
                   batch_retry=settings.get("batch_retry", "batch"),
                   poll_seconds=poll_seconds or settings.get("poll_seconds"))


def execute_batch(store, run: dict[str, Any], spec, *, secrets: Mapping | None, concurrency: int,
                  poll_seconds: float | None, progress: Callable[[int, int], None] | None,
                  cancel: threading.Event | None) -> bool:
    """Submit, poll and collect until every (pair, order) is settled; True if cancelled first."""
    from judge.providers import get_provider
    from judge.runner import _drive, _run_coroutine

    plan = batch_plan(run, spec.as_judge_spec(), concurrency=concurrency, poll_seconds=poll_seconds)
    provider = get_provider(plan.model, base_url=plan.base_url, timeout=plan.timeout, secrets=secrets)
    sink = PairwiseSink(store, run["id"])  # replays what a killed execution journaled, and locks the run
    try:
        store.discard_failed_pairwise_verdicts(run["id"])
        done = store.pairwise_run(run["id"])
        tracker = Progress(total=plan.total_items, done=done["done"], failed=done["failed"], cached=done["cached"])
        on_progress = None if progress is None else (lambda p: progress(p.done, p.total))
        engine = PairwiseBatchEngine(plan, store, sink, tracker, run=run, spec=spec, provider=provider,
                                     policy=RetryPolicy(), price=model_price(plan.model, store.model_price_overrides()),
                                     on_progress=on_progress, poll_seconds=plan.poll_seconds)
        return _run_coroutine(_drive(engine, provider, cancel))
    finally:
        sink.close()


def cancel_batch(store, run: dict[str, Any], *, secrets: Mapping | None = None) -> int:
    """Ask the provider to cancel the run's open batches; what they finished is still collected."""
    from judge.pairwise import PairwiseSpec
    from judge.runner import _run_coroutine

    plan = batch_plan(run, PairwiseSpec.from_dict(run["spec_body"]).as_judge_spec(), concurrency=1)
    return _run_coroutine(cancel_batches(store, plan, secrets=secrets))
