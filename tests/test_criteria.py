"""Criteria: several per dataset, pass/fail first-class through the whole loop, one pass/fail rule, and runs
that record what their numbers depend on."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from fake_llm import prompt_text
from judge import team
from judge.cli import main
from judge.criteria import InvalidLabel, resolve_pass
from judge.distill import distill_judge
from judge.errors import ImportFailed, JudgeError, NotFound
from judge.exporting import export_bytes
from judge.importing import import_file, import_labels
from judge.improve import automatic_candidates, base_run, corrections, heldout_split, score_candidates
from judge.reports import agreement_report, compare_runs, gate, judge_card, trend
from judge.runner import execute_run, start_run
from judge.specs import JudgeSpec, save_spec
from runner_helpers import RUBRIC

N = 60


def human_pass(i: int) -> bool:
    return i % 3 != 0


def _tickets(store, tmp_path, n: int = N) -> str:
    """A pass/fail-only dataset: every label says whether answer i resolved the ticket."""
    rows = [{"id": f"t{i}", "input": f"ticket {i}", "output": f"answer {i}",
             "resolved": "pass" if human_pass(i) else "fail"} for i in range(n)]
    path = tmp_path / "tickets.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    import_file(store, path, dataset="tickets", criteria=["resolved"], annotator="ana")
    return "tickets"


def _item(body: dict) -> int:
    return int(re.search(r"Answer: answer (\d+)", prompt_text(body)).group(1))


def _pass_fail_spec(name: str = "resolver", **changes) -> JudgeSpec:
    body = dict(name=name, criterion="resolved", criteria="Does the answer resolve the ticket?",
                rubric=dict(RUBRIC), template="Ticket: {input}\nAnswer: {output}\n{criteria}\n{rubric}",
                model="openai/gpt-test", params={"temperature": 0, "max_tokens": 100})
    body.update(changes)
    return JudgeSpec(**body)


def _script(fake_llm) -> None:
    """The current judge passes everything but multiples of 5; a prompt that says 'Check' is always right."""
    def reply(body: dict) -> dict:
        i = _item(body)
        good = human_pass(i) if "Check" in prompt_text(body) else i % 5 != 0
        return {"reasoning": f"item {i}", "score": 5 if good else 1}
    fake_llm.reply_with(reply)


def _run(store, spec: JudgeSpec, **options) -> str:
    run_id = start_run(store, dataset="tickets", spec=spec, **options)
    execute_run(store, run_id)
    return run_id


# -- a pass/fail-only dataset through the whole loop ----------------------------------------------------
def test_a_pass_fail_dataset_goes_through_the_whole_loop(store, tmp_path, fake_llm):
    _tickets(store, tmp_path)
    (criterion,) = store.criteria("tickets")
    assert (criterion.name, criterion.scale, criterion.pass_threshold) == ("resolved", "pass/fail", None)
    uid = store.item_uids(store.dataset("tickets")["id"])

    # label: a pass/fail criterion takes pass or fail, never a score
    store.add_label(uid["t1"], "bob", passed=True, criterion="resolved")
    with pytest.raises(InvalidLabel, match="graded pass/fail"):
        store.add_label(uid["t1"], "bob", score=4, criterion="resolved")

    # run + report: the pass/fail figures lead, measured on the resolved labels only
    _script(fake_llm)
    current = _pass_fail_spec()
    run_a = _run(store, current)
    report = agreement_report(store, run_a, n_boot=200)
    assert report["criterion"] == {"name": "resolved", "scale": "pass/fail", "rubric_version": None,
                                   "primary": "pass_fail.kappa"}
    assert report["scores"]["n"] == 0 and report["pass_fail"]["kappa"]["n"] == N
    truth = [human_pass(i) for i in range(N)]
    judged = [i % 5 != 0 for i in range(N)]
    agree = sum(t == j for t, j in zip(truth, judged)) / N
    assert report["pass_fail"]["kappa"]["value"] is not None
    failures = [i for i in range(N) if not truth[i]]
    assert report["pass_fail"]["failure_recall"]["value"] == pytest.approx(
        sum(not judged[i] for i in failures) / len(failures))
    assert 0 < agree < 1

    # improve: corrections are pass/fail disagreements; candidates are ranked by pass/fail kappa
    base = base_run(store, "tickets", current)
    rows = corrections(store, base)
    split = heldout_split(store, "tickets")
    expected = {uid[f"t{i}"] for i in range(N) if truth[i] != judged[i]} & set(split.tuning)
    assert set(rows["item_uid"]) == expected and len(rows) > 0
    assert set(rows["distance"]) == {1} and rows["human_score"].isna().all()
    (label, with_examples), *_ = automatic_candidates(store, current, base, fewshot=2)
    assert {e["score"] for e in with_examples.examples} <= {1, 5}
    better = _pass_fail_spec(criteria="Check: does the answer resolve the ticket?")
    board = score_candidates(store, "tickets", [current, better], labels=["current", "check"], n_boot=300)
    assert board.figure == "pass_fail_kappa" and board.criterion == "resolved"
    assert [row["label"] for row in board.rows] == ["check", "current"]
    assert board.best["pass_fail_kappa"]["value"] == pytest.approx(1.0)
    assert board.better_than_current and "pass_fail_kappa" in board.verdict()

    # distill: a binary classifier on the pass/fail labels, verdicts without made-up scores
    distilled = distill_judge(store, "tickets")
    verdicts = store.verdicts(distilled.run_id)
    assert verdicts["score"].isna().all() and verdicts["passed"].notna().all()
    assert "probability of a pass" in verdicts["reasoning"].iloc[0]
    assert agreement_report(store, distilled.run_id, n_boot=100)["pass_fail"]["kappa"]["n"] == N

    # compare: a paired bootstrap of the pass/fail kappa difference
    run_b = _run(store, better)
    compared = compare_runs(store, [run_b, run_a], n_boot=300)
    (difference,) = compared["differences"]
    assert difference["figure"] == "pass_fail_kappa" and difference["better"] == run_b
    assert compared["criterion"]["scale"] == "pass/fail"

    # gate, trend and card work on it too
    result = gate(store, run_b, run_a, n_boot=200)
    assert set(result.checks) >= {"mean_score"} and len(result.checks) == 2
    points = trend(store, "resolver", n_boot=100)["points"]
    assert trend(store, "resolver")["criterion"] == "resolved" and len(points) >= 2
    markdown, card = judge_card(store, "resolver", n_boot=100)
    assert set(card["agreement"]) == {"pass_fail.kappa", "pass_fail.failure_recall", "pass_fail.false_failure_rate"}
    assert "Criterion: resolved (pass/fail)" in markdown


# -- several criteria ---------------------------------------------------------------------------------
def _two_criteria(store, tmp_path) -> str:
    rows = [{"id": f"q{i}", "input": f"question {i}", "output": f"answer {i}",
             "coherence": 1 + i % 5, "fluency": 1 + (i * 2) % 5, "safe": "yes" if i % 4 else "no"}
            for i in range(20)]
    path = tmp_path / "two.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    import_file(store, path, dataset="two", criteria=["coherence", "fluency", "safe"], annotator="maya")
    return "two"


def test_each_criterion_is_its_own_labels_and_a_run_is_measured_on_its_criterion_only(store, tmp_path):
    _two_criteria(store, tmp_path)
    assert [(c.name, c.scale) for c in store.criteria("two")] == [
        ("coherence", "1-5"), ("fluency", "1-5"), ("safe", "pass/fail")]
    ds = store.dataset("two")
    assert "coherence" not in store.items(ds["id"])["metadata"].iloc[0]  # a grade column is no metadata
    labels = store.latest_labels(ds["id"])
    assert labels.groupby("criterion").size().to_dict() == {"coherence": 20, "fluency": 20, "safe": 20}

    ids = [f"q{i}" for i in range(20)]
    pd.DataFrame({"id": ids, "s": [1 + i % 5 for i in range(20)]}).to_csv(tmp_path / "coh.csv", index=False)
    from judge.reports import import_run
    run = import_run(store, tmp_path / "coh.csv", dataset="two", score_column="s", name="coh_judge",
                     criterion="coherence")
    report = agreement_report(store, run, n_boot=100)
    assert report["criterion"]["name"] == "coherence"
    assert report["scores"]["exact_agreement"]["value"] == 1.0  # against coherence, not fluency
    with pytest.raises(NotFound, match="coherence, fluency, safe"):
        import_run(store, tmp_path / "coh.csv", dataset="two", score_column="s", name="other")
    with pytest.raises(NotFound, match="has no criterion 'clarity'"):
        store.add_label(store.item_uids(ds["id"])["q1"], "bob", score=3, criterion="clarity")


def test_several_criteria_are_saved_together_or_not_at_all(store, tmp_path):
    _two_criteria(store, tmp_path)
    uid = store.item_uids(store.dataset("two")["id"])["q3"]
    before = len(store.label_history(uid))
    with pytest.raises(InvalidLabel):
        store.add_grades(uid, "bob", {"coherence": {"score": 4}, "safe": {"score": 2}})
    assert len(store.label_history(uid)) == before
    ids = store.add_grades(uid, "bob", {"coherence": {"score": 4, "critique": "clear"}, "safe": {"passed": False}})
    latest = store.latest_labels(store.dataset("two")["id"], annotator="bob")
    assert len(ids) == 2 and latest.set_index("criterion")["passed"].to_dict() == {"coherence": True, "safe": False}


def test_export_writes_every_criterion_and_reimports_whole(store, tmp_path):
    _two_criteria(store, tmp_path)
    wide = tmp_path / "wide.csv"
    wide.write_bytes(export_bytes(store, "two", fmt="csv"))
    header = wide.read_text().splitlines()[0]
    assert "score[coherence]:maya" in header and "passed[safe]:maya" in header
    copy = import_file(store, wide, dataset="two-copy")
    assert copy.labels == 60
    assert [(c.name, c.scale) for c in store.criteria("two-copy")] == [
        ("coherence", "1-5"), ("fluency", "1-5"), ("safe", "pass/fail")]
    original = store.latest_labels(store.dataset("two")["id"])
    again = store.latest_labels(store.dataset("two-copy")["id"])
    columns = ["criterion", "annotator", "score", "passed"]
    assert original[columns].astype(str).values.tolist() == again[columns].astype(str).values.tolist()

    long = tmp_path / "long.csv"
    long.write_bytes(export_bytes(store, "two", fmt="csv", labels="long"))
    assert set(pd.read_csv(long)["criterion"]) == {"coherence", "fluency", "safe"}
    assert import_labels(store, long, dataset="two") == 0  # the same labels: nothing added


# -- one pass/fail rule -------------------------------------------------------------------------------
def test_one_pass_fail_rule_wherever_a_grade_is_saved(store, tmp_path, capsys):
    """A 3 under a rubric that passes at 3 passes, whether saved by the API, the CLI, a file, a long-form
    file or a labeling link, and a judge's own threshold never changes it."""
    anchors = {str(k): f"anchor {k}" for k in range(1, 6)}
    store.save_rubric("helpfulness", "Helpful?", anchors, pass_threshold=3)
    rows = [{"id": f"q{i}", "output": f"answer {i}", "score": 3 if i == 2 else None} for i in range(6)]
    pd.DataFrame(rows).to_csv(tmp_path / "d.csv", index=False)
    import_file(store, tmp_path / "d.csv", dataset="d", criterion="helpfulness", annotator="file")
    uid = store.item_uids(store.dataset("d")["id"])
    store.add_label(uid["q0"], "api", score=3)
    assert main(["--db", str(store.path), "label", "--dataset", "d", "--item", "q1", "--annotator", "cli",
                 "--score", "3"]) == 0
    pd.DataFrame([{"item_id": "q3", "annotator": "long", "score": 3}]).to_csv(tmp_path / "l.csv", index=False)
    import_labels(store, tmp_path / "l.csv", dataset="d")
    task = team.create_task(store, name="t", dataset="d")
    team.submit_label(store, team.create_link(store, task, annotator="linked").token, uid["q4"], score=3)
    labels = store.latest_labels(store.dataset("d")["id"])
    assert sorted(labels["annotator"]) == ["api", "cli", "file", "linked", "long"]
    assert labels["passed"].tolist() == [True] * 5 and labels["ticked"].isna().all()
    assert resolve_pass(3, None, 3) and not resolve_pass(3, None, 4) and not resolve_pass(5, False, 3)

    body = {**_pass_fail_spec(name="strict", criterion="helpfulness").to_dict(), "pass_threshold": 5}
    run = start_run(store, dataset="d", spec=JudgeSpec.from_dict({**body, "kind": "assertion",
                                                                    "template": "",
                                                                    "checks": [{"type": "regex_present", "pattern": "\\S"}]}))
    execute_run(store, run)
    humans = store.human_item_labels(store.dataset("d")["id"], store.criterion("d").id)
    assert humans["human_passed"].tolist() == [True] * 5  # the judge passes at 5; people's 3s still pass


