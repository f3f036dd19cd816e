"""A cheap classifier judge distilled from a dataset's human labels: no API key, no network, seconds to train.

Features: TF-IDF word 1-2 grams of the output, plus how much the output overlaps the input and the
reference (token Jaccard) and its length. Model: multinomial logistic regression over the scores 1-5 with
balanced class weights; the verdict is the most probable score, and the probability-weighted mean is kept
as weighted_score. Chosen by out-of-fold agreement on SummEval, HANNA and USR (bench/distill_features.py):
hashing, the input's or context's words, the reference metrics, ridge and gradient boosting were no
better and most were slower. Why not
a regression, or the rounded mean: with few labels per score the probabilities are spread, and any mean
shrinks every verdict toward 3, hiding the 1s and 5s that matter most (on tests/test_distill.py's data the
rounded mean gets 23% of unseen items right, the most probable score 93%). The weighted score still ranks
items in the order of the scale.

On a pass/fail criterion the same features feed a binary logistic regression on the people's pass/fail:
the verdict is pass or fail (no made-up 1-5 score), with the probability of a pass in its reasoning and as
its weighted_score (which label-next's `uncertain` strategy reads: a verdict near 0.5 is one to label).

Honesty: a labeled item's verdict comes from a model trained on the other folds (k-fold, seeded), never on
its own label, so its agreement report measures generalization, not memory. Unlabeled items get the model
trained on every label. The result is stored as an ordinary run (source 'distilled'). Review labels
(judge-first review) train it too, as they teach few-shot examples; its agreement report leaves them out, as
for any judge, so it is measured on the other labels only.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from judge.errors import JudgeError

MIN_LABELS = 20
MODEL_NAME = "sklearn/tfidf-logistic-regression"
ALL_VERSIONS = "all versions"
TEXT_COLUMNS = ["input", "output", "reference"]
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class DistillResult:
    run_id: str
    spec_name: str
    labeled: int
    unlabeled: int
    folds: int

    def describe(self) -> str:
        return (f"run {self.run_id} ({self.spec_name}): {self.labeled} labeled items scored out-of-fold "
                f"({self.folds} folds), {self.unlabeled} unlabeled items by the model trained on all labels")


def overlap_features(frame: pd.DataFrame) -> np.ndarray:
    """Per item: token Jaccard of output vs input, output vs reference, and log of the output's length."""
    rows = []
    for question, answer, reference in frame[TEXT_COLUMNS].itertuples(index=False):
        out = _tokens(answer)
        rows.append([_jaccard(out, _tokens(question)), _jaccard(out, _tokens(reference)), np.log1p(len(out))])
    return np.asarray(rows, dtype=float).reshape(len(rows), 3)


def make_model(seed: int = 0) -> Pipeline:
    features = ColumnTransformer([
        ("output", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1), "output"),
        ("overlap", make_pipeline(FunctionTransformer(overlap_features, feature_names_out=_overlap_names),
                                  StandardScaler()), TEXT_COLUMNS),
    ])
    # Balanced classes: each score's labels weigh as much in total, so a rare score is still predicted (on
    # SummEval consistency, 87% 5s, plain weights predict 5 everywhere: quadratic kappa 0.000, balanced
    # 0.203); bench/distill_features.py compares the alternatives.
    model = LogisticRegression(C=4.0, max_iter=2000, random_state=seed, class_weight="balanced")
    return Pipeline([("features", features), ("model", model)])


def _overlap_names(transformer, names) -> np.ndarray:
    return np.asarray(["overlap with input", "overlap with reference", "output length"], dtype=object)


def distill_judge(store, dataset: str, *, name: str | None = None, seed: int = 0, folds: int = 5,
                  pass_threshold: int = 4, version_tag: str | None = ALL_VERSIONS,
                  criterion: str | None = None, include_review: bool = True) -> DistillResult:
    """Train on the dataset's human labels of one criterion (default: its only one) and store every item's
    verdict as a finished run measured on that criterion: 1-5 scores for a 1-5 criterion, pass/fail for a
    pass/fail one.

    The run covers every item, so by default it is tagged "all versions" rather than any one app version.
    `include_review=False` trains on labels given without seeing a judge's answer only.
    """
    ds = store.dataset(dataset)
    measured = store.criterion(ds["name"], criterion)
    binary = measured.is_pass_fail
    items = store.items(int(ds["id"]))
    humans = store.human_item_labels(int(ds["id"]), measured.id, include_review=include_review)
    target = "human_passed" if binary else "human_score"
    scores = humans.dropna(subset=[target]).set_index("item_uid")[target].astype(int)
    frame = items.assign(**{c: items[c].fillna("").astype(str) for c in TEXT_COLUMNS})
    labeled = frame["uid"].isin(scores.index).to_numpy()
    y = scores.reindex(frame.loc[labeled, "uid"]).to_numpy()
    _check_labels(dataset, y, measured.name, binary)

    folds = int(min(folds, len(y)))
    best = np.zeros(len(frame), dtype=int)
    expected = np.full(len(frame), np.nan)
    reasons = [""] * len(frame)
    labeled_rows = np.flatnonzero(labeled)
    unlabeled_rows = np.flatnonzero(~labeled)
    # Threaded BLAS on matrices this small costs ~15x the CPU of one thread (10 s vs 0.6 s on the demo).
    with threadpool_limits(limits=1):
        for fold, (train, test) in enumerate(_splitter(y, folds, seed).split(labeled_rows, y), 1):
            rows = labeled_rows[test]
            best[rows], expected[rows], texts = _fit_predict(frame.iloc[labeled_rows[train]], y[train],
                                                             frame.iloc[rows], seed, binary)
            for row, text in zip(rows, texts):
                reasons[row] = f"Out-of-fold prediction (fold {fold} of {folds}): {text}"
        if len(unlabeled_rows):
            best[unlabeled_rows], expected[unlabeled_rows], texts = _fit_predict(
                frame.iloc[labeled_rows], y, frame.iloc[unlabeled_rows], seed, binary)
            for row, text in zip(unlabeled_rows, texts):
                reasons[row] = f"Prediction of the model trained on all {len(y)} labels: {text}"

    spec_name = name or (f"distilled:{ds['name']}" if criterion is None and len(store.criteria(ds["name"])) == 1
                         else f"distilled:{ds['name']}:{measured.name}")
    run_id = f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    verdicts = []
    for uid, score, value, reasoning in zip(frame["uid"], best.tolist(), expected, reasons):
        verdicts.append({"run_id": run_id, "item_uid": uid, "sample": 0, "score": None if binary else score,
                         "weighted_score": float(value),  # pass/fail: the probability of a pass
                         "passed": bool(score) if binary else score >= pass_threshold,
                         "reasoning": reasoning, "cost_usd": 0.0, "cached": False})
    with store.transaction():  # the run and all its verdicts land together, or not at all
        store.create_run(
            run_id=run_id, dataset_id=int(ds["id"]), spec_name=spec_name, model=MODEL_NAME, base_url=None,
            params={"kind": "distilled", "folds": folds, "seed": seed, "labels": int(len(y)),
                    "include_review": include_review, "pass_threshold": pass_threshold, "dataset": ds["name"], "dataset_version": int(ds["version"])},
            samples=1, version_tag=version_tag, total_items=len(frame), template_hash=None, code_version=_code_version(),
            source="distilled", criterion=measured.name, pass_threshold=pass_threshold, rubric_id=measured.rubric_id,
        )
        store.add_verdicts(verdicts)
        store.set_run_status(run_id, "done")
    return DistillResult(run_id, spec_name, int(len(y)), int(len(unlabeled_rows)), folds)


