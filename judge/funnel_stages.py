"""The stages of a funnel: what each kind of judge says about an item, and how sure it is.

- `offline` (assertion or reference checks, judge.offline): decides with confidence 1 on the verdicts named
  by `decides` ("fail" by default: a failed format check is a sure failure, a passed one says little);
  on the others it is undecided and escalates. A check that cannot run (no reference) is a failure.
- `distilled` (the classifier of judge.distill, trained on the criterion's human labels): the probability
  of its verdict. A labeled item is predicted by a model trained on the other folds, never on its own label.
- `llm` (a judge spec and model): the probability of its verdict from the log-probability distribution over
  the scores where the provider returns one (p(pass) = the mass of the scores >= the pass threshold);
  else the agreement of its k samples (share equal to the modal verdict).

Offline and LLM stages run through the runner (cache, resume, cost, concurrency, batch), restricted to the
items that reach them; a failed call gives the item no verdict and no confidence, so it goes up.
"""

from __future__ import annotations

import json
import secrets as _secrets
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Mapping

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold
from threadpoolctl import threadpool_limits

from judge.criteria import DEFAULT_PASS_THRESHOLD, Criterion, is_missing
from judge.errors import InvalidSpec, JudgeError
from judge.funnel_calibration import sample_agreement, verdict_confidence

STAGE_KINDS = ("offline", "distilled", "llm")
TARGETS = ("pass/fail", "score")
DECIDES = ("fail", "pass", "both")
DISTILLED_MODEL = "sklearn/tfidf-logistic-regression"
DISTILLED_FOLDS = 5


@dataclass(frozen=True)
class Stage:
    """One judge stage: its kind, the judge spec (offline, llm) by name and, once checked, its exact body (so a
    later edit of the spec cannot change a calibrated funnel), model and samples (llm), what an offline stage
    decides on."""
    kind: str
    judge: str | None = None
    model: str | None = None
    samples: int = 1
    decides: str = "fail"
    batch: bool = False  # an llm stage through the provider's batch API (half price, results within 24 h)
    spec: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str:
        if self.kind == "distilled":
            return "distilled"
        text = f"{self.kind}:{self.judge}"
        if self.kind == "llm":
            text += f"@{self.model}" + (f"*{self.samples}" if self.samples > 1 else "") + ("+batch" if self.batch else "")
        elif self.decides != "fail":
            text += f" (decides {self.decides})"
        return text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Stage":
        return cls(**data)


def parse_stage(text: str) -> Stage:
    """A stage from the CLI's short form: `offline:SPEC`, `offline:SPEC/both`, `distilled`,
    `llm:SPEC@MODEL`, `llm:SPEC@MODEL*3` (3 samples), `llm:SPEC@MODEL+batch` (through the batch API)."""
    raw = (text or "").strip()
    kind, _, rest = raw.partition(":")
    kind = {"assertion": "offline"}.get(kind.strip().lower(), kind.strip().lower())
    if kind == "distilled" and not rest:
        return Stage("distilled")
    if kind == "offline" and rest:
        judge, _, decides = rest.partition("/")
        return Stage("offline", judge.strip(), decides=(decides.strip() or "fail"))
    if kind == "llm" and "@" in rest:
        batch = rest.endswith("+batch")
        judge, _, model = rest.removesuffix("+batch").partition("@")
        model, _, samples = model.partition("*")
        try:
            count = int(samples) if samples else 1
        except ValueError:
            raise JudgeError(f"Stage {raw!r}: the samples after '*' are a whole number, e.g. llm:SPEC@MODEL*3.") from None
        return Stage("llm", judge.strip(), model.strip(), count, batch=batch)
    raise JudgeError(f"Stage {raw!r} is not one of: offline:SPEC[/fail|pass|both], distilled, "
                     "llm:SPEC@MODEL[*SAMPLES][+batch] (e.g. llm:faithfulness@openai/gpt-4.1-mini*3).")


