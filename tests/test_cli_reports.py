"""The report commands end to end through `judge.cli.main`: JSON output, readable tables and gate exit codes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from judge.cli import main
from report_data import judge_run, labeled_dataset

BOOT = ["--boot", "200"]


@pytest.fixture
def app_versions(store, tmp_path):
    """App v1 labeled and judged well; app v2 judged much worse; the judge's baseline is v1's run."""
    rng = np.random.default_rng(4)
    truth = [int(v) for v in rng.integers(1, 6, 120)]
    v1 = labeled_dataset(store, tmp_path, {"alice": truth, "bob": truth},
                         metadata={"app_version": ["1.0"] * 120})
    run1 = judge_run(store, v1, truth)
    v2 = labeled_dataset(store, tmp_path, {}, n=120, metadata={"app_version": ["2.0"] * 120}, answer="worse")
    run2 = judge_run(store, v2, [1] * 120)
    return str(store.path), run1, run2, truth


def run_cli(capsys, db, *argv):
    code = main(["--db", db, *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_report_json_holds_every_figure_with_interval_and_n(app_versions, capsys):
    db, run1, _, truth = app_versions
    code, out, _ = run_cli(capsys, db, "report", "--run", run1, "--json", *BOOT)
    assert code == 0
    report = json.loads(out)
    for group in ("scores", "pass_fail"):
        for name, fig in report[group].items():
            if isinstance(fig, dict):
                assert {"value", "ci", "n", "undefined", "method", "warning"} <= set(fig), name
    assert report["scores"]["exact_agreement"]["value"] == 1.0 and report["labels"]["items"] == 120


def test_report_prints_readable_tables(app_versions, capsys):
    db, run1, *_ = app_versions
    code, out, _ = run_cli(capsys, db, "report", "--run", run1, "--slice", "app_version", *BOOT)
    assert code == 0
    assert "quadratic_kappa" in out and "corrected pass rate" in out and "Krippendorff" in out
    assert "app_version" in out


def test_agreement_compare_and_trend(app_versions, capsys):
    db, run1, run2, _ = app_versions
    code, out, _ = run_cli(capsys, db, "agreement", "--dataset", "qa", "--json", *BOOT)
    assert code == 0 and json.loads(out)["annotators"] == []           # v2, the latest version, is unlabeled
    code, _, err = run_cli(capsys, db, "compare", run1, run2, "--json", *BOOT)
    assert code == 2 and "share no judged item" in err
    code, out, _ = run_cli(capsys, db, "baseline", "--judge", "helpful", "--run", run1)
    assert code == 0
    code, out, _ = run_cli(capsys, db, "trend", "--judge", "helpful", "--json", *BOOT)
    assert code == 0 and json.loads(out)["regressions"] == [run2]
    code, out, _ = run_cli(capsys, db, "trend", "--judge", "helpful", *BOOT)
    assert "REGRESSION" in out and "baseline" in out
    assert "p=" in out and "5% level, one-sided" in out              # significant, and at what level


def test_gate_exits_1_on_a_regression_and_0_otherwise(app_versions, capsys):
    db, run1, run2, _ = app_versions
    code, out, _ = run_cli(capsys, db, "gate", "--run", run2, "--baseline", run1, *BOOT)
    assert code == 1 and "gate: FAILED" in out and "p (one-sided)" in out
    code, out, _ = run_cli(capsys, db, "gate", "--run", run1, "--baseline", run2, "--json", *BOOT)
    assert code == 0 and json.loads(out)["passed"] is True
    code, _, err = run_cli(capsys, db, "gate", "--run", run2)
    assert code == 2 and "pin one with judge baseline" in err
    run_cli(capsys, db, "baseline", "--judge", "helpful", "--run", run1)
    assert run_cli(capsys, db, "gate", "--run", run2, *BOOT)[0] == 1   # the pinned baseline is the default


def test_card_and_import_run(app_versions, capsys, tmp_path):
    db, run1, _, truth = app_versions
    code, out, _ = run_cli(capsys, db, "card", "--judge", "helpful", "-o", str(tmp_path / "cards"), *BOOT)
    assert code == 0 and out.split() == [str(tmp_path / "cards" / "helpful.card.md"),
                                         str(tmp_path / "cards" / "helpful.card.json")]
    scores = tmp_path / "scores.jsonl"
    scores.write_text("".join(json.dumps({"id": f"q{i}", "s": 5}) + "\n" for i in range(120)))
    code, out, _ = run_cli(capsys, db, "import-run", str(scores), "--dataset", "qa", "--score-column", "s",
                           "--name", "vendor")
    assert code == 0
    run_id = out.strip()
    code, out, _ = run_cli(capsys, db, "report", "--run", run_id, "--json", *BOOT)
    assert json.loads(out)["run"]["source"] == "import"
    code, _, err = run_cli(capsys, db, "report", "--run", "nope")
    assert code == 2 and "No run 'nope'" in err
