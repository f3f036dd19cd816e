"""Calibrating a funnel of judges: Trust or Escalate's fixed-sequence testing (Jung, Brahman and Choi, 2025).

A funnel's judge stages run cheapest first; each settles the items it is confident enough about and passes
the rest on, and people get what no stage settles. For stage k, on the calibration items that reach it
(not settled by an earlier stage), candidate thresholds are walked from high to low confidence. For a
threshold lambda the kept set is the items with confidence >= lambda, and the null hypothesis is "the stage
disagrees with people on more than alpha of its kept items". Its p-value is the exact binomial tail
P(Bin(n_kept, alpha) <= errors). The walk goes down while p <= delta_k and keeps the last threshold that
rejected (fixed-sequence testing: the order is fixed before looking, so no multiplicity correction is
needed along the walk). delta_k = delta / (number of judge stages) (Bonferroni), so with probability at
least 1 - delta every stage's kept verdicts agree with people at least 1 - alpha of the time at once, and
so do the settled verdicts of the whole funnel (a mixture of the stages' kept sets).

The guarantee assumes the calibration items and the items the funnel later settles are exchangeable (drawn
from the same distribution, e.g. a random split of one dataset): it says nothing about items of another kind.

Everything here is pure (arrays in, records out), so it is tested exactly and reused by the benchmark.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import scipy.stats

from judge.errors import JudgeError

DEFAULT_ALPHA = 0.1
DEFAULT_DELTA = 0.1
DEFAULT_CALIBRATION_SHARE = 0.5
# Looking this far for the label count that would make a threshold reject (beyond it: "more than this").
MAX_LABELS_SEARCHED = 100_000


@dataclass(frozen=True)
class StageCalibration:
    """What calibration found for one judge stage; `threshold` None means it escalates every item."""
    stage: int
    reached: int                 # calibration items that reached this stage
    threshold: float | None      # settle an item when its confidence >= threshold
    kept: int                    # calibration items it would settle at that threshold
    errors: int                  # of those, how many disagree with people
    p_value: float | None        # of the last threshold tested (the one kept, or the first that failed)
    delta: float                 # delta_k = delta / judge stages
    alpha: float
    labels_needed: int | None = None   # when no threshold rejects: calibration labels that would let one
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "StageCalibration":
        return cls(**data)


def check_risk(alpha: float, delta: float) -> tuple[float, float]:
    """alpha and delta as floats strictly between 0 and 1; a JudgeError that says so otherwise."""
    for name, value in (("alpha", alpha), ("delta", delta)):
        if not isinstance(value, (int, float)) or not 0 < float(value) < 1:
            raise JudgeError(f"{name} is a share strictly between 0 and 1 (e.g. 0.1), not {value!r}.")
    return float(alpha), float(delta)


def binomial_p_value(errors: int, kept: int, alpha: float) -> float:
    """P(Bin(kept, alpha) <= errors): how surprising so few errors would be if the true rate were alpha.

    Small when the kept verdicts disagree with people far less often than alpha; 1 for an empty kept set.
    """
    if kept <= 0:
        return 1.0
    return float(scipy.stats.binom.cdf(int(errors), int(kept), float(alpha)))


def labels_to_reject(error_rate: float, alpha: float, delta: float) -> int | None:
    """The smallest kept-set size n at which an observed error rate would reject H0 at level delta
    (P(Bin(n, alpha) <= ceil(rate * n)) <= delta: errors rounded up, so the projection is not optimistic);
    None when the rate is alpha or more, or when more than MAX_LABELS_SEARCHED items would be needed."""
    if error_rate >= alpha:
        return None
    # Start well below the normal approximation's n = (z sqrt(alpha (1 - alpha)) / (alpha - rate))^2.
    z = float(scipy.stats.norm.ppf(1 - delta))
    guess = (z * math.sqrt(alpha * (1 - alpha)) / (alpha - error_rate)) ** 2
    sizes = np.arange(1, MAX_LABELS_SEARCHED + 1)
    start = min(int(guess / 4), MAX_LABELS_SEARCHED)
    while start < len(sizes):  # in growing blocks, so the usual case costs one small block
        block = sizes[start:start * 4 + 64]
        p_values = scipy.stats.binom.cdf(np.ceil(error_rate * block - 1e-9), block, alpha)
        hits = np.flatnonzero(p_values <= delta)
        if len(hits):
            return int(block[hits[0]])
        start += len(block)
    return None


def smallest_provable(alpha: float, delta: float) -> int:
    """The fewest kept items that can reject H0 at all (every one agreeing): (1 - alpha)^n <= delta."""
    return max(1, math.ceil(math.log(delta) / math.log1p(-alpha) - 1e-12))


def kept_counts(confidence: np.ndarray, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(candidate thresholds high to low, kept items, kept errors) over the items with a confidence."""
    valid = ~np.isnan(confidence)
    conf, wrong = confidence[valid], ~correct[valid]
    order = np.argsort(-conf, kind="stable")
    conf, wrong = conf[order], wrong[order]
    errors = np.cumsum(wrong)
    last = np.r_[conf[1:] != conf[:-1], True] if len(conf) else np.zeros(0, dtype=bool)  # end of each tie
    positions = np.flatnonzero(last)
    return conf[positions], positions + 1, errors[positions]


