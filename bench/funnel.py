"""Does the funnel's guarantee hold, and what does it save? Simulated judges on public human ratings.

For each dataset in ../shared/data (skipped when absent), the people's verdict on an item is its mean rating
rounded half up (x.5 -> up) against a pass threshold (SummEval consistency >= 4, HANNA coherence >= 3, USR
overall >= 4). Three judge stages are simulated with known confidence-accuracy relations
(tests/funnel_sim.py): on each item a stage draws a confidence c ~ Beta(a, b) and is right with probability
sigmoid(intercept + slope * c); cost per item 0.05 (cheap), 0.25 (mid), 1 (strong). Each seed splits the
items at random in half, calibrates the funnel on one half with judge.funnel_calibration's own code and
measures the other half. Printed per dataset, over the seeds:
- guarantee: share of seeds whose held-out settled verdicts agree with people >= 1 - alpha (target >= 1 - delta);
- mean held-out agreement of settled verdicts, and coverage (share of items settled) per stage;
- cost relative to the strongest judge alone on every item;
- human labels saved: 1 - (items the funnel sends to people) / (items the strongest judge alone, calibrated
  the same way at the full delta, is unsure of), both summed over the seeds.
Run: .venv/bin/python bench/funnel.py [--seeds 200] [--alpha 0.1] [--delta 0.1]   (about a minute)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from funnel_sim import STAGES, guarantee_share  # noqa: E402  (after the path set-up, like bench/coverage.py)
from public_ratings import DATA, THRESHOLDS, populations, rounded  # noqa: E402

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--alpha", type=float, default=0.1)
    parser.add_argument("--delta", type=float, default=0.1)
    args = parser.parse_args()
    found = populations()
    if not found:
        print(f"no datasets under {DATA}: nothing to measure")
        return 0
    print("stages: " + "; ".join(f"{s.name}: c ~ Beta({s.beta_a:g}, {s.beta_b:g}), right w.p. sigmoid("
                                 f"{s.intercept:g} + {s.slope:g} c) ({s.mean_accuracy():.0%} right overall), "
                                 f"cost {s.cost:g}" for s in STAGES))
    print(f"alpha = {args.alpha}, delta = {args.delta} (delta / {len(STAGES)} per stage), {args.seeds} seeds, "
          "half of the items calibrate, the other half are measured")
    header = (f"{'dataset':22} {'items':>6} {'fail':>5} {'guarantee':>9} {'agreement':>9} "
              + " ".join(f"{s.name:>7}" for s in STAGES) + f" {'people':>7} {'alone?':>7} {'cost':>6} {'saved':>6}")
    print(header)
    for name, means in found.items():
        truth = rounded(means) >= THRESHOLDS[name]
        share, runs = guarantee_share(truth, range(args.seeds), alpha=args.alpha, delta=args.delta)
        agreement = np.nanmean([np.nan if r.agreement is None else r.agreement for r in runs])
        coverage = np.mean([[n / r.items for n in r.per_stage_settled] for r in runs], axis=0)
        people = np.mean([r.human_items / r.items for r in runs])
        unsure = np.mean([r.strongest_unsure / r.items for r in runs])
        cost = np.mean([r.cost / r.strongest_cost for r in runs])
        saved = 1 - sum(r.human_items for r in runs) / max(1, sum(r.strongest_unsure for r in runs))
        print(f"{name:22} {len(truth):>6} {1 - truth.mean():>5.0%} {share:>9.1%} {agreement:>9.1%} "
              + " ".join(f"{c:>7.1%}" for c in coverage) + f" {people:>7.1%} {unsure:>7.1%} {cost:>6.2f} {saved:>6.1%}")
    print(f"guarantee: share of seeds with held-out agreement of settled verdicts >= {1 - args.alpha:.0%} "
          f"(must be >= {1 - args.delta:.0%}); stage columns: share of items each settles; people: share left to "
          "people; alone?: share the strongest judge alone is unsure of; cost: relative to the strongest judge "
          "on every item; saved: human labels saved against labeling every item the strongest judge alone is "
          "unsure of")
    return 0


if __name__ == "__main__":
    sys.exit(main())
