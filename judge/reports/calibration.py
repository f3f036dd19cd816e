"""A judge's calibration for trends and the gate: its labeled items, each once, resampled with every run.

The corrected pass rate of a run needs the judge's TPR and TNR, measured on every distinct labeled item any
run of the judge version scored. Those labeled items are usually also judged items of the runs being
compared (the baseline's own labels, a re-run over the same items), so one resample must redraw them ONCE
for everything that rests on them: the calibration table, and each run's judge verdicts on them (its
observed pass rate and mean score). Redrawing a run's observed pass rate apart from its own labeled items
counted their sampling error twice and made the gate conservative (3.0-5.5% false positives, bench/coverage.py).

Items are pooled by pattern (human pass, the calibration verdict, the design weight, and each run's score
and pass on the item) and the resample is a multinomial over the patterns, as in `metrics.bootstrap_tables`.

Labels drawn by a non-uniform label-next design weigh 1 / their inclusion probability (`design_weights`):
TPR and TNR are then weighted (Hajek) shares, the same estimator the report uses for them. The corrected
rate stays Rogan-Gladen: a trend's calibration may come from other app versions, across which TPR and TNR
carry over but the report's P(person passes | judge verdict) does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from judge import metrics as M
from judge.label_next import design_weights
from judge.reports.weighted import WEIGHTED_NOTE, effective_size

_NONE = 0   # code of "missing" in a pattern; passes are 1 (fail) / 2 (pass), scores 1-5


@dataclass
class LabeledPart:
    """A run's labeled items (those of the calibration it judged) as every resample drew them: their count,
    judge passes and judge score counts, and the same per resample (scaled to `items`, so a resample that
    draws more or fewer of them changes their mix, not their number)."""
    items: int
    passed: int
    score_counts: np.ndarray
    boot_passed: np.ndarray
    boot_score_counts: np.ndarray


@dataclass
class Calibration:
    """The 2x2 human x judge pass/fail table of the distinct labeled items (weighted items scaled to Kish's
    effective size), its resamples, and each run's labeled part drawn by the same resamples."""
    table: np.ndarray
    boot: np.ndarray
    items: int = 0
    weighted: bool = False
    effective_items: float = 0.0
    parts: dict[str, LabeledPart] = field(default_factory=dict)

    def sample(self) -> dict[str, object]:
        """What a trend point or gate says about the labels behind its correction."""
        return {"labeled_items": self.items, "weighted": self.weighted,
                "effective_items": round(self.effective_items, 1), "note": WEIGHTED_NOTE if self.weighted else None}


def _codes(column: pd.Series, offset: int) -> np.ndarray:
    values = column.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isnan(values), _NONE, values + offset).astype(np.int64)


def calibrate(labeled: dict[str, pd.DataFrame], *, n_boot: int, seed) -> Calibration:
    """The calibration of one judge version from its runs' labeled items (run id -> item_uid, human_passed,
    judge_passed, judge_score, and the design columns when present), oldest run first: an item several
    runs scored counts once, with the latest run's verdict in the table."""
    frames = [frame.assign(_run=run_id) for run_id, frame in labeled.items() if len(frame)]
    if not frames:
        return Calibration(np.zeros((2, 2)), np.zeros((n_boot, 2, 2)), parts={
            run_id: _empty_part(n_boot) for run_id in labeled})
    rows = pd.concat(frames, ignore_index=True)
    items = rows.drop_duplicates("item_uid", keep="last").reset_index(drop=True)
    weights = design_weights(items)
    wide = pd.DataFrame({"human": _codes(items["human_passed"], 1), "judge": _codes(items["judge_passed"], 1),
                         "weight": np.ones(len(items)) if weights is None else weights}, index=items["item_uid"])
    run_ids = list(labeled)
    for k, run_id in enumerate(run_ids):
        own = rows[rows["_run"] == run_id].drop_duplicates("item_uid", keep="last").set_index("item_uid")
        wide[f"pass{k}"] = pd.Series(_codes(own["judge_passed"], 1), index=own.index).reindex(wide.index).fillna(
            _NONE).astype(np.int64)
        wide[f"score{k}"] = pd.Series(_codes(own["judge_score"], 0), index=own.index).reindex(wide.index).fillna(
            _NONE).astype(np.int64)
    patterns = wide.groupby(list(wide.columns), sort=False).size().reset_index(name="items")
    frequency = patterns["items"].to_numpy()
    draws = M.bootstrap_tables(frequency, n_boot, seed=seed).astype(float)       # (n_boot, patterns)

    # the table: each pattern adds its weight to its (human, judge) cell
    in_table = (patterns["human"] > _NONE) & (patterns["judge"] > _NONE)
    cells = np.zeros((len(patterns), 4))
    cell = (patterns["human"] - 1) * 2 + (patterns["judge"] - 1)
    cells[np.flatnonzero(in_table), cell[in_table]] = patterns["weight"][in_table]
    scale = 1.0
    if weights is not None:     # weighted shares; the table's total is Kish's effective size
        scale = effective_size(weights) / float(np.sum(weights))
    table = (frequency @ cells * scale).reshape(2, 2)
    boot = (draws @ cells * scale).reshape(n_boot, 2, 2)
    parts = {run_id: _labeled_part(patterns, frequency, draws, k) for k, run_id in enumerate(run_ids)}
    return Calibration(table, boot, items=len(items), weighted=weights is not None,
                       effective_items=effective_size(weights) if weights is not None else float(len(items)),
                       parts=parts)


def _labeled_part(patterns: pd.DataFrame, frequency: np.ndarray, draws: np.ndarray, k: int) -> LabeledPart:
    """Run k's verdicts on its labeled items, in the calibration's resamples."""
    judged = (patterns[f"pass{k}"] > _NONE).to_numpy()
    count = int(frequency[judged].sum())
    if not count:
        return _empty_part(len(draws))
    passes = (patterns[f"pass{k}"] == 2).to_numpy()
    scores = patterns[f"score{k}"].to_numpy()
    by_score = np.stack([scores == s for s in M.SCORES], axis=1).astype(float)       # (patterns, 5)
    passed = int(frequency[judged & passes].sum())
    point_scores = (frequency * judged) @ by_score
    drawn = draws[:, judged].sum(axis=1)
    none_drawn = drawn == 0             # such a resample keeps the observed mix of the run's labeled items
    scale = count / np.where(none_drawn, 1, drawn)
    boot_passed = np.where(none_drawn, passed, draws[:, judged & passes].sum(axis=1) * scale)
    boot_scores = np.where(none_drawn[:, None], point_scores, (draws * judged) @ by_score * scale[:, None])
    return LabeledPart(count, passed, point_scores, boot_passed, boot_scores)


def _empty_part(n_boot: int) -> LabeledPart:
    return LabeledPart(0, 0, np.zeros(5), np.zeros(n_boot), np.zeros((n_boot, 5)))
