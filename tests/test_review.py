"""Judge-first review: the judge's verdicts pre-filled, accepted or corrected with a critique, stored as review
labels (left out of agreement by default, counted, included on request), corrections as few-shot examples."""

from __future__ import annotations

import pandas as pd
import pytest

from judge.cli import main
from judge.reports import agreement_report
from judge.review import InvalidReview, corrections_to_fewshot, review_batch, save_review
from tests.report_data import judge_run, labeled_dataset

N = 30


@pytest.fixture
def reviewed_run(store, tmp_path):
    ds = labeled_dataset(store, tmp_path, {"ana": [4 if i % 3 else 2 for i in range(10)] + [None] * (N - 10)})
    run = judge_run(store, ds, [4 if i % 4 else 3 for i in range(N)])
    return ds, run


def test_a_batch_is_prefilled_with_the_judges_verdict(store, reviewed_run):
    _, run = reviewed_run
    batch = review_batch(store, run, n=16)
    assert len(batch) == 16
    assert (batch["score"] == batch["judge_score"]).all() and (batch["passed"] == batch["judge_passed"]).all()
    assert batch["judge_reasoning"].str.startswith("because").all() and batch["reason"].str.len().gt(0).all()


def test_review_labels_stay_out_of_agreement_unless_asked_and_say_so(store, reviewed_run, capsys):
    _, run = reviewed_run
    before = agreement_report(store, run, n_boot=50)
    batch = review_batch(store, run, n=8)
    batch.loc[0, ["score", "passed", "critique"]] = [1, False, "It invents a number."]
    result = save_review(store, run, batch, "ana")
    assert (result["accepted"], result["corrected"]) == (7, 1)
    after = agreement_report(store, run, n_boot=50)
    assert after["labels"]["items"] == before["labels"]["items"]
    assert after["labels"]["review"]["labels"] == 8 and "8 review labels left out" in after["labels"]["review"]["note"]
    included = agreement_report(store, run, n_boot=50, include_review=True)
    assert included["labels"]["items"] > before["labels"]["items"] and included["labels"]["review"]["included"]
    assert main(["--db", str(store.path), "report", "--run", run, "--boot", "50", "--include-review"]) == 0
    assert "Includes 8 review labels" in capsys.readouterr().out


def test_a_correction_needs_a_critique_and_nothing_is_stored_without_one(store, reviewed_run):
    _, run = reviewed_run
    batch = review_batch(store, run, n=4)
    batch.loc[2, "score"] = 1
    with pytest.raises(InvalidReview, match="row 4, column critique"):
        save_review(store, run, batch, "ana")
    with store.db.connect() as con:
        assert con.execute("SELECT count(*) FROM labels WHERE kind = 'review'").fetchone()[0] == 0


def test_spreadsheet_round_trip_and_corrections_become_fewshot_examples(store, reviewed_run, tmp_path, capsys):
    _, run = reviewed_run
    path = tmp_path / "review.csv"
    base = ["--db", str(store.path)]
    assert main([*base, "review", "--run", run, "--n", "5", "--export", str(path)]) == 0
    sheet = pd.read_csv(path, dtype={"item_id": str, "critique": str})
    sheet.loc[1, ["score", "critique"]] = [2, "Misses the second half of the question."]
    sheet.to_csv(path, index=False)
    assert main([*base, "review", "--run", run, "--import", str(path), "--annotator", "bo", "--fewshot"]) == 0
    printed = capsys.readouterr().out
    assert "4 verdicts accepted, 1 corrected" in printed and "saved spec version 2" in printed
    spec = store.report_run(run)["spec"]
    latest = store.spec_record(spec["name"], 2)
    assert "Misses the second half" in str(latest)
    assert corrections_to_fewshot(store, run, pd.DataFrame()) is None


def _open_review(store, monkeypatch, **query):
    """The Review page in AppTest, served on loopback (owner pages open); returns it and the address to restore."""
    from pathlib import Path

    from streamlit import config
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("JUDGE_DB", str(store.path))
    address = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page("pages/review.py").run()
    assert not at.exception, at.exception
    return at, address


def test_review_page_accepts_corrects_and_turns_corrections_into_examples(store, reviewed_run, monkeypatch):
    from streamlit import config

    _, run = reviewed_run
    at, address = _open_review(store, monkeypatch, annotator="ana")
    try:
        at.number_input(key="review.n").set_value(4).run()
        batch = at.session_state["review.batch"]
        assert len(batch) == 4
        first = batch["item_uid"].iloc[0]
        at.selectbox(key=f"review.{first}.score").select("1")
        at.selectbox(key=f"review.{first}.passed").select("fail")
        next(b for b in at.button if b.label == "Save review").click().run()
        assert "critique" in "\n".join(e.value for e in at.error), "a correction without a critique is refused"
        at.text_input(key=f"review.{first}.critique").input("States the wrong year.")
        next(b for b in at.button if b.label == "Save review").click().run()
        assert not at.exception, at.exception
        assert "3 verdicts accepted, 1 corrected." in "\n".join(s.value for s in at.success)
        next(b for b in at.button if b.label.startswith("Turn the corrections")).click().run()
        assert "Saved version 2 of the judge" in "\n".join(s.value for s in at.success)
    finally:
        config.set_option("server.address", address)
    assert store.fewshot_items(store.report_run(run)["spec_name"]) == [first]


def test_the_terminal_flow_accepts_with_enter_and_corrects_with_a_grade(store, reviewed_run, monkeypatch, capsys):
    _, run = reviewed_run
    answers = iter(["", "1", "Invents a date.", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    assert main(["--db", str(store.path), "review", "--run", run, "--n", "3", "--annotator", "cy"]) == 0
    assert "2 verdicts accepted, 1 corrected" in capsys.readouterr().out
    with store.db.connect() as con:
        rows = con.execute("SELECT score, critique FROM labels WHERE kind = 'review' ORDER BY id").fetchall()
    assert len(rows) == 3 and rows[1] == (1, "Invents a date.")