def choose_threshold(confidence: np.ndarray, correct: np.ndarray, *, alpha: float, delta: float,
                     stage: int = 0, total_calibration: int | None = None) -> StageCalibration:
    """Fixed-sequence testing on one stage's reaching items: `confidence` (NaN = the stage gave no verdict,
    so it can never keep the item) and `correct` (its verdict agrees with people) per item.

    The walk starts at the highest threshold that keeps at least `smallest_provable` items: a smaller kept
    set can never reject, and where the walk starts depends on the confidences only, never on agreement,
    so the order of the tests is still fixed before any error is counted."""
    alpha, delta = check_risk(alpha, delta)
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    if confidence.shape != correct.shape:
        raise JudgeError("choose_threshold needs one confidence and one agreement flag per item.")
    thresholds, kept, errors = kept_counts(confidence, correct)
    testable = kept >= smallest_provable(alpha, delta)
    thresholds, kept, errors = thresholds[testable], kept[testable], errors[testable]
    p_values = scipy.stats.binom.cdf(errors, kept, alpha) if len(kept) else np.zeros(0)
    failing = np.flatnonzero(p_values > delta)
    rejected = len(p_values) if not len(failing) else int(failing[0])
    reached = int(len(confidence))
    if rejected:
        i = rejected - 1
        threshold, n, e, p_value = float(thresholds[i]), int(kept[i]), int(errors[i]), float(p_values[i])
        return StageCalibration(stage, reached, threshold, n, e, p_value, delta, alpha,
                                note=f"settles {n} of {reached} calibration items reaching it, {e} in "
                                     f"disagreement with people (p = {p_value:.3g} <= {delta:.3g})")
    last_p = float(p_values[0]) if len(p_values) else None
    needed, note = _labels_needed(confidence, correct, alpha, delta, reached, total_calibration)
    return StageCalibration(stage, reached, None, 0, 0, last_p, delta, alpha, labels_needed=needed, note=note)


def _labels_needed(confidence: np.ndarray, correct: np.ndarray, alpha: float, delta: float, reached: int,
                   total_calibration: int | None) -> tuple[int | None, str]:
    """How many more calibration labels would let the walk reject down to some threshold, if every
    threshold's observed error rate and kept share held: a threshold needs its own labels and those of every
    threshold the walk tests before it. The fewest over the thresholds; (None, why) when none could."""
    total = total_calibration if total_calibration is not None else reached
    thresholds, kept, errors = kept_counts(confidence, correct)
    if not len(kept):
        return None, ("no calibration item reached this stage with a verdict: label items the earlier stages "
                      "escalate, or fix the stage's failed calls")
    rates = errors / kept
    testable = kept >= smallest_provable(alpha, delta)
    best, walk = math.inf, 0.0  # walk: labels the tested thresholds above need (inf once one never could)
    fewest = smallest_provable(alpha, delta)
    for n, rate, tested in zip(kept, rates, testable):
        if walk >= best:
            break  # the walk alone already needs more than the best found: nothing below can do better
        if not tested and math.ceil(fewest * total / int(n)) >= best:
            continue  # even with no error this threshold needs more labels than the best found
        kept_needed = labels_to_reject(float(rate), alpha, delta)
        labels = math.inf if kept_needed is None else math.ceil(kept_needed * total / int(n))
        if tested:
            walk = max(walk, labels)
            if not math.isfinite(walk):
                blocking = rate
                break  # the walk stops here whatever the labels: nothing below can be reached
        best = min(best, max(labels, walk))
    if not math.isfinite(best):
        rate = blocking if not math.isfinite(walk) else float(rates.min())
        return None, (f"its kept verdicts disagree with people {rate:.1%} of the time where the walk tests them, "
                      f"not below alpha ({alpha:.1%}): no number of labels guarantees it; it escalates everything")
    more = max(int(best) - total, 1)
    return more, (f"no threshold can be guaranteed with {total} calibration labels: about {more} more labels "
                  "would let it settle items (if its observed disagreement rates hold); it escalates everything")


