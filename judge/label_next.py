"""Which item to label next: five strategies, each a sampling design whose inclusion probabilities are known.

A strategy gives every item of the dataset version a *share* of the design's size measure: a defensive mix
of the uniform share and the strategy's priority (DEFENSIVE_MIX of it is uniform, so no item's share is
zero and no weight exceeds N / (DEFENSIVE_MIX * n)). Items are queued by sequential Poisson sampling
(Ohlsson 1998): item i draws u_i ~ U(0, 1) from the design's seed and the queue is ascending u_i / share_i.
Whoever labels the first n items of the queue has drawn a sample of size n whose inclusion probabilities
are pi_i = min(1, n * share_i), wherever they stop. Each label records its design and share
(labels.sample_design, labels.sample_share); reports weight an item by 1 / pi_i, with n the items labeled
under that design (`design_weights`). Items labeled outside any design count as themselves only (weight 1).

Strategies (priority of an item, from the runs measured on the criterion in that dataset version):
- random: none (every share 1/N): today's seeded sample, with its design recorded.
- suspicion: EvalGen's order: how far the judges' failures of the item are from a coin flip, most-failed and
  least-failed items alternating in the suggested batch.
- uncertain: the judge's own uncertainty: disagreement among its samples, and the distance of its
  (log-probability weighted, where stored) score from the pass threshold.
- disagreement: how far two or more runs disagree on the item (pass/fail, then score).
- stratified: equal total share for the items each run majority passes, fails, or did not judge, so
  failures get labeled even when they are rare.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from judge.errors import JudgeError

STRATEGIES = ("random", "suspicion", "uncertain", "disagreement", "stratified")
# Half of every share is uniform: no weight exceeds twice a uniform sample's. A design's variance is
# sum c_i / share_i (c_i: what item i adds to a figure's variance), so the heavy weights of the items a
# strategy ranks low cost more than oversampling gains; with 0.3 the `disagreement` design needed 25% MORE
# labels than random on USR (bench/label_next.py's design column), and its variance, estimated from the few
# heavy items drawn, came out small by chance often enough that intervals stopped early under-covered.
DEFENSIVE_MIX = 0.5
DEFAULT_BATCH = 20


class StrategyUnavailable(JudgeError):
    """A strategy that needs judge runs the dataset does not have yet; the message says which to start."""


@dataclass(frozen=True)
class Design:
    """What a queue is drawn from: strategy, seed, dataset version, criterion and the runs it reads."""
    strategy: str
    dataset_id: int
    criterion: str
    seed: int = 0
    runs: tuple[str, ...] = ()

    def key(self) -> str:
        """The JSON recorded with each label drawn under this design (labels.sample_design)."""
        return json.dumps({**asdict(self), "runs": list(self.runs)}, sort_keys=True)

    @classmethod
    def from_key(cls, key: str) -> "Design":
        data = json.loads(key)
        return cls(data["strategy"], int(data["dataset_id"]), data["criterion"], int(data.get("seed", 0)),
                   tuple(data.get("runs") or ()))


@dataclass
class Suggestion:
    """One item to label next, why, and its inclusion probability if the suggested batch is labeled."""
    item_uid: str
    item_id: str
    reason: str
    share: float
    inclusion_probability: float
    design: str = field(repr=False, default="")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_strategy(strategy: str) -> str:
    name = (strategy or "").strip().lower()
    if name not in STRATEGIES:
        raise JudgeError(f"Unknown strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}.")
    return name


# -- signals and priorities ---------------------------------------------------------------------------
def item_table(signals: pd.DataFrame) -> pd.DataFrame:
    """Per item (in dataset order): the runs' verdicts summarised into what the strategies rank on."""
    judged = signals.dropna(subset=["run_id"])
    items = signals.drop_duplicates("item_uid")[["item_uid", "item_id", "position"]].set_index("item_uid")
    if judged.empty:
        return items.assign(runs=0, fail_share=np.nan, run_spread=0.0, uncertainty=np.nan,
                            majority=np.nan, judge_score=np.nan).reset_index()
    judged = judged.assign(
        run_passed=judged["pass_share"] > 0.5,
        sample_flip=4 * judged["pass_share"] * (1 - judged["pass_share"]),
        closeness=1 - (continuous_score(judged) - (judged["pass_threshold"] - 0.5)).abs().clip(upper=2) / 2,
    )
    per_item = judged.groupby("item_uid").agg(
        runs=("run_id", "nunique"), fail_share=("run_passed", lambda p: 1 - p.mean()),
        score_sd=("judge_score", lambda s: float(s.std(ddof=0)) if s.notna().sum() > 1 else 0.0),
        sample_flip=("sample_flip", "mean"), closeness=("closeness", "mean"), judge_score=("judge_score", "mean"),
    )
    per_item["run_spread"] = 4 * per_item["fail_share"] * (1 - per_item["fail_share"]) + per_item["score_sd"] / 4
    per_item["uncertainty"] = np.maximum(per_item["sample_flip"], per_item["closeness"].fillna(0))
    per_item["majority"] = np.where(per_item["fail_share"] > 0.5, "fail", "pass")
    columns = ["runs", "fail_share", "run_spread", "uncertainty", "majority", "judge_score"]
    return items.join(per_item[columns]).fillna({"runs": 0, "run_spread": 0.0}).reset_index()


