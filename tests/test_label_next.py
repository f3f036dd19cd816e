"""Which item to label next: strategies with reasons and known inclusion probabilities, labels that record
their design, and reports that weight them (design-correct figures, said on the report)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from judge.cli import main
from judge.errors import JudgeError
from judge.metrics import wilson_interval
from judge.label_next import (
    DEFENSIVE_MIX, STRATEGIES, Design, StrategyUnavailable, design_queue, design_weights, record_label, suggest,
)
from judge.reports import agreement_report
from judge.reports.weighted import effective_size, linearization_holds
from tests.report_data import judge_run, labeled_dataset

N = 60


def _dataset(store, tmp_path, n=N):
    """n unlabeled items; the judge fails every fifth one (a rare failure class)."""
    return labeled_dataset(store, tmp_path, {"ana": [None] * n})


def _judge_scores(n=N, offset=0):
    return [2 if (i + offset) % 5 == 0 else 4 + (i % 2) for i in range(n)]


def test_every_strategy_suggests_items_with_a_reason_and_an_inclusion_probability(store, tmp_path):
    ds = _dataset(store, tmp_path)
    judge_run(store, ds, _judge_scores())
    judge_run(store, ds, _judge_scores(offset=1), model="openai/gpt-other")
    for strategy in STRATEGIES:
        batch = suggest(store, "qa", n=10, strategy=strategy, seed=3)
        assert len(batch) == 10 and len({s.item_uid for s in batch}) == 10
        assert all(s.reason and 0 < s.inclusion_probability <= 1 for s in batch)
        assert all(json.loads(s.design)["strategy"] == strategy for s in batch)
        again = suggest(store, "qa", n=10, strategy=strategy, seed=3)
        assert [s.item_uid for s in again] == [s.item_uid for s in batch]
    queue = design_queue(store, Design.from_key(batch[0].design))
    assert len(queue) == N and queue["share"].sum() == pytest.approx(1.0)
    # the defensive mix: no item is left out of any design
    assert queue["share"].min() >= DEFENSIVE_MIX / N - 1e-12


def test_stratified_draws_the_rare_failures_and_random_has_equal_probabilities(store, tmp_path):
    ds = _dataset(store, tmp_path)
    judge_run(store, ds, _judge_scores())
    judge_fails = {f"q{i}" for i in range(N) if i % 5 == 0}
    stratified = suggest(store, "qa", n=20, strategy="stratified", seed=1)
    random_batch = suggest(store, "qa", n=20, strategy="random", seed=1)
    # the judge fails 12 of 60: their shares sum to 0.5 * 12/60 + 0.5 / 2 = 0.35, so 7 of 20 expected (random: 4)
    drawn = [sum(s.item_id in judge_fails for s in suggest(store, "qa", n=20, strategy="stratified", seed=seed))
             for seed in range(10)]
    assert 6 <= np.mean(drawn) <= 8
    assert "majority fails" in next(s.reason for s in stratified if s.item_id in judge_fails)
    assert {round(s.inclusion_probability, 9) for s in random_batch} == {round(20 / N, 9)}


def test_strategies_that_read_judges_say_which_run_is_missing(store, tmp_path):
    ds = _dataset(store, tmp_path)
    with pytest.raises(StrategyUnavailable, match="judge run"):
        suggest(store, "qa", strategy="uncertain")
    judge_run(store, ds, _judge_scores())
    with pytest.raises(StrategyUnavailable, match="two or more runs"):
        suggest(store, "qa", strategy="disagreement")
    with pytest.raises(JudgeError, match="Unknown strategy"):
        suggest(store, "qa", strategy="loudest")


def test_labeled_items_leave_the_queue_and_the_design_sample_grows(store, tmp_path):
    ds = _dataset(store, tmp_path)
    judge_run(store, ds, _judge_scores())
    first = suggest(store, "qa", n=5, strategy="uncertain")
    for s in first:
        record_label(store, s, "ana", {None: {"score": 3}})
    second = suggest(store, "qa", n=5, strategy="uncertain")
    assert not {s.item_uid for s in first} & {s.item_uid for s in second}
    # the sample size behind pi is every item labeled under the design, so far and in this batch
    assert second[0].inclusion_probability == pytest.approx(min(1.0, 10 * second[0].share))
    latest = store.latest_labels(ds["id"])
    assert latest["item_uid"].isin([s.item_uid for s in first]).all()


def test_a_report_on_a_weighted_sample_uses_the_hajek_estimate_and_says_so(store, tmp_path, capsys):
    ds = _dataset(store, tmp_path)
    scores = _judge_scores()
    run = judge_run(store, ds, scores)
    truth = {f"q{i}": (1 if i % 10 == 0 else 4) for i in range(N)}   # half the judge's failures are right
    truth.update({f"q{i}": 2 for i in range(N) if i % 7 == 3})       # and some of its passes are not
    batch = suggest(store, "qa", n=24, strategy="stratified", seed=2)
    for s in batch:
        record_label(store, s, "ana", {None: {"score": truth[s.item_id]}})
    report = agreement_report(store, run, n_boot=200)
    sample = report["labels"]["sample"]
    assert sample["weighted"] and sample["items_from_designs"] == 24 and "weighted sample" in sample["note"]

    # the TPR by hand: weighted share of human passes the judge passed, weights 1 / min(1, 24 * share)
    weights = np.array([1 / min(1.0, 24 * s.share) for s in batch])
    human_pass = np.array([truth[s.item_id] >= 4 for s in batch])
    judge_pass = np.array([scores[int(s.item_id[1:])] >= 4 for s in batch])
    expected_tpr = (weights * (human_pass & judge_pass)).sum() / (weights * human_pass).sum()
    assert report["pass_fail"]["tpr"]["value"] == pytest.approx(expected_tpr)
    # its interval rests on an effective size: R (1 - R) / linearized variance, at most the labeled passes
    # while the rarer outcome among them has fewer than RARER_OUTCOME_ITEMS items (tests/test_weighted_share.py)
    among = human_pass.astype(float)
    variance = np.sum(np.square(weights * among * (judge_pass - expected_tpr))) / (weights @ among) ** 2
    size = expected_tpr * (1 - expected_tpr) / variance
    if not linearization_holds(judge_pass, human_pass):
        size = min(size, among.sum())
    assert report["pass_fail"]["tpr"]["n"] == int(size)
    assert report["pass_fail"]["tpr"]["ci"] == pytest.approx(wilson_interval(expected_tpr * size, size))
    assert report["labels"]["sample"]["effective_items"] == pytest.approx(effective_size(weights), abs=0.05)
    assert report["pass_rate"]["corrected"]["method"] == "wilson, post-stratified by judge verdict"
    assert main(["--db", str(store.path), "report", "--run", run, "--boot", "50"]) == 0
    assert "Figures from a weighted sample: 24 labeled items" in capsys.readouterr().out


def test_labels_outside_a_design_weigh_one_and_plain_samples_stay_unweighted(store, tmp_path):
    ds = _dataset(store, tmp_path)
    run = judge_run(store, ds, _judge_scores())
    batch = suggest(store, "qa", n=10, strategy="random")
    for s in batch:
        record_label(store, s, "ana", {None: {"score": 4}})
    assert agreement_report(store, run, n_boot=50)["labels"]["sample"]["weighted"] is False
    uid = next(u for u in store.item_uids(ds["id"]).values() if u not in {s.item_uid for s in batch})
    store.add_grades(uid, "bo", {None: {"score": 5}})
    both = store.paired_item_labels(run, ds["id"], store.criterion("qa").id, 4)
    weights = design_weights(both)
    assert weights is not None and weights[both["item_uid"].tolist().index(uid)] == pytest.approx(1.0)


def test_cli_label_next_and_label_with_its_design(store, tmp_path, capsys):
    ds = _dataset(store, tmp_path)
    judge_run(store, ds, _judge_scores())
    base = ["--db", str(store.path)]
    assert main([*base, "label-next", "--dataset", "qa", "--n", "3", "--strategy", "uncertain"]) == 0
    printed = capsys.readouterr().out
    assert "3 items to label next (uncertain)" in printed and "judge unsure" in printed
    assert main([*base, "label-next", "--dataset", "qa", "--n", "3", "--strategy", "uncertain", "--json"]) == 0
    suggestions = json.loads(capsys.readouterr().out)
    first = suggestions[0]
    assert main([*base, "label", "--dataset", "qa", "--item", first["item_id"], "--annotator", "ana",
                 "--score", "2", "--design", first["design"]]) == 0
    with store.db.connect() as con:
        design, share = con.execute("SELECT sample_design, sample_share FROM labels").fetchone()
    assert design == first["design"] and share == pytest.approx(first["share"])
    assert main([*base, "label", "--dataset", "qa", "--item", "q1", "--annotator", "ana", "--score", "2",
                 "--design", "not json"]) == 2
    assert "--design must be" in capsys.readouterr().err


def test_label_page_orders_the_queue_by_a_strategy_and_records_the_design(store, tmp_path, monkeypatch):
    from streamlit import config
    from streamlit.testing.v1 import AppTest

    ds = _dataset(store, tmp_path)
    judge_run(store, ds, _judge_scores())
    expected = [s.item_uid for s in suggest(store, "qa", n=5, strategy="stratified", seed=4)]
    monkeypatch.setenv("JUDGE_DB", str(store.path))
    address = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    try:
        at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=60)
        for key, value in {"annotator": "bob", "dataset": "qa", "strategy": "stratified", "seed": "4",
                           "size": "5"}.items():
            at.query_params[key] = value
        at.run()
        at.switch_page("pages/label.py").run()
        assert not at.exception, at.exception
        assert at.session_state["label.queue"] == expected
        shown = "\n".join(str(c.value) for c in at.caption)
        assert "Suggested: stratified" in shown and "inclusion probability" in shown
        first = expected[0]
        at.radio(key=f"label.{first}.overall.score").set_value(2)
        next(b for b in at.button if b.label == "Save and next").click().run()
        assert not at.exception, at.exception
    finally:
        config.set_option("server.address", address)
    with store.db.connect() as con:
        uid, design = con.execute("SELECT item_uid, sample_design FROM labels").fetchone()
    assert uid == first and json.loads(design)["strategy"] == "stratified"


def test_an_annotator_link_asks_for_a_strategy_task_in_its_order_and_records_the_design(store, tmp_path, capsys):
    from judge import team

    ds = _dataset(store, tmp_path)
    judge_run(store, ds, _judge_scores())
    expected = [s.item_uid for s in suggest(store, "qa", n=6, strategy="uncertain", seed=5)]
    assert main(["--db", str(store.path), "task", "create", "--name", "unsure ones", "--dataset", "qa",
                 "--sample", "6", "--seed", "5", "--strategy", "uncertain"]) == 0
    task_id = int(capsys.readouterr().out.split()[1].rstrip(":"))
    assert store.task_items(task_id)["uid"].tolist() == expected
    link = team.create_link(store, task_id, annotator="ana")
    seen = []
    while (item := team.next_item(store, link.token)) is not None:
        seen.append(item["uid"])
        team.submit_label(store, link.token, item["uid"], score=3)
    assert seen == expected
    with store.db.connect() as con:
        rows = con.execute("SELECT count(*), count(DISTINCT sample_design), min(sample_share) FROM labels").fetchone()
    assert rows[0] == 6 and rows[1] == 1 and rows[2] > 0


def test_uncertain_reads_a_distilled_pass_fail_judges_probability_of_a_pass(store, tmp_path):
    """A distilled judge's class probabilities are its uncertainty: items it passes with a probability near
    0.5 come first, and the reason says how unsure it is (4 p (1 - p))."""
    import pandas as pd

    from judge.distill import distill_judge
    from judge.importing import import_file

    words = ["refund issued", "no idea", "refund issued today", "no idea at all"]
    rows = [{"id": f"t{i}", "input": f"ticket {i}", "output": f"{words[i % 4]} {i}",
             "resolved": ("pass" if "refund" in words[i % 4] else "fail") if i < 40 else ""} for i in range(60)]
    pd.DataFrame(rows).to_csv(tmp_path / "tickets.csv", index=False)
    import_file(store, tmp_path / "tickets.csv", dataset="tickets", criteria=["resolved"], annotator="ana")
    run = distill_judge(store, "tickets").run_id
    verdicts = store.verdicts(run).set_index("item_uid")
    assert verdicts["score"].isna().all() and verdicts["weighted_score"].between(0, 1).all()

    signals = store.item_signals(store.dataset("tickets")["id"], "resolved").set_index("item_uid")
    assert np.allclose(signals.loc[verdicts.index, "pass_share"], verdicts["weighted_score"])
    batch = suggest(store, "tickets", n=5, strategy="uncertain")
    unsure = {s.item_uid: 4 * p * (1 - p) for s, p in ((s, verdicts.loc[s.item_uid, "weighted_score"]) for s in batch)}
    assert all(s.reason.startswith(f"judge unsure: uncertainty {unsure[s.item_uid]:.2f}") for s in batch)
    assert min(unsure.values()) > 0
