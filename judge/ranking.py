"""Rank systems (app versions, models) from pairwise verdicts or preferences with a Bradley-Terry model.

P(i beats j) = sigmoid(theta_i - theta_j). The strengths theta are the maximum-likelihood fit, with a tie
counted as half a win for each side (as Chatbot Arena's leaderboard does) and a vanishing ridge (RIDGE) so a
system that won every match still gets a finite strength; the fit is Newton's method on that concave
log-likelihood, batched over bootstrap draws. theta is centred (mean 0, which the ridge enforces) and shown
on the Elo scale too: rating = 1000 + 400 * theta / ln 10.

Intervals are percentile bootstraps over matches: the matches are cell counts (system A, system B, outcome),
so a resample is one multinomial draw of that table (`judge.metrics.bootstrap_tables`). Comparing a judge's
ranking with the people's resamples the pairs both judged, jointly, and reports Kendall's tau between the
two strength vectors with its interval. bench/ranking_coverage.py measures that the intervals cover.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.stats

from judge import metrics as M
from judge.errors import JudgeError

RIDGE = 1e-3
ELO_SCALE = 400 / np.log(10)
OUTCOMES = ("a", "b", "tie")


def wins_from_cells(cells: np.ndarray) -> np.ndarray:
    """(..., K, K) win counts, ties half, from (..., K, K, 3) counts of (system A, system B, outcome a/b/tie)."""
    c = np.asarray(cells, dtype=float)
    swap = np.swapaxes(c, -3, -2)
    return c[..., 0] + swap[..., 1] + 0.5 * (c[..., 2] + swap[..., 2])


def bradley_terry(wins, *, ridge: float = RIDGE, tol: float = 1e-12, max_iter: int = 100) -> np.ndarray:
    """Centred Bradley-Terry strengths from (..., K, K) win counts (wins[i, j]: times i beat j).

    Maximises sum w_ij log sigmoid(t_i - t_j) - ridge / 2 * |t|^2 by Newton's method (quadratic convergence;
    the objective is strictly concave for ridge > 0, or for a strongly connected comparison graph).
    """
    w = np.asarray(wins, dtype=float)
    if w.shape[-1] != w.shape[-2]:
        raise ValueError("bradley_terry: wins must be square (systems x systems).")
    k = w.shape[-1]
    n = w + np.swapaxes(w, -1, -2)
    theta = np.zeros(w.shape[:-1])
    eye = np.eye(k)
    # -1/k on every entry fixes the one direction the likelihood ignores (adding a constant to every strength):
    # the gradient has no component along it, so the step is unchanged and the system is never singular.
    anchor = np.full((k, k), 1.0 / k)
    for _ in range(max_iter):
        p = 1 / (1 + np.exp(-(theta[..., :, None] - theta[..., None, :])))
        grad = (w - n * p).sum(axis=-1) - ridge * theta
        info = n * p * (1 - p)
        hessian = info - eye * (info.sum(axis=-1)[..., None] + ridge) - anchor
        step = np.linalg.solve(hessian, grad[..., None])[..., 0]
        theta = theta - step
        if np.max(np.abs(step)) < tol:
            break
    return theta - theta.mean(axis=-1, keepdims=True)


def fit_ranking(matches: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Strengths with 95% intervals, win-rate matrix and P(beat) from matches (system_a, system_b, choice)."""
    systems, cells = match_cells(matches)
    theta = bradley_terry(wins_from_cells(cells))
    draws = bradley_terry(wins_from_cells(M.bootstrap_tables(cells, n_boot, seed=seed)))
    return ranking_result(systems, cells, theta, draws, n_boot=n_boot)


