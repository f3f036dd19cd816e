"""Which item to label next, measured: labels needed to +-0.05 and its coverage, and judge errors found.

Populations (../shared/data, skipped when absent): SummEval consistency, HANNA coherence and USR overall
(Topical-Chat + PersonaChat), each as pass/fail: a person passes an item when the mean rating, rounded
half up, reaches THRESHOLDS[name]. Judges are simulated from the data: judge A (the one measured) scores
the human mean plus normal noise (sd NOISE_SD on the 1-5 scale), judge B (the second run that
`disagreement` and `suspicion` read) the same with its own noise; a judge passes when its rounded score
reaches the threshold, and its unrounded score is the log-probability weighted score `uncertain` reads.

Per seed: a new dataset of as many items drawn from the population (the data's items, with replacement),
a new pair of judges and a new queue per strategy. The truth a TPR or TNR interval must cover is the
judge's over the population (each item with every draw of its noise), not over the seed's dataset: the
report's intervals are about the judge, which the next version's items will meet too (labeling every item
of one dataset does not make the judge's TPR known); the corrected pass rate's truth is the seed's
dataset's pass rate, the rate of the items it judged.
(a) labels needed until the 95% intervals of TPR, TNR and the corrected pass rate (the report's own code:
    agreement_figures and pass_rate, weighted by 1/pi for non-uniform designs) are all narrower than
    +-0.05, looking every 20 labels in queue order and stopping at the first look where they are; and how
    often each interval covers its truth, at that stopping point and at a fixed 200 labels; beside it, the
    labels the design needs in expectation (its variance, without the noise of stopping on estimates);
(b) judge errors (judge A's pass/fail differs from the person's) among the first 20 labels.
Targets (issue 11): the best strategy needs >= 25% fewer labels than random for (a) at coverage 93-97%,
and finds >= 2x the errors per 20 labels for (b).
Run: .venv/bin/python bench/label_next.py [--seeds 100] [--boot 400]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from judge.metrics import wilson_interval  # noqa: E402
from judge.label_next import STRATEGIES, item_table, priorities, queue_order, shares  # noqa: E402
from judge.reports.agreement import agreement_figures, pass_rate  # noqa: E402
from judge.reports.weighted import ratio_share  # noqa: E402
from public_ratings import DATA, THRESHOLDS, populations, rounded  # noqa: E402

NOISE_SD = 0.7
HALF_WIDTH = 0.05
STEP = 20
FIXED_LABELS = 200
def simulate_judges(means: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return (np.clip(means + rng.normal(0, NOISE_SD, len(means)), 1, 5),
            np.clip(means + rng.normal(0, NOISE_SD, len(means)), 1, 5))


def signals_frame(judge_a: np.ndarray, judge_b: np.ndarray, threshold: int) -> pd.DataFrame:
    """What Store.item_signals returns for two one-sample runs with these scores."""
    n = len(judge_a)
    frames = []
    for run, scores in (("A", judge_a), ("B", judge_b)):
        frames.append(pd.DataFrame({
            "item_uid": [f"u{i}" for i in range(n)], "item_id": [f"i{i}" for i in range(n)], "position": range(n),
            "run_id": run, "judge_score": rounded(scores), "pass_share": (rounded(scores) >= threshold) * 1.0,
            "samples": 1, "score_spread": 0.0, "weighted_score": scores, "pass_threshold": threshold}))
    return pd.concat(frames, ignore_index=True)


def evaluate(order: np.ndarray, share: np.ndarray, k: int, human: np.ndarray, judge: np.ndarray, *,
             weighted: bool, n_boot: int, seed: int) -> dict[str, tuple[float, float] | None]:
    """The report's TPR, TNR and corrected pass rate intervals on the first k items of the queue."""
    chosen = order[:k]
    both = pd.DataFrame({"human_score": np.nan, "judge_score": np.nan, "human_passed": human[chosen],
                         "judge_passed": judge[chosen], "sample_design": "d" if weighted else None,
                         "sample_share": share[chosen]})
    figures = agreement_figures(both, n_boot=n_boot, seed=seed)
    rate = pass_rate(both, figures, {"judged": len(judge), "passed": int(judge.sum())}, n_boot=n_boot, seed=seed)
    return {"tpr": figures["pass_fail"]["tpr"]["ci"], "tnr": figures["pass_fail"]["tnr"]["ci"],
            "corrected": rate["corrected"]["ci"]}