def test_a_bad_grade_is_a_judge_error_that_says_what_to_fix(store, tmp_path):
    _two_criteria(store, tmp_path)
    uid = store.item_uids(store.dataset("two")["id"])["q1"]
    for bad in ("high", 3.5, True, 0, 6):
        with pytest.raises(JudgeError, match="whole number from 1 to 5"):
            store.add_label(uid, "bob", score=bad, criterion="coherence")
    with pytest.raises(JudgeError, match="pass/fail, true/false"):
        store.add_label(uid, "bob", passed="maybe", criterion="safe")


# -- runs are records -----------------------------------------------------------------------------------
def test_editing_a_spec_never_moves_an_earlier_report(store, tmp_path, fake_llm):
    _tickets(store, tmp_path, 20)
    fake_llm.reply_with(lambda body: {"reasoning": "r", "score": 1 + _item(body) % 5})
    spec = _pass_fail_spec(pass_threshold=4)
    save_spec(store, spec)
    run = _run(store, JudgeSpec.from_dict(store.spec_body("resolver")))
    before = json.dumps(agreement_report(store, run, n_boot=200), default=str, sort_keys=True)
    edited = _pass_fail_spec(pass_threshold=2, template="Rate it.\n{output}\n{criteria}")
    assert save_spec(store, edited) == 2
    after = json.dumps(agreement_report(store, run, n_boot=200), default=str, sort_keys=True)
    assert after == before
    recorded = store.report_run(run)
    assert recorded["spec"]["pass_threshold"] == 4 and recorded["pass_threshold"] == 4
    assert "Ticket:" in recorded["spec"]["template"] and recorded["criterion"] == "resolved"


