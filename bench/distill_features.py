"""Which features and model a distilled judge should use, by measured agreement: a table per dataset.

On the public data in ../shared/data (skipped when absent): SummEval consistency (output = summary, input =
article), HANNA coherence (output = story, input = prompt) and USR overall (output = response, input =
dialogue history, context = the fact or persona). The human 1-5 score is the mean rating rounded half up;
pass/fail is that score reaching bench/label_next.py's threshold. Every candidate is scored OUT OF FOLD (5
seeded stratified folds: an item's verdict comes from a model that never saw its label), and its agreement
is the report's own code (`agreement_figures`: quadratic kappa of the 1-5 verdicts and pass/fail kappa of
verdict >= threshold, each with its 95% interval and n). Speed per candidate: fit time per 1,000 training
rows and scoring rows/s on the dataset, on one thread as `judge distill` runs; the 100,000-row figures of
the default are bench/distill_bench.py's.

Candidates: TF-IDF (word 1-2 grams, sublinear) or hashing (2^18 word 1-2 grams, the same weighting) of the
output, of the output and input, and of the output, input and context; the overlap features of
judge.distill (token Jaccard with input and reference, length); the reference metrics of judge.similarity
(token F1 and ROUGE-L of the output against the input and the context); models: multinomial logistic
regression (judge.distill's), the same with balanced class weights (each score's labels weigh as much in
total), ridge regression rounded to 1-5, and histogram gradient boosting on the dense features plus a
100-dimensional SVD of the output's TF-IDF.
Run: .venv/bin/python bench/distill_features.py [--boot 1000] [--only NAME]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import TruncatedSVD
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from judge.distill import TEXT_COLUMNS, make_model, overlap_features  # noqa: E402
from judge.reports.agreement import agreement_figures  # noqa: E402
from judge.similarity import rouge_l, token_f1  # noqa: E402
from public_ratings import DATA, THRESHOLDS, rated_items, rounded  # noqa: E402

COLUMNS = ["input", "output", "context", "reference"]
INPUT_CHARS = 3000  # reference metrics read the first 3,000 characters of a long input (an article)


def datasets() -> dict[str, pd.DataFrame]:
    """Items (input, output, context, reference, human) of each dataset present."""
    found = rated_items()
    for frame in found.values():
        frame[COLUMNS] = frame[COLUMNS].fillna("").astype(str)
        frame["human"] = rounded(frame["mean"].to_numpy(float)).astype(int)
    return found


def reference_metrics(frame: pd.DataFrame) -> np.ndarray:
    """Per item: token F1 and ROUGE-L of the output against the input and against the context."""
    rows = []
    for source, answer, context in frame[["input", "output", "context"]].itertuples(index=False):
        source = source[:INPUT_CHARS]
        rows.append([token_f1(source, answer), rouge_l(source, answer), token_f1(context, answer) if context else 0.0,
                     rouge_l(context, answer) if context else 0.0])
    return np.asarray(rows, dtype=float).reshape(len(rows), 4)


def _text(kind: str) -> object:
    if kind == "tfidf":
        return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    return make_pipeline(HashingVectorizer(ngram_range=(1, 2), n_features=2**18, alternate_sign=False, norm=None),
                         TfidfTransformer(sublinear_tf=True))


def features(text: str = "tfidf", fields: tuple[str, ...] = ("output",), overlap: bool = True,
             metrics: bool = False) -> ColumnTransformer:
    parts = [(f"{text} {field}", _text(text), field) for field in fields]
    if overlap:
        parts.append(("overlap", make_pipeline(FunctionTransformer(overlap_features), StandardScaler()), TEXT_COLUMNS))
    if metrics:
        parts.append(("metrics", make_pipeline(FunctionTransformer(reference_metrics), StandardScaler()),
                      ["input", "output", "context"]))
    return ColumnTransformer(parts)


class RoundedRidge(Ridge):
    """Ridge regression on the 1-5 score, its prediction rounded and clipped to the scale."""

    def predict(self, x):
        return np.clip(np.floor(super().predict(x) + 0.5), 1, 5).astype(int)


def boosted() -> Pipeline:
    """Gradient boosting needs dense input: the overlap and reference metrics plus an SVD of the output's TF-IDF."""
    dense = ColumnTransformer([
        ("svd", make_pipeline(_text("tfidf"), TruncatedSVD(100, random_state=0)), "output"),
        ("overlap", FunctionTransformer(overlap_features), TEXT_COLUMNS),
        ("metrics", FunctionTransformer(reference_metrics), ["input", "output", "context"]),
    ])
    return Pipeline([("features", dense), ("model", HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05,
                                                                                   random_state=0))])


