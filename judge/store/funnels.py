"""Queries over funnels: their append-only versions (stages, calibration), their runs and each item's steps.

A funnel version is never edited: a new set of stages, or a calibration, adds a version. A funnel run's steps
of one stage are written in one statement once the stage's judge run is over, so a resumed funnel run
knows exactly which stages are done.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

import pandas as pd

from judge.errors import NotFound

_VERSION_KEYS = ("id", "funnel_id", "version", "stages", "target", "alpha", "delta", "calibration", "split_seed",
                 "calibration_share", "calibration_uids", "heldout_uids", "calibration_hash", "heldout_hash",
                 "dataset_id", "calibration_run_id", "created_at")
_JSON_KEYS = ("stages", "calibration", "calibration_uids", "heldout_uids")
_RUN_KEYS = ("id", "funnel_version_id", "dataset_id", "purpose", "item_uids", "status", "task_id", "error",
             "created_at", "finished_at")


class FunnelQueries:
    # -- funnels and versions -----------------------------------------------------------------------
    def create_funnel(self, name: str, dataset_name: str, criterion: str) -> int:
        with self.db.connect() as con:
            return con.execute("INSERT INTO funnels (name, dataset_name, criterion) VALUES (?, ?, ?) RETURNING id",
                               [name, dataset_name, criterion]).fetchone()[0]

    def funnel(self, name: str) -> dict[str, Any]:
        """A funnel by name; NotFound lists the funnels that exist."""
        with self.db.connect() as con:
            row = con.execute("SELECT id, name, dataset_name, criterion, created_at FROM funnels WHERE name = ?",
                              [name]).fetchone()
            if row is None:
                known = [n for (n,) in con.execute("SELECT name FROM funnels ORDER BY name").fetchall()]
                raise NotFound(f"No funnel '{name}'. Funnels: {', '.join(known) or 'none yet (judge funnel create)'}.")
        return dict(zip(("id", "name", "dataset_name", "criterion", "created_at"), row))

    def funnel_by_id(self, funnel_id: int) -> dict[str, Any]:
        with self.db.connect() as con:
            (name,) = con.execute("SELECT name FROM funnels WHERE id = ?", [funnel_id]).fetchone()
        return self.funnel(name)

    def funnel_exists(self, name: str) -> bool:
        with self.db.connect() as con:
            return con.execute("SELECT count(*) FROM funnels WHERE name = ?", [name]).fetchone()[0] > 0

    def add_funnel_version(self, funnel_id: int, *, stages: list[dict[str, Any]], target: str,
                           alpha: float | None = None, delta: float | None = None,
                           calibration: dict[str, Any] | None = None, split_seed: int | None = None,
                           calibration_share: float | None = None, calibration_uids: list[str] | None = None,
                           heldout_uids: list[str] | None = None, calibration_hash: str | None = None,
                           heldout_hash: str | None = None, dataset_id: int | None = None,
                           calibration_run_id: int | None = None) -> int:
        """The funnel's next version; returns its number."""
        with self.db.connect() as con:
            (latest,) = con.execute("SELECT coalesce(max(version), 0) FROM funnel_versions WHERE funnel_id = ?",
                                    [funnel_id]).fetchone()
            con.execute(
                "INSERT INTO funnel_versions (funnel_id, version, stages, target, alpha, delta, calibration, split_seed, "
                "calibration_share, calibration_uids, heldout_uids, calibration_hash, heldout_hash, dataset_id, "
                "calibration_run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [funnel_id, latest + 1, json.dumps(stages), target, alpha, delta,
                 None if calibration is None else json.dumps(calibration), split_seed, calibration_share,
                 None if calibration_uids is None else json.dumps(calibration_uids),
                 None if heldout_uids is None else json.dumps(heldout_uids), calibration_hash, heldout_hash,
                 dataset_id, calibration_run_id],
            )
        return int(latest + 1)

    def funnel_version(self, funnel_id: int, version: int | None = None, *,
                       calibrated: bool = False) -> dict[str, Any]:
        """A version of a funnel (the latest by default; with `calibrated`, the latest calibrated one)."""
        with self.db.connect() as con:
            row = con.execute(
                f"SELECT {', '.join(_VERSION_KEYS)} FROM funnel_versions WHERE funnel_id = ? "
                "AND (?::INTEGER IS NULL OR version = ?) AND (NOT ? OR calibration IS NOT NULL) "
                "ORDER BY version DESC LIMIT 1", [funnel_id, version, version, calibrated]).fetchone()
        if row is None:
            what = f"version {version}" if version is not None else ("a calibrated version" if calibrated
                                                                      else "a version")
            hint = " (judge funnel calibrate)" if calibrated else ""
            raise NotFound(f"The funnel has no {what}{hint}.")
        return _decoded(dict(zip(_VERSION_KEYS, row)))

    def funnel_version_by_id(self, version_id: int) -> dict[str, Any]:
        with self.db.connect() as con:
            row = con.execute(f"SELECT {', '.join(_VERSION_KEYS)} FROM funnel_versions WHERE id = ?",
                              [version_id]).fetchone()
        if row is None:
            raise NotFound(f"No funnel version with id {version_id}.")
        return _decoded(dict(zip(_VERSION_KEYS, row)))

    def funnels(self) -> pd.DataFrame:
        """Every funnel with its latest version, whether that is calibrated, and its runs."""
        with self.db.connect() as con:
            return con.execute(
                """
                SELECT f.name, f.dataset_name AS dataset, f.criterion, max(v.version) AS version,
                       arg_max(v.calibration IS NOT NULL, v.version) AS calibrated,
                       arg_max(v.alpha, v.version) AS alpha, arg_max(v.delta, v.version) AS delta,
                       (SELECT count(*) FROM funnel_runs r JOIN funnel_versions fv ON fv.id = r.funnel_version_id
                        WHERE fv.funnel_id = f.id AND r.purpose = 'run') AS runs,
                       f.created_at
                FROM funnels f JOIN funnel_versions v ON v.funnel_id = f.id
                GROUP BY f.id, f.name, f.dataset_name, f.criterion, f.created_at ORDER BY f.name
                """
            ).df()

    # -- funnel runs ----------------------------------------------------------------------------------
    def create_funnel_run(self, funnel_version_id: int, dataset_id: int, purpose: str,
                          item_uids: list[str] | None = None) -> int:
        with self.db.connect() as con:
            return con.execute(
                "INSERT INTO funnel_runs (funnel_version_id, dataset_id, purpose, item_uids, status) "
                "VALUES (?, ?, ?, ?, 'running') RETURNING id",
                [funnel_version_id, dataset_id, purpose, None if item_uids is None else json.dumps(item_uids)],
            ).fetchone()[0]

    def funnel_run(self, funnel_run_id: int) -> dict[str, Any]:
        with self.db.connect() as con:
            row = con.execute(f"SELECT {', '.join(_RUN_KEYS)} FROM funnel_runs WHERE id = ?",
                              [int(funnel_run_id)]).fetchone()
        if row is None:
            raise NotFound(f"No funnel run {funnel_run_id}: `judge funnel list` shows the funnels and their runs.")
        out = dict(zip(_RUN_KEYS, row))
        out["item_uids"] = json.loads(out["item_uids"]) if out["item_uids"] else None
        return out

    def funnel_runs(self, funnel_id: int, purpose: str = "run") -> pd.DataFrame:
        """A funnel's runs, newest first, with the funnel version and dataset version of each."""
        with self.db.connect() as con:
            return con.execute(
                """
                SELECT r.id, v.version AS funnel_version, d.version AS dataset_version, r.dataset_id, r.status,
                       r.task_id, r.created_at, r.finished_at
                FROM funnel_runs r JOIN funnel_versions v ON v.id = r.funnel_version_id
                JOIN datasets d ON d.id = r.dataset_id
                WHERE v.funnel_id = ? AND r.purpose = ? ORDER BY r.id DESC
                """, [funnel_id, purpose]).df()

    def finish_funnel_run(self, funnel_run_id: int, status: str, *, task_id: int | None = None,
                          error: str | None = None) -> None:
        with self.db.connect() as con:
            con.execute("UPDATE funnel_runs SET status = ?, task_id = coalesce(?, task_id), error = ?, "
                        "finished_at = CASE WHEN ? = 'running' THEN NULL ELSE current_timestamp END WHERE id = ?",
                        [status, task_id, error, status, funnel_run_id])

    def set_funnel_stage_run(self, funnel_run_id: int, stage: int, role: str, run_id: str) -> None:
        with self.db.connect() as con:
            con.execute("INSERT INTO funnel_stage_runs VALUES (?, ?, ?, ?)", [funnel_run_id, stage, role, run_id])

    def funnel_stage_runs(self, funnel_run_id: int) -> dict[tuple[int, str], str]:
        """{(stage, role): judge run id} of a funnel run."""
        with self.db.connect() as con:
            rows = con.execute("SELECT stage, role, run_id FROM funnel_stage_runs WHERE funnel_run_id = ?",
                               [funnel_run_id]).fetchall()
        return {(int(stage), role): run_id for stage, role, run_id in rows}

    # -- steps ----------------------------------------------------------------------------------------
    def add_funnel_steps(self, funnel_run_id: int, stage: int, steps: Iterable[dict[str, Any]]) -> None:
        """One stage's steps, in one statement (a stage is recorded whole or not at all)."""
        rows = [(funnel_run_id, stage, s["item_uid"], s.get("confidence"), s.get("passed"), s.get("score"),
                 s.get("error"), bool(s["settled"])) for s in steps]
        if not rows:
            return
        with self.db.connect() as con:
            con.executemany("INSERT INTO funnel_steps VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def funnel_steps(self, funnel_run_id: int) -> pd.DataFrame:
        """Every step of a funnel run (stage, item, confidence, verdict, error, settled), in stage order."""
        with self.db.connect() as con:
            return con.execute(
                "SELECT stage, item_uid, confidence, passed, score, error, settled FROM funnel_steps "
                "WHERE funnel_run_id = ? ORDER BY stage, item_uid", [funnel_run_id]).df()

    def funnel_stages_done(self, funnel_run_id: int) -> set[int]:
        with self.db.connect() as con:
            rows = con.execute("SELECT DISTINCT stage FROM funnel_steps WHERE funnel_run_id = ?",
                               [funnel_run_id]).fetchall()
        return {int(stage) for (stage,) in rows}

    def run_price(self, run_id: str) -> dict[str, Any]:
        """What a judge run paid, and what it would have paid with no cache (a cache hit priced at the call
        it copies), with its verdicts and median call latency: the cost figures of a funnel stage."""
        with self.db.connect() as con:
            row = con.execute(
                """
                WITH paid AS (SELECT cache_key, arg_min(cost_usd, created_at) AS cost FROM verdicts
                              WHERE NOT cached AND error IS NULL AND cache_key IN
                                    (SELECT cache_key FROM verdicts WHERE run_id = ? AND cached)
                              GROUP BY cache_key)
                SELECT count(*), count(DISTINCT v.item_uid), sum(v.cost_usd),
                       sum(CASE WHEN v.cached THEN p.cost ELSE v.cost_usd END),
                       count(*) FILTER (WHERE v.cost_usd IS NULL AND v.error IS NULL),
                       quantile_cont(v.latency_ms, 0.5) FILTER (WHERE NOT v.cached)
                FROM verdicts v LEFT JOIN paid p ON p.cache_key = v.cache_key WHERE v.run_id = ?
                """, [run_id, run_id]).fetchone()
        verdicts, items, paid, full, unpriced, latency = row
        return {"verdicts": int(verdicts), "items": int(items), "paid_usd": None if unpriced else float(paid or 0),
                "full_price_usd": None if unpriced else float(full or 0),
                "latency_p50_ms": None if latency is None else float(latency)}


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    for key in _JSON_KEYS:
        row[key] = json.loads(row[key]) if row[key] else None
    return row
