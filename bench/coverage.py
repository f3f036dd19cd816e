"""Do the 95% intervals cover 95%, and do the tests fire 5% of the time when nothing changed?

Simulations with known truth (populations in tests/coverage_sim.py), every replicate measured by the
report's own code. Prints, for n = 20, 50, 100, 300 labeled items:
1. coverage of every agreement figure for a typical, a strong (15% failures) and a weak judge
   ("w" = the figure carried the few-labels warning), and (1b) of the former percentile bootstrap;
2. coverage of the corrected pass rate, with how often it gives an interval, withholds the value as no
   better than chance, or refuses the interval (too many undefined resamples);
3. false-positive rate and power of `compare` (a quadratic-kappa difference of 0.06);
4. false-positive rate and power of `gate` and `trend` for a 10-point drop in pass rate (50-1,000 items);
5. a suspicion-ordered sample (label-next, weighted by 1 / pi): coverage and test rates in compare, gate, trend.
Targets (issue 9): 93-97% at n >= 50, >= 90% at n = 20 or warned; false positives 4-6%; trend = gate.
Run: .venv/bin/python bench/coverage.py [--replicates 400] [--boot 1000]   (about 10 minutes on one core)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from coverage_sim import (  # noqa: E402  (after the path set-up, like bench/runner_bench.py)
    DESIGN_POPULATION, FORMER_METHOD_FIGURES, PASS_RATE_POPULATIONS, POPULATIONS, app_version, compare_rejections,
    designed_compare, designed_regression, figure_coverage, former_method_coverage, kappa_of, pass_rate_coverage,
    regression_rejections, stay_for_kappa, true_figures, two_judges,
)

SIZES = (20, 50, 100, 300)


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths))


def figures_table(replicates: int, n_boot: int) -> None:
    print(f"\n== 1. Coverage of the agreement figures ({replicates} replicates per cell)")
    for name, probabilities in POPULATIONS.items():
        truth = true_figures(probabilities)
        by_size = {n: figure_coverage(probabilities, n, replicates=replicates, n_boot=n_boot, seed=n)
                   for n in SIZES}
        print(f"\n{name}")
        widths = [22, 8] + [9] * len(SIZES)
        print(_row(["figure", "truth", *[f"n={n}" for n in SIZES]], widths))
        for figure in truth:
            cells = []
            for n in SIZES:
                cell = by_size[n][figure]
                mark = "w" if cell["warned"] > 0.5 else ""
                shown = "" if cell["with_interval"] > 0.995 else f"/{cell['with_interval']:.0%}"
                cells.append(f"{cell['coverage']:.3f}{mark}{shown}")
            print(_row([figure, f"{truth[figure]:.3f}", *cells], widths))
    print("\n(/x% = share of replicates with an interval, when not all: the value was undefined in the rest)")


def former_method_table(replicates: int, n_boot: int) -> None:
    print(f"\n== 1b. The former method (percentile item bootstrap) on the same draws ({replicates} replicates)")
    widths = [22, 22] + [9] * len(SIZES)
    print(_row(["population", "figure", *[f"n={n}" for n in SIZES]], widths))
    for name, probabilities in POPULATIONS.items():
        by_size = {n: former_method_coverage(probabilities, n, replicates=replicates, n_boot=n_boot, seed=n)
                   for n in SIZES}
        for figure in FORMER_METHOD_FIGURES:
            print(_row([name, figure, *[f"{by_size[n][figure]:.3f}" for n in SIZES]], widths))


def pass_rate_table(replicates: int, n_boot: int) -> None:
    print(f"\n== 2. Corrected pass rate ({replicates} replicates): coverage [interval given / no better than "
          "chance / interval refused]")
    widths = [40, 14] + [25] * len(SIZES)
    print(_row(["population", "judged items", *[f"n={n} labeled" for n in SIZES]], widths))
    for name, (theta, tpr, tnr) in PASS_RATE_POPULATIONS.items():
        for judged, label in ((1, "= labeled"), (3, "3x labeled")):
            cells = []
            for n in SIZES:
                r = pass_rate_coverage(theta, tpr, tnr, n, judged * n, replicates=replicates, n_boot=n_boot,
                                       seed=n + judged)
                cells.append(f"{r['coverage']:.3f} [{r['interval']:.0%}/{r['chance']:.0%}/{r['refused']:.0%}]")
            print(_row([name, label, *cells], widths))


def compare_table(replicates: int, n_boot: int) -> None:
    stay_b = 0.6
    stay_a = stay_for_kappa(kappa_of(stay_b) + 0.06)
    print(f"\n== 3. compare ({replicates} replicates): share called significant; judges with quadratic kappa "
          f"{kappa_of(stay_b):.3f} vs {kappa_of(stay_b):.3f} (false positives) and {kappa_of(stay_a):.3f} vs "
          f"{kappa_of(stay_b):.3f} (power)")
    widths = [44] + [9] * len(SIZES)
    print(_row(["", *[f"n={n}" for n in SIZES]], widths))
    null = {n: compare_rejections(two_judges(stay_b, stay_b), n, replicates=replicates, n_boot=n_boot, seed=n)
            for n in SIZES}
    power = {n: compare_rejections(two_judges(stay_a, stay_b), n, replicates=replicates, n_boot=n_boot,
                                   seed=n + 1) for n in SIZES}
    for label, table, key in (("false positives, permutation test (used)", null, "permutation"),
                              ("false positives, bootstrap interval excludes 0", null, "bootstrap_interval"),
                              ("power, permutation test (used)", power, "permutation"),
                              ("power, bootstrap interval excludes 0", power, "bootstrap_interval"),
                              ("power note shown", power, "power_note")):
        print(_row([label, *[f"{table[n][key]:.3f}" for n in SIZES]], widths))


def regression_table(replicates: int, n_boot: int) -> None:
    sizes = (50, 100, 300, 1000)
    print(f"\n== 4. gate and trend ({replicates} replicates): share flagged as a regression; baseline pass "
          "rate 0.5, candidate 0.5 (false positives) or 0.4 (power); the baseline's items labeled")
    widths = [44] + [9] * len(sizes)
    print(_row(["", *[f"n={n}" for n in sizes]], widths))
    null = {n: regression_rejections(app_version(0.5), app_version(0.5), n, replicates=replicates, n_boot=n_boot,
                                     seed=n) for n in sizes}
    power = {n: regression_rejections(app_version(0.5), app_version(0.4), n, replicates=replicates,
                                      n_boot=n_boot, seed=n + 1) for n in sizes}
    for label, table, key in (("false positives, gate", null, "gate"), ("false positives, trend", null, "trend"),
                              ("false positives, former trend rule", null, "former_trend_rule"),
                              ("power, gate", power, "gate"), ("power, trend", power, "trend"),
                              ("power, former trend rule", power, "former_trend_rule")):
        print(_row([label, *[f"{table[n][key]:.3f}" for n in sizes]], widths))


def design_table(replicates: int, n_boot: int) -> None:
    replicates = max(100, replicates // 2)
    labeled = 200
    print(f"\n== 5. A suspicion-ordered sample ({replicates} replicates): {labeled} of {DESIGN_POPULATION} items "
          "labeled in suspicion order over two judges' verdicts, weighted by 1 / inclusion probability")
    stay = 0.6
    better = stay_for_kappa(kappa_of(stay) + 0.06)
    widths = [58, 12, 12]
    print(_row(["", "no change", "kappa +0.06" + " / pass -10 pts"], widths))
    null = designed_compare(stay, stay, labeled, replicates=replicates, n_boot=n_boot, seed=51)
    power = designed_compare(better, stay, labeled, replicates=replicates, n_boot=n_boot, seed=52)
    for label, key in (("compare: interval covers the population's kappa difference", "coverage"),
                       ("compare: the same interval ignoring the weights", "plain_coverage"),
                       ("compare: called significant", "significant")):
        print(_row([label, f"{null[key]:.3f}", f"{power[key]:.3f}"], widths))
    null = designed_regression(0.5, 0.5, labeled, replicates=replicates, n_boot=n_boot, seed=53)
    power = designed_regression(0.5, 0.4, labeled, replicates=replicates, n_boot=n_boot, seed=54)
    for label, key in (("gate: fails the candidate", "gate"), ("trend: flags the candidate", "trend"),
                       ("baseline's corrected pass rate covers", "baseline_coverage"),
                       ("candidate's corrected pass rate covers", "candidate_coverage"),
                       ("baseline's, ignoring the weights", "plain_baseline_coverage")):
        print(_row([label, f"{null[key]:.3f}", f"{power[key]:.3f}"], widths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=400)
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--only", choices=("figures", "former", "pass-rate", "compare", "regression", "design"))
    args = parser.parse_args()
    started = time.perf_counter()
    sections = {"figures": figures_table, "former": former_method_table, "pass-rate": pass_rate_table,
                "compare": compare_table, "regression": regression_table, "design": design_table}
    for name, section in sections.items():
        if args.only in (None, name):
            section(args.replicates, args.boot)
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
