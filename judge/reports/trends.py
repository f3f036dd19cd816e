"""One judge over versions of the app: quality over time, judge changes marked, regressions flagged and gated.

A run's quality is its mean score and its corrected pass rate. The correction needs the judge's TPR and TNR,
measured on every labeled item any run of the same judge version (spec version and model) has scored: a
new app version is rarely labeled, but the judge that grades it was calibrated once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from judge import metrics as M
from judge.errors import JudgeError, NotFound
from judge.reports.agreement import floats, paired_labels, pass_threshold
from judge.reports.completeness import DEFAULT_ALLOWANCE, Allowance, require_complete, run_completeness
from judge.reports.figures import figure, pass_tables, joint_table


@dataclass
class Quality:
    """Point figures of one run plus the bootstrap samples behind them (kept for paired differences)."""
    figures: dict[str, dict[str, Any]]
    samples: dict[str, np.ndarray]


def _labeled_table(store, run: dict[str, Any]) -> np.ndarray:
    both, _ = paired_labels(store, run)
    hp, jp = floats(both["human_passed"]), floats(both["judge_passed"])
    return pass_tables(joint_table(np.full(len(both), np.nan), np.full(len(both), np.nan), hp, jp))


def run_quality(store, run: dict[str, Any], calibration: np.ndarray, calibration_boot: np.ndarray, *,
                seed: int) -> Quality:
    """Mean score, observed and corrected pass rate of one run, each with interval and bootstrap samples."""
    judged = store.judge_summary(run["id"], pass_threshold(run["spec"]))
    counts = np.asarray(judged["score_counts"])
    n_boot = len(calibration_boot)
    rng = np.random.default_rng([seed, 2])
    mean_samples = M.mean_from_counts(M.bootstrap_tables(counts, n_boot, seed=rng))
    n_judged, n_passed = judged["judged"], judged["passed"]
    observed_samples = (rng.binomial(n_judged, n_passed / n_judged, n_boot) / n_judged if n_judged
                        else np.full(n_boot, np.nan))
    rates = M.pass_fail_rates_from_tables(calibration_boot)
    corrected_samples = M.corrected_pass_rate_from_arrays(observed_samples, rates["tpr"], rates["tnr"])
    point = M.pass_fail_rates_from_tables(calibration)

    def mean() -> float:
        if not counts.sum():
            raise M.UndefinedMetric("no scored item")
        return float(M.mean_from_counts(counts))

    def observed() -> float:
        if not n_judged:
            raise M.UndefinedMetric("no judged item")
        return n_passed / n_judged

    def corrected() -> float:
        if np.isnan(point["tpr"]) or np.isnan(point["tnr"]):
            raise M.UndefinedMetric("no labeled passes and failures to measure this judge's TPR and TNR")
        return M.corrected_pass_rate(observed(), float(point["tpr"]), float(point["tnr"]))

    return Quality(
        figures={"mean_score": figure(mean, mean_samples, int(counts.sum())),
                 "pass_rate": figure(observed, observed_samples, n_judged),
                 "corrected_pass_rate": figure(corrected, corrected_samples, int(calibration.sum()))},
        samples={"mean_score": mean_samples, "pass_rate": observed_samples,
                 "corrected_pass_rate": corrected_samples},
    )


def _judge_version(run: dict[str, Any]) -> tuple:
    return run.get("spec_version"), run.get("model")


def _calibrations(store, runs: list[dict[str, Any]], *, n_boot: int, seed: int) -> dict[tuple, tuple]:
    """Pooled labeled pass/fail table per judge version, with its bootstrap resamples."""
    tables: dict[tuple, np.ndarray] = {}
    for run in runs:
        key = _judge_version(run)
        tables[key] = tables.get(key, np.zeros((2, 2), dtype=np.int64)) + _labeled_table(store, run)
    return {key: (table, M.bootstrap_tables(table, n_boot, seed=seed)) for key, table in tables.items()}


def _headline(quality: Quality) -> str:
    """The pass rate a trend or gate judges by: corrected when the judge is calibrated, else observed."""
    return "corrected_pass_rate" if quality.figures["corrected_pass_rate"]["value"] is not None else "pass_rate"


def _worse_beyond_intervals(run: dict[str, Any], baseline: dict[str, Any]) -> bool:
    return bool(run["ci"] and baseline["ci"] and run["ci"][1] < baseline["ci"][0])


def trend(store, spec_name: str, *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Every run of one judge in time order with mean score and corrected pass rate (with interval bands),
    markers where the judge itself changed, and regressions against the pinned baseline."""
    listed = store.spec_runs(spec_name)
    if listed.empty:
        raise NotFound(f"No runs of the judge '{spec_name}' yet; run it with judge run or import scores.")
    runs = [store.report_run(run_id) for run_id in listed["id"]]
    tags = dict(zip(listed["id"], listed["version_tag"]))
    calibrations = _calibrations(store, runs, n_boot=n_boot, seed=seed)
    qualities = {run["id"]: run_quality(store, run, *calibrations[_judge_version(run)], seed=seed) for run in runs}
    baseline_id = store.baseline_run(spec_name)
    baseline = qualities.get(baseline_id)

    points, markers, previous = [], [], None
    for index, run in enumerate(runs):
        quality = qualities[run["id"]]
        change = _judge_change(previous, run)
        if change:
            markers.append({"index": index, "run_id": run["id"], "change": change})
        regression = None
        if baseline is not None and run["id"] != baseline_id:
            key = _headline(baseline) if _headline(quality) == _headline(baseline) else "pass_rate"
            regression = _worse_beyond_intervals(quality.figures[key], baseline.figures[key]) or \
                _worse_beyond_intervals(quality.figures["mean_score"], baseline.figures["mean_score"])
        tag = tags.get(run["id"])
        points.append({
            "run_id": run["id"], "name": run["name"], "created_at": str(run["created_at"]),
            "version_tag": None if tag is None or pd.isna(tag) else str(tag),
            "spec_version": run["spec_version"], "model": run["model"], "dataset": run["dataset"],
            **quality.figures, "judge_change": change, "regression": regression,
            "is_baseline": run["id"] == baseline_id,
        })
        previous = run
    return {"judge": spec_name, "baseline_run": baseline_id, "n_boot": n_boot, "seed": seed,
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

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run_id, "baseline": self.baseline_run_id, "passed": self.passed,
                "regressions": self.regressions, "checks": self.checks, "warnings": self.warnings,
                "incomplete": self.incomplete}


