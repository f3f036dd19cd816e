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

from judge.caching import MIN_CACHEABLE_TOKENS, cacheable_tokens, static_prefix
from judge.errors import JudgeError
from judge.pricing import BATCH_DISCOUNT, cache_prices, estimate_tokens, model_price
from judge.providers.base import JudgeRequest
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
    batch: bool = False  # through the provider's batch API (half price, results within 24 h)
    batch_retry: str = "batch"  # failed batch units: "batch" (a follow-up batch) or "sync" (direct calls)
    poll_seconds: float | None = None  # how often a batch run asks the provider; None = the default

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

    @cached_property
    def static_prefix(self) -> str:
        """The start of every prompt of this run, marked for the provider's cache (see judge.caching); "" when
        it (with the system prompt) is too short for any provider to cache."""
        if not self.is_llm or cacheable_tokens(self.spec) < MIN_CACHEABLE_TOKENS:
            return ""
        return static_prefix(self.spec)

    def request(self, prompt: str) -> JudgeRequest:
        return JudgeRequest(prompt=prompt, system=self.spec.system, params=self.call_params,
                            logprobs=self.wants_logprobs, static_prefix=self.static_prefix)

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
        batch=bool(params.get("batch", False)), batch_retry=params.get("batch_retry", "batch"),
        poll_seconds=params.get("poll_seconds"),
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
    """Before a run: API calls to make, verdicts reused from the cache, tokens and cost (None = unknown).

    `est_cost_usd` counts prompt caching (every call after the first reads the static prefix from the
    provider's cache when it is long enough); `uncached_cost_usd` is the same calls without it, and
    `batch_cost_usd` the price through the batch API."""

    calls: int
    cached: int
    est_input_tokens: int
    est_output_tokens: int
    est_cost_usd: float | None
    est_cached_input_tokens: int = 0
    uncached_cost_usd: float | None = None
    batch_cost_usd: float | None = None

    @property
    def caching_saves_usd(self) -> float:
        if self.est_cost_usd is None or self.uncached_cost_usd is None:
            return 0.0
        return max(0.0, self.uncached_cost_usd - self.est_cost_usd)

    def describe(self, *, batch: bool = False) -> str:
        if self.est_cost_usd is None:
            cost = "cost unknown (no price for this model: judge prices set MODEL IN OUT)"
        elif batch:
            cost = f"batch, 50% cheaper, results within 24 h: about ${self.batch_cost_usd:,.2f}"
        else:
            cost = f"about ${self.est_cost_usd:,.2f}"
        cached = f", {self.cached:,} reused from earlier runs" if self.cached else ""
        saving = ""
        if self.est_cached_input_tokens and self.est_input_tokens:
            share = self.est_cached_input_tokens / self.est_input_tokens
            saving = f" (prompt caching: {share:.0%} of input tokens from the provider's cache"
            saving += f", saves about ${self.caching_saves_usd * (BATCH_DISCOUNT if batch else 1):,.2f})" \
                if self.est_cost_usd is not None else ")"
        return f"about {self.calls:,} calls{cached}, {cost}{saving}"


def estimate_plan(store, plan: RunPlan) -> Estimate:
    """Input tokens ~ prompt characters / 4; output tokens ~ max_tokens (an upper-end guess); cache hits free.

    Prompt caching: with a static prefix of at least MIN_CACHEABLE_TOKENS, every call after the first reads
    it from the provider's cache (the first one writes it)."""
    calls = cached = input_tokens = 0
    system_tokens = estimate_tokens(plan.spec.system) if plan.spec.system else 0
    # A resumed batch run only collects what its open batches hold: that work is already paid for.
    submitted = store.units_in_open_batches(plan.run_id) if plan.batch and plan.run_id else set()
    for chunk in pending_units(store, plan):
        for unit, hit in chunk:
            if (unit.item["uid"], unit.sample) in submitted:
                continue
            if hit is not None:
                cached += 1
            elif plan.is_llm and unit.render_error is None:
                calls += 1
                input_tokens += estimate_tokens(unit.prompt) + system_tokens
    output_tokens = calls * int(plan.call_params.get("max_tokens") or 600)
    prefix_tokens = cacheable_tokens(plan.spec)
    cacheable = plan.is_llm and calls > 1 and prefix_tokens >= MIN_CACHEABLE_TOKENS
    read = (calls - 1) * prefix_tokens if cacheable else 0
    written = prefix_tokens if cacheable else 0
    if not plan.is_llm or calls == 0:
        return Estimate(calls, cached, input_tokens, output_tokens, 0.0, 0, 0.0, 0.0)
    price = model_price(plan.model, store.model_price_overrides())
    if price is None:
        return Estimate(calls, cached, input_tokens, output_tokens, None, read)
    rates = cache_prices(plan.model, price)
    provider = (plan.model or "").partition("/")[0]
    written = written if provider == "anthropic" else 0  # OpenAI bills no cache writes
    cost = ((input_tokens - read - written) * price[0] + read * rates[0] + written * rates[1]
            + output_tokens * price[1]) / 1_000_000
    uncached = (input_tokens * price[0] + output_tokens * price[1]) / 1_000_000
    return Estimate(calls, cached, input_tokens, output_tokens, cost, read, uncached, cost * BATCH_DISCOUNT)
