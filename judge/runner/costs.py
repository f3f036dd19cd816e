"""What a run saved: prompt caching (tokens read from the provider's cache) and batch prices (half price).

Computed from the tokens stored with each paid verdict and the run model's price table entry, so `judge show`,
the run page and the Python API report the same figures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from judge.pricing import BATCH_DISCOUNT, cache_prices, model_price


@dataclass(frozen=True)
class RunSavings:
    input_tokens: int
    cached_input_tokens: int
    cache_write_tokens: int
    caching_saved_usd: float | None  # None: the model has no known price
    batch_verdicts: int
    batch_saved_usd: float | None

    @property
    def cached_share(self) -> float:
        return self.cached_input_tokens / self.input_tokens if self.input_tokens else 0.0

    def describe(self) -> str:
        """One line for `judge show` ("" when the run used neither caching nor batches)."""
        parts = []
        if self.cached_input_tokens or self.cache_write_tokens:
            saved = "" if self.caching_saved_usd is None else f", saved ${self.caching_saved_usd:,.4f}"
            parts.append(f"prompt caching: {self.cached_input_tokens:,} of {self.input_tokens:,} input tokens "
                         f"({self.cached_share:.0%}) read from the cache, {self.cache_write_tokens:,} written{saved}")
        if self.batch_verdicts:
            saved = "" if self.batch_saved_usd is None else f", saved ${self.batch_saved_usd:,.4f}"
            parts.append(f"batch: {self.batch_verdicts:,} verdicts at half price{saved}")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "cached_share": self.cached_share}


def run_savings(store, run: dict[str, Any]) -> RunSavings:
    """The savings of a run (a `store.run(...)` row)."""
    usage = store.run_usage(run["id"])
    price = model_price(run["model"], store.model_price_overrides()) if run["model"] else None
    rates = cache_prices(run["model"], price)
    caching_saved: float | None = None
    if price is not None:
        caching_saved = 0.0
        for kind, factor in (("direct", 1.0), ("batch", BATCH_DISCOUNT)):
            part = usage[kind]
            caching_saved += factor * (part["cached_input_tokens"] * (price[0] - rates[0])
                                       - part["cache_write_tokens"] * (rates[1] - price[0])) / 1_000_000
    batch = usage["batch"]
    return RunSavings(
        input_tokens=int(sum(u["input_tokens"] for u in usage.values())),
        cached_input_tokens=int(sum(u["cached_input_tokens"] for u in usage.values())),
        cache_write_tokens=int(sum(u["cache_write_tokens"] for u in usage.values())),
        caching_saved_usd=caching_saved, batch_verdicts=int(batch["calls"]),
        batch_saved_usd=None if price is None else float(batch["cost_usd"]),
    )