def pin_baseline(store, spec_name: str, run_id: str, *, allowance: Allowance | str = DEFAULT_ALLOWANCE) -> None:
    """Pin a run as the judge's baseline; refused when more of its verdicts failed or are missing than allowed
    (a baseline of failures would make every later run look fine)."""
    require_complete(store, run_id, allowance=allowance, purpose=f"as the baseline of {spec_name}")
    store.pin_baseline(spec_name, run_id)


def gate(store, run_id: str, baseline_run_id: str, *, n_boot: int = 1000, seed: int = 0,
         allowance: Allowance | str = DEFAULT_ALLOWANCE) -> GateResult:
    """Compare a run with a baseline run: a figure regresses when the 95% interval of (run - baseline) is
    entirely below zero. Checked: mean score and pass rate (corrected when the judge is calibrated), and
    that no more of the run's verdicts failed or are missing than `allowance` (default 2%)."""
    if run_id == baseline_run_id:
        raise JudgeError("The run and its baseline are the same run; pass the new run with --run.")
    allowance = allowance if isinstance(allowance, Allowance) else Allowance.parse(allowance)
    completeness = run_completeness(store, run_id)
    incomplete = None if completeness.within(allowance) else \
        f"{completeness.describe()}, more than the {allowance} allowed"
    run, base = store.report_run(run_id), store.report_run(baseline_run_id)
    warnings = []
    if _judge_version(run) != _judge_version(base):
        warnings.append(f"The judge changed between baseline and run ({_judge_change(base, run)}): "
                        "a difference may come from the judge, not the app.")
    if _judge_version(run) == _judge_version(base):
        # one judge: calibrate on both runs' labeled items, sharing the resamples (a paired comparison)
        pooled = _labeled_table(store, run) + _labeled_table(store, base)
        calibrations = [(pooled, M.bootstrap_tables(pooled, n_boot, seed=seed))] * 2
    else:
        calibrations = [(table, M.bootstrap_tables(table, n_boot, seed=seed + k))
                        for k, table in enumerate((_labeled_table(store, run), _labeled_table(store, base)))]
    now = run_quality(store, run, *calibrations[0], seed=seed)
    before = run_quality(store, base, *calibrations[1], seed=seed + 1)
    headline = _headline(now) if _headline(now) == _headline(before) else "pass_rate"
    checks, regressions = {}, []
    for key in ("mean_score", headline):
        difference = figure(lambda key=key: _difference(now.figures[key], before.figures[key]),
                            now.samples[key] - before.samples[key],
                            min(now.figures[key]["n"], before.figures[key]["n"]))
        regressed = bool(difference["ci"] and difference["ci"][1] < 0)
        checks[key] = {"run": now.figures[key], "baseline": before.figures[key], "difference": difference,
                       "regression": regressed}
        if regressed:
            regressions.append(key)
    return GateResult(run_id, baseline_run_id, not regressions and incomplete is None, regressions, checks,
                      warnings, incomplete)


def _difference(now: dict[str, Any], before: dict[str, Any]) -> float:
    if now["value"] is None or before["value"] is None:
        raise M.UndefinedMetric(now["undefined"] or before["undefined"])
    return now["value"] - before["value"]
