"""The distilled classifier judge: honest out-of-fold verdicts (a shuffled-label leak check), a stored run that
reports like any judge, refusals on too few labels, and `judge distill`."""

from __future__ import annotations

import csv
import random

import numpy as np
import pytest

from judge.cli import main
from judge.distill import distill_judge
from judge.errors import JudgeError
from judge.importing import import_file
from judge.reports import agreement_report

WORDS = {1: "wrong broken useless", 2: "unclear partial vague", 3: "okay some detail", 4: "good clear helpful",
         5: "excellent precise complete"}
FILLER = "the answer says that our service team will look at your account".split()


def _write(store, tmp_path, n: int, *, shuffle: bool = False, labeled: int | None = None, name: str = "tickets"):
    """n items whose output wording follows its score; the first `labeled` carry that score as a label."""
    rng = random.Random(7)
    scores = [1 + i % 5 for i in range(n)]
    outputs = [" ".join(rng.sample(FILLER, 6) + [rng.choice(WORDS[s].split())] + rng.sample(FILLER, 3))
               for s in scores]
    labels = list(scores)
    if shuffle:
        rng.shuffle(labels)
    labeled = n if labeled is None else labeled
    path = tmp_path / f"{name}.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "input", "output", "score"])
        for i in range(n):
            writer.writerow([f"t{i}", f"ticket {i}", outputs[i], labels[i] if i < labeled else ""])
    import_file(store, path, dataset=name)
    return scores


def _kappa(store, run_id: str) -> float:
    return agreement_report(store, run_id, n_boot=50)["scores"]["quadratic_kappa"]["value"]


def test_distilled_judge_learns_the_labels_and_scores_unlabeled_items(store, tmp_path):
    scores = _write(store, tmp_path, 150, labeled=120)
    result = distill_judge(store, "tickets")
    assert (result.labeled, result.unlabeled, result.folds) == (120, 30, 5)
    assert result.spec_name == "distilled:tickets"

    run = store.run(result.run_id)
    assert (run["source"], run["status"], run["done"], run["total_items"]) == ("distilled", "done", 150, 150)
    assert run["version_tag"] == "all versions", "it scores every item, not one app version's"
    verdicts = store.verdicts(result.run_id)
    assert verdicts["score"].between(1, 5).all() and verdicts["weighted_score"].between(1, 5).all()
    assert (verdicts["passed"] == (verdicts["score"] >= 4)).all()
    assert verdicts["reasoning"].iloc[0].startswith("Out-of-fold prediction (fold ")
    assert "Pushed up by '" in " ".join(verdicts["reasoning"])
    assert verdicts["reasoning"].iloc[-1].startswith("Prediction of the model trained on all 120 labels")
    unlabeled = verdicts.iloc[120:]
    assert (unlabeled["score"].to_numpy() == np.asarray(scores[120:])).mean() > 0.8
    assert _kappa(store, result.run_id) > 0.7


def test_the_fit_runs_on_one_blas_thread_and_the_run_takes_a_chosen_tag(store, tmp_path, monkeypatch):
    from threadpoolctl import threadpool_info

    import judge.distill as distill

    _write(store, tmp_path, 60, labeled=40)
    seen = []
    fit_predict = distill._fit_predict
    monkeypatch.setattr(distill, "_fit_predict", lambda *args: seen.append(
        {pool["num_threads"] for pool in threadpool_info()}) or fit_predict(*args))
    run_id = distill_judge(store, "tickets", version_tag="v2").run_id
    assert seen and all(threads == {1} for threads in seen)
    assert store.run(run_id)["version_tag"] == "v2"


def test_out_of_fold_verdicts_do_not_leak_labels(store, tmp_path):
    """With labels shuffled there is nothing to learn: an honest judge agrees at chance, a leaky one would not."""
    _write(store, tmp_path, 200, shuffle=True)
    kappa = _kappa(store, distill_judge(store, "tickets", seed=3).run_id)
    assert abs(kappa) < 0.25

    # The same model scored on its own training labels memorizes them: the leak the folds prevent.
    from judge.distill import make_model

    items = store.items(store.dataset("tickets")["id"]).fillna("")
    labels = store.latest_labels(store.dataset("tickets")["id"]).set_index("item_uid")["score"]
    y = labels.reindex(items["uid"]).to_numpy(dtype=int)
    in_sample = make_model().fit(items, y).predict(items)
    assert (in_sample == y).mean() > 0.9


def test_too_few_labels_or_one_class_is_refused(store, tmp_path):
    _write(store, tmp_path, 30, labeled=12, name="few")
    with pytest.raises(JudgeError, match="has 12 human scores.*at least 20"):
        distill_judge(store, "few")
    path = tmp_path / "same.csv"
    path.write_text("id,output,score\n" + "".join(f"s{i},answer {i},4\n" for i in range(25)), encoding="utf-8")
    import_file(store, path, dataset="same")
    with pytest.raises(JudgeError, match="single class"):
        distill_judge(store, "same")


def test_distill_command(store, tmp_path, capsys):
    _write(store, tmp_path, 60)
    assert main(["--db", str(store.path), "distill", "--dataset", "tickets", "--name", "cheap", "--folds", "3"]) == 0
    captured = capsys.readouterr()
    run_id = captured.out.strip().splitlines()[-1]
    assert store.run(run_id)["spec_name"] == "cheap" and "out-of-fold (3 folds)" in captured.err
    assert main(["--db", str(store.path), "distill", "--dataset", "missing"]) == 2