def match_cells(matches: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    if matches.empty:
        raise JudgeError("No matches to rank: the pairs need system_a and system_b names and a verdict or a "
                         "preference.")
    systems = sorted(set(matches["system_a"]) | set(matches["system_b"]))
    if len(systems) < 2:
        raise JudgeError(f"Only one system ({systems[0]}) in the matches: a ranking needs at least two.")
    index = {s: i for i, s in enumerate(systems)}
    cells = np.zeros((len(systems), len(systems), 3), dtype=np.int64)
    for a, b, choice in zip(matches["system_a"], matches["system_b"], matches["choice"]):
        cells[index[a], index[b], OUTCOMES.index(choice)] += 1
    return systems, cells


def ranking_result(systems: list[str], cells: np.ndarray, theta: np.ndarray, draws: np.ndarray, *,
                   n_boot: int) -> dict[str, Any]:
    wins = wins_from_cells(cells)
    games = wins + wins.T
    order = np.argsort(-theta, kind="stable")
    ranking = []
    for rank, i in enumerate(order, 1):
        low, high = M.percentile_interval(draws[:, i])
        ranking.append({"rank": rank, "system": systems[i], "theta": float(theta[i]), "theta_ci": [low, high],
                        "rating": float(1000 + ELO_SCALE * theta[i]),
                        "rating_ci": [float(1000 + ELO_SCALE * low), float(1000 + ELO_SCALE * high)],
                        "matches": int(games[i].sum()),
                        "win_rate": float(wins[i].sum() / games[i].sum()) if games[i].sum() else None})
    p_win = 1 / (1 + np.exp(-(theta[:, None] - theta[None, :])))
    p_better = (draws[:, :, None] > draws[:, None, :]).mean(axis=0)
    return {
        "systems": systems, "matches": int(cells.sum()), "n_boot": n_boot, "ranking": ranking,
        "win_rate_matrix": {systems[i]: {systems[j]: (float(wins[i, j] / games[i, j]) if games[i, j] else None)
                                         for j in range(len(systems)) if j != i} for i in range(len(systems))},
        "match_counts": {systems[i]: {systems[j]: int(games[i, j]) for j in range(len(systems)) if j != i}
                         for i in range(len(systems))},
        "p_win": {systems[i]: {systems[j]: float(p_win[i, j]) for j in range(len(systems)) if j != i}
                  for i in range(len(systems))},
        "p_better": {systems[i]: {systems[j]: float(p_better[i, j]) for j in range(len(systems)) if j != i}
                     for i in range(len(systems))},
    }


def kendall_tau_interval(judge: pd.DataFrame, human: pd.DataFrame, *, n_boot: int, seed: int) -> dict[str, Any]:
    """Kendall's tau between judge and human strengths, resampling the pairs both have a choice for."""
    both = judge.merge(human, on=["pair_uid", "system_a", "system_b"], suffixes=("_judge", "_human"))
    systems = sorted(set(both["system_a"]) | set(both["system_b"]))
    if len(systems) < 3:
        return {"value": None, "ci": None, "n": len(both), "undefined": "Kendall's tau needs three or more systems"}
    index = {s: i for i, s in enumerate(systems)}
    cells = np.zeros((len(systems), len(systems), 3, 3), dtype=np.int64)
    for a, b, j, h in zip(both["system_a"], both["system_b"], both["choice_judge"], both["choice_human"]):
        cells[index[a], index[b], OUTCOMES.index(j), OUTCOMES.index(h)] += 1
    boot = M.bootstrap_tables(cells, n_boot, seed=seed)
    judge_theta = bradley_terry(wins_from_cells(cells.sum(axis=-1)))
    human_theta = bradley_terry(wins_from_cells(cells.sum(axis=-2)))
    judge_draws = bradley_terry(wins_from_cells(boot.sum(axis=-1)))
    human_draws = bradley_terry(wins_from_cells(boot.sum(axis=-2)))
    taus = [scipy.stats.kendalltau(j, h).statistic for j, h in zip(judge_draws, human_draws)]
    return {"value": float(scipy.stats.kendalltau(judge_theta, human_theta).statistic),
            "ci": M.percentile_interval(taus), "n": len(both), "systems": len(systems)}


def judge_matches(store, runs: list[str]) -> pd.DataFrame:
    """Matches from the pair verdicts of pairwise runs (inconsistent and unscored pairs left out)."""
    from judge.pairwise import pair_verdicts

    frames = []
    for run_id in runs:
        verdicts = pair_verdicts(store, run_id)
        frames.append(verdicts[verdicts["verdict"].isin(OUTCOMES)].rename(columns={"verdict": "choice"}))
    return _named(pd.concat(frames)[["pair_uid", "system_a", "system_b", "choice"]])


def human_matches(store, dataset: str, criterion: str) -> pd.DataFrame:
    from judge.reports.pairwise import human_choices

    pairs = store.pairs(dataset)
    choices = human_choices(store, dataset, criterion)
    pairs = pairs[pairs["uid"].isin(choices.index)]
    frame = pd.DataFrame({"pair_uid": pairs["uid"], "system_a": pairs["system_a"], "system_b": pairs["system_b"],
                          "choice": pairs["uid"].map(choices)})
    return _named(frame)


def _named(frame: pd.DataFrame) -> pd.DataFrame:
    unnamed = frame["system_a"].isna() | frame["system_b"].isna()
    if unnamed.all() and len(frame):
        raise JudgeError("These pairs have no system_a / system_b names, so there is nothing to rank: import pairs "
                         "with system (model or app version) columns, or form them from two dataset versions.")
    return frame[~unnamed].reset_index(drop=True)


def rank(store, *, runs: list[str] | None = None, dataset: str | None = None, human: bool = False,
         compare_human: bool = False, criterion: str | None = None, n_boot: int = 1000, seed: int = 0
         ) -> dict[str, Any]:
    """A Bradley-Terry ranking from pairwise runs (pooled) or, with `human`, from a pair dataset's preferences.

    With `compare_human`, also Kendall's tau between the judge ranking and the human ranking of the same pairs.
    """
    runs = list(runs or [])
    if human or not runs:
        if not dataset:
            raise JudgeError("Rank from people's preferences with a pair dataset (--dataset NAME --human), or from "
                             "judge verdicts with --run RUN.")
        result = fit_ranking(human_matches(store, dataset, criterion or "preference"), n_boot=n_boot, seed=seed)
        return {**result, "source": f"human preferences on {dataset}"}
    first = store.pairwise_run(runs[0])
    matches = judge_matches(store, runs)
    result = {**fit_ranking(matches, n_boot=n_boot, seed=seed), "source": f"pairwise run(s) {', '.join(runs)}"}
    if compare_human:
        people = human_matches(store, dataset or first["dataset_name"], criterion or first["criterion"])
        result["human_ranking"] = fit_ranking(people, n_boot=n_boot, seed=seed)["ranking"]
        result["kendall_tau"] = kendall_tau_interval(matches, people, n_boot=n_boot, seed=seed)
    return result
