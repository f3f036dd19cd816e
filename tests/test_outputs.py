"""Files the commands write (issue 10 items 2 and 8): never over the store, never over a file without
--force, atomically; and a CSV export re-imports whole, formula escaping reversed, headers escaped too."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from judge.cli import main
from judge.exporting import export_bytes
from judge.importing import import_file, import_labels
from judge.outputs import OutputRefused, write_output
from judge.store import Store

TRICKY = [
    {"id": "s1", "input": "- step one", "output": "=2+2 is 4", "=cmd": "@sum", "score": 4},
    {"id": "s2", "input": "'quoted already", "output": "''twice", "=cmd": "+1", "score": 2},
    {"id": "s3", "input": "plain", "output": "-", "=cmd": "\tx", "score": None},
]


@pytest.fixture
def tricky(tmp_path):
    path = tmp_path / "tricky.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in TRICKY) + "\n", encoding="utf-8")
    db = tmp_path / "store.duckdb"
    store = Store(db)
    import_file(store, path, dataset="tricky", annotator="maya")
    return store


def test_csv_export_escapes_headers_and_reimports_whole(tricky, tmp_path):
    data = export_bytes(tricky, "tricky", fmt="csv")
    header = data.decode().splitlines()[0]
    assert header.split(",")[:6] == ["item_id", "input", "output", "context", "reference", "'=cmd"]
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    original = tricky.items(tricky.dataset("tricky")["id"])
    again = import_file(tricky, path, dataset="tricky")
    items = tricky.items(again.dataset_id)
    assert items["uid"].tolist() == original["uid"].tolist()  # the same items, not look-alikes
    assert items["output"].tolist() == ["=2+2 is 4", "''twice", "-"]
    assert items["input"].tolist() == ["- step one", "'quoted already", "plain"]
    assert [m["=cmd"] for m in items["metadata"]] == ["@sum", "+1", "\tx"]
    assert tricky.latest_labels(again.dataset_id)["score"].tolist() == [4, 2]


def test_long_form_csv_export_reimports_critiques_as_written(tricky, tmp_path):
    uid = tricky.items(tricky.dataset("tricky")["id"])["uid"][0]
    tricky.add_label(uid, "jonas", score=2, critique="- misses step two")
    path = tmp_path / "long.csv"
    path.write_bytes(export_bytes(tricky, "tricky", fmt="csv", labels="long"))
    assert "'- misses step two" in path.read_text()
    import_labels(tricky, path, dataset="tricky")
    latest = tricky.latest_labels(tricky.dataset("tricky")["id"], annotator="jonas")
    assert latest["critique"].tolist() == ["- misses step two"]
    assert len(tricky.label_history(uid)) == 2  # maya's and jonas's: nothing added twice


def test_export_refuses_the_store_its_lock_wal_and_journal(tricky, tmp_path, capsys):
    db = str(tricky.path)
    before = tricky.path.read_bytes()
    for target in (db, db + ".lock", db + ".wal", db + ".journal/run.jsonl", db + ".journal"):
        code = main(["--db", db, "export", "--dataset", "tricky", "-o", target, "--force"])
        assert code == 2 and "the store's own file" in capsys.readouterr().err, target
    assert tricky.path.read_bytes() == before
    assert tricky.dataset("tricky")["row_count"] == 3


def test_export_refuses_an_existing_file_without_force_and_writes_atomically(tricky, tmp_path, capsys):
    db, out = str(tricky.path), tmp_path / "out.csv"
    out.write_text("keep me")
    assert main(["--db", db, "export", "--dataset", "tricky", "-o", str(out)]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err and out.read_text() == "keep me"
    assert main(["--db", db, "export", "--dataset", "tricky", "-o", str(out), "--force"]) == 0
    assert pd.read_csv(out)["item_id"].tolist() == ["s1", "s2", "s3"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out.csv")) == []  # no temp left
    assert (out.stat().st_mode & 0o777) == 0o644


def test_write_output_leaves_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    out = tmp_path / "x.json"
    out.write_text("old")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("judge.outputs.os.fsync", disk_full)
    with pytest.raises(OSError):
        write_output(out, b"new", store_path=tmp_path / "s.duckdb", force=True)
    monkeypatch.undo()
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["x.json"]
    with pytest.raises(OutputRefused, match="is a folder"):
        write_output(tmp_path, b"x", store_path=None, force=True)


def test_card_refuses_existing_cards_without_force(tmp_path, capsys):
    from tests.report_data import judge_run, labeled_dataset

    db = tmp_path / "c.duckdb"
    store = Store(db)
    judge_run(store, labeled_dataset(store, tmp_path, {"maya": [4, 2, 5, 1]}), [4, 2, 4, 2])
    assert main(["--db", str(db), "card", "--judge", "helpful", "-o", str(tmp_path / "cards"), "--boot", "50"]) == 0
    capsys.readouterr()
    assert main(["--db", str(db), "card", "--judge", "helpful", "-o", str(tmp_path / "cards"), "--boot", "50"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["--db", str(db), "card", "--judge", "helpful", "-o", str(tmp_path / "cards"), "--boot", "50",
                 "--force"]) == 0
