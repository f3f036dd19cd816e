"""Pairwise judges through the runner against the fake server: both orders, position bias measured and removed,
replies kept, resume and cache; an imported pairwise run on LLMBar against a hand computation."""

from __future__ import annotations

import hashlib
import random
import re

import pandas as pd
import pytest

from fake_llm import prompt_text
from judge.cli import main
from judge.errors import InvalidSpec, JudgeError
from judge.pairs import import_pairs
from judge.pairwise import (
    PairwiseSpec, combine, execute_pairwise_run, import_pairwise_run, load_pairwise_spec, pair_verdicts,
    run_pairwise, start_pairwise_run,
)
from judge.reports.pairwise import pairwise_report

SHOWN = re.compile(r"\[Response A\]\n(.*?)\n\n\[Response B\]\n(.*?)\n\nJudge only", re.DOTALL)


def biased_judge(p_first: float):
    """A judge that picks the slot shown first with probability p_first, else the output marked GOOD."""
    def reply(body):
        first, second = SHOWN.search(prompt_text(body)).groups()
        coin = random.Random(hashlib.sha256(prompt_text(body).encode()).digest()).random()
        if coin < p_first:
            return {"reasoning": "The first one reads better.", "score": 1}
        return {"reasoning": "Only one follows the instruction.", "score": 1 if "GOOD" in first else 5}
    return reply


def pair_file(path, n, *, seed=0):
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        good_is_a = rng.random() < 0.5
        good, bad = f"GOOD answer {i}", f"weak answer {i}"
        rows.append({"id": f"p{i}", "input": f"question {i}", "output_a": good if good_is_a else bad,
                     "output_b": bad if good_is_a else good, "preference": "a" if good_is_a else "b",
                     "topic": "even" if i % 2 == 0 else "odd"})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def spec(**changes) -> PairwiseSpec:
    return PairwiseSpec(name="pref", model="openai/gpt-test", **changes).validate()


def test_position_bias_is_measured_and_the_both_orders_verdict_removes_it(store, tmp_path, fake_llm):
    import_pairs(store, pair_file(tmp_path / "p.csv", 400), dataset="d")
    p = 0.3
    fake_llm.reply_with(biased_judge(p))
    summary = run_pairwise(store, dataset="d", spec=spec())
    assert (summary.status, summary.replies, summary.failed) == ("done", 800, 0)
    report = pairwise_report(store, summary.run_id, n_boot=500)
    position = report["position"]
    # First slot wins when the coin says so (p) or, otherwise, when the good output sits there (1/2):
    # (1 + p) / 2 = 0.65. The choice survives the swap unless a biased reply contradicts the truth: 1 - p = 0.7.
    low, high = position["first_position_win_rate"]["ci"]
    assert low <= (1 + p) / 2 <= high
    low, high = position["position_consistency"]["ci"]
    assert low <= 1 - p <= high
    verdicts = pair_verdicts(store, summary.run_id)
    humans = store.preferences("d").set_index("pair_uid")["choice"]
    decisive = verdicts[verdicts["verdict"] != "tie"]
    # Both orders: a decisive verdict is never the biased one, and it is as often A as the truth is.
    assert (decisive["verdict"] == decisive["pair_uid"].map(humans)).all()
    assert report["agreement"]["decisive_accuracy"]["value"] == 1.0
    assert report["agreement"]["accuracy_ab_only"]["value"] < 0.9
    truth_a = (humans == "a").mean()
    assert abs((decisive["verdict"] == "a").mean() - truth_a) < 0.08
    assert report["agreement"]["accuracy"]["value"] == pytest.approx(len(decisive) / 400)


