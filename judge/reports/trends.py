"""One judge over versions of the app: quality over time, judge changes marked, regressions flagged and gated.

A run's quality is its mean score and its corrected pass rate. The correction needs the judge's TPR and TNR,
measured on every labeled item any run of the same judge version (spec version and model) has scored, each
distinct item once: a new app version is rarely labeled, but the judge that grades it was calibrated once.
One resample redraws those labeled items once for everything resting on them: the calibration and each
run's verdicts on them (judge.reports.calibration), so two runs sharing labeled items are compared paired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from judge import metrics as M
from judge.errors import JudgeError, NotFound
from judge.reports.agreement import fewshot_uids, paired_labels, pass_threshold
from judge.reports.calibration import Calibration, LabeledPart, calibrate
from judge.reports.completeness import DEFAULT_ALLOWANCE, Allowance, require_complete, run_completeness
from judge.reports.figures import figure, proportion, undefined
from judge.reports.passrate import corrected_pass_rate_figure
from judge.reports.weighted import WEIGHTED_NOTE, WEIGHTED_SAMPLE


@dataclass
class Quality:
    """Point figures of one run plus the bootstrap samples behind them (kept for paired differences)."""
    figures: dict[str, dict[str, Any]]
    samples: dict[str, np.ndarray]


def _labeled_pairs(store, run: dict[str, Any]) -> pd.DataFrame:
    """A run's labeled items (item_uid, human and judge pass/fail, judge score, and the label-next design
    columns), few-shot examples left out."""
    both, _ = paired_labels(store, run)
    columns = ["item_uid", "human_passed", "judge_passed", "judge_score", "sample_design", "sample_share"]
    return both[[c for c in columns if c in both.columns]]


def run_quality(store, run: dict[str, Any], calibration: Calibration, *, seed: int) -> Quality:
    """Mean score, observed and corrected pass rate of one run, each with interval and bootstrap samples."""
    threshold = pass_threshold(run["spec"])
    judged = store.judge_summary(run["id"], threshold,
                                 exclude=fewshot_uids(store, run["spec_name"], run["spec"], run["dataset_id"]))
    quality = quality_from_counts(judged["score_counts"], judged["judged"], judged["passed"], calibration.table,
                                  calibration.boot, seed=seed, pass_threshold=threshold,
                                  labeled=calibration.parts.get(run["id"]))
    if calibration.weighted:
        quality.figures["corrected_pass_rate"]["sample"] = WEIGHTED_SAMPLE
    return quality


def quality_from_counts(score_counts, n_judged: int, n_passed: int, calibration: np.ndarray,
                        calibration_boot: np.ndarray, *, seed: int, pass_threshold: int | None = None,
                        labeled: LabeledPart | None = None) -> Quality:
    """`run_quality` from a run's counts: judge scores per value 1-5, judged and passed items, and the
    judge's labeled pass/fail table with its resamples (shared by every run the judge calibrates, which is
    what makes a difference of two runs' samples a paired comparison).

    `labeled`: the run's judged items that are in the calibration, as its resamples drew them; the run's
    other judged items are redrawn apart, so its pass rate and mean score move with the calibration
    instead of counting the labeled items' error a second time. When the passes are exactly the scores >=
    `pass_threshold`, each resample's pass rate comes from the same resampled items as its mean score, so the
    two checks of `regression_checks` keep their correlation.
    """
    counts = np.asarray(score_counts, dtype=float)
    n_boot = len(calibration_boot)
    rng = np.random.default_rng([seed, 2])
    part = labeled if labeled is not None and labeled.items else None
    other_counts = counts - part.score_counts if part else counts
    other_judged = n_judged - part.items if part else n_judged
    other_passed = n_passed - part.passed if part else n_passed
    if part and (other_judged < 0 or not 0 <= other_passed <= other_judged or (other_counts < 0).any()):
        raise ValueError(f"quality_from_counts: {part.items} labeled items ({part.passed} passes) cannot be among "
                         f"{n_judged} judged items with {n_passed} passes.")
    boot_counts = M.bootstrap_tables(other_counts.astype(np.int64), n_boot, seed=rng).astype(float)
    if part:
        boot_counts = boot_counts + part.boot_score_counts
    mean_samples = M.mean_from_counts(boot_counts)
    passes_are_scores = (pass_threshold is not None and counts.sum() == n_judged
                         and counts[pass_threshold - 1:].sum() == n_passed)
    if not n_judged:
        observed_samples = np.full(n_boot, np.nan)
    elif passes_are_scores:
        observed_samples = boot_counts[:, pass_threshold - 1:].sum(axis=-1) / n_judged
    else:
        others = rng.binomial(other_judged, other_passed / other_judged, n_boot) if other_judged else 0
        observed_samples = ((part.boot_passed if part else 0) + others) / n_judged

    def mean() -> float:
        if not counts.sum():
            raise M.UndefinedMetric("no scored item")
        return float(M.mean_from_counts(counts))

    if n_judged:
        corrected = corrected_pass_rate_figure(n_passed / n_judged, np.asarray(calibration, dtype=float),
                                               observed_samples, calibration_boot)
        observed = proportion(lambda: n_passed / n_judged, n_passed, n_judged)
    else:
        corrected = {"corrected": undefined("no judged item", int(np.sum(calibration))),
                     "samples": np.full(n_boot, np.nan)}
        observed = undefined("no judged item")
    return Quality(
        figures={"mean_score": figure(mean, mean_samples, int(counts.sum())),
                 "pass_rate": observed,
                 "corrected_pass_rate": corrected["corrected"]},
        samples={"mean_score": mean_samples, "pass_rate": observed_samples,
                 "corrected_pass_rate": corrected["samples"]},
    )


def _judge_version(run: dict[str, Any]) -> tuple:
    return run.get("spec_version"), run.get("model")


def _calibrations(store, runs: list[dict[str, Any]], *, n_boot: int, seed: int) -> dict[tuple, Calibration]:
    """Per judge version, the calibration over the distinct labeled items its runs scored, resampled
    jointly with each run's verdicts on them."""
    labeled: dict[tuple, dict[str, pd.DataFrame]] = {}
    for run in runs:
        labeled.setdefault(_judge_version(run), {})[run["id"]] = _labeled_pairs(store, run)
    return {key: calibrate(frames, n_boot=n_boot, seed=seed) for key, frames in labeled.items()}


