"""A judge used from code (an app's test suite, a notebook): the same runner, cache, retries and cost as a run.

    from judge import load_judge
    j = load_judge("faithfulness", db="data/judge.duckdb")
    verdict = j.score(input="...", output="...", context="...")     # one Verdict
    results = j.score_frame(df)                                      # a DataFrame, judged concurrently
    j.pass_rate(results)                                             # observed and corrected, with intervals

Rows are imported into the store as a dataset named `code:<judge>` (each new set of rows is its next version)
and judged by a normal run, so an unchanged row is answered from the verdict cache at no cost, failed calls
are retried, and every verdict keeps its prompt, raw reply and cost. Without `db` the judge keeps its own
store in a temporary folder for as long as the object lives (a cache for the test session).
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from judge.errors import JudgeError

VERDICT_FIELDS = ("score", "passed", "reasoning", "cost_usd", "cached", "error")
# A frame's own score/passed/critique columns stay metadata: judging rows never adds human labels.
_NO_LABELS = {"score": None, "passed": None, "critique": None, "annotator": None}


@dataclass(frozen=True)
class Verdict:
    """One judgement: a 1-5 score and pass/fail (None when the call failed; `error` says why), the judge's
    reasoning, and what it cost (0 from the cache, None when the model's price is unknown)."""

    score: int | None
    passed: bool | None
    reasoning: str | None
    cost_usd: float | None
    cached: bool
    error: str | None


class Judge:
    """A judge spec bound to a store; see the module docstring."""

    def __init__(self, spec, store, *, model: str | None = None, base_url: str | None = None,
                 concurrency: int = 16, secrets: Mapping | None = None,
                 keep: tempfile.TemporaryDirectory | None = None):
        self.spec, self.store = spec, store
        self.model, self.base_url, self.concurrency, self.secrets = model, base_url, concurrency, secrets
        self.last_run_id: str | None = None
        self._keep = keep  # the temporary store's folder lives as long as this judge

    @property
    def dataset_name(self) -> str:
        return f"code:{self.spec.name}"

    def score(self, *, output: Any, input: Any = None, context: Any = None, reference: Any = None,
              **metadata: Any) -> Verdict:
        """Judge one output (with its input, context, reference and any metadata the template names)."""
        row = {"input": input, "output": output, "context": context, "reference": reference, **metadata}
        frame = self.score_frame(pd.DataFrame([row]))
        return Verdict(**{f: _plain(frame.iloc[0][f]) for f in VERDICT_FIELDS})

    def score_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Judge every row of `frame` (columns input, output, context, reference, and metadata) in one run;
        returns score, passed, reasoning, cost_usd, cached and error per row, on `frame`'s index."""
        from judge.importing import import_records
        from judge.runner import execute_run, start_run

        if "output" not in frame.columns:
            raise JudgeError("score_frame needs an 'output' column; the frame has "
                             f"{', '.join(map(str, frame.columns))}.")
        rows = frame.reset_index(drop=True).copy()
        rows.insert(0, "item_id", [str(n) for n in range(1, len(rows) + 1)])
        rows = rows[[c for c in rows.columns if c == "output" or rows[c].notna().any()]]
        digest = hashlib.sha256(rows.to_json(orient="records", force_ascii=False).encode()).hexdigest()
        result = import_records(self.store, rows, source=f"{self.dataset_name} (a DataFrame)", sha256=digest,
                                fmt="frame", dataset=self.dataset_name, column_map=_NO_LABELS)
        run_id = start_run(self.store, dataset=self.dataset_name, spec=self.spec, model=self.model,
                           base_url=self.base_url, concurrency=self.concurrency, dataset_version=result.version,
                           secrets=self.secrets, name="from code")
        execute_run(self.store, run_id, secrets=self.secrets)
        self.last_run_id = run_id
        verdicts = self.store.verdicts(run_id).set_index("item_id")
        out = verdicts.reindex(rows["item_id"])[list(VERDICT_FIELDS)].reset_index(drop=True)
        out.index = frame.index
        return out.astype(object).where(out.notna(), None)

    def pass_rate(self, results: pd.DataFrame, *, calibration_run: str | None = None, n_boot: int = 1000,
                  seed: int = 0) -> dict[str, Any]:
        """The observed pass rate of `results` and the pass rate corrected for this judge's errors, each
        `{"value", "ci", "n", "undefined"}`. TPR and TNR come from `calibration_run` (a run of this judge on
        labeled items; default: the latest finished one in the store); without one `corrected` is undefined."""
        from judge.reports import agreement_report
        from judge.reports.passrate import true_pass_rate

        decided = [bool(p) for p in results["passed"] if p is not None]
        run_id = calibration_run or self._latest_labeled_run()
        table = [[0, 0], [0, 0]]
        if run_id is not None:
            table = agreement_report(self.store, run_id, n_boot=n_boot, seed=seed)["pass_fail"]["confusion_matrix"]
        figures = true_pass_rate(table, len(decided), sum(decided), n_boot=n_boot, seed=seed)
        return {"observed": figures["observed"], "corrected": figures["corrected"], "calibration_run": run_id}

    def _latest_labeled_run(self) -> str | None:
        runs = self.store.runs()
        runs = runs[(runs["spec_name"] == self.spec.name) & (runs["status"] == "done")
                    & (runs["dataset"] != self.dataset_name)]
        return None if runs.empty else str(runs.iloc[0]["id"])


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    return None if value is None or (isinstance(value, float) and value != value) else value


def load_judge(name_or_path: str, *, db=None, model: str | None = None, base_url: str | None = None,
               concurrency: int = 16, secrets: Mapping | None = None) -> Judge:
    """A Judge from a saved spec, a built-in one or a .json file (as `judge run --judge`), on the store `db`
    (a path or a Store; default: a temporary store of its own)."""
    from judge.specs import load_spec
    from judge.store import Store

    keep = None
    if db is None:
        keep = tempfile.TemporaryDirectory(prefix="judge-code-")
        store = Store(Path(keep.name) / "judge.duckdb")
    else:
        store = db if isinstance(db, Store) else Store(db)
    return Judge(load_spec(store, name_or_path), store, model=model, base_url=base_url, concurrency=concurrency,
                 secrets=secrets, keep=keep)
