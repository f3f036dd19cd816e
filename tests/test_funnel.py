"""A real funnel through the runner against the fake server: create, calibrate, run, resume, report, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from funnel_helpers import CHEAP, ITEMS, STAGES, STRONG, build_store, human_passes, is_broken, scripted_reply
from judge.cli import main
from judge.errors import JudgeError
from judge.funnel import calibrate_funnel, create_funnel, resume_funnel_run, run_funnel
from judge.funnel_report import funnel_report

ALPHA, DELTA = 0.2, 0.2
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def funnel_store(store, tmp_path, fake_llm):
    build_store(store, tmp_path)
    fake_llm.reply_with(scripted_reply)
    store.set_model_price(CHEAP, 0.1, 0.4)
    store.set_model_price(STRONG, 2.0, 8.0)
    create_funnel(store, "sums-funnel", dataset="sums", criterion="correct", stages=STAGES)
    return store


def _items(store) -> dict[str, int]:
    items = store.items(store.dataset("sums")["id"])
    return {uid: int(item_id[1:]) for uid, item_id in zip(items["uid"], items["item_id"])}


def test_calibrate_picks_each_threshold_and_records_the_label_sets(funnel_store, fake_llm):
    result = calibrate_funnel(funnel_store, "sums-funnel", alpha=ALPHA, delta=DELTA, seed=1)
    assert result.version == 2
    assert (result.calibration_items, result.heldout_items) == (100, 100)
    offline, cheap, strong = result.stages
    assert [r.delta for r in result.stages] == pytest.approx([DELTA / 3] * 3)
    # The format check is sure only of its failures, and right on each; the cheap model's sure verdicts are
    # right and its unsure ones wrong, so its threshold is its sure confidence.
    assert offline.threshold == 1.0 and offline.errors == 0
    assert cheap.threshold == pytest.approx(0.97) and cheap.errors == 0
    assert strong.threshold == pytest.approx(0.95)
    assert offline.reached == 100 and cheap.reached == 100 - offline.kept and strong.reached == cheap.reached - cheap.kept
    record = funnel_store.funnel_version(funnel_store.funnel("sums-funnel")["id"])
    assert (record["alpha"], record["delta"], record["split_seed"]) == (ALPHA, DELTA, 1)
    assert len(record["calibration_uids"]) == 100 and not set(record["calibration_uids"]) & set(record["heldout_uids"])
    assert record["calibration"]["strongest_alone"]["stage"] == 2


def test_run_settles_each_item_at_the_first_sure_stage_and_sends_the_rest_to_people(funnel_store, fake_llm):
    calibrate_funnel(funnel_store, "sums-funnel", alpha=ALPHA, delta=DELTA, seed=1)
    summary = run_funnel(funnel_store, "sums-funnel")
    assert summary.status == "done" and summary.items == ITEMS
    steps = funnel_store.funnel_steps(summary.funnel_run_id)
    numbers = _items(funnel_store)
    settled_by = {numbers[r.item_uid]: r.stage for r in steps.itertuples() if r.settled}
    for i in range(ITEMS):
        if is_broken(i):
            assert settled_by[i] == 0  # the broken output: the format check fails it for sure
        elif i % 4 == 0:
            assert settled_by[i] == 1  # the cheap model is sure
        elif i % 7 == 3 or i % 4 == 3:
            assert i not in settled_by  # the strong model failed or was unsure: escalated by every stage
        else:
            assert settled_by[i] == 2
    # A failed call is a recorded failure with no verdict, never a score; the item went on (to people).
    failed = steps[(steps["stage"] == 2) & steps["error"].notna()]
    assert len(failed) and failed["passed"].isna().all() and failed["confidence"].isna().all()
    assert all(numbers[uid] % 7 == 3 for uid in failed["item_uid"])
    # The escalated items are a labeling task for people.
    tasks = funnel_store.tasks().set_index("id")
    people = {i for i in range(ITEMS) if i not in settled_by}
    assert summary.people == len(people) and tasks.loc[summary.task_id, "items"] == len(people)
    # The verdicts settled agree with people where they were settled (the scripted sure verdicts are right).
    for r in steps[steps["settled"]].itertuples():
        assert bool(r.passed) == human_passes(numbers[r.item_uid])


def test_a_second_run_pays_for_nothing(funnel_store, fake_llm):
    calibrate_funnel(funnel_store, "sums-funnel", alpha=ALPHA, delta=DELTA, seed=1)
    first = run_funnel(funnel_store, "sums-funnel")
    asked: list[int] = []

    def reply(body):
        asked.append(int(body["messages"][-1]["content"].split("What is ")[1].split(" ")[0]))
        return scripted_reply(body)

    fake_llm.reply_with(reply)
    again = run_funnel(funnel_store, "sums-funnel")
    # Only the unreadable replies are asked again (a failure is never cached); every verdict is reused.
    assert asked and all(i % 7 == 3 for i in asked)
    assert again.settled == first.settled and again.people == first.people


def test_a_killed_funnel_run_resumes_without_repeating_a_paid_call(funnel_store, fake_llm):
    calibrate_funnel(funnel_store, "sums-funnel", alpha=ALPHA, delta=DELTA, seed=1)
    cancel = threading.Event()
    sent: list[tuple[str, str]] = []

    def reply(body):
        sent.append((body["model"], body["messages"][-1]["content"]))
        if "cheap" in body["model"] and len(sent) > 10:
            cancel.set()  # stop the run in the middle of the cheap stage, as a killed process would
        return scripted_reply(body)

    fake_llm.reply_with(reply)
    first = run_funnel(funnel_store, "sums-funnel", cancel=cancel, compare=False)
    assert first.status == "cancelled"
    stage_runs = funnel_store.funnel_stage_runs(first.funnel_run_id)
    paid = funnel_store.verdicts(stage_runs[(1, "stage")])
    paid = set(paid.loc[paid["error"].isna() & ~paid["cached"].astype(bool), "prompt"])
    assert paid and paid <= {prompt for _, prompt in sent}  # some cheap verdicts landed before the kill
    sent.clear()
    done = resume_funnel_run(funnel_store, first.funnel_run_id, compare=False)
    assert done.status == "done" and sum(done.settled) + done.people == ITEMS
    resent = {prompt for model, prompt in sent if "cheap" in model}
    assert resent and not resent & paid  # no landed verdict was paid for again


def test_report_measures_on_held_out_labels_and_compares_with_the_strongest_alone(funnel_store, fake_llm):
    calibrate_funnel(funnel_store, "sums-funnel", alpha=ALPHA, delta=DELTA, seed=1)
    run = run_funnel(funnel_store, "sums-funnel")
    report = funnel_report(funnel_store, "sums-funnel")
    assert report["funnel_run_id"] == run.funnel_run_id
    stages = report["stages"]
    assert [s["label"] for s in stages] == ["offline:format_checks", f"llm:sum_judge@{CHEAP}",
                                            f"llm:sum_judge@{STRONG}", "people"]
    assert stages[0]["reached"] == ITEMS and sum(s["settled"] for s in stages) == ITEMS
    assert stages[2]["failed"] > 0
    heldout = set(funnel_store.funnel_version(funnel_store.funnel("sums-funnel")["id"])["heldout_uids"])
    for stage in stages[:3]:
        agreement = stage["heldout_agreement"]
        assert agreement["n"] <= len(heldout)
        if agreement["n"]:
            low, high = agreement["interval"]
            assert low <= agreement["value"] <= high
    guarantee = report["guarantee"]
    assert guarantee["target"] == pytest.approx(1 - ALPHA) and guarantee["held"] is True
    assert guarantee["agreement"]["value"] == 1.0  # every sure scripted verdict is right
    alone = report["strongest_alone"]
    assert alone["label"] == f"llm:sum_judge@{STRONG}" and alone["agreement"]["n"] > 0
    assert report["versions"][0]["items"] == ITEMS
    assert report["versions"][0]["people"] == stages[3]["settled"]
    json.dumps(report)  # the CLI prints it as it is
    with pytest.raises(JudgeError, match="not a run of funnel"):
        funnel_report(funnel_store, "sums-funnel", run.funnel_run_id + 100)


def test_cli_create_calibrate_run_report(funnel_store, fake_llm, capsys, tmp_path):
    db = str(funnel_store.path)
    stages = sum((["--stage", s] for s in STAGES), [])
    assert main(["--db", db, "funnel", "create", "--name", "cli-funnel", "--dataset", "sums", "--criterion",
                 "correct", *stages]) == 0
    assert main(["--db", db, "funnel", "calibrate", "--name", "cli-funnel", "--alpha", "0.2", "--delta", "0.2",
                 "--seed", "1"]) == 0
    assert "threshold" in capsys.readouterr().out
    assert main(["--db", db, "funnel", "run", "--name", "cli-funnel"]) == 0
    assert "to people" in capsys.readouterr().out
    assert main(["--db", db, "funnel", "report", "--name", "cli-funnel", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["guarantee"]["held"] is True
    assert main(["--db", db, "funnel", "report", "--name", "cli-funnel"]) == 0
    text = capsys.readouterr().out
    assert "the guarantee held" in text and "people: reached" in text and "need people" in text
    assert main(["--db", db, "funnel", "run"]) == 2  # neither a funnel nor a run to resume
    assert "--name NAME" in capsys.readouterr().err
    assert main(["--db", db, "funnel", "list"]) == 0
    assert "cli-funnel" in capsys.readouterr().out


def test_calibration_says_how_many_more_labels_it_needs(store, tmp_path, fake_llm):
    build_store(store, tmp_path, n=30)
    fake_llm.reply_with(scripted_reply)
    create_funnel(store, "small", dataset="sums", criterion="correct", stages=[f"llm:sum_judge@{STRONG}"])
    result = calibrate_funnel(store, "small", alpha=0.05, delta=0.05, seed=0)
    record = result.stages[0]
    assert record.threshold is None and record.labels_needed and record.labels_needed > 0
    assert f"about {record.labels_needed} more labels" in record.note


def test_bad_funnels_are_refused_and_leave_nothing(store, tmp_path, fake_llm):
    build_store(store, tmp_path, n=30)
    with pytest.raises(JudgeError, match="not one of"):
        create_funnel(store, "f", dataset="sums", criterion="correct", stages=["gpt"])
    with pytest.raises(JudgeError, match="is an LLM judge"):
        create_funnel(store, "f", dataset="sums", criterion="correct", stages=["offline:sum_judge"])
    with pytest.raises(JudgeError, match="at least one judge stage"):
        create_funnel(store, "f", dataset="sums", criterion="correct", stages=[])
    assert not store.funnel_exists("f")
    create_funnel(store, "f", dataset="sums", criterion="correct", stages=[f"llm:sum_judge@{STRONG}"])
    with pytest.raises(JudgeError, match="calibrate"):
        run_funnel(store, "f")


def test_a_stage_that_cannot_run_marks_the_pass_failed_and_says_why(store, tmp_path, fake_llm):
    build_store(store, tmp_path, n=12)
    create_funnel(store, "tiny", dataset="sums", criterion="correct", stages=["distilled"])
    with pytest.raises(JudgeError, match="needs at least 20"):
        calibrate_funnel(store, "tiny", alpha=0.2, delta=0.2)
    passes = store.funnel_runs(store.funnel("tiny")["id"], purpose="calibration")
    assert list(passes["status"]) == ["failed"]
    assert "needs at least 20" in store.funnel_run(int(passes["id"].iloc[0]))["error"]
    assert store.funnel_version(store.funnel("tiny")["id"])["calibration"] is None  # no calibrated version


def test_a_rejected_key_stops_the_funnel_run_and_fails_it_until_resumed(funnel_store, fake_llm):
    calibrate_funnel(funnel_store, "sums-funnel", alpha=ALPHA, delta=DELTA, seed=1)
    fake_llm.fail_next(10_000, status=401, message="Incorrect API key provided")
    with pytest.raises(JudgeError, match="Incorrect API key"):
        run_funnel(funnel_store, "sums-funnel", compare=False)
    runs = funnel_store.funnel_runs(funnel_store.funnel("sums-funnel")["id"], purpose="run")
    failed = funnel_store.funnel_run(int(runs["id"].iloc[0]))
    assert failed["status"] == "failed" and "Incorrect API key" in failed["error"]
    assert not funnel_store.funnel_steps(int(failed["id"]))["stage"].isin([1, 2]).any()  # nothing sent up
    assert failed["task_id"] is None  # no labeling task of items the judges never saw

    fake_llm.reset()
    fake_llm.reply_with(scripted_reply)  # the key is fixed
    done = resume_funnel_run(funnel_store, int(failed["id"]), compare=False)
    assert done.status == "done" and sum(done.settled) + done.people == ITEMS and sum(done.settled[1:]) > 0


def test_editing_a_judge_spec_later_does_not_change_a_calibrated_funnel(funnel_store, fake_llm):
    from judge.specs import load_spec, save_spec

    calibrate_funnel(funnel_store, "sums-funnel", alpha=ALPHA, delta=DELTA, seed=1)
    original = load_spec(funnel_store, "sum_judge")
    save_spec(funnel_store, {**original.to_dict(), "template": "Grade it.\n" + original.template})
    run = run_funnel(funnel_store, "sums-funnel", compare=False)
    stage_run = funnel_store.funnel_stage_runs(run.funnel_run_id)[(1, "stage")]
    assert funnel_store.run(stage_run)["params"]["spec"]["template"] == original.template


def test_an_llm_stage_can_go_through_the_batch_api(store, tmp_path, fake_llm):
    build_store(store, tmp_path, n=60)
    fake_llm.reply_with(scripted_reply)
    create_funnel(store, "batched", dataset="sums", criterion="correct",
                  stages=["offline:format_checks", f"llm:sum_judge@{STRONG}+batch"])
    result = calibrate_funnel(store, "batched", alpha=ALPHA, delta=DELTA, seed=1, poll_seconds=0.02)
    assert result.stage_labels[-1].endswith("+batch")
    run = run_funnel(store, "batched", compare=False, poll_seconds=0.02)
    assert run.status == "done" and sum(run.settled) + run.people == 60
    assert fake_llm.batches  # the stage's calls went in provider batches
    stage_run = store.funnel_stage_runs(run.funnel_run_id)[(1, "stage")]
    assert store.run(stage_run)["params"]["batch"] is True


def test_a_sigkilled_funnel_run_resumes_without_paying_again_for_what_landed(funnel_store, fake_llm):
    calibrate_funnel(funnel_store, "sums-funnel", alpha=ALPHA, delta=DELTA, seed=1)
    fake_llm.latency = 0.1
    env = {**os.environ, **fake_llm.env(), "PYTHONPATH": str(REPO)}
    sent_before = len(fake_llm.requests)
    process = subprocess.Popen([sys.executable, "-m", "judge", "--db", str(funnel_store.path), "funnel", "run",
                                "--name", "sums-funnel", "--no-compare", "--concurrency", "2"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    cheap = lambda: [r for r in list(fake_llm.requests)[sent_before:] if "cheap" in r.body["model"]]  # noqa: E731
    deadline = time.monotonic() + 60
    while len(cheap()) < 12 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(cheap()) >= 12, process.stderr.read1().decode() if process.poll() is not None else "no calls"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    before = [r.body["messages"][-1]["content"] for r in cheap()]
    (funnel_run_id,) = funnel_store.funnel_runs(funnel_store.funnel("sums-funnel")["id"])["id"]
    fake_llm.latency = 0.0
    done = resume_funnel_run(funnel_store, int(funnel_run_id), compare=False)
    assert done.status == "done" and sum(done.settled) + done.people == ITEMS
    after = [r.body["messages"][-1]["content"] for r in cheap()][len(before):]
    repeated = set(before) & set(after)
    assert after and len(set(before)) >= 10  # killed in the middle of the cheap stage
    assert len(repeated) <= 2  # at most the calls in flight when it was killed (concurrency 2) are asked again