def candidates() -> dict[str, Callable[[], Pipeline]]:
    logistic = lambda: LogisticRegression(C=4.0, max_iter=2000, random_state=0)  # noqa: E731
    return {
        "default: tfidf output + overlap, logistic": lambda: make_model(0),
        "tfidf output only, logistic": lambda: Pipeline([("features", features(overlap=False)), ("model", logistic())]),
        "hashing output + overlap, logistic": lambda: Pipeline([("features", features("hashing")),
                                                                 ("model", logistic())]),
        "tfidf output+input + overlap, logistic": lambda: Pipeline([("features", features(fields=("output", "input"))),
                                                                     ("model", logistic())]),
        "tfidf output+input+context + overlap, logistic": lambda: Pipeline([
            ("features", features(fields=("output", "input", "context"))), ("model", logistic())]),
        "tfidf output + overlap + reference metrics, logistic": lambda: Pipeline([
            ("features", features(metrics=True)), ("model", logistic())]),
        "overlap + reference metrics only, logistic": lambda: Pipeline([
            ("features", features(fields=(), metrics=True)), ("model", logistic())]),
        "tfidf output + overlap, logistic, balanced classes": lambda: Pipeline([
            ("features", features()), ("model", LogisticRegression(C=4.0, max_iter=2000, random_state=0,
                                                                   class_weight="balanced"))]),
        "hashing output + overlap, logistic, balanced classes": lambda: Pipeline([
            ("features", features("hashing")), ("model", LogisticRegression(C=4.0, max_iter=2000, random_state=0,
                                                                            class_weight="balanced"))]),
        "tfidf output + overlap, ridge (rounded)": lambda: Pipeline([("features", features()),
                                                                      ("model", RoundedRidge(alpha=1.0))]),
        "gradient boosting (svd + overlap + metrics)": boosted,
    }


def out_of_fold(make, frame: pd.DataFrame, seed: int = 0) -> tuple[np.ndarray, float, float]:
    """Out-of-fold verdicts, fit seconds per 1,000 training rows, scoring rows/s."""
    y = frame["human"].to_numpy()
    verdicts = np.zeros(len(frame), dtype=int)
    fit_s = score_s = 0.0
    trained = scored = 0
    for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(frame, y):
        started = time.perf_counter()
        model = make().fit(frame.iloc[train], y[train])
        fit_s += time.perf_counter() - started
        started = time.perf_counter()
        verdicts[test] = model.predict(frame.iloc[test])
        score_s += time.perf_counter() - started
        trained, scored = trained + len(train), scored + len(test)
    return verdicts, 1000 * fit_s / trained, scored / score_s


def ci_text(f: dict) -> str:
    if f["value"] is None:
        return "undefined"
    return f"{f['value']:.3f} [{f['ci'][0]:.3f}, {f['ci'][1]:.3f}]" if f["ci"] else f"{f['value']:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boot", type=int, default=1000)
    parser.add_argument("--only", help="one dataset, e.g. 'usr overall'")
    args = parser.parse_args()
    found = datasets()
    if not found:
        print(f"skipped: no public data in {DATA}")
        return 0
    started = time.perf_counter()
    with threadpool_limits(limits=1):
        for name, frame in found.items():
            if args.only and args.only != name:
                continue
            threshold = THRESHOLDS[name]
            human = frame["human"].to_numpy()
            print(f"\n== {name}: {len(frame)} items, scores 1-5 {np.bincount(human, minlength=6)[1:].tolist()}, "
                  f"pass at >= {threshold}; out of fold, 5 folds")
            print(f"{'candidate':<52} {'quadratic kappa [95% CI]':>26} {'pass/fail kappa [95% CI]':>26} "
                  f"{'fit ms/1k':>9} {'rows/s':>8}")
            for label, make in candidates().items():
                if "context" in label and not frame["context"].str.strip().any():
                    print(f"{label:<52} {'(no context in this dataset)':>26}")
                    continue
                verdicts, fit_s_per_1k, rows_s = out_of_fold(make, frame)
                both = pd.DataFrame({"human_score": human, "judge_score": verdicts,
                                     "human_passed": human >= threshold, "judge_passed": verdicts >= threshold})
                figures = agreement_figures(both, n_boot=args.boot, seed=0)
                print(f"{label:<52} {ci_text(figures['scores']['quadratic_kappa']):>26} "
                      f"{ci_text(figures['pass_fail']['kappa']):>26} {fit_s_per_1k * 1000:>9.0f} {rows_s:>8,.0f}",
                      flush=True)
    print(f"\n(n = every item of the dataset, each scored once out of fold; {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
