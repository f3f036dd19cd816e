"""Bradley-Terry rankings: equal to a scipy.optimize fit to 1e-6, intervals that cover over 200 seeds, rankings
from judge verdicts and human preferences, Kendall tau between them, and `judge rank`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.optimize

from judge.cli import main
from judge.errors import JudgeError
from judge.pairs import import_pairs
from judge.pairwise import PairwiseSpec, run_pairwise
from judge.ranking import RIDGE, bradley_terry, fit_ranking, rank

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from ranking_coverage import coverage  # noqa: E402


def scipy_fit(wins: np.ndarray, ridge: float) -> np.ndarray:
    """The reference: minimise the negative penalised log-likelihood with BFGS, then centre."""
    def loss(theta):
        diff = theta[:, None] - theta[None, :]
        return -(wins * -np.logaddexp(0, -diff)).sum() + ridge / 2 * (theta ** 2).sum()

    def grad(theta):
        p = 1 / (1 + np.exp(-(theta[:, None] - theta[None, :])))
        n = wins + wins.T
        return -((wins - n * p).sum(axis=1)) + ridge * theta

    result = scipy.optimize.minimize(loss, np.zeros(len(wins)), jac=grad, method="BFGS",
                                     options={"gtol": 1e-12, "maxiter": 10_000})
    return result.x - result.x.mean()


@pytest.mark.parametrize("ridge", [0.0, RIDGE])
def test_point_estimates_equal_a_scipy_optimize_fit(ridge):
    rng = np.random.default_rng(7)
    wins = rng.integers(1, 30, size=(5, 5)).astype(float)
    np.fill_diagonal(wins, 0)
    wins[0, 1] += 0.5  # a tie counted half
    ours = bradley_terry(wins, ridge=ridge)
    assert np.allclose(ours, scipy_fit(wins, ridge), atol=1e-6, rtol=0)
    assert abs(ours.sum()) < 1e-12


def test_two_systems_match_the_closed_form():
    # 30 wins to 10: sigmoid(t1 - t2) = 0.75, so t1 - t2 = ln 3 and the centred strengths are +-ln(3) / 2.
    theta = bradley_terry(np.array([[0.0, 30.0], [10.0, 0.0]]), ridge=0.0)
    assert theta == pytest.approx([np.log(3) / 2, -np.log(3) / 2], abs=1e-12)


def test_a_system_that_won_everything_still_gets_a_finite_strength():
    theta = bradley_terry(np.array([[0, 10, 10], [0, 0, 5], [0, 5, 0]], dtype=float))
    assert np.isfinite(theta).all() and theta[0] > theta[1]


def test_intervals_cover_the_true_strengths_over_200_seeds():
    share, total = coverage(seeds=200, systems=6, per_pair=40, n_boot=300)
    assert total == 1200
    assert 0.93 <= share <= 0.97


def test_win_rates_and_p_beat():
    matches = pd.DataFrame({"system_a": ["x"] * 4 + ["y"] * 2, "system_b": ["y"] * 4 + ["x"] * 2,
                            "choice": ["a", "a", "b", "tie", "a", "b"]})
    result = fit_ranking(matches, n_boot=200)
    # x vs y: x won 2 (as A) + 1 (y lost as A) + half a tie = 3.5 of 6.
    assert result["win_rate_matrix"]["x"]["y"] == pytest.approx(3.5 / 6)
    assert result["match_counts"]["x"]["y"] == 6
    assert result["p_win"]["x"]["y"] == pytest.approx(3.5 / 6, abs=1e-3)  # two systems: the MLE reproduces it
    assert result["p_better"]["x"]["y"] > 0.5 > result["p_better"]["y"]["x"]
    assert [r["system"] for r in result["ranking"]] == ["x", "y"]


def arena_file(path: Path, strengths: dict[str, float], n: int, seed: int = 0) -> Path:
    """Pairs between systems with a human preference drawn from the strengths; the better output says GOOD."""
    rng = np.random.default_rng(seed)
    names = list(strengths)
    rows = []
    for k in range(n):
        a, b = rng.choice(names, size=2, replace=False)
        a_wins = rng.random() < 1 / (1 + np.exp(-(strengths[a] - strengths[b])))
        rows.append({"id": f"m{k}", "input": f"task {k}", "output_a": f"{'GOOD' if a_wins else 'meh'} {a} {k}",
                     "output_b": f"{'meh' if a_wins else 'GOOD'} {b} {k}", "system_a": a, "system_b": b,
                     "preference": "a" if a_wins else "b"})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_rank_judge_and_human_with_kendall_tau(store, tmp_path, fake_llm):
    import_pairs(store, arena_file(tmp_path / "arena.csv", {"v1": -1.0, "v2": 0.0, "v3": 0.7, "v4": 1.5}, 240),
                 dataset="arena")
    fake_llm.reply_with(lambda body: {"reasoning": "r", "score": 1 if body["messages"][-1]["content"].split(
        "[Response A]\n")[1].startswith("GOOD") else 5})
    run = run_pairwise(store, dataset="arena", spec=PairwiseSpec(name="p", model="openai/gpt-test"))
    people = rank(store, dataset="arena", human=True, n_boot=200)
    assert [r["system"] for r in people["ranking"]] == ["v4", "v3", "v2", "v1"]
    judged = rank(store, runs=[run.run_id], compare_human=True, n_boot=200)
    assert [r["system"] for r in judged["ranking"]] == ["v4", "v3", "v2", "v1"]
    tau = judged["kendall_tau"]
    assert tau["value"] == 1.0 and tau["ci"][1] == 1.0 and tau["n"] == 240
    low, high = judged["ranking"][0]["rating_ci"]
    assert low < judged["ranking"][0]["rating"] < high


def test_pairs_without_system_names_cannot_be_ranked(store, tmp_path):
    pd.DataFrame({"input": ["q"], "output_a": ["x"], "output_b": ["y"], "label": [1]}).to_csv(
        tmp_path / "p.csv", index=False)
    import_pairs(store, tmp_path / "p.csv", dataset="d")
    with pytest.raises(JudgeError, match="no system_a / system_b names"):
        rank(store, dataset="d", human=True)


def test_cli_rank_json(tmp_path, capsys):
    db = str(tmp_path / "cli.duckdb")
    arena_file(tmp_path / "arena.csv", {"a": 0.0, "b": 1.0, "c": 2.0}, 150)
    assert main(["--db", db, "import-pairs", str(tmp_path / "arena.csv"), "--dataset", "arena"]) == 0
    capsys.readouterr()
    assert main(["--db", db, "rank", "--dataset", "arena", "--human", "--json", "--boot", "100"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [r["system"] for r in result["ranking"]] == ["c", "b", "a"]
    assert main(["--db", db, "rank", "--dataset", "arena", "--human", "--boot", "100"]) == 0
    assert "Bradley-Terry ranking from human preferences" in capsys.readouterr().out