def test_both_replies_and_reasonings_are_kept_with_prompts_in_both_orders(store, tmp_path, fake_llm):
    import_pairs(store, pair_file(tmp_path / "p.csv", 3), dataset="d")
    fake_llm.reply_with(biased_judge(1.0))  # always the first slot: every pair inconsistent
    summary = run_pairwise(store, dataset="d", spec=spec(on_disagreement="inconsistent"))
    replies = store.pairwise_verdicts(summary.run_id)
    assert len(replies) == 6 and set(replies["shown_order"]) == {"ab", "ba"}
    first = replies.iloc[0]
    pair = store.pairs("d").set_index("uid").loc[first["pair_uid"]]
    shown_first = pair["output_a"] if first["shown_order"] == "ab" else pair["output_b"]
    assert SHOWN.search(first["prompt"]).group(1) == shown_first
    assert set(replies["reasoning"]) == {"The first one reads better."} and replies["raw_reply"].notna().all()
    assert set(pair_verdicts(store, summary.run_id)["verdict"]) == {"inconsistent"}
    report = pairwise_report(store, summary.run_id, n_boot=100)
    assert report["position"]["inconsistent_rate"]["value"] == 1.0
    assert report["agreement"]["accuracy"]["n"] == 0  # inconsistent pairs are left out of agreement