def narrow(intervals: dict) -> bool:
    return all(ci is not None and (ci[1] - ci[0]) / 2 <= HALF_WIDTH for ci in intervals.values())


def covers(intervals: dict, truth: dict) -> dict[str, bool]:
    return {k: ci is not None and ci[0] <= truth[k] <= ci[1] for k, ci in intervals.items()}


def labels_needed(evaluate_at, n: int, possible=lambda k: True) -> tuple[int | None, dict | None]:
    """Labels at the first look (every STEP labels, in queue order) where all intervals are narrow: the
    rule a person following the queue applies. Narrowness is not monotone in the labels of a weighted
    sample, so a search that assumes it (doubling, then bisection) stops at draws a person would not see.
    `possible(k)` is a cheap necessary condition; looks where it fails are not narrow and are skipped."""
    for k in range(STEP, n + STEP, STEP):
        if not possible(min(k, n)):
            continue
        intervals = evaluate_at(min(k, n))
        if narrow(intervals):
            return min(k, n), intervals
    return None, None


def could_be_narrow(chosen: np.ndarray, share: np.ndarray, human: np.ndarray, judge: np.ndarray) -> bool:
    """Whether the TPR and TNR intervals of these labeled items can be within +-HALF_WIDTH: the report's
    interval of a share is Wilson on the effective size `ratio_share` gives (the same code, the same weights
    1 / min(1, n share)), so this is that interval, without the report's other figures."""
    weight = 1 / np.minimum(1.0, len(chosen) * share[chosen])
    for among, hits in ((human[chosen], judge[chosen]), (~human[chosen], ~judge[chosen])):
        measured = ratio_share(weight, among & hits, among)
        if measured is None:
            return False
        point, _, size = measured
        low, high = wilson_interval(point * size, size)
        if (high - low) / 2 > HALF_WIDTH:
            return False
    return True


def design_labels(share: np.ndarray, human: np.ndarray, judge: np.ndarray) -> float:
    """Labels the design needs, in expectation, for TPR and TNR within +-HALF_WIDTH: the linearized variance of
    a ratio under the design, sum over items of c_i / (n share_i) / N_class^2 with c_i the item's squared
    residual (known here, since the simulation knows every person's grade), solved for n."""
    needed = []
    for among, hits in ((human, judge), (~human, ~judge)):
        rate = hits[among].mean()
        residual = among * (hits - rate) ** 2
        needed.append(1.959964**2 * np.sum(residual / share) / (among.sum() ** 2 * HALF_WIDTH**2))
    return float(max(needed))


def judge_truth(pool: np.ndarray, threshold: int) -> dict[str, float]:
    """TPR and TNR of the simulated judge over the population the items come from (the pool's items, each
    with every possible draw of the judge's noise): P(judge passes) = P(mean + noise >= threshold - 0.5)."""
    human = rounded(pool) >= threshold
    passes = norm.cdf((pool - threshold + 0.5) / NOISE_SD)
    return {"tpr": float(passes[human].mean()), "tnr": float(1 - passes[~human].mean())}