def calibrate_stages(confidences: Sequence[np.ndarray], corrects: Sequence[np.ndarray], *, alpha: float,
                     delta: float) -> list[StageCalibration]:
    """Thresholds for every judge stage in order, each on the calibration items the earlier stages did not
    settle, at delta / (number of stages). confidences[k][i], corrects[k][i]: stage k on calibration item i
    (the values of items that never reach stage k are ignored)."""
    alpha, delta = check_risk(alpha, delta)
    stages = len(confidences)
    if stages == 0:
        raise JudgeError("A funnel needs at least one judge stage before people.")
    delta_k = delta / stages
    total = len(confidences[0])
    reaching = np.ones(total, dtype=bool)
    out = []
    for k, (confidence, correct) in enumerate(zip(confidences, corrects)):
        confidence = np.asarray(confidence, dtype=float)
        correct = np.asarray(correct, dtype=bool)
        record = choose_threshold(confidence[reaching], correct[reaching], alpha=alpha, delta=delta_k, stage=k,
                                  total_calibration=total)
        out.append(record)
        if record.threshold is not None:
            reaching &= ~(~np.isnan(confidence) & (confidence >= record.threshold))
    return out


def settling_stage(confidences: Sequence[np.ndarray], thresholds: Sequence[float | None]) -> np.ndarray:
    """Per item, the index of the first stage whose confidence reaches its threshold; -1 = people."""
    if not confidences:
        raise JudgeError("A funnel needs at least one judge stage before people.")
    n = len(confidences[0])
    stage = np.full(n, -1, dtype=int)
    for k, (confidence, threshold) in enumerate(zip(confidences, thresholds)):
        if threshold is None:
            continue
        confidence = np.asarray(confidence, dtype=float)
        settles = (stage == -1) & ~np.isnan(confidence) & (confidence >= threshold)
        stage[settles] = k
    return stage


def split_items(uids: Iterable[str], *, share: float = DEFAULT_CALIBRATION_SHARE, seed: int = 0
                ) -> tuple[list[str], list[str]]:
    """A seeded random split of labeled items into (calibration, held-out), each sorted; `share` goes to
    calibration. The same uids and seed always give the same split, whatever order they come in."""
    if not 0 < float(share) < 1:
        raise JudgeError(f"The calibration share is strictly between 0 and 1 (e.g. 0.5), not {share!r}.")
    ordered = sorted(set(uids))
    picked = np.random.default_rng(int(seed)).permutation(len(ordered))
    size = int(round(len(ordered) * float(share)))
    calibration = sorted(ordered[i] for i in picked[:size])
    heldout = sorted(ordered[i] for i in picked[size:])
    return calibration, heldout


def uids_digest(uids: Iterable[str]) -> str:
    """A short hash of a set of item uids: what a funnel version records to name its label sets."""
    return hashlib.sha256("\n".join(sorted(uids)).encode()).hexdigest()[:16]


# -- confidence of one stage's verdict on one item -----------------------------------------------------
def verdict_confidence(probs: dict[Any, float] | None, *, verdict: Any, pass_threshold: int | None,
                       target: str) -> float:
    """The probability a distribution gives the verdict: on `target` 'pass/fail', the mass of the verdict's
    side (scores >= pass_threshold pass; or the 'pass'/'fail' keys of a binary classifier); on 'score', the
    mass of the verdict's score."""
    if not probs:
        raise JudgeError("verdict_confidence needs a probability distribution.")
    keys = {str(k).lower(): float(v) for k, v in probs.items()}
    total = sum(keys.values())
    if total <= 0:
        raise JudgeError("verdict_confidence needs a distribution with some mass.")
    if "pass" in keys or "fail" in keys:
        side = "pass" if bool(verdict) else "fail"
        return keys.get(side, 0.0) / total
    if target == "score":
        return keys.get(str(int(verdict)), 0.0) / total
    passing = sum(p for s, p in keys.items() if int(s) >= int(pass_threshold))
    return (passing if bool(verdict) else total - passing) / total


def sample_agreement(verdicts: Sequence[Any]) -> float:
    """Share of k samples equal to their modal verdict: the confidence of a judge without log-probabilities."""
    if not verdicts:
        raise JudgeError("sample_agreement needs at least one sample.")
    _, counts = np.unique(np.asarray(list(verdicts), dtype=object).astype(str), return_counts=True)
    return float(counts.max()) / len(verdicts)