def _headline(quality: Quality) -> str:
    """The pass rate a trend or gate judges by: corrected when the judge is calibrated (with an interval),
    else observed."""
    return "corrected_pass_rate" if quality.figures["corrected_pass_rate"]["ci"] is not None else "pass_rate"


SIGNIFICANCE = 0.05
REGRESSION_TEST = (f"paired bootstrap of run - baseline (the judge's calibration resamples shared), mean score "
                   f"and pass rate checked together: a regression when a difference is below 0 at the "
                   f"{SIGNIFICANCE:.0%} level, one-sided, adjusted for the two checks")


def regression_checks(now: Quality, before: Quality) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The gate's test, also used by the trend: for mean score and the headline pass rate, the difference
    run - baseline with its 95% interval, the one-sided bootstrap p-value of "no worse" (`p_value`, the
    share of resampled differences >= 0) and `p_adjusted` for checking both figures; a regression when
    p_adjusted < SIGNIFICANCE.

    The adjustment (a bootstrap min-statistic, after Westfall and Young) compares each standardized
    difference with the smallest of the two standardized, centred resampled differences: the checks are
    correlated (a worse app lowers both), so this keeps the gate at 3-5.5% with no change, where failing on
    either unadjusted check fired 5-7% of the time (bench/coverage.py).
    """
    headline = _headline(now) if _headline(now) == _headline(before) else "pass_rate"
    checks, regressions, standardized = {}, [], {}
    for key in ("mean_score", headline):
        samples = now.samples[key] - before.samples[key]
        difference = figure(lambda key=key: _difference(now.figures[key], before.figures[key]), samples,
                            min(now.figures[key]["n"], before.figures[key]["n"]))
        if now.figures[key].get("sample") or before.figures[key].get("sample"):
            difference["sample"] = WEIGHTED_SAMPLE
        defined = samples[~np.isnan(samples)]
        p_value = float((np.sum(defined >= 0) + 1) / (defined.size + 1)) if difference["ci"] else None
        spread = float(np.std(defined)) if defined.size else 0.0
        if p_value is not None and spread > 0:
            standardized[key] = (difference["value"] / spread, (samples - difference["value"]) / spread)
        checks[key] = {"run": now.figures[key], "baseline": before.figures[key], "difference": difference,
                       "p_value": p_value, "p_adjusted": p_value, "significance": SIGNIFICANCE}
    if len(standardized) == 2:
        smallest = np.fmin(*(centred for _, centred in standardized.values()))
        smallest = smallest[~np.isnan(smallest)]
        for key, (observed, _) in standardized.items():
            adjusted = float((np.sum(smallest <= observed) + 1) / (smallest.size + 1))
            checks[key]["p_adjusted"] = max(adjusted, checks[key]["p_value"])
    for key, check in checks.items():
        check["regression"] = check["p_adjusted"] is not None and check["p_adjusted"] < SIGNIFICANCE
        if check["regression"]:
            regressions.append(key)
    return checks, regressions


def judge_runs(store, spec_name: str, criterion: str | None = None) -> pd.DataFrame:
    """The runs of one judge on one criterion, oldest first; without `criterion`, the judge must have been
    measured on a single criterion (else NotFound names them, so the caller can pick)."""
    listed = store.spec_runs(spec_name, criterion)
    if listed.empty:
        raise NotFound(f"No runs of the judge '{spec_name}'" + (f" on criterion '{criterion}'" if criterion else "")
                       + " yet; run it with judge run or import scores.")
    measured = sorted({str(c) for c in listed["criterion"].dropna()})
    if criterion is None and len(measured) > 1:
        raise NotFound(f"The judge '{spec_name}' was run on several criteria ({', '.join(measured)}): "
                       "pick one with --criterion NAME.")
    return listed


def trend(store, spec_name: str, *, criterion: str | None = None, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Every run of one judge on one criterion in time order with mean score and corrected pass rate (with
    interval bands), markers where the judge itself changed, and regressions against the pinned baseline by
    the gate's test (`regression_checks`), so the trend flags exactly what `judge gate` would fail."""
    listed = judge_runs(store, spec_name, criterion)
    runs = [store.report_run(run_id) for run_id in listed["id"]]
    tags = dict(zip(listed["id"], listed["version_tag"]))
    calibrations = _calibrations(store, runs, n_boot=n_boot, seed=seed)
    # each run its own seed: two runs' judged items are independent draws, only the calibration is shared
    qualities = {run["id"]: run_quality(store, run, calibrations[_judge_version(run)], seed=seed + index)
                 for index, run in enumerate(runs)}
    baseline_id = store.baseline_run(spec_name)
    baseline = qualities.get(baseline_id)

    points, markers, previous = [], [], None
    for index, run in enumerate(runs):
        quality = qualities[run["id"]]
        change = _judge_change(previous, run)
        if change:
            markers.append({"index": index, "run_id": run["id"], "change": change})
        regression, checks = None, None
        if baseline is not None and run["id"] != baseline_id:
            checks, regressed = regression_checks(quality, baseline)
            regression = bool(regressed)
        tag = tags.get(run["id"])
        points.append({
            "run_id": run["id"], "name": run["name"], "created_at": str(run["created_at"]),
            "version_tag": None if tag is None or pd.isna(tag) else str(tag),
            "spec_version": run["spec_version"], "model": run["model"], "dataset": run["dataset"],
            **quality.figures, "judge_change": change, "regression": regression, "regression_checks": checks,
            "is_baseline": run["id"] == baseline_id, "sample": calibrations[_judge_version(run)].sample(),
        })
        previous = run
    return {"judge": spec_name, "criterion": runs[0]["criterion"], "baseline_run": baseline_id,
            "n_boot": n_boot, "seed": seed, "regression_test": REGRESSION_TEST, "significance": SIGNIFICANCE,
            "points": points, "judge_changes": markers,
            "regressions": [p["run_id"] for p in points if p["regression"]]}