def replicate(pool: np.ndarray, threshold: int, strategy: str, seed: int, n_boot: int) -> dict:
    rng = np.random.default_rng([seed, 17])
    means = pool[rng.integers(0, len(pool), len(pool))]  # this seed's dataset: items drawn from the population
    judge_a, judge_b = simulate_judges(means, rng)
    human = rounded(means) >= threshold
    judge = rounded(judge_a) >= threshold
    truth = {**judge_truth(pool, threshold), "corrected": human.mean()}
    items = item_table(signals_frame(judge_a, judge_b, threshold))   # one row per item, in dataset order
    share = shares(priorities(items, strategy))
    order = queue_order(share, seed)
    weighted = strategy != "random"
    cache: dict[int, dict] = {}

    def at(k: int) -> dict:
        if k not in cache:
            cache[k] = evaluate(order, share, k, human, judge, weighted=weighted, n_boot=n_boot, seed=seed)
        return cache[k]

    needed, final = labels_needed(at, len(means), lambda k: could_be_narrow(order[:k], share, human, judge))
    fixed = at(min(FIXED_LABELS, len(means)))
    first = order[:STEP]
    return {"needed": needed, "covered_at_stop": covers(final, truth) if final else None,
            "covered_fixed": covers(fixed, truth), "errors_per_20": int((human[first] != judge[first]).sum()),
            "design_labels": design_labels(share, human, judge)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--boot", type=int, default=400)
    parser.add_argument("--only", help="one dataset, e.g. 'usr overall'")
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES)
    args = parser.parse_args()
    found = populations()
    if not found:
        print(f"skipped: no public data in {DATA}")
        return 0
    started = time.perf_counter()
    for name, means in found.items():
        if args.only and args.only != name:
            continue
        threshold = THRESHOLDS[name]
        human = rounded(means) >= threshold
        print(f"\n== {name}: {len(means)} items, {human.mean():.0%} pass (rounded mean >= {threshold}), "
              f"judge = human mean + N(0, {NOISE_SD}), {args.seeds} seeds")
        truth = judge_truth(means, threshold)
        for figure, among in (("TPR", human), ("TNR", ~human)):
            rate = truth[figure.lower()]
            labeled = 1.959964**2 * rate * (1 - rate) / HALF_WIDTH**2
            print(f"   {figure} {rate:.3f}: +-{HALF_WIDTH} needs about {labeled:.0f} labeled human "
                  f"{'passes' if figure == 'TPR' else 'failures'} in a plain sample (fewer in a design that "
                  f"oversamples the judge's errors); the dataset has {among.sum()}")
        print(f"{'strategy':<13} {'labels to +-0.05':>17} {'vs random':>9} {'reached':>8} "
              f"{'cover@stop':>10} {'cover@200':>10} {'errors/20':>9} {'vs random':>9} {'design':>7} {'vs random':>9}")
        results = {s: [replicate(means, threshold, s, seed, args.boot) for seed in range(args.seeds)]
                   for s in dict.fromkeys(["random", *args.strategies])}
        base_needed = base_errors = base_design = None
        for strategy, rows in results.items():
            reached = [r for r in rows if r["needed"] is not None]
            # a replicate that never reaches the target counts as needing every item
            needed = np.mean([r["needed"] if r["needed"] is not None else len(means) for r in rows])
            stop_cover = np.mean([np.mean(list(r["covered_at_stop"].values())) for r in reached]) if reached else math.nan
            fixed_cover = np.mean([np.mean(list(r["covered_fixed"].values())) for r in rows])
            errors = np.mean([r["errors_per_20"] for r in rows])
            design = np.mean([r["design_labels"] for r in rows])
            if strategy == "random":
                base_needed, base_errors, base_design = needed, errors, design
            print(f"{strategy:<13} {needed:>17.0f} {needed / base_needed - 1:>+9.0%} {len(reached) / len(rows):>8.0%} "
                  f"{stop_cover:>10.3f} {fixed_cover:>10.3f} {errors:>9.2f} {errors / base_errors:>8.1f}x "
                  f"{design:>7.0f} {design / base_design - 1:>+9.0%}", flush=True)
    print(f"\n(coverage: share of the TPR, TNR and corrected-pass-rate intervals holding the true value: the "
          f"population's TPR and TNR, the seed's dataset's pass rate; design: the labels the design needs in "
          f"expectation for TPR and TNR, no stopping noise; {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