def _check_labels(dataset: str, y: np.ndarray, criterion: str, binary: bool) -> None:
    what = "pass/fail labels" if binary else "human scores"
    if len(y) < MIN_LABELS:
        raise JudgeError(f"Dataset '{dataset}' has {len(y)} {what} on '{criterion}'; a distilled judge needs at "
                         f"least {MIN_LABELS} to be worth measuring. Label more items first.")
    if len(np.unique(y)) < 2:
        shown = ("a pass" if y[0] else "a failure") if binary else str(y[0])
        raise JudgeError(f"Every one of the {what} on '{criterion}' in dataset '{dataset}' is {shown}: a "
                         "classifier cannot learn from a single class. Label items that deserve the other grades.")


def _splitter(y: np.ndarray, folds: int, seed: int):
    """Stratified folds when every score has enough items for it, else plain shuffled folds."""
    if np.unique(y, return_counts=True)[1].min() >= folds:
        return StratifiedKFold(folds, shuffle=True, random_state=seed)
    return KFold(folds, shuffle=True, random_state=seed)


def _fit_predict(train: pd.DataFrame, y: np.ndarray, test: pd.DataFrame, seed: int, binary: bool = False
                 ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Most probable and expected scores (pass = 1 and its probability, when `binary`) of `test` from a
    model fitted on `train`, and why."""
    if len(np.unique(y)) == 1:  # a fold can miss every other grade; then the honest guess is that grade
        return (np.full(len(test), int(y[0])), np.full(len(test), float(y[0])),
                [f"every training label is {_grade(int(y[0]), binary)}."] * len(test))
    model = make_model(seed).fit(train, y)
    features, classifier = model.named_steps["features"], model.named_steps["model"]
    x = features.transform(test)
    proba = classifier.predict_proba(x)
    classes = classifier.classes_.astype(float)
    expected = proba @ classes
    best = classifier.classes_[proba.argmax(axis=1)].astype(int)
    # d E[score] / d x_f = sum_k p_k (k - E) w_kf: how much each present feature pushed this item's score.
    if classifier.coef_.shape[0] == 1:  # binary: one weight vector, d p(pass) / d x_f = p (1 - p) w_f
        push = (proba[:, 1] * proba[:, 0])[:, None] * classifier.coef_[0][None, :]
    else:
        push = (proba * (classes[None, :] - expected[:, None])) @ classifier.coef_
    contributions = sparse.csr_matrix(x).multiply(push).tocsr()
    names = features.get_feature_names_out()
    texts = [_explain(score, value, contributions.getrow(i), names, binary)
             for i, (score, value) in enumerate(zip(best, expected))]
    return best, expected, texts


def _grade(value: int, binary: bool) -> str:
    return ("pass" if value else "fail") if binary else str(value)


def _explain(score: int, value: float, row: sparse.csr_matrix, names: np.ndarray, binary: bool = False,
             top: int = 3) -> str:
    """The verdict and the present terms that pushed the expected score (or the pass probability) the most."""
    order = np.argsort(row.data)
    up = [_term(names[row.indices[i]]) for i in order[::-1][:top] if row.data[i] > 1e-6]
    down = [_term(names[row.indices[i]]) for i in order[:top] if row.data[i] < -1e-6]
    if binary:
        text = f"most probable verdict {_grade(score, True)} (probability of a pass {value:.2f})."
    else:
        text = f"most probable score {score} (expected {value:.2f})."
    if up:
        text += f" Pushed up by {', '.join(up)}."
    if down:
        text += f" Pushed down by {', '.join(down)}."
    return text


def _term(name: str) -> str:
    source, _, term = name.partition("__")
    return f"'{term}'" if source == "output" else term


def _tokens(text: Any) -> set[str]:
    return set(_TOKEN.findall(str(text or "").lower()))


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def _code_version() -> str:
    from judge.runner import code_version

    return code_version()