def _judge_change(previous: dict[str, Any] | None, run: dict[str, Any]) -> str | None:
    if previous is None:
        return None
    changes = []
    if previous["spec_version"] != run["spec_version"]:
        changes.append(f"spec v{previous['spec_version']} -> v{run['spec_version']}")
    if previous["model"] != run["model"]:
        changes.append(f"model {previous['model']} -> {run['model']}")
    return "; ".join(changes) or None


# -- the CI gate -----------------------------------------------------------------------------------------
@dataclass
class GateResult:
    """`passed` is False when the run is significantly worse than the baseline on any checked figure, or when
    more of its verdicts failed or are missing than allowed (`incomplete` then says how many and why)."""
    run_id: str
    baseline_run_id: str
    passed: bool
    regressions: list[str]
    checks: dict[str, dict[str, Any]]
    warnings: list[str] = field(default_factory=list)
    incomplete: str | None = None
    sample: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run_id, "baseline": self.baseline_run_id, "passed": self.passed,
                "regressions": self.regressions, "checks": self.checks, "warnings": self.warnings,
                "incomplete": self.incomplete, "sample": self.sample}


def pin_baseline(store, spec_name: str, run_id: str, *, allowance: Allowance | str = DEFAULT_ALLOWANCE) -> None:
    """Pin a run as the judge's baseline; refused when more of its verdicts failed or are missing than allowed
    (a baseline of failures would make every later run look fine)."""
    require_complete(store, run_id, allowance=allowance, purpose=f"as the baseline of {spec_name}")
    store.pin_baseline(spec_name, run_id)


