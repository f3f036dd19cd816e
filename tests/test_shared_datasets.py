"""Every public dataset in ../shared/data/ imports with at most the flags the README's table shows for it.

The folder sits beside the repository on the team's machines and in CI, never in a user's clone: the test
is skipped when it is absent. The criteria columns (coherence, overall, ...) are kept as metadata here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from judge.cli import main
from judge.store import Store

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# LLMBar proper: the preferred output follows the instruction and the other does not, so output_1 passes
# exactly when label is 1 (SOURCE.txt); not valid for MT-Bench, whose label is a preference only.
LLMBAR_POINTWISE = ["--map", "output=output_1", "--map", "passed=label", "--label-map", "1=pass,2=fail"]

# (file under shared/data, the flags the README shows, rows, the column behind input, output and context)
DATASETS = [
    ("summeval/summeval.jsonl", [], 1600, (None, "summary", "article")),
    ("hanna/hanna.jsonl", [], 1056, ("prompt", "story", None)),
    ("usr_dialogue/topical_chat.json", [], 360, ("dialog_history", "response", "fact")),
    ("usr_dialogue/persona_chat.json", [], 300, ("dialog_history", "response", "fact")),
    ("llmbar/LLMBar/Natural/dataset.json", LLMBAR_POINTWISE, 100, ("input", "output_1", None)),
    ("llmbar/LLMBar/Adversarial/Neighbor/dataset.json", LLMBAR_POINTWISE, 134, ("input", "output_1", None)),
    ("llmbar/Processed/MT-Bench/dataset.json", ["--map", "output=output_1"], 200, ("input", "output_1", None)),
]


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not beside this checkout")
@pytest.mark.parametrize("name, flags, rows, roles", DATASETS, ids=[d[0] for d in DATASETS])
def test_public_dataset_imports_with_the_readme_flags(tmp_path, capsys, name, flags, rows, roles):
    db = tmp_path / "shared.duckdb"
    assert main(["--db", str(db), "import", str(SHARED / name), "--dataset", "public", *flags]) == 0, \
        capsys.readouterr().err
    store = Store(db)
    dataset = store.dataset("public")
    assert dataset["row_count"] == rows
    column_map = dataset["column_map"]
    assert tuple(column_map.get(role) for role in ("input", "output", "context")) == roles
    items = store.items(dataset["id"])
    assert items["output"].notna().all() and items["output"].str.len().min() > 0
    if "--label-map" in flags:
        labels = store.latest_labels(dataset["id"])
        assert len(labels) == rows and column_map["label_map"] == {"role": "passed", "values": {"1": True, "2": False}}
        assert "label" not in items["metadata"][0]  # the label column became labels, not metadata
