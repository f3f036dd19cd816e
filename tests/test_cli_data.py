"""`judge import`, `import-labels`, `export`, `datasets` and `demo`, end to end through `judge.cli.main`."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import judge.demo
from judge.cli import main
from judge.demo import DEMO_RUBRICS, load_demo
from judge.store import Store


@pytest.fixture
def db(tmp_path):
    """An existing, empty store (a store named with --db that does not exist is refused without --create)."""
    return str(Store(tmp_path / "cli.duckdb").path)


def test_import_with_map_and_annotator_then_list_and_export(db, tmp_path, capsys):
    source = tmp_path / "outputs.csv"
    source.write_text("q,reply,draft,grade,note\nHow?,Like this.,x,4,clear\nWhy?,Because.,y,2,vague\n")
    assert main(["--db", db, "import", str(source), "--dataset", "faq", "--map", "input=q",
                 "--map", "output=reply", "--map", "score=grade", "--map", "critique=note",
                 "--annotator", "ana"]) == 0
    assert "imported 2 items into faq v1 with 2 labels" in capsys.readouterr().out

    assert main(["--db", db, "import", str(source), "--dataset", "faq", "--map", "input=q",
                 "--map", "output=reply", "--map", "score=grade", "--map", "critique=note",
                 "--annotator", "ana"]) == 0
    assert "nothing changed" in capsys.readouterr().out

    assert main(["--db", db, "datasets"]) == 0
    listing = capsys.readouterr().out
    assert "faq" in listing and "outputs.csv" in listing

    out = tmp_path / "faq.jsonl"
    assert main(["--db", db, "export", "--dataset", "faq", "-o", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["input"], r["output"], r["draft"], r["score:ana"], r["critique:ana"]) for r in rows] == [
        ("How?", "Like this.", "x", 4, "clear"), ("Why?", "Because.", "y", 2, "vague"),
    ]


def test_export_to_stdout_as_csv(db, tmp_path, capsysbinary):
    source = tmp_path / "d.csv"
    source.write_text("input,output\nq,=HYPERLINK(\"http://x\")\n")
    assert main(["--db", db, "import", str(source), "--dataset", "d"]) == 0
    capsysbinary.readouterr()
    assert main(["--db", db, "export", "--dataset", "d", "--format", "csv"]) == 0
    assert "'=HYPERLINK" in capsysbinary.readouterr().out.decode()


def test_import_labels_in_long_form(db, tmp_path, capsys):
    items = tmp_path / "items.jsonl"
    items.write_text("\n".join(json.dumps({"id": f"i{n}", "input": "q", "output": f"a{n}"}) for n in range(5)))
    labels = tmp_path / "labels.csv"
    labels.write_text("item_id,annotator,score,critique\ni0,ana,5,great\ni1,bo,1,wrong\ni1,ana,2,\n")
    assert main(["--db", db, "import", str(items), "--dataset", "d"]) == 0
    assert main(["--db", db, "import-labels", str(labels), "--dataset", "d"]) == 0
    assert "added 3 labels to d" in capsys.readouterr().out
    store = Store(db)
    assert sorted(store.annotators()["name"]) == ["ana", "bo"]
    assert len(store.latest_labels(store.dataset("d")["id"])) == 3


def test_bad_input_prints_one_error_line_and_exits_2(db, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,input,output\n1,q,a\n1,q,b\n")
    assert main(["--db", db, "import", str(bad), "--dataset", "d"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: bad.csv, row 3, column 'id': duplicate id '1'")
    assert main(["--db", db, "import", str(bad), "--dataset", "d", "--map", "output"]) == 2
    assert "ROLE=COLUMN" in capsys.readouterr().err
    assert main(["--db", db, "export", "--dataset", "missing"]) == 2
    assert "No dataset named 'missing'" in capsys.readouterr().err


def _demo_dir(tmp_path):
    directory = tmp_path / "demo"
    directory.mkdir()
    rows = [{"id": f"sup-{n}", "input": f"question {n}", "output": f"answer {n}", "score": 1 + n % 5,
             "passed": n % 5 >= 3, "critique": f"note {n}", "app_version": "v1.0"} for n in range(6)]
    (directory / "demo_support.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (directory / "demo_support_labels.csv").write_text(
        "item_id,annotator,score,passed,critique\nsup-0,jonas,2,false,too short\nsup-1,jonas,3,false,ok\n")
    pd.DataFrame({"id": ["qt-1"], "input": ["open tickets"], "output": ['{"op":"eq"}'],
                  "reference": ['{"op":"eq"}'], "score": [5]}).to_csv(directory / "demo_query_trees.csv", index=False)
    return directory


def test_demo_loads_each_file_with_labels_and_rubric_once(db, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(judge.demo, "DEMO_DIR", _demo_dir(tmp_path))
    assert main(["--db", db, "demo", "--if-empty"]) == 0
    assert "query-trees, support" in capsys.readouterr().out
    store = Store(db)
    support = store.dataset("support")
    for criterion in ("helpfulness", "resolved"):  # both criteria, each with both annotators' labels
        labels = store.latest_labels(support["id"], criterion=criterion)
        assert (labels["annotator"] == "maya").sum() == 6 and (labels["annotator"] == "jonas").sum() == 2
    assert [(c.name, c.scale) for c in store.criteria("support")] == [("helpfulness", "1-5"), ("resolved", "pass/fail")]
    for name in ("helpfulness", "tree-correctness"):
        rubric = store.rubric(name)
        assert rubric["criteria"] == DEMO_RUBRICS[name][0] and sorted(rubric["anchors"]) == list("12345")
    assert sorted(store.rubric("resolved")["anchors"]) == ["fail", "pass"]
    assert main(["--db", db, "demo", "--if-empty"]) == 0
    assert "already has data" in capsys.readouterr().out
    assert store.dataset("support")["version"] == 1


def test_load_demo_on_a_store_with_data_is_a_no_op_unless_asked(store, tmp_path):
    directory = _demo_dir(tmp_path)
    assert load_demo(store, directory=directory) == ["query-trees", "support"]
    assert load_demo(store, directory=directory) == []
    assert load_demo(store, if_empty=False, directory=directory) == ["query-trees", "support"]
    assert store.dataset("support")["version"] == 1
