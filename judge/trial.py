"""Try a judge spec on a few rows before saving or running it: the fastest loop while writing a rubric.

Nothing is stored. Every row goes through the runner's own call path (`judge.runner.judge_items`: rendering,
retries with backoff, reply parsing, one repair request for an unreadable reply, the pass threshold), so
what the editor shows is exactly what a run would record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from judge.runner import judge_items
from judge.specs import JudgeSpec

TRIAL_ROWS = 5
TRIAL_COLUMNS = ["item_id", "score", "passed", "reasoning", "error"]


def sample_items(store, dataset: str, n: int = TRIAL_ROWS, *, start: int = 0) -> list[dict[str, Any]]:
    """Up to `n` items of the latest version of `dataset` from file position `start`, as render-ready dicts."""
    frame = store.items(store.dataset(dataset)["id"])
    rows = frame.iloc[start: start + n].astype(object).where(frame.iloc[start: start + n].notna(), None)
    return rows.to_dict("records")


def try_spec(store, spec: JudgeSpec, dataset: str, *, n: int = TRIAL_ROWS, start: int = 0,
             secrets: Mapping | None = None, timeout: float = 60.0) -> pd.DataFrame:
    """Verdicts of `spec` on `n` rows of `dataset` (item_id, score, passed, reasoning, error); stores nothing."""
    columns = store.metadata_columns(store.dataset(dataset)["id"]).keys()
    spec.validate(columns)
    items = sample_items(store, dataset, n, start=start)
    verdicts = judge_items(store, spec, items, secrets=secrets, timeout=timeout)
    rows = [{"item_id": item["item_id"], **{key: verdict[key] for key in TRIAL_COLUMNS[1:]}}
            for item, verdict in zip(items, verdicts)]
    return pd.DataFrame(rows, columns=TRIAL_COLUMNS)