def gate(store, run_id: str, baseline_run_id: str, *, n_boot: int = 1000, seed: int = 0,
         allowance: Allowance | str = DEFAULT_ALLOWANCE) -> GateResult:
    """Compare a run with a baseline run: a figure regresses when run - baseline is significantly below zero
    (`regression_checks`). Checked: mean score and pass rate (corrected when the judge is calibrated), and
    that no more of the run's verdicts failed or are missing than `allowance` (default 2%)."""
    if run_id == baseline_run_id:
        raise JudgeError("The run and its baseline are the same run; pass the new run with --run.")
    allowance = allowance if isinstance(allowance, Allowance) else Allowance.parse(allowance)
    completeness = run_completeness(store, run_id)
    incomplete = None if completeness.within(allowance) else \
        f"{completeness.describe()}, more than the {allowance} allowed"
    run, base = store.report_run(run_id), store.report_run(baseline_run_id)
    if run["criterion"] != base["criterion"]:
        raise JudgeError(f"The run is measured on criterion '{run['criterion']}' and the baseline on "
                         f"'{base['criterion']}': gate a run against a baseline of the same criterion.")
    warnings = []
    if _judge_version(run) != _judge_version(base):
        warnings.append(f"The judge changed between baseline and run ({_judge_change(base, run)}): "
                        "a difference may come from the judge, not the app.")
    if _judge_version(run) == _judge_version(base):
        # one judge: calibrate on both runs' labeled items, resampled once for both (a paired comparison)
        shared = calibrate({base["id"]: _labeled_pairs(store, base), run["id"]: _labeled_pairs(store, run)},
                           n_boot=n_boot, seed=seed)
        calibrations = [shared, shared]
    else:
        calibrations = [calibrate({r["id"]: _labeled_pairs(store, r)}, n_boot=n_boot, seed=seed + k)
                        for k, r in enumerate((run, base))]
    now = run_quality(store, run, calibrations[0], seed=seed)
    before = run_quality(store, base, calibrations[1], seed=seed + 1)
    checks, regressions = regression_checks(now, before)
    samples = [c.sample() for c in calibrations]
    if any(sample["weighted"] for sample in samples):
        warnings.append(f"The pass rate is corrected from a weighted sample ({WEIGHTED_NOTE}).")
    return GateResult(run_id, baseline_run_id, not regressions and incomplete is None, regressions, checks,
                      warnings, incomplete, sample=samples[0])


def _difference(now: dict[str, Any], before: dict[str, Any]) -> float:
    if now["value"] is None or before["value"] is None:
        raise M.UndefinedMetric(now["undefined"] or before["undefined"])
    return now["value"] - before["value"]
