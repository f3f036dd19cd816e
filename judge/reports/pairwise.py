"""How far a pairwise judge agrees with people, and how much the slot an output is shown in sways it.

- Agreement: the judge's pair verdict (both orders combined) against the human preference of the pair, over
  the three classes a / b / tie: accuracy (Wilson interval) and Cohen's kappa (Dirichlet draws of the 3x3
  table, the method of every other kappa in the reports). Decisive accuracy is the accuracy on the pairs the
  judge did not call a tie: what the both-orders rule protects (a biased reply becomes a tie, not an error). Accuracy of each single order is shown beside it:
  what a judge asked once, in that order, would have scored. A verdict `inconsistent` (the spec's
  on_disagreement rule) is not a class: those pairs are counted and left out of agreement.
- Position: consistency is the share of pairs whose choice survives the swap (the same choice in both
  orders); the first-position win rate is the share of decisive replies (not ties) that chose the output
  shown first (0.5 = no position bias); the tie rate is the share of pair verdicts that are a tie.
- The ceiling: how far people agree with each other (Krippendorff's alpha over a/b/tie on pairs compared by
  two or more people), the figure a judge cannot be expected to beat.
- The human preference of a pair is the most common current choice of its annotators on the run's
  criterion; an even split between choices is a tie.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from judge import metrics as M
from judge.pairs import CHOICES
from judge.pairwise import INCONSISTENT, pair_verdicts

# Per cell of the 3x3 a/b/tie table: half an item in all, like the 5x5 score table's prior.
CHOICE_TABLE_PRIOR = 0.5 / 9


def proportion(successes: int, n: int) -> dict[str, Any]:
    if n == 0:
        return {"value": None, "ci": None, "n": 0, "undefined": "no pairs"}
    return {"value": successes / n, "ci": M.wilson_interval(successes, n), "n": int(n)}


def choice_table(human: pd.Series, judge: pd.Series) -> np.ndarray:
    """3x3 counts, rows = human choice, columns = judge choice, in the order a, b, tie."""
    index = {c: i for i, c in enumerate(CHOICES)}
    table = np.zeros((3, 3), dtype=np.int64)
    for h, j in zip(human, judge):
        table[index[h], index[j]] += 1
    return table


def kappa(table: np.ndarray, *, n_boot: int, seed: int) -> dict[str, Any]:
    n = int(table.sum())
    value = float(M.kappa_from_tables(table))
    if n == 0 or np.isnan(value):
        reason = "no pairs" if n == 0 else "people and judge each used one choice only"
        return {"value": None, "ci": None, "n": n, "undefined": reason}
    draws = M.kappa_from_tables(M.dirichlet_tables(table, n_boot, prior=CHOICE_TABLE_PRIOR, seed=seed))
    return {"value": value, "ci": M.percentile_interval(draws), "n": n}


def human_choices(store, dataset: str, criterion: str) -> pd.Series:
    """pair uid -> the human preference of the pair (most common current choice; an even split is a tie)."""
    prefs = store.preferences(dataset, criterion=criterion)
    out = {}
    for uid, group in prefs.groupby("pair_uid"):
        counts = group["choice"].value_counts()
        top = counts[counts == counts.max()].index.tolist()
        out[uid] = top[0] if len(top) == 1 else "tie"
    return pd.Series(out, dtype=object)


def agreement_figures(frame: pd.DataFrame, *, n_boot: int, seed: int) -> dict[str, Any]:
    """Accuracy and kappa of the combined verdict and of each order alone, on pairs with a human choice."""
    decided = frame[frame["human"].notna() & frame["verdict"].notna() & (frame["verdict"] != INCONSISTENT)]
    decisive = decided[decided["verdict"] != "tie"]
    figures = {
        "accuracy": proportion(int((decided["verdict"] == decided["human"]).sum()), len(decided)),
        "kappa": kappa(choice_table(decided["human"], decided["verdict"]), n_boot=n_boot, seed=seed),
        "decisive_accuracy": proportion(int((decisive["verdict"] == decisive["human"]).sum()), len(decisive)),
    }
    for order in ("ab", "ba"):
        column = f"choice_{order}"
        answered = frame[frame["human"].notna() & frame[column].notna()]
        if len(answered):
            figures[f"accuracy_{order}_only"] = proportion(int((answered[column] == answered["human"]).sum()),
                                                           len(answered))
    return figures


def position_figures(frame: pd.DataFrame) -> dict[str, Any]:
    both = frame[frame["choice_ab"].notna() & frame["choice_ba"].notna()]
    replies = pd.concat([
        pd.DataFrame({"choice": frame["choice_ab"], "first": "a"}),
        pd.DataFrame({"choice": frame["choice_ba"], "first": "b"}),
    ])
    decisive = replies[replies["choice"].isin(["a", "b"])]
    verdicts = frame[frame["verdict"].notna()]
    figures = {
        "position_consistency": proportion(int((both["choice_ab"] == both["choice_ba"]).sum()), len(both)),
        "first_position_win_rate": proportion(int((decisive["choice"] == decisive["first"]).sum()), len(decisive)),
        "tie_rate": proportion(int((verdicts["verdict"] == "tie").sum()), len(verdicts)),
    }
    if (verdicts["verdict"] == INCONSISTENT).any():
        figures["inconsistent_rate"] = proportion(int((verdicts["verdict"] == INCONSISTENT).sum()), len(verdicts))
    return figures


def human_ceiling(store, dataset: str, criterion: str, *, n_boot: int, seed: int) -> dict[str, Any]:
    """How far people agree with each other on the pairs two or more of them compared: the judge's ceiling.

    Krippendorff's alpha (nominal, over a/b/tie) with a bootstrap over pairs, and the share of annotator
    pairs on a pair that made the same choice.
    """
    prefs = store.preferences(dataset, criterion=criterion)
    codes = prefs.assign(code=prefs["choice"].map({c: i for i, c in enumerate(CHOICES)}))
    value_counts = np.array([[int((group["code"] == c).sum()) for c in range(3)]
                             for _, group in codes.groupby("pair_uid") if len(group) >= 2], dtype=np.int64)
    if not len(value_counts):
        undefined = {"value": None, "ci": None, "n": 0, "undefined": "no pair was compared by two people"}
        return {"krippendorff_alpha": undefined, "pairwise_agreement": undefined}
    reliability = codes.pivot_table(index="annotator", columns="pair_uid", values="code", aggfunc="first")
    agree = int((value_counts * (value_counts - 1) / 2).sum())
    comparisons = int((value_counts.sum(axis=1) * (value_counts.sum(axis=1) - 1) / 2).sum())
    try:
        alpha = M.krippendorff_alpha(reliability.to_numpy(dtype=float), level_of_measurement="nominal",
                                     value_domain=(0, 1, 2))
        draws = M.krippendorff_bootstrap(value_counts, n_boot, seed=seed, level_of_measurement="nominal")
        alpha_figure = {"value": alpha, "ci": M.percentile_interval(draws), "n": len(value_counts)}
    except M.UndefinedMetric as exc:
        alpha_figure = {"value": None, "ci": None, "n": len(value_counts), "undefined": exc.reason}
    return {"krippendorff_alpha": alpha_figure, "pairwise_agreement": proportion(agree, comparisons)}


def pairwise_frame(store, run_id: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """(run, one row per pair: each order's choice, the verdict, the human preference)."""
    run = store.pairwise_run(run_id)
    frame = pair_verdicts(store, run_id)
    humans = human_choices(store, run["dataset_name"], run["criterion"])
    frame["human"] = frame["pair_uid"].map(humans)
    frame["human"] = frame["human"].astype(object).where(frame["human"].notna(), None)
    return run, frame


def pairwise_report(store, run_id: str, *, n_boot: int = 1000, seed: int = 0,
                    slice_by: str | None = None) -> dict[str, Any]:
    """Everything known about a pairwise run, JSON-ready (keys documented in the README)."""
    run, frame = pairwise_frame(store, run_id)
    report = {
        "run": {"id": run["id"], "name": run["name"], "dataset": run["dataset_name"], "spec_name": run["spec_name"],
                "model": run["model"], "criterion": run["criterion"], "orders": run["orders"],
                "source": run["source"], "status": run["status"],
                "on_disagreement": (run["spec_body"] or {}).get("on_disagreement", "tie")},
        "n_boot": n_boot,
        "labels": {"pairs_with_human_preference": int(frame["human"].notna().sum()),
                   "human_ties": int((frame["human"] == "tie").sum())},
        "agreement": agreement_figures(frame, n_boot=n_boot, seed=seed),
        "position": position_figures(frame),
        "human_ceiling": human_ceiling(store, run["dataset_name"], run["criterion"], n_boot=n_boot, seed=seed),
        "run_stats": {"pairs": int(run["total_pairs"]), "replies": int(run["done"]), "failed": int(run["failed"]),
                      "cached": int(run["cached"]),
                      "cost_usd": None if run["cost_usd"] is None or pd.isna(run["cost_usd"]) else float(run["cost_usd"])},
    }
    if slice_by:
        report["slices"] = slices(frame, slice_by, n_boot=n_boot, seed=seed)
    return report


def slices(frame: pd.DataFrame, column: str, *, n_boot: int, seed: int) -> list[dict[str, Any]]:
    """Agreement per value of a pair metadata column (or system_a / system_b), worst accuracy first."""
    if column in ("system_a", "system_b"):
        values = frame[column]
    else:
        values = frame["metadata"].map(lambda m: (m or {}).get(column))
    out = []
    for value, group in frame.groupby(values.astype(str).where(values.notna(), "(none)"), sort=True):
        figures = agreement_figures(group, n_boot=n_boot, seed=seed)
        out.append({"value": value, "pairs": len(group), "accuracy": figures["accuracy"], "kappa": figures["kappa"],
                    **position_figures(group)})
    return sorted(out, key=lambda s: (s["accuracy"]["value"] is None, s["accuracy"]["value"] or 0))


def slice_columns(store, run_id: str) -> list[str]:
    """What a pairwise run's report can be sliced by: the pairs' systems (when named) and metadata columns."""
    pairs = store.pairs(store.pairwise_run(run_id)["dataset_name"])
    systems = [c for c in ("system_a", "system_b") if pairs[c].notna().any()]
    return systems + sorted(set().union(*(m.keys() for m in pairs["metadata"])))


def run_choices(store) -> dict[str, str]:
    """pairwise run id -> a readable label (judge, model or 'imported', pair dataset, status), newest first."""
    runs = store.pairwise_runs()
    return {row.id: f"{row.name or row.spec_name} · {row.model if isinstance(row.model, str) else row.source} · "
                    f"{row.dataset_name} · {row.status}" for row in runs.itertuples()}