# -- SummEval, four criteria, from ../shared ----------------------------------------------------------
def test_summeval_imports_with_four_criteria_rounded_to_whole_scores(store, shared_data, tmp_path):
    path = shared_data / "summeval" / "summeval.jsonl"
    if not path.exists():
        pytest.skip("../shared/data/summeval is not on this machine")
    with pytest.raises(ImportFailed, match="--round nearest"):
        import_file(store, path, dataset="summeval", criteria=["coherence"],
                    column_map={"input": "article", "output": "summary"})
    result = import_file(store, path, dataset="summeval", round_scores="nearest",
                         criteria=["coherence", "consistency", "fluency", "relevance"],
                         column_map={"input": "article", "output": "summary"}, annotator="experts-mean")
    assert result.rows == 1600 and result.labels == 4 * 1600
    assert [c.name for c in store.criteria("summeval")] == ["coherence", "consistency", "fluency", "relevance"]
    raw = pd.read_json(path, lines=True)
    labels = store.latest_labels(result.dataset_id, criterion="coherence")
    # the rounding rule: the nearest whole score, halves up (means of 3 experts are x.0, x.33 or x.67)
    assert labels["score"].tolist() == [int(v + 0.5) for v in raw["coherence"]]
    ids = store.items(result.dataset_id)["item_id"]
    fake = pd.DataFrame({"id": ids, "s": [int(v + 0.5) for v in raw["consistency"]]})
    fake.to_csv(tmp_path / "consistency.csv", index=False)
    assert main(["--db", str(store.path), "import-run", str(tmp_path / "consistency.csv"), "--dataset", "summeval",
                 "--score-column", "s", "--name", "consistency_judge", "--criterion", "consistency"]) == 0
    (run,) = store.runs()["id"]
    report = agreement_report(store, run, n_boot=100)
    assert report["criterion"]["name"] == "consistency"
    assert report["scores"]["exact_agreement"]["value"] == 1.0 and report["scores"]["n"] == 1600
