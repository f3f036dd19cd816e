"""What a run has to do: its settings as stored, and its pending work in chunks with cache hits resolved.

Memory stays flat on big datasets: items are read CHUNK_SIZE at a time, each prompt is rendered when its
chunk is reached, and earlier verdicts are looked up by cache key one chunk at a time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterator

from judge.errors import JudgeError
from judge.pricing import estimate_tokens, model_price
from judge.specs import JudgeSpec

CHUNK_SIZE = 1000
# Each chunk costs a store visit (~0.1 s to open and checkpoint a big store), so work that holds no prompts
# takes bigger chunks: offline judges always, and an LLM run while its chunks are all cache hits.
OFFLINE_CHUNK_SIZE = 10_000
MAX_CACHED_CHUNK_SIZE = 8_000
# The "earlier verdict" of a cache hit that pending_units(copy_hits=True) has already copied into the run.
COPIED: dict[str, Any] = {}


@dataclass(frozen=True)
class RunPlan:
    """Everything `execute_run` needs, read back from the run row so any process can resume it."""

    run_id: str | None
    dataset_id: int
    spec: JudgeSpec
    model: str | None
    base_url: str | None
    samples: int
    concurrency: int
    timeout: float
    total_items: int
    item_uids: tuple[str, ...] | None = None  # judge only these items; None = the whole dataset

    @property
    def is_llm(self) -> bool:
        return self.spec.kind == "llm"

    @cached_property
    def call_params(self) -> dict[str, Any]:
        """Sampling parameters sent with each call (`logprobs` is a request flag, not a parameter)."""
        return {k: v for k, v in (self.spec.params or {}).items() if k != "logprobs"}

    @cached_property
    def template_hash(self) -> str:
        """The spec's template hash, computed once per run rather than once per cache key."""
        return self.spec.template_hash()

    @property
    def chunk_size(self) -> int:
        return CHUNK_SIZE if self.is_llm else OFFLINE_CHUNK_SIZE

    @property
    def wants_logprobs(self) -> bool:
        return bool((self.spec.params or {}).get("logprobs", True))


@dataclass
class Unit:
    """One (item, sample) to judge: its prompt (None for offline judges), cache key, or why it cannot run."""

    item: dict[str, Any]
    sample: int
    prompt: str | None
    cache_key: str
    render_error: str | None = None


def plan_from_run(store, run_id: str) -> RunPlan:
    run = store.run(run_id)
    params = run["params"]
    if "spec" not in params:
        raise JudgeError(f"Run {run_id} was not made by the runner (source: {run['source']}): it has nothing to resume.")
    return RunPlan(
        run_id=run_id, dataset_id=int(run["dataset_id"]), spec=JudgeSpec.from_dict(params["spec"]),
        model=run["model"], base_url=run["base_url"], samples=int(run["samples"]),
        concurrency=int(params.get("concurrency", 16)), timeout=float(params.get("timeout", 60.0)),
        total_items=int(run["total_items"] or 0),
        item_uids=tuple(params["item_uids"]) if params.get("item_uids") is not None else None,
    )


def _digest(parts: list[Any]) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def llm_cache_key(plan: RunPlan, prompt: str, sample: int) -> str:
    """Same model, endpoint, system prompt, rendered prompt, parameters and sample index: same verdict."""
    return _digest(["llm", plan.model, plan.base_url, plan.spec.system, prompt, plan.call_params,
                    plan.wants_logprobs, sample])


def offline_cache_key(plan: RunPlan, item: dict[str, Any], sample: int) -> str:
    fields = [item.get(k) for k in ("input", "output", "context", "reference")]
    return _digest(["offline", plan.template_hash, plan.spec.pass_threshold, fields, sample])


def pending_units(store, plan: RunPlan, *, copy_hits: bool = False
                  ) -> Iterator[list[tuple[Unit, dict[str, Any] | None]]]:
    """Chunks of (unit, earlier verdict under the same cache key or None) for every missing verdict.

    With `copy_hits`, cache hits are copied into the run right away, in one statement per chunk inside the
    chunk's store visit, and come back as (unit, COPIED): a cached re-run moves no verdict through Python.
    """
    after, size = -1, plan.chunk_size
    while True:
        with store.transaction():  # one store visit per chunk: its items, then its cache hits
            items = store.pending_items(plan.run_id, plan.dataset_id, plan.samples, after_position=after,
                                        limit=size, item_uids=plan.item_uids)
            if not items:
                return
            units = units_for(plan, items)
            callable_units = [u for u in units if u.render_error is None]
            if copy_hits:
                copied = store.copy_cached_verdicts(
                    plan.run_id, [(u.item["uid"], u.sample, u.cache_key) for u in callable_units],
                    pass_threshold=plan.spec.pass_threshold if plan.is_llm else None)
                chunk = [(u, COPIED if (u.item["uid"], u.sample) in copied else None) for u in units]
            else:
                hits = store.cached_verdicts(u.cache_key for u in callable_units)
                chunk = [(u, hits.get(u.cache_key)) for u in units]
        after = items[-1]["position"]
        if plan.is_llm and copy_hits:  # all copied: the next chunk may be bigger; any call: back to normal
            all_copied = all(hit is COPIED for _, hit in chunk)
            size = min(size * 2, MAX_CACHED_CHUNK_SIZE) if all_copied else plan.chunk_size
        if chunk:
            yield chunk


def units_for(plan: RunPlan, items: list[dict[str, Any]]) -> list[Unit]:
    """The (item, sample) units of each item's `missing` samples, prompts rendered, cache keys computed."""
    units = []
    for item in items:
        if not item["missing"]:
            continue
        prompt, error = None, None
        if plan.is_llm:
            try:
                prompt = plan.spec.render(item)
            except JudgeError as exc:
                error = f"cannot render the prompt: {exc}"
        for sample in item["missing"]:
            key = (llm_cache_key(plan, prompt or "", sample) if plan.is_llm
                   else offline_cache_key(plan, item, sample))
            units.append(Unit(item, sample, prompt, key, error))
    return units


@dataclass(frozen=True)
class Estimate:
    """Before a run: API calls to make, verdicts reused from the cache, tokens and cost (None = unknown)."""

    calls: int
    cached: int
    est_input_tokens: int
    est_output_tokens: int
    est_cost_usd: float | None

    def describe(self) -> str:
        cost = "cost unknown (no price for this model: judge prices set MODEL IN OUT)" \
            if self.est_cost_usd is None else f"about ${self.est_cost_usd:,.2f}"
        cached = f", {self.cached:,} reused from earlier runs" if self.cached else ""
        return f"about {self.calls:,} calls{cached}, {cost}"


def estimate_plan(store, plan: RunPlan) -> Estimate:
    """Input tokens ~ prompt characters / 4; output tokens ~ max_tokens (an upper-end guess); cache hits free."""
    calls = cached = input_tokens = 0
    system_tokens = estimate_tokens(plan.spec.system) if plan.spec.system else 0
    for chunk in pending_units(store, plan):
        for unit, hit in chunk:
            if hit is not None:
                cached += 1
            elif plan.is_llm and unit.render_error is None:
                calls += 1
                input_tokens += estimate_tokens(unit.prompt) + system_tokens
    output_tokens = calls * int(plan.call_params.get("max_tokens") or 600)
    if not plan.is_llm or calls == 0:
        cost: float | None = 0.0
    else:
        price = model_price(plan.model, store.model_price_overrides())
        cost = None if price is None else (input_tokens * price[0] + output_tokens * price[1]) / 1_000_000
    return Estimate(calls, cached, input_tokens, output_tokens, cost)
