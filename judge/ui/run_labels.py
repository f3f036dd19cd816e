"""One readable name per judge run, the same on every page that lists runs.

A run id says nothing to a person; the judge, its model (or "offline"), the dataset, the app version it
scored and when it started do. Missing values come from the store as None or NaN and are never shown.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Mapping

import pandas as pd

OFFLINE = "offline"
PARTS = ("judge", "model", "dataset", "app", "started")


def present(value: Any) -> bool:
    """False for None, NaN, NA and the empty string: the store's ways of saying "not set"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return False
    return not (pd.api.types.is_scalar(value) and pd.isna(value))


def model_text(model: Any) -> str:
    """The run's provider/model, or "offline" for judges that call no model."""
    return str(model) if present(model) else OFFLINE


def started_text(created_at: Any) -> str:
    """'Nov 23 14:29': enough to tell runs apart at a glance."""
    return pd.Timestamp(created_at).strftime("%b %d %H:%M") if present(created_at) else ""


def _parts(run: Mapping[str, Any]) -> dict[str, str]:
    version = run.get("dataset_version")
    return {
        "judge": str(run["spec_name"]),
        "model": model_text(run.get("model")),
        "dataset": str(run["dataset"]) + (f" v{int(version)}" if present(version) and int(version) > 1 else ""),
        "app": f"app: {run['version_tag']}" if present(run.get("version_tag")) else "",
        "started": started_text(run.get("created_at")),
    }


def run_label(run: Mapping[str, Any]) -> str:
    """'json_tree_match · offline · query-trees · app: v1.2 · Nov 23 14:29' for a run row or run summary."""
    return " · ".join(part for part in _parts(run).values() if part)


def run_labels(runs: pd.DataFrame | Iterable[Mapping[str, Any]], *, compact: bool = False) -> dict[str, str]:
    """Run id -> label; labels that would be identical get the end of the run id to tell them apart.

    `compact` keeps the judge's name and only the parts that tell these runs apart (for tables and charts of
    a few runs side by side): two judges on one dataset read "reference_f1" and "reference_rouge".
    """
    rows = [row for _, row in runs.iterrows()] if isinstance(runs, pd.DataFrame) else list(runs)
    parts = {str(row["id"]): _parts(row) for row in rows}
    shown = list(PARTS)
    if compact:
        shown = ["judge"]
        for key in PARTS[1:]:
            if _distinct(parts, shown + [key]) > _distinct(parts, shown):
                shown.append(key)
    labels = {run_id: " · ".join(p[key] for key in shown if p[key]) for run_id, p in parts.items()}
    counts = Counter(labels.values())
    return {run_id: f"{label} · {run_id[-6:]}" if counts[label] > 1 else label for run_id, label in labels.items()}


def _distinct(parts: dict[str, dict[str, str]], keys: list[str]) -> int:
    return len({tuple(p[key] for key in keys) for p in parts.values()})


def default_comparison(runs: pd.DataFrame) -> list[str]:
    """The two latest finished runs that judged the same items of one dataset, newest first; [] if none.

    Same items is read as: same dataset version, criterion, app version tag and item count (runs over different
    app versions of one dataset score different items and have nothing in common to compare).
    """
    done = runs[runs["status"] == "done"].sort_values("created_at", ascending=False)
    keys = [k for k in ("dataset", "dataset_version", "criterion", "version_tag", "total_items") if k in runs]
    for _, group in done.groupby(keys, sort=False, dropna=False):
        if len(group) >= 2:
            return [str(run_id) for run_id in group["id"].head(2)]
    return []


def busiest_judge(runs: pd.DataFrame) -> str | None:
    """The judge with the most runs (ties: alphabetical): the one whose trend has the most to show."""
    names = runs["spec_name"].dropna()
    if names.empty:
        return None
    counts = names.value_counts()
    return min(counts[counts == counts.max()].index)
