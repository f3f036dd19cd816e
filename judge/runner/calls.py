"""One judge call made robust: bounded and adaptive concurrency, retries with backoff, a per-call timeout.

`AdaptiveLimit` is AIMD congestion control for an API: a 429 cuts the number of calls allowed in flight by
30% (at most once per `cooldown`, since one burst of 429s is one signal), and every success creeps it back
up by 1/limit, i.e. by one call per round of successes. So a run slows down by itself while a provider keeps
rate-limiting it, and returns to full speed when the provider recovers.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import Callable

from judge.errors import RunAborted
from judge.providers.base import Completion, JudgeRequest, Provider, ProviderError


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: `max_retries` after the first attempt, exponential backoff with jitter."""

    max_retries: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before retry number `attempt` (0-based); a server's Retry-After is honoured
        (up to `max_retry_after`), with up to 10% jitter so throttled calls do not return in lockstep."""
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_retry_after) * (1 + 0.1 * rng.random())
        cap = min(self.max_delay, self.base_delay * 2 ** attempt)
        return cap / 2 + rng.uniform(0, cap / 2)


class CallFailed(Exception):
    """A call that exhausted its retries or failed for good; the reason is recorded with the verdict."""


class AdaptiveLimit:
    """A semaphore whose size moves between 1 and `maximum` (see the module docstring)."""

    def __init__(self, maximum: int, *, cooldown: float = 1.0, decrease: float = 0.7):
        self.maximum = max(1, int(maximum))
        self.limit = float(self.maximum)
        self.in_flight = 0
        self.cooldown, self.decrease = cooldown, decrease
        self._last_cut = float("-inf")
        self._waiters: list[asyncio.Future] = []

    async def acquire(self) -> None:
        while self.in_flight >= int(self.limit):
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        self.in_flight += 1

    def release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def throttled(self) -> None:
        now = time.monotonic()
        if now - self._last_cut >= self.cooldown:
            self.limit = max(1.0, self.limit * self.decrease)
            self._last_cut = now

    def succeeded(self) -> None:
        if self.limit < self.maximum:
            self.limit = min(float(self.maximum), self.limit + 1 / self.limit)
            self._wake()

    def _wake(self) -> None:
        free = int(self.limit) - self.in_flight
        while free > 0 and self._waiters:
            waiter = self._waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                free -= 1


@dataclass
class CallResult:
    completion: Completion
    latency_ms: float
    attempts: int


async def call_with_retries(provider: Provider, request: JudgeRequest, limit: AdaptiveLimit, *,
                            policy: RetryPolicy, timeout: float, rng: random.Random, counter: list[int],
                            on_wait: Callable[[str, float], None] | None = None) -> CallResult:
    """Send the request until it succeeds; CallFailed(reason) when it cannot, RunAborted when no call of the
    run can (a rejected key, an unknown model). `counter[0]` counts attempts.

    The concurrency slot is held only while the request is in flight, never while backing off. `on_wait`
    hears (why, seconds) before each back-off, so a long wait (a Retry-After of an hour) is shown, not silent.
    """
    last_error = "no attempt made"
    for attempt in range(policy.max_retries + 1):
        await limit.acquire()
        counter[0] += 1
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                completion = await provider.complete(request)
        except ProviderError as exc:
            error = exc
        except TimeoutError:
            error = ProviderError(f"no reply within {timeout:g} s", retryable=True)
        except Exception as exc:  # a provider bug must fail this verdict with its reason, not the whole run
            error = ProviderError(f"{type(exc).__name__}: {exc}", retryable=False)
        else:
            limit.release()
            limit.succeeded()
            return CallResult(completion, (time.perf_counter() - started) * 1000, attempt + 1)
        limit.release()
        if error.status == 429:
            limit.throttled()
        status = f"HTTP {error.status}: " if error.status else ""
        last_error = f"{status}{error}"
        if error.fatal:
            raise RunAborted(str(error))
        if not error.retryable:
            raise CallFailed(last_error)
        if attempt < policy.max_retries:
            delay = policy.delay(attempt, error.retry_after, rng)
            if on_wait is not None:
                asked = error.retry_after
                capped = f" (the server asked {asked:,.0f} s)" if asked is not None and asked > delay + 1 else ""
                on_wait(f"{last_error}{capped}; retry {attempt + 1} of {policy.max_retries}", delay)
            await asyncio.sleep(delay)
    raise CallFailed(f"gave up after {policy.max_retries + 1} attempts; last error: {last_error}")
