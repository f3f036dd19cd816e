"""How long the full agreement report takes on 100,000 labeled items with 1,000 bootstrap resamples.

Builds a store with bulk SQL inserts (one dataset, two annotators on every item, one judge run), then times
`agreement_report` end to end: the SQL that pairs labels with verdicts, every metric, every interval.
Target: under 2 s. Run: .venv/bin/python bench/report_bench.py [N_ITEMS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from judge.reports import agreement_report
from judge.store import Store

N_BOOT = 1000


def build_store(path: Path, n: int, *, seed: int = 0) -> str:
    """A store with n items, two annotators' labels on each, and one finished judge run; returns the run id."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 6, n)
    alice = np.clip(truth + rng.integers(-1, 2, n), 1, 5)
    bob = np.clip(truth + rng.integers(-1, 2, n), 1, 5)
    judge = np.clip(truth + rng.integers(-1, 2, n), 1, 5)
    uids = [f"u{i:07d}" for i in range(n)]
    items = pd.DataFrame({"uid": uids, "item_id": [f"q{i}" for i in range(n)],
                          "input": "question", "output": "answer",
                          "reference": np.where(np.arange(n) % 2 == 0, "reference", None)})
    membership = pd.DataFrame({"item_uid": uids, "position": np.arange(n),
                               "metadata": [f'{{"topic": "t{i % 7}"}}' for i in range(n)]})
    labels = pd.DataFrame({"item_uid": uids * 2, "annotator_id": np.repeat([1, 2], n),
                           "score": np.concatenate([alice, bob]).astype(np.int8)})
    verdicts = pd.DataFrame({"item_uid": uids, "score": judge.astype(np.int8), "reasoning": "because",
                             "cost_usd": 0.0004, "latency_ms": rng.gamma(4, 200, n)})
    store = Store(path)
    with store.db.connect() as con:
        for name, frame in (("items_df", items), ("membership_df", membership), ("labels_df", labels),
                            ("verdicts_df", verdicts)):
            con.register(name, frame)
        dataset_id = con.execute("INSERT INTO datasets (name, version, content_hash, row_count) "
                                 "VALUES ('bench', 1, 'x', ?) RETURNING id", [n]).fetchall()[0][0]
        con.execute("INSERT INTO items (uid, dataset_name, item_id, input, output, reference) "
                    "SELECT uid, 'bench', item_id, input, output, reference FROM items_df")
        con.execute("INSERT INTO dataset_items SELECT ?, item_uid, position, metadata FROM membership_df",
                    [dataset_id])
        con.execute("INSERT INTO annotators (name) VALUES ('alice'), ('bob')")
        con.execute("INSERT INTO labels (item_uid, annotator_id, score, source) "
                    "SELECT item_uid, annotator_id, score, 'bench' FROM labels_df")
        con.execute("INSERT INTO runs (id, dataset_id, spec_name, model, status, total_items) "
                    "VALUES ('bench-run', ?, 'bench_judge', 'openai/gpt-4.1-mini', 'done', ?)", [dataset_id, n])
        con.execute("INSERT INTO verdicts (run_id, item_uid, score, reasoning, cost_usd, latency_ms) "
                    "SELECT 'bench-run', item_uid, score, reasoning, cost_usd, latency_ms FROM verdicts_df")
    return "bench-run"


def main(n: int = 100_000) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        started = time.perf_counter()
        run_id = build_store(path, n)
        print(f"built a store with {n:,} labeled items in {time.perf_counter() - started:.1f} s")
        store = Store(path)
        agreement_report(store, run_id, n_boot=10)   # warm imports and caches
        started = time.perf_counter()
        report = agreement_report(store, run_id, n_boot=N_BOOT)
        elapsed = time.perf_counter() - started
    kappa = report["scores"]["quadratic_kappa"]
    print(f"agreement_report: {n:,} labeled items, {N_BOOT:,} resamples: {elapsed:.2f} s "
          f"(quadratic kappa {kappa['value']:.3f} [{kappa['ci'][0]:.3f}, {kappa['ci'][1]:.3f}])")
    return elapsed


if __name__ == "__main__":
    sys.exit(0 if main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000) < 2.0 else 1)