def test_a_resumed_run_only_asks_what_is_missing_and_a_rerun_comes_from_the_cache(store, tmp_path, fake_llm):
    import_pairs(store, pair_file(tmp_path / "p.csv", 100), dataset="d")
    run_id = start_pairwise_run(store, dataset="d", spec=spec())

    def stop_after_first_chunk(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        execute_pairwise_run(store, run_id, progress=stop_after_first_chunk)
    assert store.pairwise_run(run_id)["status"] == "cancelled" and fake_llm.count == 64
    summary = execute_pairwise_run(store, run_id)
    assert (summary.status, summary.replies, fake_llm.count) == ("done", 200, 200)
    again = run_pairwise(store, dataset="d", spec=spec())
    assert (again.replies, again.cached, fake_llm.count) == (200, 200, 200)


def test_failed_and_unreadable_replies_keep_their_reason_and_no_choice(store, tmp_path, fake_llm):
    import_pairs(store, pair_file(tmp_path / "p.csv", 2), dataset="d")
    fake_llm.fail_next(1, status=500)  # retried
    fake_llm.reply_with(lambda body: "I cannot decide." if "question 1" in prompt_text(body) else None)
    summary = run_pairwise(store, dataset="d", spec=spec())
    replies = store.pairwise_verdicts(summary.run_id).set_index(["pair_id", "shown_order"])
    assert replies.loc[("p1", "ab"), "error"].startswith("unreadable reply")
    assert pd.isna(replies.loc[("p1", "ab"), "choice"])
    verdicts = pair_verdicts(store, summary.run_id).set_index("pair_id")
    assert pd.isna(verdicts.loc["p1", "verdict"]) and verdicts.loc["p0", "verdict"] in ("a", "b", "tie")


def test_one_order_only_and_spec_validation():
    assert combine({"ab": "a", "ba": "a"}) == "a" and combine({"ab": "a", "ba": "b"}) == "tie"
    assert combine({"ab": "a", "ba": "b"}, "inconsistent") == "inconsistent" and combine({"ab": None}) is None
    with pytest.raises(InvalidSpec, match=r"must include \{output_a\} and \{output_b\}"):
        PairwiseSpec(name="x", template="{output_a} only").validate()
    with pytest.raises(InvalidSpec, match="orders"):
        PairwiseSpec(name="x", orders=["ba", "ba"]).validate()
    with pytest.raises(InvalidSpec, match=r"unknown template variable\(s\) \{tone\}"):
        PairwiseSpec(name="x", template="{output_a} {output_b} {tone}").validate(columns=["topic"])
    assert load_pairwise_spec(model="openai/m").orders == ["ab", "ba"]


def test_llmbar_imported_external_run_report_equals_a_hand_computation(store, shared_data, tmp_path):
    import_pairs(store, shared_data / "llmbar" / "LLMBar" / "Natural" / "dataset.json", dataset="natural")
    pairs = store.pairs("natural")
    human = store.preferences("natural").set_index("pair_id")["choice"]
    other = {"a": "b", "b": "a"}
    rows = []
    for i, pair_id in enumerate(pairs["pair_id"]):
        truth = human[pair_id]
        # First 70 pairs right in order ab, the rest wrong; the first 60 and the last 10 right in order ba.
        rows.append({"pair_id": pair_id, "choice_ab": truth if i < 70 else other[truth],
                     "choice_ba": truth if i < 60 or i >= 90 else other[truth]})
    pd.DataFrame(rows).to_csv(tmp_path / "external.csv", index=False)
    run_id = import_pairwise_run(store, tmp_path / "external.csv", dataset="natural")
    report = pairwise_report(store, run_id, n_boot=200)
    # Hand: both orders right on pairs 0-59 (60), both wrong on 70-89 (20) -> a wrong verdict; the other 20
    # disagree -> tie. Accuracy = 60 / 100. Order ab alone: 70 / 100; ba alone: 70 / 100.
    # Consistency: 80 of 100 agree. Decisive replies 200; first slot wins on ab when the choice is a and on ba
    # when it is b, counted directly below.
    agreement, position = report["agreement"], report["position"]
    assert agreement["accuracy"]["value"] == pytest.approx(0.60)
    assert agreement["accuracy_ab_only"]["value"] == pytest.approx(0.70)
    assert agreement["accuracy_ba_only"]["value"] == pytest.approx(0.70)
    assert position["position_consistency"]["value"] == pytest.approx(0.80)
    assert position["tie_rate"]["value"] == pytest.approx(0.20)
    frame = pd.DataFrame(rows)
    first_wins = (frame["choice_ab"] == "a").sum() + (frame["choice_ba"] == "b").sum()
    assert position["first_position_win_rate"]["value"] == pytest.approx(first_wins / 200)
    # kappa over a/b/tie from the 3x3 table, by hand: p_o = 0.6; p_e = sum(row share * column share).
    verdicts = pair_verdicts(store, run_id).set_index("pair_id")["verdict"]
    h = human.reindex(verdicts.index)
    p_e = sum((h == c).mean() * (verdicts == c).mean() for c in ("a", "b", "tie"))
    assert agreement["kappa"]["value"] == pytest.approx((0.6 - p_e) / (1 - p_e))
    low, high = agreement["accuracy"]["ci"]
    assert low < 0.6 < high


def test_cli_import_run_and_report_json(tmp_path, fake_llm, capsys):
    import json

    db = str(tmp_path / "cli.duckdb")
    pair_file(tmp_path / "p.csv", 20)
    assert main(["--db", db, "import-pairs", str(tmp_path / "p.csv"), "--dataset", "d"]) == 0
    fake_llm.reply_with(biased_judge(0.0))
    assert main(["--db", db, "pairwise-run", "--dataset", "d", "--model", "openai/gpt-test"]) == 0
    out = capsys.readouterr().out
    run_id = re.search(r"run (\S+)", out).group(1)
    assert "about 40 calls (0 reused from earlier runs)" in out and "40 replies, 0 failed" in out
    assert main(["--db", db, "report", "--run", run_id, "--json", "--boot", "100", "--slice", "topic"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["agreement"]["accuracy"]["value"] == 1.0
    assert report["position"]["position_consistency"]["value"] == 1.0
    assert {s["value"] for s in report["slices"]} == {"even", "odd"}
    assert main(["--db", db, "report", "--run", run_id, "--boot", "100"]) == 0
    assert "first_position_win_rate" in capsys.readouterr().out
    assert main(["--db", db, "pairwise-runs"]) == 0
    assert f"{run_id}\td\tpairwise_preference\topenai/gpt-test\tdone\t40 replies" in capsys.readouterr().out


def test_a_pair_without_a_template_variable_gets_an_error_reply_and_the_run_goes_on(store, tmp_path, fake_llm):
    folder = tmp_path / "two"
    folder.mkdir()
    pd.DataFrame([{"input": "q1", "output_a": "x", "output_b": "y", "tone": "formal"}]).to_csv(
        folder / "with.csv", index=False)
    pd.DataFrame([{"input": "q2", "output_a": "x", "output_b": "y"}]).to_csv(folder / "without.csv", index=False)
    import_pairs(store, folder, dataset="d")
    template = "Tone: {tone}\n[Response A]\n{output_a}\n\n[Response B]\n{output_b}\n\nJudge only.\n{rubric}"
    summary = run_pairwise(store, dataset="d", spec=spec(template=template))
    replies = store.pairwise_verdicts(summary.run_id)
    failed = replies[replies["error"].notna()]
    assert summary.status == "done" and len(replies) == 4 and len(failed) == 2
    assert set(failed["pair_id"]) == {"without/1"} and failed["error"].str.contains("cannot render").all()
    assert fake_llm.count == 2


def test_the_human_ceiling_is_agreement_between_people(store, tmp_path):
    from judge.metrics import krippendorff_alpha
    from judge.pairs import record_preference

    import_pairs(store, pair_file(tmp_path / "p.csv", 6), dataset="d")
    uids = list(store.pairs("d")["uid"])
    choices = {"li": ["a", "b", "a", "tie", "b", "a"], "omar": ["a", "b", "b", "tie", "b", None]}
    for who, picked in choices.items():
        for uid, choice in zip(uids, picked):
            if choice:
                record_preference(store, uid, who, choice)
    run_id = import_pairwise_run(store, _choices_file(tmp_path, store), dataset="d")
    ceiling = pairwise_report(store, run_id, n_boot=200)["human_ceiling"]
    # The file's preferences are 'imported's: every pair has imported and li, five also omar. By hand: the
    # share of same choices over every two people on a pair; alpha from the krippendorff package.
    prefs = store.preferences("d")
    same = total = 0
    for _, group in prefs.groupby("pair_uid"):
        picks = list(group["choice"])
        for i in range(len(picks)):
            for j in range(i + 1, len(picks)):
                total += 1
                same += picks[i] == picks[j]
    assert ceiling["pairwise_agreement"]["value"] == pytest.approx(same / total)
    table = prefs.pivot_table(index="annotator", columns="pair_uid", values="choice", aggfunc="first")
    coded = table.apply(lambda col: col.map({"a": 0, "b": 1, "tie": 2})).to_numpy(dtype=float)
    assert ceiling["krippendorff_alpha"]["value"] == pytest.approx(
        krippendorff_alpha(coded, level_of_measurement="nominal", value_domain=(0, 1, 2)))


def _choices_file(tmp_path, store):
    pairs = store.pairs("d")
    pd.DataFrame({"pair_id": pairs["pair_id"], "choice_ab": "a", "choice_ba": "a"}).to_csv(
        tmp_path / "choices.csv", index=False)
    return tmp_path / "choices.csv"


def test_a_rejected_key_stops_a_pairwise_run_at_once_and_fails_it(store, tmp_path, fake_llm):
    import_pairs(store, pair_file(tmp_path / "p.csv", 100), dataset="d")
    run_id = start_pairwise_run(store, dataset="d", spec=spec())
    fake_llm.fail_next(10_000, status=401, message="Incorrect API key provided")
    with pytest.raises(JudgeError, match="Incorrect API key"):
        execute_pairwise_run(store, run_id)
    run = store.pairwise_run(run_id)
    assert run["status"] == "failed" and "Incorrect API key" in run["error"]
    assert fake_llm.count < 64  # stopped within the first chunk, not after asking every pair
    assert store.pairwise_verdicts(run_id)["choice"].isna().all()  # no made-up choice

    fake_llm.reset()  # the key is fixed: resuming asks every pair again and finishes
    assert execute_pairwise_run(store, run_id).status == "done"
