"""Is a run whole enough to trust? Failed and missing verdicts counted, against an allowance.

A run whose calls failed has no scores for those rows, and its mean and pass rate describe only the rest: a
run where every call failed has no figures at all. So `judge run` exits non-zero when any verdict failed
(unless allowed), and `judge gate` and `judge baseline` refuse a run with more than DEFAULT_ALLOWANCE of its
verdicts failed or missing, saying how many and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from judge.errors import JudgeError

DEFAULT_ALLOWANCE = "2%"  # gate and baseline: at most 2% of a run's verdicts may be failed or missing


@dataclass(frozen=True)
class Allowance:
    """How many unjudged verdicts a check accepts: a count (`5`) or a share of the expected ones (`2%`)."""

    count: int | None = None
    share: float | None = None

    @classmethod
    def parse(cls, text: str | int | float) -> "Allowance":
        raw = str(text).strip()
        try:
            if raw.endswith("%"):
                share = float(raw[:-1]) / 100
                if not 0 <= share <= 1:
                    raise ValueError
                return cls(share=share)
            count = int(raw)
            if count < 0:
                raise ValueError
            return cls(count=count)
        except ValueError:
            raise JudgeError(f"Cannot read the failure allowance '{text}': give a count such as 5 or a share "
                             "such as 2%.") from None

    def limit(self, expected: int) -> int:
        """The most unjudged verdicts accepted out of `expected`."""
        return self.count if self.count is not None else int(self.share * expected)

    def __str__(self) -> str:
        return str(self.count) if self.count is not None else f"{self.share:.0%}"


@dataclass(frozen=True)
class Completeness:
    """Verdicts a run should have (items x samples), those judged, failed (error, no score) and missing."""

    run_id: str
    expected: int
    judged: int
    failed: int
    reasons: list[tuple[str, int]]  # the most common failure reasons with their counts

    @property
    def unjudged(self) -> int:
        return max(self.expected - self.judged, 0)

    @property
    def missing(self) -> int:
        return max(self.unjudged - self.failed, 0)

    def describe(self) -> str:
        parts = [f"{self.unjudged:,} of {self.expected:,} verdicts of run {self.run_id} have no score"]
        detail = []
        if self.failed:
            detail.append(f"{self.failed:,} failed")
        if self.missing:
            detail.append(f"{self.missing:,} never judged")
        if detail:
            parts.append(f" ({', '.join(detail)})")
        if self.reasons:
            reason, count = self.reasons[0]
            parts.append(f"; most common reason ({count:,}x): {reason}")
        return "".join(parts)

    def within(self, allowance: Allowance) -> bool:
        return self.judged > 0 and self.unjudged <= allowance.limit(self.expected)


def run_completeness(store, run_id: str) -> Completeness:
    with store.db.connect():
        run = store.run(run_id)
        reasons = store.failure_reasons(run_id)
    expected = max(int(run["total_items"] or 0) * int(run["samples"] or 1), int(run["done"]))
    return Completeness(run_id=run_id, expected=expected, judged=int(run["done"]) - int(run["failed"]),
                        failed=int(run["failed"]), reasons=reasons)


def require_complete(store, run_id: str, *, allowance: Allowance | str = DEFAULT_ALLOWANCE,
                     purpose: str) -> Completeness:
    """The run's Completeness, or JudgeError naming what is missing and why, when beyond the allowance."""
    allowance = allowance if isinstance(allowance, Allowance) else Allowance.parse(allowance)
    state = run_completeness(store, run_id)
    if not state.within(allowance):
        raise JudgeError(f"Cannot use run {run_id} {purpose}: {state.describe()}, more than the {allowance} "
                         f"allowed. Resume it (judge run --resume {run_id}) to retry the failed verdicts, "
                         "or pass --allow-failures to accept them.")
    return state
