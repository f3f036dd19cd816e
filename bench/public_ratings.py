"""The public human ratings the benchmarks read from ../shared/data (each dataset skipped when absent).

One loader, so every benchmark sees the same items, ratings and pass thresholds: a person passes an item
when its mean rating, rounded half up, reaches THRESHOLDS[name].
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
THRESHOLDS = {"summeval consistency": 4, "hanna coherence": 3, "usr overall": 4}


def rated_items() -> dict[str, pd.DataFrame]:
    """Items (input, output, context, reference, mean: the mean human rating) of each dataset present."""
    found = {}
    summeval = DATA / "summeval" / "summeval.jsonl"
    if summeval.exists():
        data = pd.read_json(summeval, lines=True)
        found["summeval consistency"] = pd.DataFrame({"input": data["article"], "output": data["summary"],
                                                      "context": "", "reference": "",
                                                      "mean": data["consistency"].astype(float)})
    hanna = DATA / "hanna" / "hanna.jsonl"
    if hanna.exists():
        data = pd.read_json(hanna, lines=True)
        found["hanna coherence"] = pd.DataFrame({"input": data["prompt"], "output": data["story"], "context": "",
                                                 "reference": "", "mean": data["coherence"].astype(float)})
    usr = [DATA / "usr_dialogue" / f for f in ("topical_chat.json", "persona_chat.json")]
    if all(p.exists() for p in usr):
        data = pd.concat([pd.DataFrame(json.loads(p.read_text())) for p in usr], ignore_index=True)
        found["usr overall"] = pd.DataFrame({"input": data["dialog_history"], "output": data["response"],
                                             "context": data["fact"], "reference": "",
                                             "mean": data["overall"].astype(float)})
    return found


def populations() -> dict[str, np.ndarray]:
    """Mean human rating per item of each dataset present."""
    return {name: frame["mean"].to_numpy(float) for name, frame in rated_items().items()}


def rounded(x: np.ndarray) -> np.ndarray:
    """A mean rating as the whole score a person gave, rounded half up (x.5 -> up), within 1-5."""
    return np.clip(np.floor(x + 0.5), 1, 5)
