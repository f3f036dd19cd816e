"""Speed of a judge distilled from a teacher: training on 100,000 teacher verdicts and scoring 100,000 rows.

Synthetic outputs (SummEval summaries when ../shared/data has them, repeated and varied, else generated
sentences) with teacher grades 1-5; the model is `judge.distill.make_model` (TF-IDF + overlap features +
logistic regression) fitted with human-style sample weights, on one thread, as `distill_from_teacher` runs it.
Targets (issue 11): training under 2 minutes, scoring over 2,000 rows/s on this 2-core machine. Then, on
SummEval, the student's out-of-fold agreement beside its (simulated) teacher's on the same human labels.
Run: .venv/bin/python bench/distill_bench.py [--rows 100000] [--labels 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from judge.distill import make_model  # noqa: E402

SUMMEVAL = ROOT.parent / "shared" / "data" / "summeval" / "summeval.jsonl"


def rows(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    if SUMMEVAL.exists():
        data = pd.read_json(SUMMEVAL, lines=True)
        texts, inputs = data["summary"].to_numpy(), data["article"].str.slice(0, 2000).to_numpy()
        grades = np.clip(np.floor(data["consistency"].to_numpy() + 0.5), 1, 5).astype(int)
    else:
        words = np.array("the a report says claims shows wrong correct number year city team won lost".split())
        texts = np.array([" ".join(rng.choice(words, 30)) for _ in range(2000)])
        inputs, grades = texts, rng.integers(1, 6, len(texts))
    pick = rng.integers(0, len(texts), n)
    suffix = rng.integers(0, 10_000, n).astype(str)  # every row differs a little, as real outputs do
    frame = pd.DataFrame({"input": inputs[pick], "output": [f"{t} v{s}" for t, s in zip(texts[pick], suffix)],
                          "reference": ""})
    return frame, grades[pick]


def agreement(labels: int, noise_sd: float) -> None:
    """SummEval consistency (pass at a rounded mean >= 4): a simulated teacher (human mean + noise) judges
    every summary, `labels` people's labels are known; the student is measured out of fold beside it."""
    import tempfile

    sys.path.insert(0, str(ROOT / "tests"))
    from report_data import judge_run  # noqa: E402  (the tests' builder of a finished run, real store)

    from judge.importing import import_file
    from judge.store import Store
    from judge.teacher_distill import distill_from_teacher

    data = pd.read_json(SUMMEVAL, lines=True)
    rng = np.random.default_rng(1)
    human = np.clip(np.floor(data["consistency"].to_numpy() + 0.5), 1, 5).astype(int)
    teacher = np.clip(np.floor(data["consistency"].to_numpy() + rng.normal(0, noise_sd, len(data)) + 0.5), 1, 5)
    known = rng.permutation(len(data))[:labels]
    given = [int(human[i]) if i in set(known) else None for i in range(len(data))]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.duckdb")
        path = Path(tmp) / "summeval.csv"
        pd.DataFrame({"id": [f"q{i}" for i in range(len(data))], "input": data["article"], "output": data["summary"],
                      "score:expert": pd.array(given, dtype="Int64")}).to_csv(path, index=False)
        import_file(store, path, dataset="summeval")
        ds = store.dataset("summeval")
        run = judge_run(store, ds, teacher.astype(int).tolist())
        started = time.perf_counter()
        result = distill_from_teacher(store, run, n_boot=1000)
        print(f"SummEval consistency, {labels} human labels, teacher = human mean + N(0, {noise_sd}): "
              f"{result.describe()} ({time.perf_counter() - started:.0f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--labels", type=int, default=200, help="human labels for the agreement part")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    frame, y = rows(args.rows, rng)
    weight = np.where(rng.random(len(y)) < 0.01, 5.0, 1.0)
    with threadpool_limits(limits=1):
        started = time.perf_counter()
        model = make_model(0).fit(frame, y, model__sample_weight=weight)
        trained = time.perf_counter() - started
        started = time.perf_counter()
        model.predict_proba(frame)
        scored = time.perf_counter() - started
    print(f"train on {len(y):,} teacher verdicts: {trained:.1f} s (target < 120 s)")
    print(f"score {len(y):,} rows: {scored:.1f} s = {len(y) / scored:,.0f} rows/s (target > 2,000 rows/s)")
    if SUMMEVAL.exists():
        agreement(args.labels, 0.7)
    return 0


if __name__ == "__main__":
    sys.exit(main())
