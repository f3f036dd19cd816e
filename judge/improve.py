"""Make a judge agree better with people, and prove it on labels it never learned from.

    split = heldout_split(store, "support", spec_name="helpful")      # stable as labels arrive
    fixes = corrections(store, base_run_id)                            # tuning items the judge got wrong
    board = score_candidates(store, "support", [current, *automatic_candidates(store, current, base_run_id)])
    if board.better_than_current: promote(store, board.best.spec)

Human-labeled items are split by a hash of (seed, item uid): about 30% "tuning" (where few-shot examples
and guidelines come from) and 70% "held-out" (only ever used to score). An item's side never changes when
other labels arrive, and an item used as a few-shot example is never held out, so a candidate is never
scored on an answer it was shown. Review labels (judge-first review, given while seeing the judge's answer)
teach but never measure: an item only a review graded is always a tuning item, corrections read review labels
(and their critiques), and held-out scoring reads the other labels only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from judge import metrics as M
from judge.criteria import is_blank
from judge.errors import JudgeError
from judge.reports.agreement import agreement_figures, fewshot_uids
from judge.reports.figures import figure, undefined
from judge.runner import execute_run, start_run
from judge.specs import JudgeSpec, save_spec

TUNING_SHARE = 0.3
GUIDELINES_HEADER = "Guidelines from reviewers' corrections:"


# -- the held-out split -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Split:
    """Labeled items of one dataset version: where few-shot examples may come from, and what scores."""

    dataset_id: int
    seed: int
    tuning: list[str]
    heldout: list[str]
    reviewed: list[str] = field(default_factory=list)  # tuning items graded only in a judge-first review


def tuning_side(uid: str, *, seed: int = 0, tuning_share: float = TUNING_SHARE) -> bool:
    """Whether an item belongs to the tuning part: a hash, so it never moves when other items get labels."""
    digest = hashlib.sha256(f"{seed}:{uid}".encode()).hexdigest()
    return int(digest[:15], 16) / 16**15 < tuning_share


def heldout_split(store, dataset: str, *, seed: int = 0, tuning_share: float = TUNING_SHARE,
                  spec_name: str | None = None, fewshot: Sequence[str] = (), criterion: str | None = None) -> Split:
    """Split the dataset's items labeled on `criterion` (default: its only criterion); items marked
    few-shot for `spec_name` or listed in `fewshot`, and items graded only in a review, are always tuning items."""
    ds = store.dataset(dataset)
    measured = store.criterion(ds["name"], criterion)
    measurable = _labeled_uids(store.human_item_labels(int(ds["id"]), measured.id))
    reviewed = _labeled_uids(store.human_item_labels(int(ds["id"]), measured.id, include_review=True)) - measurable
    seen = set(fewshot) | (set(store.fewshot_items(spec_name)) if spec_name else set())
    tuning, heldout = [], []
    for uid in sorted(measurable | reviewed):
        side = uid in seen or uid in reviewed or tuning_side(uid, seed=seed, tuning_share=tuning_share)
        (tuning if side else heldout).append(uid)
    return Split(dataset_id=int(ds["id"]), seed=seed, tuning=tuning, heldout=heldout, reviewed=sorted(reviewed))


def _labeled_uids(humans: pd.DataFrame) -> set[str]:
    return set(humans[humans["human_score"].notna() | humans["human_passed"].notna()]["item_uid"])


# -- corrections: where the judge disagreed with people -------------------------------------------------
def corrections(store, run_id: str, *, seed: int = 0, tuning_share: float = TUNING_SHARE,
                limit: int = 200) -> pd.DataFrame:
    """Tuning items where the run disagrees with the people on its criterion, furthest apart first.

    On a 1-5 criterion a correction is a different score; on a pass/fail criterion, a different pass/fail
    (distance 1). Columns: item_uid, item_id, human_score, judge_score, human_passed, judge_passed, distance,
    direction ("too lenient" when the judge scored higher or passed a failure), critique (the human's),
    reasoning (the judge's), input, output, context, reference. Items already used as the judge's few-shot
    examples are left out.
    """
    run = store.report_run(run_id)
    threshold = int(run["spec"].get("pass_threshold") or 4)
    dataset_id = int(run["dataset_id"])
    split = heldout_split(store, run["dataset"], seed=seed, tuning_share=tuning_share, spec_name=run["spec_name"],
                          criterion=run["criterion"])
    shown = fewshot_uids(store, run["spec_name"], run["spec"], dataset_id)
    tuning = set(split.tuning) - shown
    both = store.human_item_labels(dataset_id, run["criterion_id"], include_review=True).merge(
        store.judge_item_scores(run_id, threshold), on="item_uid")
    both = both[both["item_uid"].isin(tuning)]
    if run["scale"] == "pass/fail":
        both = both.dropna(subset=["human_passed", "judge_passed"])
        both = both[both["human_passed"].astype(bool) != both["judge_passed"].astype(bool)].copy()
        both["distance"] = 1
        lenient = both["judge_passed"].astype(bool).to_numpy()
    else:
        both = both.dropna(subset=["human_score", "judge_score"]).astype({"human_score": int, "judge_score": int})
        both = both[both["human_score"] != both["judge_score"]].copy()
        both["distance"] = (both["judge_score"] - both["human_score"]).abs()
        lenient = (both["judge_score"] > both["human_score"]).to_numpy()
    both["direction"] = np.where(lenient, "too lenient", "too strict")
    verdicts = store.verdicts(run_id)
    reasoning = verdicts[verdicts["error"].isna()].groupby("item_uid")["reasoning"].first()
    items = store.items(dataset_id).set_index("uid")
    out = both.assign(
        item_id=both["item_uid"].map(items["item_id"]),
        critique=both["item_uid"].map(_critiques(store, dataset_id)),
        reasoning=both["item_uid"].map(reasoning),
        **{key: both["item_uid"].map(items[key]) for key in ("input", "output", "context", "reference")},
    )
    columns = ["item_uid", "item_id", "human_score", "judge_score", "human_passed", "judge_passed", "distance",
               "direction", "critique", "reasoning", "input", "output", "context", "reference"]
    return out.sort_values(["distance", "item_uid"], ascending=[False, True])[columns].head(limit).reset_index(drop=True)


def _critiques(store, dataset_id: int) -> pd.Series:
    """item_uid -> the critique that explains the human score: an adjudication's, else a review's (it says
    why the judge was corrected), else the latest one."""
    frames = [store.latest_labels(dataset_id, kind=kind).assign(rank=rank)
              for rank, kind in enumerate(("label", "review", "adjudication"))]
    labels = pd.concat(frames, ignore_index=True)
    labels = labels[labels["critique"].notna() & (labels["critique"].astype(str).str.strip() != "")]
    labels = labels.sort_values(["rank", "label_id"])
    return labels.groupby("item_uid")["critique"].last()


def example_score(row: Mapping[str, Any]) -> int:
    """The 1-5 score a corrected item teaches: the human score, else (a pass/fail criterion) 5 for a pass
    and 1 for a failure, the clearest example of each side of the judge's threshold."""
    if _present(row.get("human_score")):
        return int(row["human_score"])
    return 5 if bool(row["human_passed"]) else 1


def examples_from_corrections(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """Few-shot examples from corrected items: the human grade, and the human critique as the reasoning."""
    examples = []
    for row in rows.to_dict("records"):
        example = {key: row[key] for key in ("input", "output", "context", "reference") if _present(row.get(key))}
        critique = str(row["critique"]).strip() if _present(row.get("critique")) else ""
        score = example_score(row)
        if _present(row.get("human_score")):
            fallback = f"A reviewer scored this response {score}."
        else:
            fallback = f"A reviewer judged that this response {'passes' if row['human_passed'] else 'fails'}."
        examples.append({**example, "score": score, "reasoning": critique or fallback, "item_uid": row["item_uid"]})
    return examples


def with_examples(spec: JudgeSpec, examples: list[dict[str, Any]]) -> JudgeSpec:
    """The spec with these examples added after its own (an item already used is not added twice)."""
    used = {example.get("item_uid") for example in spec.examples if example.get("item_uid")}
    fresh = [example for example in examples if example["item_uid"] not in used]
    return replace(spec, examples=[*spec.examples, *fresh])


def add_fewshot(store, spec: JudgeSpec, rows: pd.DataFrame) -> tuple[JudgeSpec, int]:
    """Use these corrected items as few-shot examples: save a new spec version and mark the items."""
    candidate = with_examples(spec, examples_from_corrections(rows))
    return candidate, promote(store, candidate)


def guidelines(rows: pd.DataFrame, *, limit: int = 8) -> list[str]:
    """Bullet points from the human critiques of disagreements: which way the judge erred, and why."""
    bullets: list[str] = []
    for row in rows.to_dict("records"):
        critique = " ".join(str(row["critique"]).split()) if _present(row.get("critique")) else ""
        if not critique:
            continue
        lead = "Score lower" if row["direction"] == "too lenient" else "Score higher"
        bullet = f"{lead} when, as a reviewer put it: {critique}"
        if bullet not in bullets:
            bullets.append(bullet)
    return bullets[:limit]


def with_guidelines(spec: JudgeSpec, bullets: list[str]) -> JudgeSpec:
    """The spec with the bullets appended to its criteria (replacing guidelines added earlier this way)."""
    criteria = spec.criteria.split(GUIDELINES_HEADER)[0].rstrip()
    block = "\n".join(f"- {bullet}" for bullet in bullets)
    return replace(spec, criteria=f"{criteria}\n\n{GUIDELINES_HEADER}\n{block}".strip())


def automatic_candidates(store, spec: JudgeSpec, run_id: str, *, fewshot: int = 3, seed: int = 0
                         ) -> list[tuple[str, JudgeSpec]]:
    """(label, spec) variants of the current spec from a run's corrections: few-shot examples, guidelines."""
    rows = corrections(store, run_id, seed=seed)
    out = []
    if fewshot > 0 and len(rows):
        with_critique = rows.assign(has=rows["critique"].notna()).sort_values(
            ["has", "distance"], ascending=[False, False], kind="stable")
        out.append((f"+ {min(fewshot, len(rows))} few-shot", with_examples(spec, examples_from_corrections(
            with_critique.head(fewshot)))))
    bullets = guidelines(rows)
    if bullets:
        out.append((f"+ {len(bullets)} guidelines", with_guidelines(spec, bullets)))
    return out


def base_run(store, dataset: str, spec: JudgeSpec, *, model: str | None = None, seed: int = 0,
             concurrency: int = 16, secrets: Mapping | None = None, criterion: str | None = None) -> str:
    """Run the current spec on the tuning items (free from the cache when unchanged): its corrections."""
    criterion = _criterion_of(store, dataset, spec, criterion)
    split = heldout_split(store, dataset, seed=seed, spec_name=spec.name, criterion=criterion)
    if not split.tuning:
        raise JudgeError(f"Dataset '{dataset}' has no labeled tuning items yet: label some items first.")
    run_id = start_run(store, dataset=dataset, spec=spec, model=model, concurrency=concurrency,
                       item_uids=split.tuning, name="improve: tuning", secrets=secrets, criterion=criterion)
    execute_run(store, run_id, secrets=secrets)
    return run_id


# -- scoring candidates on held-out labels ---------------------------------------------------------------
@dataclass
class Leaderboard:
    """Candidates ranked by the criterion's primary figure on the held-out labels (quadratic kappa for a
    1-5 criterion, pass/fail kappa for a pass/fail one); `rows[i]` describes candidate i."""

    dataset: str
    seed: int
    heldout_items: int
    rows: list[dict[str, Any]]
    specs: dict[str, JudgeSpec] = field(repr=False)
    criterion: str | None = None
    figure: str = "quadratic_kappa"

    @property
    def best(self) -> dict[str, Any]:
        return self.rows[0]

    @property
    def best_spec(self) -> JudgeSpec:
        return self.specs[self.best["label"]]

    @property
    def better_than_current(self) -> bool:
        """True only when the best is not the current spec and its kappa gain's interval excludes zero."""
        gain = self.best["vs_current"]
        return not self.best["current"] and gain["ci"] is not None and gain["ci"][0] > 0

    def verdict(self) -> str:
        best, gain = self.best, self.best["vs_current"]
        if best["current"]:
            return "The current spec agrees best with the held-out labels: keep it."
        if gain["value"] is None:
            return f"'{best['label']}' ranks first, but the {self.figure} difference is undefined ({gain['undefined']})."
        low, high = gain["ci"] or (None, None)
        interval = f"95% CI {low:+.3f} to {high:+.3f}" if low is not None else "no interval"
        if self.better_than_current:
            return f"'{best['label']}' is better than the current spec: {self.figure} {gain['value']:+.3f} ({interval})."
        return (f"'{best['label']}' ranks first ({self.figure} {gain['value']:+.3f}, {interval}), but the interval "
                "includes zero: not clearly better. Label more items or keep the current spec.")

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "criterion": self.criterion, "ranked_by": self.figure, "seed": self.seed,
                "heldout_items": self.heldout_items,
                "better_than_current": self.better_than_current, "verdict": self.verdict(),
                "rows": [{**row, "spec": self.specs[row["label"]].to_dict()} for row in self.rows]}


def score_candidates(store, dataset: str, candidates: list[JudgeSpec], *, seed: int = 0, concurrency: int = 16,
                     labels: list[str] | None = None, model: str | None = None, n_boot: int = 1000,
                     on_run: Callable[[str, str], None] | None = None, secrets: Mapping | None = None,
                     criterion: str | None = None) -> Leaderboard:
    """Run every candidate on the held-out items only and rank them by agreement with the humans there.

    Agreement is on one criterion (default: the one the current spec grades, else the dataset's only one),
    ranked by its primary figure: quadratic kappa (1-5) or pass/fail kappa (pass/fail). `candidates[0]` is
    the current spec: every other is compared with it by a paired bootstrap of that figure's difference
    (same items resampled for both). Runs go through the runner, so the cache, resume and cost accounting
    apply; `on_run(label, run_id)` is called as each run starts.
    """
    if not candidates:
        raise JudgeError("Give at least one candidate spec; the first is the current one.")
    labels = list(labels or ["current", *(f"candidate {i}" for i in range(1, len(candidates)))])
    if len(labels) != len(candidates) or len(set(labels)) != len(labels):
        raise JudgeError("Give one distinct label per candidate.")
    criterion = _criterion_of(store, dataset, candidates[0], criterion)
    measured = store.criterion(store.dataset(dataset)["name"], criterion)
    figure_key = "pass_fail_kappa" if measured.is_pass_fail else "quadratic_kappa"
    shown = {str(e["item_uid"]) for spec in candidates for e in spec.examples if e.get("item_uid")}
    split = heldout_split(store, dataset, seed=seed, spec_name=candidates[0].name, fewshot=sorted(shown),
                          criterion=criterion)
    if len(split.heldout) < 2:
        raise JudgeError(f"Dataset '{dataset}' has {len(split.heldout)} held-out labeled item(s); "
                         "label more items (about 70% of labeled items are held out).")
    paired: list[pd.DataFrame] = []
    rows: list[dict[str, Any]] = []
    for label, spec in zip(labels, candidates):
        run_id = start_run(store, dataset=dataset, spec=spec, model=model, concurrency=concurrency,
                           item_uids=split.heldout, name=f"improve: {label}", secrets=secrets,
                           criterion=criterion)
        if on_run is not None:
            on_run(label, run_id)
        execute_run(store, run_id, secrets=secrets)
        threshold = int(spec.pass_threshold)
        both = store.human_item_labels(split.dataset_id, measured.id).merge(
            store.judge_item_scores(run_id, threshold), on="item_uid")
        both = both[both["item_uid"].isin(split.heldout)].reset_index(drop=True)
        figures = agreement_figures(both, n_boot=n_boot, seed=seed)
        paired.append(both)
        rows.append({"label": label, "current": not rows, "run_id": run_id, "n": len(both),
                     "quadratic_kappa": figures["scores"]["quadratic_kappa"],
                     "exact_agreement": figures["scores"]["exact_agreement"],
                     "pass_fail_kappa": figures["pass_fail"]["kappa"]})
    gain = pass_kappa_gain if measured.is_pass_fail else kappa_gain
    for row, both in zip(rows, paired):
        row["vs_current"] = gain(paired[0], both, n_boot=n_boot, seed=seed)
    tiebreak = "pass_fail_kappa" if not measured.is_pass_fail else "exact_agreement"
    ranked = sorted(rows, key=lambda r: (r[figure_key]["value"] is None, -(r[figure_key]["value"] or 0),
                                         -(r[tiebreak]["value"] or 0), not r["current"]))
    for rank, row in enumerate(ranked, 1):
        row["rank"] = rank
    return Leaderboard(dataset=dataset, seed=seed, heldout_items=len(split.heldout), rows=ranked,
                       specs=dict(zip(labels, candidates)), criterion=measured.name, figure=figure_key)


def _criterion_of(store, dataset: str, spec: JudgeSpec, criterion: str | None) -> str:
    """The criterion improving `spec` is measured on: given, else the one a run of it would record."""
    from judge.criteria import run_criterion

    name, _ = run_criterion(store, store.dataset(dataset)["name"], spec.judged_criterion, criterion)
    return name


def kappa_gain(current: pd.DataFrame, candidate: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Quadratic kappa of the candidate minus the current one on the items both scored, with a paired
    bootstrap interval and `share_better` (the share of resamples where the candidate wins)."""
    both = current.merge(candidate, on="item_uid", suffixes=("_a", "_b"))
    both = both.dropna(subset=["human_score_a", "judge_score_a", "judge_score_b"])
    human, a, b = (both[c].to_numpy(dtype=np.int64) for c in ("human_score_a", "judge_score_a", "judge_score_b"))
    return _paired_gain(human - 1, a - 1, b - 1, classes=5, weights="quadratic", n_boot=n_boot, seed=seed,
                        point=lambda: M.weighted_kappa(human, b) - M.weighted_kappa(human, a),
                        too_few="fewer than two items scored by both")


def pass_kappa_gain(current: pd.DataFrame, candidate: pd.DataFrame, *, n_boot: int = 1000,
                    seed: int = 0) -> dict[str, Any]:
    """Pass/fail kappa of the candidate minus the current one on the items both judged (a pass/fail
    criterion), with a paired bootstrap interval and `share_better`."""
    both = current.merge(candidate, on="item_uid", suffixes=("_a", "_b"))
    both = both.dropna(subset=["human_passed_a", "judge_passed_a", "judge_passed_b"])
    human, a, b = (both[c].astype(bool).to_numpy(dtype=np.int64)
                   for c in ("human_passed_a", "judge_passed_a", "judge_passed_b"))
    return _paired_gain(human, a, b, classes=2, weights=None, n_boot=n_boot, seed=seed,
                        point=lambda: M.pass_fail_kappa(human.astype(bool), b.astype(bool))
                        - M.pass_fail_kappa(human.astype(bool), a.astype(bool)),
                        too_few="fewer than two items judged by both")


def _paired_gain(human: np.ndarray, a: np.ndarray, b: np.ndarray, *, classes: int, weights: str | None,
                 n_boot: int, seed: int, point: Callable[[], float], too_few: str) -> dict[str, Any]:
    """Kappa(human, b) - kappa(human, a) over 0-based class codes, resampling items jointly for both judges,
    with `share_better`: the share of resamples where b wins."""
    if len(human) < 2:
        return {**undefined(too_few, len(human)), "share_better": None}
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(human), size=(n_boot, len(human)))
    cells = classes * classes
    offsets = cells * np.arange(n_boot)[:, None]

    def tables(judge: np.ndarray) -> np.ndarray:
        codes = human * classes + judge
        return np.bincount((codes[picks] + offsets).ravel(), minlength=cells * n_boot).reshape(
            n_boot, classes, classes)

    gains = M.kappa_from_tables(tables(b), weights=weights) - M.kappa_from_tables(tables(a), weights=weights)
    out = figure(point, gains, len(human))
    valid = gains[~np.isnan(gains)]
    out["share_better"] = float((valid > 0).mean()) if valid.size else None
    return out


def promote(store, spec: JudgeSpec) -> int:
    """Save the spec as the new version of its name and mark its example items as few-shot (one transaction)."""
    with store.transaction():
        version = save_spec(store, spec)
        marked = set(store.fewshot_items(spec.name))
        for example in spec.examples:
            uid = example.get("item_uid")
            if uid and uid not in marked:
                store.mark_fewshot(spec.name, str(uid))
                marked.add(uid)
    return version


def _present(value: Any) -> bool:
    return not is_blank(value)
