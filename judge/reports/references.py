"""Against ground truth: where items carry a reference answer, how well do reference-based scorers track people?

Two kinds of scorer are measured on the labeled items that have a reference: every built-in offline
reference judge (exact/normalized match, token F1, ROUGE-L, JSON tree match), scored here on the spot, and
every stored run of a reference-kind judge on the dataset.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from judge.offline import score_offline
from judge.reports.agreement import agreement_figures, floats, paired_labels
from judge.specs import builtin_specs

KEPT = ("n", "exact_agreement", "quadratic_kappa", "spearman_rho", "kendall_tau_b")


def reference_agreement(store, dataset: str, *, criterion: str | None = None, n_boot: int = 1000,
                        seed: int = 0) -> dict[str, Any]:
    """Agreement with the human labels of one criterion (default: the dataset's only one) of each offline
    reference metric and each reference-judge run measured on that criterion."""
    info = store.dataset(dataset)
    measured = store.criterion(info["name"], criterion)
    items = store.items(info["id"])
    items = items[items["reference"].fillna("").str.strip() != ""]
    humans = store.human_item_labels(info["id"], measured.id).set_index("item_uid")
    labeled = items[items["uid"].isin(humans.index)]
    metrics = []
    for name, spec in builtin_specs().items():
        if spec.kind != "reference":
            continue
        verdicts = [score_offline(spec, row) for row in labeled.to_dict("records")]
        frame = pd.DataFrame({
            "item_uid": labeled["uid"].to_numpy(),
            "judge_score": pd.array([v.score for v in verdicts], dtype="Int64"),
            "judge_passed": pd.array([v.passed for v in verdicts], dtype="boolean"),
        }).join(humans[["human_score", "human_passed"]], on="item_uid")
        frame = frame[frame["judge_score"].notna()]
        scores = agreement_figures(frame, n_boot=n_boot, seed=seed)["scores"]
        metrics.append({"judge": name, "reference_metric": spec.reference_metric, "items": len(frame),
                        **{key: scores[key] for key in KEPT}})
    return {"dataset": info["name"], "dataset_version": info["version"], "criterion": measured.to_dict(),
            "items_with_reference": len(items),
            "labeled_with_reference": len(labeled), "offline_metrics": metrics,
            "reference_runs": _reference_runs(store, info["id"], measured.name, n_boot=n_boot, seed=seed)}


def _reference_runs(store, dataset_id: int, criterion: str, *, n_boot: int, seed: int) -> list[dict[str, Any]]:
    out = []
    for run_id in store.runs(dataset_id)["id"]:
        run = store.report_run(run_id)
        if run["spec"].get("kind") != "reference" or run["criterion"] != criterion:
            continue
        both, _ = paired_labels(store, run)
        both = both[both["has_reference"]]
        scored = both[~np.isnan(floats(both["judge_score"]))]
        scores = agreement_figures(scored, n_boot=n_boot, seed=seed)["scores"]
        out.append({"run_id": run_id, "judge": run["spec_name"], "items": len(scored),
                    **{key: scores[key] for key in KEPT}})
    return out