def check_stage(store, stage: Stage, criterion: Criterion, target: str) -> Stage:
    """The stage, validated against the store: its spec loads and is of its kind, an LLM names a model."""
    from judge.specs import load_spec

    if stage.kind not in STAGE_KINDS:
        raise JudgeError(f"A stage's kind is one of {', '.join(STAGE_KINDS)}, not {stage.kind!r}.")
    if stage.kind == "distilled":
        return Stage("distilled")
    if not stage.judge:
        raise JudgeError(f"A {stage.kind} stage names its judge spec, e.g. {stage.kind}:NAME.")
    spec = load_spec(store, stage.judge)
    if stage.kind == "offline":
        if spec.kind == "llm":
            raise InvalidSpec(f"Judge '{stage.judge}' is an LLM judge: make it an llm:{stage.judge}@MODEL stage.")
        if stage.decides not in DECIDES:
            raise JudgeError(f"An offline stage decides on {', '.join(DECIDES)} verdicts, not {stage.decides!r}.")
        return Stage("offline", stage.judge, decides=stage.decides, spec=spec.to_dict())
    if spec.kind != "llm":
        raise InvalidSpec(f"Judge '{stage.judge}' runs offline ({spec.kind}): make it an offline:{stage.judge} stage.")
    model = stage.model or spec.model
    if not model:
        raise InvalidSpec(f"Stage llm:{stage.judge} names no model: write llm:{stage.judge}@openai/gpt-4.1-mini.")
    if int(stage.samples) < 1:
        raise JudgeError(f"Stage {stage.label}: samples must be at least 1.")
    if target == "score" and criterion.is_pass_fail:
        raise JudgeError(f"'{criterion.name}' is graded pass/fail: a funnel on it agrees on pass/fail, not scores.")
    return Stage("llm", stage.judge, model, int(stage.samples), batch=bool(stage.batch), spec=spec.to_dict())


# -- verdict and confidence per item ------------------------------------------------------------------
def item_outcomes(verdicts: pd.DataFrame, uids: list[str], stage: Stage, *, pass_threshold: int | None,
                  target: str) -> pd.DataFrame:
    """Per item of `uids`: the stage's verdict (passed, score), its confidence (NaN = undecided or failed)
    and the error when no sample gave a verdict. `verdicts` are the stage run's rows (one per sample)."""
    rows = {uid: group for uid, group in verdicts.groupby("item_uid")} if len(verdicts) else {}
    out = []
    for uid in uids:
        group = rows.get(uid)
        out.append({"item_uid": uid, **_outcome(group, stage, pass_threshold, target)})
    return pd.DataFrame(out, columns=["item_uid", "confidence", "passed", "score", "error"])


