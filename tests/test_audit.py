"""Drift audit: a new dataset version's items need the judge's agreement checked before `gate --require-audit`
passes; the audit sample is a random design seeded by the version."""

from __future__ import annotations

import json

from judge.audit import audit_status, suggest_audit
from judge.cli import main
from judge.label_next import record_label
from tests.report_data import judge_run, labeled_dataset

N = 40


def test_gate_requires_an_audit_of_the_new_version(store, tmp_path, capsys):
    scores = [4 if i % 3 else 2 for i in range(N)]
    v1 = labeled_dataset(store, tmp_path, {"ana": scores})
    run1 = judge_run(store, v1, scores)
    v2 = labeled_dataset(store, tmp_path, {"ana": [None] * N}, answer="new answer")  # every item is new
    run2 = judge_run(store, v2, scores)
    base = ["--db", str(store.path), "gate", "--run", run2, "--baseline", run1, "--boot", "100"]

    status = audit_status(store, run2, n_boot=100)
    assert not status["passed"] and status["new_items"] == N and status["labeled_new_items"] == 0
    assert "--strategy random --seed 2 --n 20" in status["reason"]
    assert main([*base, "--require-audit"]) == 1
    assert "audit: FAILED (0 labeled of 40 items new in qa v2" in capsys.readouterr().out

    audit = suggest_audit(store, "qa", n=20)
    assert {s.design for s in audit} == {audit[0].design} and json.loads(audit[0].design)["seed"] == 2
    uid_scores = {uid: scores[int(item_id[1:])] for item_id, uid in store.item_uids(v2["id"]).items()}
    for s in audit:
        record_label(store, s, "ana", {None: {"score": uid_scores[s.item_uid]}})
    assert audit_status(store, run2, n_boot=100)["passed"]
    code = main([*base, "--require-audit", "--json"])
    printed = json.loads(capsys.readouterr().out)
    assert printed["audit"]["passed"] and printed["audit"]["labeled_new_items"] == 20
    assert code == (0 if printed["passed"] else 1)  # now only a regression can fail the gate
    assert not audit_status(store, run2, min_agreement=1.01, n_boot=100)["passed"]


def test_trends_shows_agreement_per_version_and_on_its_new_items(store, tmp_path, monkeypatch):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from judge.audit import agreement_by_version

    scores = [4 if i % 3 else 2 for i in range(N)]
    v1 = labeled_dataset(store, tmp_path, {"ana": scores})
    judge_run(store, v1, scores, version_tag="1.0")
    v2 = labeled_dataset(store, tmp_path, {"ana": scores[:10] + [None] * (N - 10)}, answer="new answer")
    judge_run(store, v2, [5] * N, version_tag="2.0")  # the judge now passes everything: drift
    rows = agreement_by_version(store, "helpful", n_boot=100)
    assert [(r["app_version"], r["labeled"], r["labeled_new"]) for r in rows] == [("1.0", N, N), ("2.0", 10, 10)]
    assert rows[0]["agreement"]["value"] == 1.0 and rows[1]["agreement"]["value"] < 0.5
    assert rows[1]["agreement"]["ci"] is not None

    monkeypatch.setenv("JUDGE_DB", str(store.path))
    app = AppTest.from_file(str(Path(__file__).parent.parent / "pages" / "trends.py"), default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    table = app.dataframe[0].value
    assert table["App version"].tolist() == ["1.0", "2.0"] and table["Labeled new items"].tolist() == [N, 10]