def continuous_score(judged: pd.DataFrame) -> pd.Series:
    """The judge's score on a continuous scale: the log-probability weighted score where stored, else the
    item score; NaN for a pass/fail verdict, whose uncertainty is its pass share alone (the flips of its k
    samples, or a distilled judge's probability of a pass), not a distance from a threshold it never scored."""
    return judged["weighted_score"].astype(float).fillna(judged["judge_score"].astype(float))


def priorities(items: pd.DataFrame, strategy: str) -> np.ndarray:
    """The strategy's non-negative priority of each item (before the defensive mix)."""
    judged = items["runs"].to_numpy() > 0
    if strategy == "random":
        return np.ones(len(items))
    if strategy != "stratified" and not judged.any():
        raise StrategyUnavailable(f"The '{strategy}' strategy ranks items by what a judge said about them, and no "
                                  "run on this criterion has judged an item of this dataset version yet: start one "
                                  "with `judge run`, or use --strategy random.")
    if strategy == "suspicion":
        return np.where(judged, np.abs(items["fail_share"].fillna(0.5) - 0.5) * 2 + 0.25, 0.0)
    if strategy == "uncertain":
        return np.where(judged, items["uncertainty"].fillna(0).to_numpy(), 0.0)
    if strategy == "disagreement":
        if (items["runs"] >= 2).sum() == 0:
            raise StrategyUnavailable("The 'disagreement' strategy needs two or more runs on this criterion that "
                                      "judged the same items: run a second judge or model with `judge run`.")
        return np.where(items["runs"] >= 2, items["run_spread"].to_numpy(), 0.0)
    stratum = items["majority"].fillna("unjudged")
    return 1.0 / stratum.map(stratum.value_counts()).to_numpy(dtype=float)


def shares(priority: np.ndarray) -> np.ndarray:
    """Each item's share of the design's size measure: DEFENSIVE_MIX uniform, the rest by priority."""
    n = len(priority)
    total = float(np.sum(priority))
    if n == 0:
        return np.zeros(0)
    if total <= 0:
        return np.full(n, 1.0 / n)
    return DEFENSIVE_MIX / n + (1 - DEFENSIVE_MIX) * priority / total


def queue_order(share: np.ndarray, seed: int) -> np.ndarray:
    """Indices in sequential Poisson order: ascending u_i / share_i with u_i drawn from the seed."""
    u = np.random.default_rng([int(seed), 11]).random(len(share))
    return np.argsort(u / share, kind="stable")


def inclusion_probabilities(share: np.ndarray, sample_size: int) -> np.ndarray:
    """pi_i = min(1, n * share_i): the inclusion probability of sequential Poisson sampling of size n."""
    return np.minimum(1.0, sample_size * np.asarray(share, dtype=float))


def reason(row: pd.Series, strategy: str) -> str:
    """Why an item was suggested, in words a labeler reads."""
    if strategy == "random":
        return "random sample: estimates without bias"
    if row["runs"] == 0:
        return "no judge has scored it yet (kept in the sample so estimates stay unbiased)"
    failed = f"{row['fail_share']:.0%} of {int(row['runs'])} run(s) fail it"
    if strategy == "suspicion":
        return f"suspicious: {failed}"
    if strategy == "uncertain":
        score = "" if pd.isna(row["judge_score"]) else f", judge score {row['judge_score']:.1f}"
        return f"judge unsure: uncertainty {row['uncertainty']:.2f}{score}"
    if strategy == "disagreement":
        return f"judges disagree: {failed} (spread {row['run_spread']:.2f})"
    return f"stratified: the judges' majority {row['majority']}s it"


def alternate_extremes(batch: pd.DataFrame) -> pd.DataFrame:
    """EvalGen's presentation order: the most-failed and least-failed items of the batch, alternating."""
    ranked = batch.sort_values("fail_share", ascending=False, kind="stable").reset_index(drop=True)
    low, high, order = 0, len(ranked) - 1, []
    while low <= high:
        order += [low] if low == high else [low, high]
        low, high = low + 1, high - 1
    return ranked.iloc[order]