def _outcome(samples: pd.DataFrame | None, stage: Stage, pass_threshold: int | None, target: str) -> dict[str, Any]:
    if samples is None or samples.empty:
        return {"confidence": np.nan, "passed": None, "score": None, "error": "no verdict (the stage did not judge it)"}
    valid = samples[samples["error"].isna() & (samples["score"].notna() | samples["passed"].notna())]
    if valid.empty:
        errors = samples["error"].dropna()
        return {"confidence": np.nan, "passed": None, "score": None,
                "error": str(errors.iloc[0]) if len(errors) else "no verdict"}
    scores = valid["score"].dropna().astype(int).sort_values().tolist()
    score = scores[(len(scores) - 1) // 2] if scores else None  # the lower median, as the reports read it
    if score is not None and pass_threshold is not None:
        passes = [s >= pass_threshold for s in valid["score"].dropna().astype(int)]
        passed = score >= pass_threshold
    else:  # a pass/fail verdict (a classifier, an offline check): the majority, a tie fails, as reports read it
        passes = [bool(p) for p in valid["passed"]]
        passed = 2 * sum(passes) > len(passes)
    verdict: Any = score if target == "score" else passed
    if stage.kind == "offline":
        decided = stage.decides == "both" or (stage.decides == "pass") == passed
        return {"confidence": 1.0 if decided else np.nan, "passed": passed, "score": score, "error": None}
    stored = valid["score_probs"] if "score_probs" in valid else pd.Series(dtype=object)
    probs = [json.loads(p) for p in stored] if len(stored) and stored.notna().all() else []
    if probs and all(probs):  # every sample has its distribution
        confidence = float(np.mean([verdict_confidence(p, verdict=verdict, pass_threshold=pass_threshold,
                                                       target=target) for p in probs]))
    else:
        confidence = sample_agreement(valid["score"].astype(int).tolist() if target == "score" else passes)
    return {"confidence": confidence, "passed": passed, "score": score, "error": None}


# -- running a stage ------------------------------------------------------------------------------------
def run_stage(store, stage: Stage, *, dataset: dict[str, Any], criterion: Criterion, target: str,
              item_uids: list[str], run_id: str | None, on_start, secrets: Mapping | None = None,
              cancel: threading.Event | None = None, concurrency: int | None = None,
              poll_seconds: float | None = None, seed: int = 0) -> tuple[str, pd.DataFrame] | None:
    """Judge `item_uids` with the stage (resuming `run_id` if given; `on_start(run_id)` records a new run
    before its first call); (run id, item outcomes), or None when `cancel` stopped it."""
    if stage.kind == "distilled":
        if run_id is None:
            run_id = distilled_run(store, dataset, criterion, item_uids, target=target, seed=seed)
            on_start(run_id)
        threshold = None
    else:
        from judge.runner import execute_run, start_run
        from judge.specs import JudgeSpec, load_spec

        spec = JudgeSpec.from_dict(stage.spec) if stage.spec else load_spec(store, stage.judge)
        if run_id is None:
            run_id = start_run(store, dataset=dataset["name"], dataset_version=int(dataset["version"]), spec=spec,
                               model=stage.model, samples=stage.samples, item_uids=item_uids,
                               criterion=criterion.name, secrets=secrets, batch=stage.batch,
                               name=f"funnel stage {stage.label}")
            on_start(run_id)
        # A rejected key (RunAborted) stops the funnel run and fails it, as it stops a run: no retry can fix
        # it, and sending every item up to people would hide it. Resumed once the key is fixed.
        summary = execute_run(store, run_id, secrets=secrets, cancel=cancel, concurrency=concurrency,
                              poll_seconds=poll_seconds)
        if summary.status != "done":
            return None
        threshold = store.run(run_id)["pass_threshold"]
    verdicts = store.verdicts(run_id)
    return run_id, item_outcomes(verdicts, item_uids, stage, pass_threshold=threshold, target=target)


def distilled_run(store, dataset: dict[str, Any], criterion: Criterion, item_uids: list[str], *, target: str,
                  seed: int = 0) -> str:
    """A finished run of the distilled classifier over `item_uids`, with each verdict's class probabilities
    (verdicts.score_probs). Trained on every human label of the criterion in the dataset version; a labeled
    item is predicted out of fold (by a model that never saw its label), an unlabeled one by the model on all."""
    from judge.distill import MIN_LABELS, TEXT_COLUMNS, make_model

    ds_id = int(dataset["id"])
    items = store.items(ds_id)
    frame = items.assign(**{c: items[c].fillna("").astype(str) for c in TEXT_COLUMNS}).set_index("uid")
    humans = store.human_item_labels(ds_id, criterion.id)
    binary = target == "pass/fail"
    column = "human_passed" if binary else "human_score"
    labels = humans.dropna(subset=[column]).set_index("item_uid")[column]
    labels = labels[labels.index.isin(frame.index)].astype(int).sort_index()
    if len(labels) < MIN_LABELS or labels.nunique() < 2:
        raise JudgeError(f"The distilled stage learns from the human labels of '{criterion.name}' in dataset "
                         f"'{dataset['name']}' version {dataset['version']}: it needs at least {MIN_LABELS}, "
                         f"not all the same grade (it has {len(labels)}). Label more items, or drop the stage.")
    wanted = list(dict.fromkeys(item_uids))
    probs: dict[str, dict[str, float]] = {}
    y = labels.to_numpy()
    labeled = labels.index.to_numpy()
    counts = np.unique(y, return_counts=True)[1]
    folds = int(min(DISTILLED_FOLDS, len(y)))
    splitter = (StratifiedKFold(folds, shuffle=True, random_state=seed) if counts.min() >= folds
                else KFold(folds, shuffle=True, random_state=seed))
    wanted_set = set(wanted)
    with threadpool_limits(limits=1):
        for train, test in splitter.split(labeled, y):
            rows = [uid for uid in labeled[test] if uid in wanted_set]
            if rows:
                probs.update(_predict(make_model, frame, labeled[train], y[train], rows, binary, seed))
        rest = [uid for uid in wanted if uid not in set(labeled.tolist())]
        if rest:
            probs.update(_predict(make_model, frame, labeled, y, rest, binary, seed))
    threshold = criterion.pass_threshold or DEFAULT_PASS_THRESHOLD
    run_id = f"{datetime.now():%Y%m%d-%H%M%S}-{_secrets.token_hex(3)}"
    verdicts = []
    for uid in wanted:
        p = probs[uid]
        if binary:
            score, passed = None, p["pass"] >= p["fail"]
        else:
            score = int(max(p, key=p.get))
            passed = score >= threshold
        verdicts.append({"run_id": run_id, "item_uid": uid, "sample": 0, "score": score, "passed": passed,
                         "reasoning": f"class probabilities {json.dumps(p)}", "cost_usd": 0.0, "latency_ms": 0.0,
                         "score_probs": json.dumps(p), "model_reported": DISTILLED_MODEL})
    from judge.runner import code_version

    with store.transaction():
        store.create_run(run_id=run_id, dataset_id=ds_id, spec_name=f"funnel-distilled:{dataset['name']}:{criterion.name}",
                         model=DISTILLED_MODEL, base_url=None, samples=1, version_tag=None, total_items=len(wanted),
                         template_hash=None, code_version=code_version(), source="distilled", criterion=criterion.name,
                         pass_threshold=threshold, rubric_id=criterion.rubric_id,
                         params={"kind": "distilled", "folds": folds, "seed": seed, "labels": int(len(y)),
                                 "target": target, "dataset": dataset["name"],
                                 "dataset_version": int(dataset["version"]), "item_uids": wanted})
        store.add_verdicts(verdicts)
        store.set_run_status(run_id, "done")
    return run_id


def _predict(make_model, frame: pd.DataFrame, train: np.ndarray, y: np.ndarray, rows: list[str], binary: bool,
             seed: int) -> dict[str, dict[str, float]]:
    """Class probabilities of `rows` from the distilled model fitted on `train`: {"fail", "pass"} or {"1".."5"}."""
    names = (lambda c: "pass" if c else "fail") if binary else (lambda c: str(int(c)))
    if len(np.unique(y)) == 1:  # a fold can miss every other grade; then that grade is all it can say
        return {uid: {names(y[0]): 1.0} for uid in rows}
    model = make_model(seed).fit(frame.loc[train].reset_index(drop=True), y)
    proba = model.predict_proba(frame.loc[rows].reset_index(drop=True))
    classes = model.named_steps["model"].classes_
    out = {}
    for uid, row in zip(rows, proba):
        p = {names(c): float(v) for c, v in zip(classes, row)}
        if binary:
            p = {"fail": p.get("fail", 0.0), "pass": p.get("pass", 0.0)}
        out[uid] = p
    return out


def human_verdicts(store, dataset_id: int, criterion: Criterion, target: str) -> pd.Series:
    """The people's consensus per labeled item (the reports' rule): pass/fail, or the 1-5 score."""
    humans = store.human_item_labels(dataset_id, criterion.id)
    column = "human_score" if target == "score" else "human_passed"
    labeled = humans.dropna(subset=[column]).set_index("item_uid")[column]
    return labeled.astype(int) if target == "score" else labeled.astype(bool)


def agrees(outcomes: pd.DataFrame, humans: pd.Series, target: str) -> np.ndarray:
    """Per outcome row: the stage's verdict equals the people's (False where either is missing)."""
    column = "score" if target == "score" else "passed"
    theirs = outcomes["item_uid"].map(humans)
    ours = outcomes[column]
    return np.array([not is_missing(a) and not is_missing(b) and (int(a) == int(b) if target == "score"
                                                                   else bool(a) == bool(b))
                     for a, b in zip(ours, theirs)], dtype=bool)
