"""Improving a judge: the held-out split, few-shot examples from corrections, candidates scored on held-out
labels against the fake LLM server, promotion, and the `judge improve` command."""

from __future__ import annotations

import json
import re

import pytest

from fake_llm import prompt_text
from judge.cli import main
from judge.errors import JudgeError
from judge.improve import (
    add_fewshot, automatic_candidates, corrections, guidelines, heldout_split, promote, score_candidates,
    tuning_side, with_guidelines,
)
from judge.reports import agreement_report
from judge.specs import JudgeSpec, save_spec
from report_data import judge_run, labeled_dataset, spec

N = 60
HUMAN = [1 + (i * 7 + i // 5) % 5 for i in range(N)]


def _dataset(store, tmp_path, n: int = N):
    critiques = [f"answer {i} misses the refund policy" if i % 2 else "" for i in range(n)]
    return labeled_dataset(store, tmp_path, {"alice": HUMAN[:n]}, metadata={"critique:alice": critiques})


def _item_number(body: dict) -> int:
    """Which item a request judges: the answer line of the prompt (few-shot examples use 'Response:')."""
    return int(re.search(r"^A: answer (\d+)$", prompt_text(body), re.M).group(1))


def test_the_split_is_stable_disjoint_and_near_the_asked_share(store, tmp_path):
    shares = [tuning_side(f"uid-{i}") for i in range(2000)]
    assert 0.27 < sum(shares) / len(shares) < 0.33
    assert [tuning_side(f"uid-{i}", seed=1) for i in range(50)] != shares[:50]  # the seed matters

    ds = _dataset(store, tmp_path, 30)
    first = heldout_split(store, "qa")
    assert not set(first.tuning) & set(first.heldout)
    assert len(first.tuning) + len(first.heldout) == 30
    assert first == heldout_split(store, "qa")

    # More labels arrive (a new annotator on more items): nobody changes side.
    labeled_dataset(store, tmp_path, {"alice": HUMAN[:30], "bob": HUMAN[:30]}, name="qa")
    again = heldout_split(store, "qa")
    assert set(first.tuning) <= set(again.tuning) and set(first.heldout) <= set(again.heldout)

    # An item marked few-shot is never held out.
    marked = first.heldout[0]
    store.mark_fewshot("helpful", marked)
    assert marked in heldout_split(store, "qa", spec_name="helpful").tuning
    assert ds["row_count"] == 30


def test_corrections_come_from_tuning_items_and_few_shot_items_leave_the_agreement(store, tmp_path):
    ds = _dataset(store, tmp_path)
    judged = [3] * N
    run_id = judge_run(store, ds, judged)
    split = heldout_split(store, "qa")
    rows = corrections(store, run_id)

    wrong = {uid for uid, h in zip(store.items(ds["id"])["uid"], HUMAN) if h != 3}
    assert set(rows["item_uid"]) == wrong & set(split.tuning)
    assert list(rows["distance"]) == sorted(rows["distance"], reverse=True)
    first = rows.iloc[0]
    assert first["distance"] == 2 and first["reasoning"].startswith("because")
    assert set(rows["direction"]) <= {"too lenient", "too strict"}
    lenient = rows[rows["human_score"] < 3]
    assert (lenient["direction"] == "too lenient").all()

    chosen = rows[rows["critique"].notna()].head(2)
    current = JudgeSpec.from_dict(spec())
    improved, version = add_fewshot(store, current, chosen)
    assert version == 2 and store.spec_body("helpful")["examples"] == improved.examples
    assert [e["item_uid"] for e in improved.examples] == list(chosen["item_uid"])
    assert improved.examples[0]["reasoning"] == chosen.iloc[0]["critique"]
    assert improved.examples[0]["score"] == chosen.iloc[0]["human_score"]
    assert store.fewshot_items("helpful") == list(chosen["item_uid"])

    # The next run of the improved judge is measured without the items it was shown.
    report = agreement_report(store, judge_run(store, ds, judged, spec_body=improved.to_dict()), n_boot=50)
    assert report["labels"]["excluded_fewshot"] == 2 and report["labels"]["items"] == N - 2
    assert not set(chosen["item_uid"]) & set(corrections(store, run_id)["item_uid"])


def test_automatic_candidates_add_examples_or_guidelines_from_critiques(store, tmp_path):
    ds = _dataset(store, tmp_path)
    run_id = judge_run(store, ds, [3] * N)
    current = JudgeSpec.from_dict(spec())
    candidates = dict(automatic_candidates(store, current, run_id, fewshot=2))
    few, rules = candidates["+ 2 few-shot"], next(v for k, v in candidates.items() if "guidelines" in k)
    assert len(few.examples) == 2 and all(e["reasoning"].endswith("misses the refund policy") for e in few.examples)
    assert set(e["item_uid"] for e in few.examples) <= set(heldout_split(store, "qa").tuning)
    assert "Guidelines from reviewers' corrections:\n- Score " in rules.criteria
    assert rules.criteria.startswith(current.criteria) and not rules.examples

    bullets = guidelines(corrections(store, run_id))
    assert with_guidelines(with_guidelines(current, bullets), bullets[:1]).criteria.count("- Score") == 1


def _script(fake_llm, good_marker: str) -> None:
    """Candidates whose criteria contain the marker reply the human score; others mostly say 3."""

    def reply(body: dict) -> dict:
        i = _item_number(body)
        good = good_marker in prompt_text(body)
        score = HUMAN[i] if good or i % 4 == 0 else 3
        return {"reasoning": f"item {i}", "score": score}

    fake_llm.reply_with(reply)


def test_candidates_are_scored_on_held_out_items_only_and_ranked(store, tmp_path, fake_llm):
    _dataset(store, tmp_path)
    _script(fake_llm, "Check the refund policy")
    current = JudgeSpec.from_dict(spec())
    better = JudgeSpec.from_dict(spec(criteria="Is the answer helpful? Check the refund policy."))
    board = score_candidates(store, "qa", [current, better], labels=["current", "refund"], n_boot=200)
    heldout = heldout_split(store, "qa").heldout

    assert fake_llm.count == 2 * len(heldout) == board.heldout_items * 2
    assert [row["label"] for row in board.rows] == ["refund", "current"]
    best = board.best
    assert best["quadratic_kappa"]["value"] == pytest.approx(1.0) and best["n"] == len(heldout)
    assert best["exact_agreement"]["value"] == 1.0
    assert board.rows[1]["quadratic_kappa"]["value"] < 0.6
    assert best["vs_current"]["ci"][0] > 0 and best["vs_current"]["share_better"] > 0.95
    assert board.better_than_current and "better than the current spec" in board.verdict()
    for row in board.rows:
        run = store.run(row["run_id"])
        assert run["total_items"] == len(heldout) and run["done"] == len(heldout)
    json.dumps(board.to_dict())

    # Scoring again reuses every verdict from the cache.
    fake_llm.reset()
    _script(fake_llm, "Check the refund policy")
    again = score_candidates(store, "qa", [current, better], n_boot=200)
    assert fake_llm.count == 0 and again.rows[0]["label"] == "candidate 1"

    save_spec(store, current)
    assert promote(store, board.best_spec) == 2
    assert "refund policy" in store.spec_body("helpful")["criteria"]


def test_a_tie_is_not_called_better(store, tmp_path, fake_llm):
    _dataset(store, tmp_path)
    fake_llm.reply_with(lambda body: {"reasoning": "same", "score": HUMAN[_item_number(body)]})
    current = JudgeSpec.from_dict(spec())
    board = score_candidates(store, "qa", [current, JudgeSpec.from_dict(spec(criteria="Reworded."))], n_boot=100)
    assert board.best["current"] and not board.better_than_current
    assert "keep it" in board.verdict()


def test_scoring_needs_held_out_labels(store, tmp_path, fake_llm):
    labeled_dataset(store, tmp_path, {"alice": [None] * 5})
    with pytest.raises(JudgeError, match="held-out labeled item"):
        score_candidates(store, "qa", [JudgeSpec.from_dict(spec())])


def test_improve_command_prints_the_leaderboard_and_promotes_the_winner(store, tmp_path, fake_llm, capsys):
    _dataset(store, tmp_path)
    save_spec(store, spec())
    _script(fake_llm, "Check the refund policy")
    candidate = tmp_path / "refund.json"
    candidate.write_text(json.dumps(spec(criteria="Is the answer helpful? Check the refund policy.")))
    db = str(store.path)

    assert main(["--db", db, "improve", "--dataset", "qa", "--judge", "helpful", "--candidates", str(candidate),
                 "--fewshot", "2", "--json"]) == 0
    board = json.loads(capsys.readouterr().out)
    assert board["rows"][0]["label"] == "refund" and board["better_than_current"]
    labels = [row["label"] for row in board["rows"]]
    assert "current" in labels and "+ 2 few-shot" in labels and any("guidelines" in x for x in labels)

    assert main(["--db", db, "improve", "--dataset", "qa", "--judge", "helpful", "--candidates", str(candidate),
                 "--fewshot", "0", "--promote"]) == 0
    out = capsys.readouterr().out
    assert "refund" in out and "promoted" in out and "helpful v2" in out
    assert "refund policy" in store.spec_body("helpful")["criteria"]

    assert main(["--db", db, "improve", "--dataset", "nope", "--judge", "helpful"]) == 2
    assert "error:" in capsys.readouterr().err
