"""Judge-first review: the judge's verdicts pre-filled, accepted or corrected with a critique, stored as review
labels (left out of agreement by default, counted, included on request), corrections as few-shot examples."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from judge.cli import main
from judge.distill import distill_judge
from judge.errors import JudgeError
from judge.improve import corrections, heldout_split
from judge.reports import agreement_report
from judge.review import InvalidReview, corrections_to_fewshot, improve_from_review, review_batch, save_review
from judge.runner import execute_run, start_run
from judge.specs import JudgeSpec, save_spec
from tests.fake_llm import prompt_text
from tests.report_data import judge_run, labeled_dataset, spec

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


def test_review_page_accepts_corrects_and_turns_corrections_into_examples(store, reviewed_run, monkeypatch,
                                                                         fake_llm):
    import time

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
        said = "\n".join(s.value for s in at.success)
        assert "Saved version 2 of the judge" in said and f"re-running it on {N - 4} items as run" in said
    finally:
        config.set_option("server.address", address)
    assert store.fewshot_items(store.report_run(run)["spec_name"]) == [first]
    rerun = store.runs().iloc[0]["id"]  # newest first: the re-run of version 2, in a thread of the server
    for _ in range(300):
        if store.run(rerun)["status"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert store.run(rerun)["status"] == "done" and store.report_run(rerun)["spec_version"] == 2
    assert fake_llm.count == N - 4 and all("States the wrong year." in prompt_text(r.body) for r in fake_llm.requests)


def test_the_terminal_flow_accepts_with_enter_and_corrects_with_a_grade(store, reviewed_run, monkeypatch, capsys):
    _, run = reviewed_run
    answers = iter(["", "1", "Invents a date.", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    assert main(["--db", str(store.path), "review", "--run", run, "--n", "3", "--annotator", "cy"]) == 0
    assert "2 verdicts accepted, 1 corrected" in capsys.readouterr().out
    with store.db.connect() as con:
        rows = con.execute("SELECT score, critique FROM labels WHERE kind = 'review' ORDER BY id").fetchall()
    assert len(rows) == 3 and rows[1] == (1, "Invents a date.")


def test_review_labels_teach_tuning_and_distillation_but_never_measure(store, reviewed_run):
    ds, run = reviewed_run
    batch = review_batch(store, run, n=16)  # `uncertain` picks the unlabeled items first: review-only items
    corrected = batch[~batch["item_id"].isin([f"q{i}" for i in range(10)])].head(3).index
    batch.loc[corrected, ["score", "passed", "critique"]] = [1, False, "Answers another question."]
    result = save_review(store, run, batch, "ana")
    reviewed_only = set(result["reviewed"]) - {store.item_uids(ds["id"])[f"q{i}"] for i in range(10)}
    assert len(reviewed_only) >= 3

    split = heldout_split(store, "qa")
    assert reviewed_only <= set(split.tuning) and set(split.reviewed) == reviewed_only
    assert not reviewed_only & set(split.heldout)
    fixes = corrections(store, run).set_index("item_uid")
    for uid in result["corrections"]["item_uid"]:
        assert fixes.loc[uid, "human_score"] == 1 and fixes.loc[uid, "critique"] == "Answers another question."

    taught = distill_judge(store, "qa")
    assert taught.labeled == 10 + len(reviewed_only)
    with pytest.raises(JudgeError, match="has 10 human scores"):
        distill_judge(store, "qa", include_review=False)
    report = agreement_report(store, taught.run_id, n_boot=50)  # measured on the plain labels only
    assert report["labels"]["items"] == 10 and report["labels"]["review"]["labels"] == 16


def _llm_reviewed_run(store, tmp_path, fake_llm):
    """A dataset judged through the runner by the fake server: every item scored 4."""
    labeled_dataset(store, tmp_path, {"ana": [4 if i % 3 else 2 for i in range(10)] + [None] * (N - 10)})
    fake_llm.reply_with(lambda body: {"reasoning": "looks fine", "score": 4})
    current = JudgeSpec.from_dict(spec())
    save_spec(store, current)
    run = start_run(store, dataset="qa", spec=current)
    execute_run(store, run)
    fake_llm.reset()
    return run


def test_one_step_from_review_to_a_new_version_judging_the_rest(store, tmp_path, fake_llm, capsys):
    run = _llm_reviewed_run(store, tmp_path, fake_llm)
    path = tmp_path / "review.csv"
    base = ["--db", str(store.path)]
    assert main([*base, "review", "--run", run, "--n", "6", "--export", str(path)]) == 0
    capsys.readouterr()
    sheet = pd.read_csv(path, dtype={"item_id": str, "critique": str})
    sheet.loc[0, ["score", "critique"]] = [1, "Quotes a refund policy that does not exist."]
    sheet.to_csv(path, index=False)
    fake_llm.reply_with(lambda body: {"reasoning": "after the example", "score": 2})

    assert main([*base, "review", "--run", run, "--import", str(path), "--annotator", "bo", "--improve"]) == 0
    printed = capsys.readouterr().out
    assert "5 verdicts accepted, 1 corrected" in printed and "saved spec version 2" in printed
    rerun = re.search(r": run (\S+) \(judge report", printed).group(1)
    assert f"re-ran it on the {N - 6} items no review graded" in printed

    recorded = store.report_run(rerun)
    assert recorded["spec_version"] == 2 and store.run(rerun)["status"] == "done"
    judged = set(store.verdicts(rerun)["item_uid"])
    reviewed = set(store.item_uids(recorded["dataset_id"])[i] for i in sheet["item_id"])
    assert len(judged) == N - 6 and not judged & reviewed
    assert fake_llm.count == N - 6  # the real runner sent every prompt to the fake server, with the example
    assert all("Quotes a refund policy that does not exist." in prompt_text(r.body) for r in fake_llm.requests)
    assert agreement_report(store, rerun, n_boot=50)["labels"]["items"] == 10 - len(reviewed & set(
        store.item_uids(recorded["dataset_id"])[f"q{i}"] for i in range(10)))


def test_the_one_step_without_corrections_without_a_key_or_without_a_rerun(store, tmp_path, fake_llm, monkeypatch):
    run = _llm_reviewed_run(store, tmp_path, fake_llm)
    result = save_review(store, run, review_batch(store, run, n=3), "cy")
    assert improve_from_review(store, run, result["corrections"]) == {"version": None, "run_id": None, "items": 0}
    batch = review_batch(store, run, n=2)
    batch.loc[0, ["score", "critique"]] = [2, "Too vague."]
    fixes = save_review(store, run, batch, "cy")["corrections"]
    runs = len(store.runs())
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(JudgeError, match="OPENAI_API_KEY"):
        improve_from_review(store, run, fixes)
    assert store.spec_record("helpful")["version"] == 1 and len(store.runs()) == runs  # nothing half-done
    step = improve_from_review(store, run, fixes, rerun=False)
    assert step == {"version": 2, "run_id": None, "items": 0} and fake_llm.count == 0



def test_corrections_of_a_judge_that_takes_no_examples_are_refused_and_say_why(store, reviewed_run):
    _, run = reviewed_run
    save_review(store, run, review_batch(store, run, n=16), "ana")  # 10 + 16 labels: enough to distill
    distilled = distill_judge(store, "qa").run_id
    batch = review_batch(store, distilled, n=2)
    batch.loc[0, ["score", "critique"]] = [1, "Wrong."]
    fixes = save_review(store, distilled, batch, "bo")["corrections"]
    with pytest.raises(JudgeError, match="is a distilled judge: few-shot examples teach an LLM judge only"):
        improve_from_review(store, distilled, fixes)
    assert store.spec_record("helpful")["version"] == 1
