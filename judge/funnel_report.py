"""What a funnel run did, measured on held-out human labels only (never on the calibration items).

Per stage: items reached and settled, failed calls, agreement of its settled verdicts with people on the
held-out labeled items (Wilson 95% interval, n), cost (paid, and at full price as if nothing were cached)
and median latency. The whole funnel against the strongest judge alone on the same held-out items
(agreement, cost at full price per item, items people would still need to label), whether the guarantee
held (the held-out agreement of settled verdicts against 1 - alpha, with its interval), and per dataset
version (the app-version view) how many items the judges' screen passes, fails, and leaves to people.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from judge.errors import NotFound
from judge.funnel import PEOPLE, funnel_context
from judge.funnel_calibration import StageCalibration
from judge.funnel_stages import Stage, agrees, human_verdicts, item_outcomes
from judge.metrics import wilson_interval


def share_figure(successes: int, n: int) -> dict[str, Any]:
    """A share with its Wilson 95% interval and n; value and interval None when n is 0."""
    interval = wilson_interval(successes, n)
    return {"value": successes / n if n else None, "interval": list(interval) if interval else None, "n": int(n)}


def funnel_report(store, name: str, funnel_run_id: int | None = None) -> dict[str, Any]:
    """The report of a funnel run (default: the funnel's latest run) as plain JSON-ready data."""
    funnel, _, criterion, _ = funnel_context(store, name, calibrated=True)
    with store.transaction():
        runs = store.funnel_runs(funnel["id"])
        if runs.empty:
            raise NotFound(f"Funnel '{funnel['name']}' has not run yet: judge funnel run --name {funnel['name']}.")
        funnel_run_id = int(runs["id"].iloc[0]) if funnel_run_id is None else int(funnel_run_id)
        if funnel_run_id not in set(runs["id"]):
            raise NotFound(f"Funnel run {funnel_run_id} is not a run of funnel '{funnel['name']}': its runs are "
                           f"{', '.join(str(i) for i in runs['id'])}.")
        run = store.funnel_run(funnel_run_id)
        record = store.funnel_version_by_id(run["funnel_version_id"])
        steps = store.funnel_steps(funnel_run_id)
        stage_runs = store.funnel_stage_runs(funnel_run_id)
        prices = {key: store.run_price(run_id) for key, run_id in stage_runs.items()}
        items = store.items(int(run["dataset_id"]))["uid"].tolist()
        humans = human_verdicts(store, int(run["dataset_id"]), criterion, record["target"])
        alone_run = stage_runs.get((len(record["stages"]) - 1, "alone"))
        alone_verdicts = None if alone_run is None else store.verdicts(alone_run)
        alone_threshold = None if alone_run is None else store.run(alone_run)["pass_threshold"]
        versions = _version_view(store, funnel["id"])
    stages = [Stage.from_dict(s) for s in record["stages"]]
    calibration = [StageCalibration.from_dict(r) for r in record["calibration"]["stages"]]
    heldout = set(record["heldout_uids"] or []) & set(humans.index)
    target = record["target"]
    steps = steps.assign(agrees=agrees(steps, humans, target), heldout=steps["item_uid"].isin(heldout))
    rows = []
    for k, (stage, calibrated) in enumerate(zip(stages, calibration)):
        at = steps[steps["stage"] == k]
        kept = at[at["settled"].astype(bool)]
        measured = kept[kept["heldout"]]
        price = prices.get((k, "stage"), {})
        rows.append({"stage": k, "label": stage.label, "kind": stage.kind, "threshold": calibrated.threshold,
                     "reached": int(len(at)), "settled": int(len(kept)), "failed": int(at["error"].notna().sum()),
                     "heldout_agreement": share_figure(int(measured["agrees"].sum()), len(measured)),
                     "paid_usd": price.get("paid_usd"), "full_price_usd": price.get("full_price_usd"),
                     "latency_p50_ms": price.get("latency_p50_ms"), "calibration_note": calibrated.note,
                     "labels_needed": calibrated.labels_needed})
    settled = steps[steps["settled"].astype(bool)]
    people = [uid for uid in items if uid not in set(settled["item_uid"])]
    rows.append({"stage": len(stages), "label": PEOPLE, "kind": PEOPLE, "threshold": None,
                 "reached": len(people), "settled": len(people), "failed": 0,
                 "heldout_agreement": share_figure(0, 0), "paid_usd": None, "full_price_usd": None,
                 "latency_p50_ms": None, "calibration_note": "", "labels_needed": None})
    measured = settled[settled["heldout"]]
    agreement = share_figure(int(measured["agrees"].sum()), len(measured))
    alpha, delta = float(record["alpha"]), float(record["delta"])
    guarantee = {
        "alpha": alpha, "delta": delta, "target": 1 - alpha, "agreement": agreement,
        "held": None if agreement["value"] is None else bool(agreement["value"] >= 1 - alpha),
        "text": _guarantee_text(agreement, alpha, delta),
    }
    funnel_cost = _sum([r["full_price_usd"] for r in rows[:-1]])
    return {
        "funnel": funnel["name"], "dataset": funnel["dataset_name"], "criterion": criterion.name, "target": target,
        "funnel_version": int(record["version"]), "funnel_run_id": funnel_run_id, "status": run["status"],
        "dataset_version": next((v["dataset_version"] for v in versions if v["funnel_run_id"] == funnel_run_id),
                                None),
        "items": len(items), "task_id": run["task_id"],
        "calibration": {"items": len(record["calibration_uids"] or []), "hash": record["calibration_hash"],
                        "heldout_items": len(record["heldout_uids"] or []), "heldout_hash": record["heldout_hash"],
                        "heldout_labeled_here": len(heldout), "seed": record["split_seed"],
                        "share": record["calibration_share"]},
        "stages": rows, "guarantee": guarantee,
        "funnel_total": {"settled": int(len(settled)), "people": len(people), "agreement": agreement,
                         "full_price_usd": funnel_cost,
                         "paid_usd": _sum([r["paid_usd"] for r in rows[:-1]])},
        "strongest_alone": _strongest_alone(stages[-1], alone_verdicts, alone_threshold, record, humans, heldout,
                                            len(items), prices.get((len(stages) - 1, "alone"))),
        "versions": versions,
    }


def _sum(values: list[float | None]) -> float | None:
    return None if any(v is None for v in values) else float(sum(values))


def _guarantee_text(agreement: dict[str, Any], alpha: float, delta: float) -> str:
    if agreement["value"] is None:
        return "No held-out labeled item was settled by a judge: the guarantee cannot be checked on this run."
    low, high = agreement["interval"]
    verdict = "held" if agreement["value"] >= 1 - alpha else "did NOT hold"
    return (f"Target: settled verdicts agree with people >= {1 - alpha:.0%} of the time, with probability "
            f">= {1 - delta:.0%}. On {agreement['n']} held-out labeled items the settled verdicts agree "
            f"{agreement['value']:.1%} (95% interval {low:.1%}-{high:.1%}): the guarantee {verdict}.")


def _strongest_alone(stage: Stage, verdicts: pd.DataFrame | None, pass_threshold: int | None,
                     record: dict[str, Any], humans: pd.Series,
                     heldout: set[str], items: int, price: dict[str, Any] | None) -> dict[str, Any] | None:
    """The strongest judge alone on the held-out labeled items: its agreement on all of them, on those its
    own calibrated threshold keeps, the share people would still label, and its full price per item."""
    if verdicts is None:
        return None
    uids = sorted(heldout & set(verdicts["item_uid"]))
    threshold = record["calibration"]["strongest_alone"]["threshold"]
    if stage.kind == "distilled":
        pass_threshold = None  # its verdicts are class probabilities, read as they are
    outcomes = item_outcomes(verdicts, uids, stage, pass_threshold=pass_threshold, target=record["target"])
    right = agrees(outcomes, humans, record["target"])
    confidence = outcomes["confidence"].to_numpy(float)
    kept = np.zeros(len(uids), dtype=bool) if threshold is None else ~np.isnan(confidence) & (confidence >= threshold)
    per_item = None
    if price and price.get("full_price_usd") is not None and price["items"]:
        per_item = price["full_price_usd"] / price["items"]
    unsure_share = float((~kept).mean()) if len(uids) else None
    return {"label": stage.label, "threshold": threshold,
            "agreement": share_figure(int(right.sum()), len(uids)),
            "kept_agreement": share_figure(int((right & kept).sum()), int(kept.sum())),
            "unsure_share": unsure_share,
            "people_items_estimate": None if unsure_share is None else round(unsure_share * items),
            "full_price_usd_per_item": per_item,
            "full_price_usd_all_items": None if per_item is None else per_item * items}


def _version_view(store, funnel_id: int) -> list[dict[str, Any]]:
    """Per dataset version (the app-version view), from its latest funnel run: items the judges' screen
    passes, fails, and leaves to people."""
    runs = store.funnel_runs(funnel_id)
    out = []
    for dataset_version, group in runs.groupby("dataset_version", sort=True):
        latest = group.sort_values("id").iloc[-1]
        steps = store.funnel_steps(int(latest["id"]))
        settled = steps[steps["settled"].astype(bool)]
        items = len(store.items(int(latest["dataset_id"])))
        passed = int(settled["passed"].fillna(False).astype(bool).sum())
        out.append({"dataset_version": int(dataset_version), "funnel_run_id": int(latest["id"]),
                    "status": latest["status"], "items": items, "judges_pass": passed,
                    "judges_fail": int(len(settled)) - passed, "people": items - int(len(settled)),
                    "pass_share_of_judged": share_figure(passed, int(len(settled)))})
    return out
