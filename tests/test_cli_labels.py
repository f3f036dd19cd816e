"""`judge label / history / fewshot / rubric / spec`: what the pages do, from a terminal, append-only."""

from __future__ import annotations

import json

import pytest

from judge.cli import main
from judge.store import Store


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "cli.duckdb"
    data = tmp_path / "answers.csv"
    data.write_text("id,question,answer\nq1,What is 2+2?,4\nq2,Capital of France?,Lyon\n", encoding="utf-8")
    assert main(["--db", str(path), "import", str(data), "--dataset", "qa"]) == 0
    return path


def test_label_edit_and_final_label_keep_the_history(db, capsys):
    base = ["--db", str(db)]
    assert main([*base, "label", "--dataset", "qa", "--item", "q2", "--annotator", "ana", "--score", "4"]) == 0
    assert main([*base, "label", "--dataset", "qa", "--item", "q2", "--annotator", "ana", "--score", "1",
                 "--fail", "--critique", "Lyon is wrong"]) == 0
    assert main([*base, "label", "--dataset", "qa", "--item", "q2", "--annotator", "owner", "--score", "1",
                 "--final"]) == 0
    store = Store(db)
    dataset_id = store.dataset("qa")["id"]
    latest = store.latest_labels(dataset_id)
    assert latest[["annotator", "score", "passed", "critique"]].values.tolist() == [["ana", 1, False, "Lyon is wrong"]]
    assert store.latest_labels(dataset_id, kind="adjudication")["annotator"].tolist() == ["owner"]
    capsys.readouterr()
    assert main([*base, "history", "--dataset", "qa", "--item", "q2"]) == 0
    printed = capsys.readouterr().out
    assert "Lyon is wrong" in printed and "adjudication" in printed


def test_unknown_item_and_out_of_range_score_are_refused(db, capsys):
    base = ["--db", str(db), "label", "--dataset", "qa", "--annotator", "ana"]
    assert main([*base, "--item", "q9", "--score", "3"]) == 2
    assert "No item 'q9'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--item", "q1", "--score", "6"])


def test_fewshot_mark_and_unmark(db):
    base = ["--db", str(db), "fewshot", "--dataset", "qa", "--item", "q1", "--judge", "correctness"]
    assert main(base) == 0
    store = Store(db)
    uid = store.item_uids(store.dataset("qa")["id"])["q1"]
    assert store.fewshot_items("correctness") == [uid]
    assert main([*base, "--remove"]) == 0
    assert store.fewshot_items("correctness") == []


def test_rubric_and_spec_versions_from_json_files(db, tmp_path, capsys):
    base = ["--db", str(db)]
    rubric = {"name": "qa", "criteria": "Is the answer right?", "pass_threshold": 4,
              "anchors": {str(s): f"anchor {s}" for s in range(1, 6)}}
    (tmp_path / "rubric.json").write_text(json.dumps(rubric))
    assert main([*base, "rubric", "save", str(tmp_path / "rubric.json")]) == 0
    capsys.readouterr()
    assert main([*base, "rubric", "show", "qa"]) == 0
    assert json.loads(capsys.readouterr().out)["criteria"] == "Is the answer right?"

    assert main([*base, "spec", "export", "correctness"]) == 0
    spec = json.loads(capsys.readouterr().out)
    spec["name"] = "strict_correctness"
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    assert main([*base, "spec", "save", str(tmp_path / "spec.json")]) == 0
    spec["pass_threshold"] = 5
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    assert main([*base, "spec", "save", str(tmp_path / "spec.json")]) == 0
    assert "saved version 2" in capsys.readouterr().out
    assert Store(db).spec_history("strict_correctness")["version"].tolist() == [2, 1]

    spec["template"] = "Grade {nonexistent}"
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    assert main([*base, "spec", "save", str(tmp_path / "spec.json")]) == 2
