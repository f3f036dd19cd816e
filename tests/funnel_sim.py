"""Simulated funnels with known truth, for the guarantee test and bench/funnel.py.

A stage judge is simulated by its confidence-accuracy relation: on each item it draws a confidence
c ~ Beta(a, b), and is right (its pass/fail verdict equals the people's) with probability
sigmoid(intercept + slope * c). Stages draw independently given the item. Every replicate is calibrated by
judge.funnel_calibration's own code on a random calibration split and measured on the held-out rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from judge.funnel_calibration import calibrate_stages, choose_threshold, settling_stage


@dataclass(frozen=True)
class SimulatedJudge:
    """A judge stage: its confidence distribution, how confidence maps to being right, and its cost per item."""
    name: str
    beta_a: float
    beta_b: float
    intercept: float
    slope: float
    cost: float

    def accuracy(self, confidence: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-(self.intercept + self.slope * confidence)))

    def mean_accuracy(self, draws: int = 100_000) -> float:
        """Share of its verdicts that are right over all items (confidence integrated out, seeded)."""
        return float(self.accuracy(np.random.default_rng(0).beta(self.beta_a, self.beta_b, draws)).mean())

    def draw(self, truth: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(confidence, verdict) on every item."""
        confidence = rng.beta(self.beta_a, self.beta_b, size=len(truth))
        right = rng.random(len(truth)) < self.accuracy(confidence)
        return confidence, np.where(right, truth, ~truth)


# A cheap small model, a mid-size model and a strong one: each more accurate (about 68%, 80% and 92% of
# verdicts right over all items), more often confident, and more expensive than the last; each is nearly
# always right when very confident (sigmoid(5.5) = 99.6% at c = 1 for the cheap one).
STAGES = (
    SimulatedJudge("cheap", 1.0, 1.0, -2.5, 8.0, cost=0.05),
    SimulatedJudge("mid", 1.3, 1.0, -2.0, 8.0, cost=0.25),
    SimulatedJudge("strong", 2.0, 1.0, -1.5, 8.0, cost=1.0),
)


@dataclass
class Replicate:
    """One seed: held-out agreement of settled verdicts, coverage per stage, cost and human labels."""
    settled: int
    agreeing: int
    per_stage_settled: list[int]
    items: int
    cost: float
    strongest_cost: float
    human_items: int
    strongest_unsure: int

    @property
    def agreement(self) -> float | None:
        return self.agreeing / self.settled if self.settled else None


def replicate(truth: np.ndarray, seed: int, *, alpha: float, delta: float, calibration_share: float = 0.5,
              stages: tuple[SimulatedJudge, ...] = STAGES) -> Replicate:
    """Draw every stage's verdicts, calibrate on a random share of the items, measure on the rest."""
    rng = np.random.default_rng(seed)
    draws = [stage.draw(truth, rng) for stage in stages]
    calibration = rng.random(len(truth)) < calibration_share
    test = ~calibration
    confidences = [c for c, _ in draws]
    corrects = [v == truth for _, v in draws]
    records = calibrate_stages([c[calibration] for c in confidences], [r[calibration] for r in corrects],
                               alpha=alpha, delta=delta)
    thresholds = [r.threshold for r in records]
    stage_of = settling_stage([c[test] for c in confidences], thresholds)
    settled = stage_of >= 0
    right = np.zeros(int(test.sum()), dtype=bool)
    for k, correct in enumerate(corrects):
        right |= (stage_of == k) & correct[test]
    # Each stage is paid for every item that reaches it (the ones no earlier stage settled).
    cost, reaching = 0.0, np.ones(int(test.sum()), dtype=bool)
    for k, stage in enumerate(stages):
        cost += stage.cost * int(reaching.sum())
        reaching &= stage_of != k
    # The strongest judge alone, calibrated the same way on all calibration items at the full delta.
    strongest = choose_threshold(confidences[-1][calibration], corrects[-1][calibration], alpha=alpha, delta=delta)
    unsure = int(test.sum()) if strongest.threshold is None else int((confidences[-1][test] < strongest.threshold).sum())
    return Replicate(int(settled.sum()), int(right.sum()), [int((stage_of == k).sum()) for k in range(len(stages))],
                     int(test.sum()), cost, stages[-1].cost * int(test.sum()), int((~settled).sum()), unsure)


def guarantee_share(truth: np.ndarray, seeds: range, *, alpha: float, delta: float) -> tuple[float, list[Replicate]]:
    """Share of seeds whose held-out settled verdicts agree with people >= 1 - alpha (a seed that settles
    nothing keeps the promise trivially), and the replicates."""
    runs = [replicate(truth, seed, alpha=alpha, delta=delta) for seed in seeds]
    held = [r.agreement is None or r.agreement >= 1 - alpha for r in runs]
    return float(np.mean(held)), runs
