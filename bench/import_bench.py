"""Import speed: a generated 100,000-row CSV into a fresh store. Prints rows/s and seconds.

Run: .venv/bin/python bench/import_bench.py [ROWS]
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from judge.importing import import_file
from judge.store import Store


def write_csv(path: Path, rows: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    words = "plan billing invoice calendar sync team export seat refund admin mobile login".split()
    sentence = lambda n: " ".join(rng.choice(words) for _ in range(n))  # noqa: E731
    scores = [rng.randint(1, 5) for _ in range(rows)]
    pd.DataFrame({
        "id": [f"row-{n:06d}" for n in range(rows)],
        "question": [sentence(12) + "?" for _ in range(rows)],
        "response": [sentence(60) for _ in range(rows)],
        "contexts": [sentence(80) for _ in range(rows)],
        "expected": [sentence(30) for _ in range(rows)],
        "score": scores,
        "passed": [s >= 4 for s in scores],
        "critique": [sentence(8) for _ in range(rows)],
        "app_version": [rng.choice(["v1.0", "v1.1", "v1.2"]) for _ in range(rows)],
        "category": [rng.choice(words) for _ in range(rows)],
    }).to_csv(path, index=False)


def main(rows: int = 100_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "outputs.csv"
        write_csv(path, rows)
        store = Store(Path(tmp) / "bench.duckdb")
        started = time.perf_counter()
        result = import_file(store, path, dataset="bench", annotator="bench")
        seconds = time.perf_counter() - started
        assert result.rows == rows and result.labels == rows, result
        size_mb = path.stat().st_size / 1e6
        print(f"import {rows:,} CSV rows ({size_mb:.0f} MB, with labels): {seconds:.2f} s, "
              f"{rows / seconds:,.0f} rows/s")
        started = time.perf_counter()
        again = import_file(store, path, dataset="bench", annotator="bench")
        print(f"re-import of the same file (no-op, created={again.created}): {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
