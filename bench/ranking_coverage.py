"""Coverage of the Bradley-Terry bootstrap intervals on synthetic matches from known strengths.

    python bench/ranking_coverage.py [--seeds 200] [--systems 6] [--matches-per-pair 40] [--boot 500]

Each seed draws matches between every two systems from P(i beats j) = sigmoid(t_i - t_j), fits the ranking
and checks whether each system's 95% interval holds its true (centred) strength. Prints the share covered.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from judge.ranking import fit_ranking  # noqa: E402

TRUE_STRENGTHS = np.array([-1.0, -0.5, 0.0, 0.3, 0.8, 1.2])


def synthetic_matches(strengths: np.ndarray, per_pair: int, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for i in range(len(strengths)):
        for j in range(i + 1, len(strengths)):
            p = 1 / (1 + np.exp(-(strengths[i] - strengths[j])))
            wins = rng.random(per_pair) < p
            rows += [(f"s{i}", f"s{j}", "a" if won else "b") for won in wins]
    return pd.DataFrame(rows, columns=["system_a", "system_b", "choice"])


def coverage(seeds: int, systems: int, per_pair: int, n_boot: int) -> tuple[float, int]:
    strengths = TRUE_STRENGTHS[:systems] - TRUE_STRENGTHS[:systems].mean()
    covered = total = 0
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        result = fit_ranking(synthetic_matches(strengths, per_pair, rng), n_boot=n_boot, seed=seed)
        for row in result["ranking"]:
            low, high = row["theta_ci"]
            covered += low <= strengths[int(row["system"][1:])] <= high
            total += 1
    return covered / total, total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--systems", type=int, default=6)
    parser.add_argument("--matches-per-pair", type=int, default=40)
    parser.add_argument("--boot", type=int, default=500)
    args = parser.parse_args()
    started = time.perf_counter()
    share, total = coverage(args.seeds, args.systems, args.matches_per_pair, args.boot)
    print(f"Bradley-Terry 95% intervals cover the true strength for {share:.1%} of {total} intervals "
          f"({args.seeds} seeds, {args.systems} systems, {args.matches_per_pair} matches per pair, "
          f"{args.boot} resamples) in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