# -- the queue ------------------------------------------------------------------------------------------
def design_for(store, dataset: str, criterion: str | None = None, *, strategy: str = "random", seed: int = 0,
               runs: list[str] | None = None) -> Design:
    """The design a strategy draws from in the latest version of a dataset: by default it reads every run
    measured on the criterion there (the run ids are recorded, so the design can be recomputed exactly)."""
    strategy = check_strategy(strategy)
    info = store.dataset(dataset)
    measured = store.criterion(info["name"], criterion)
    if runs is None:
        listed = store.runs(info["id"])
        runs = sorted(listed.loc[listed["criterion"] == measured.name, "id"]) if len(listed) else []
    return Design(strategy, int(info["id"]), measured.name, int(seed), tuple(runs if strategy != "random" else ()))


def design_queue(store, design: Design) -> pd.DataFrame:
    """Every item of the design's pool in queue order, with its share and reason."""
    signals = store.item_signals(design.dataset_id, design.criterion)
    if design.runs:
        signals = signals[signals["run_id"].isna() | signals["run_id"].isin(design.runs)]
        signals = pd.concat([signals, _unjudged_rows(signals)]).drop_duplicates(["item_uid", "run_id"])
    items = item_table(signals)
    share = shares(priorities(items, design.strategy))
    items = items.assign(share=share)
    items = items.iloc[queue_order(share, design.seed)].reset_index(drop=True)
    items["reason"] = [reason(row, design.strategy) for _, row in items.iterrows()]
    return items


def _unjudged_rows(signals: pd.DataFrame) -> pd.DataFrame:
    """An item left without any row once other runs' verdicts are dropped comes back as unjudged."""
    return signals.drop_duplicates("item_uid").assign(run_id=None, judge_score=np.nan, pass_share=np.nan,
                                                      samples=np.nan, score_spread=np.nan, weighted_score=np.nan)


def suggest(store, dataset: str, criterion: str | None = None, *, n: int = DEFAULT_BATCH, strategy: str = "random",
            seed: int = 0, runs: list[str] | None = None) -> list[Suggestion]:
    """The next `n` items to label on a criterion under a strategy, each with its reason and the inclusion
    probability it will be weighted by once this batch is labeled. Items anyone has already labeled on the
    criterion are skipped (those drawn under the same design are already part of its sample)."""
    if int(n) < 1:
        raise JudgeError("Ask for at least one item to label (--n 1 or more).")
    with store.transaction():
        design = design_for(store, dataset, criterion, strategy=strategy, seed=seed, runs=runs)
        queue = design_queue(store, design)
        measured = store.criterion(store.dataset_by_id(design.dataset_id)["name"], design.criterion)
        labeled = store.labeled_on_criterion(design.dataset_id, measured.id)
        already = store.design_label_count(design.key())
    batch = queue[~queue["item_uid"].isin(labeled)].head(int(n))
    if design.strategy == "suspicion":
        batch = alternate_extremes(batch)
    size = already + len(batch)
    key = design.key()
    return [Suggestion(row["item_uid"], str(row["item_id"]), row["reason"], float(row["share"]),
                       float(inclusion_probabilities(row["share"], size)), key)
            for _, row in batch.iterrows()]


def record_label(store, suggestion: Suggestion, annotator: str, grades: dict[str | None, dict[str, Any]],
                 **options: Any) -> list[int]:
    """Save a person's grades of a suggested item with the design it was drawn under."""
    return store.add_grades(suggestion.item_uid, annotator, grades, sample_design=suggestion.design,
                            sample_share=suggestion.share, **options)


def drawn_under(store, design_key: str, item_uid: str) -> dict[str, Any]:
    """`add_grades` options for an item drawn under a recorded design: the design (canonical JSON) and the
    item's share, recomputed from the design (the CLI's `judge label --design`)."""
    try:
        design = Design.from_key(design_key)
    except (ValueError, KeyError, TypeError):
        raise JudgeError("--design must be the design JSON that `judge label-next` printed.") from None
    queue = design_queue(store, design)
    match = queue.loc[queue["item_uid"] == item_uid, "share"]
    if match.empty:
        raise JudgeError("That item is not in the design's dataset version: label it without --design.")
    return {"sample_design": design.key(), "sample_share": float(match.iloc[0])}


# -- weights for reports --------------------------------------------------------------------------------
def design_weights(labeled: pd.DataFrame) -> np.ndarray | None:
    """1 / pi_i of each labeled item (one row per item, with sample_design and sample_share), or None when no
    item was drawn by a design with unequal weights (then the plain figures are the design-correct ones).

    pi_i = min(1, n_d * share_i) with n_d the items in `labeled` drawn under design d; items drawn by no
    design weigh 1.
    """
    if "sample_design" not in labeled.columns or labeled["sample_design"].isna().all():
        return None
    design = labeled["sample_design"]
    sizes = design.map(design.value_counts())
    share = labeled["sample_share"].astype(float)
    pi = np.where(design.isna(), 1.0, np.minimum(1.0, sizes.fillna(0).to_numpy(dtype=float) * share.fillna(0)))
    weights = 1.0 / np.maximum(pi, 1e-12)
    if np.allclose(weights, weights[0]):
        return None
    return weights
