"""Queries over pairs, human preferences between their two outputs, and pairwise judge runs."""

from __future__ import annotations

import json
from typing import Any, Iterable

import pandas as pd

from judge.errors import NotFound
from judge.store._db import register_frame

PAIR_COLUMNS = ("uid", "pair_id", "input", "output_a", "output_b", "system_a", "system_b", "context", "reference",
                "metadata", "position")
PAIRWISE_VERDICT_COLUMNS = ("run_id", "pair_uid", "shown_order", "score", "choice", "reasoning", "raw_reply",
                            "prompt", "model_reported", "input_tokens", "output_tokens", "latency_ms", "cost_usd",
                            "cache_key", "cached", "error", "batch_id")
_RUN_KEYS = ("id", "name", "dataset_name", "spec_name", "spec_body", "criterion", "model", "base_url", "orders",
             "source", "status", "total_pairs", "template_hash", "code_version", "error", "created_at",
             "finished_at", "batch")
_JSON_RUN_KEYS = ("spec_body", "orders", "batch")


class PairQueries:
    # -- pairs --------------------------------------------------------------------------------------
    def add_pairs(self, dataset_name: str, pairs: pd.DataFrame, *, source_file: str | None = None) -> int:
        """Insert the pairs whose uid is new, after the dataset's last position; returns how many were new."""
        with self.db.connect() as con:
            register_frame(con, "new_pairs", pairs)
            start = con.execute("SELECT coalesce(max(position) + 1, 0) FROM pairs WHERE dataset_name = ?",
                                [dataset_name]).fetchone()[0]
            added = con.execute(
                "INSERT INTO pairs (uid, dataset_name, pair_id, input, output_a, output_b, system_a, system_b, "
                "context, reference, metadata, position, source_file) "
                "SELECT n.uid, ?, n.pair_id, n.input, n.output_a, n.output_b, n.system_a, n.system_b, n.context, "
                "n.reference, n.metadata::JSON, ? + n.position, ? FROM new_pairs n "
                "WHERE n.uid NOT IN (SELECT uid FROM pairs) RETURNING uid",
                [dataset_name, int(start), source_file],
            ).fetchall()
            con.unregister("new_pairs")
        return len(added)

    def pairs(self, dataset_name: str) -> pd.DataFrame:
        """Every pair of a pair dataset in import order; metadata decoded to dicts."""
        with self.db.connect() as con:
            frame = con.execute(
                f"SELECT {', '.join(PAIR_COLUMNS)} FROM pairs WHERE dataset_name = ? ORDER BY position",
                [dataset_name],
            ).df()
        if frame.empty:
            raise NotFound(f"No pairs in pair dataset '{dataset_name}': import some with judge import-pairs.")
        frame["metadata"] = [json.loads(m) if isinstance(m, str) else (m or {}) for m in frame["metadata"]]
        return frame

    def has_pair(self, uid: str) -> bool:
        with self.db.connect() as con:
            return con.execute("SELECT count(*) FROM pairs WHERE uid = ?", [uid]).fetchone()[0] > 0

    def pair_datasets(self) -> pd.DataFrame:
        """Pair datasets with their pair, preference and run counts."""
        with self.db.connect() as con:
            return con.execute(
                "SELECT p.dataset_name AS name, count(*) AS pairs, "
                "(SELECT count(*) FROM preferences f JOIN pairs q ON q.uid = f.pair_uid "
                " WHERE q.dataset_name = p.dataset_name) AS preferences, "
                "(SELECT count(*) FROM pairwise_runs r WHERE r.dataset_name = p.dataset_name) AS runs "
                "FROM pairs p GROUP BY p.dataset_name ORDER BY p.dataset_name"
            ).df()

    # -- preferences --------------------------------------------------------------------------------
    def add_preferences(self, rows: pd.DataFrame, *, source: str = "ui") -> int:
        """Append preferences (pair_uid, annotator, criterion, choice, shown_order, critique), creating annotators.

        A row equal to the annotator's current preference on that pair and criterion is not added twice.
        """
        with self.db.connect() as con:
            register_frame(con, "new_preferences", rows)
            con.execute("INSERT INTO annotators (name) SELECT DISTINCT annotator FROM new_preferences "
                        "WHERE annotator NOT IN (SELECT name FROM annotators)")
            added = con.execute(
                "WITH current AS (SELECT pair_uid, annotator_id, criterion, choice, critique FROM preferences "
                "  QUALIFY row_number() OVER (PARTITION BY pair_uid, annotator_id, criterion ORDER BY id DESC) = 1) "
                "INSERT INTO preferences (pair_uid, annotator_id, criterion, choice, shown_order, critique, source) "
                "SELECT n.pair_uid, a.id, n.criterion, n.choice, n.shown_order, n.critique, ? "
                "FROM new_preferences n JOIN annotators a ON a.name = n.annotator "
                "LEFT JOIN current c ON c.pair_uid = n.pair_uid AND c.annotator_id = a.id "
                "  AND c.criterion = n.criterion "
                "WHERE c.pair_uid IS NULL OR c.choice <> n.choice "
                "   OR coalesce(c.critique, '') <> coalesce(n.critique, '') RETURNING id",
                [source],
            ).fetchall()
            con.unregister("new_preferences")
        return len(added)

    def preferences(self, dataset_name: str, *, criterion: str | None = None,
                    annotator: str | None = None) -> pd.DataFrame:
        """The current preference per (pair, annotator, criterion) of a pair dataset."""
        where, params = ["q.dataset_name = ?"], [dataset_name]
        if criterion is not None:
            where.append("f.criterion = ?")
            params.append(criterion)
        if annotator is not None:
            where.append("a.name = ?")
            params.append(annotator)
        with self.db.connect() as con:
            return con.execute(
                "SELECT f.pair_uid, q.pair_id, a.name AS annotator, f.criterion, f.choice, f.shown_order, "
                "f.critique, f.created_at FROM preferences f JOIN pairs q ON q.uid = f.pair_uid "
                f"JOIN annotators a ON a.id = f.annotator_id WHERE {' AND '.join(where)} "
                "QUALIFY row_number() OVER (PARTITION BY f.pair_uid, f.annotator_id, f.criterion ORDER BY f.id DESC) = 1 "
                "ORDER BY q.position, a.name",
                params,
            ).df()

    def preference_history(self, pair_uid: str) -> pd.DataFrame:
        with self.db.connect() as con:
            return con.execute(
                "SELECT a.name AS annotator, f.criterion, f.choice, f.shown_order, f.critique, f.source, f.created_at "
                "FROM preferences f JOIN annotators a ON a.id = f.annotator_id WHERE f.pair_uid = ? ORDER BY f.id",
                [pair_uid],
            ).df()

    # -- pairwise runs ------------------------------------------------------------------------------
    def create_pairwise_run(self, **run: Any) -> None:
        keys = [k for k in _RUN_KEYS if k in run]
        values = [json.dumps(run[k]) if k in _JSON_RUN_KEYS and run[k] is not None else run[k] for k in keys]
        with self.db.connect() as con:
            con.execute(f"INSERT INTO pairwise_runs ({', '.join(keys)}) VALUES ({', '.join('?' for _ in keys)})",
                        values)

    def set_pairwise_run_status(self, run_id: str, status: str, *, error: str | None = None) -> None:
        with self.db.connect() as con:
            con.execute(
                "UPDATE pairwise_runs SET status = ?, error = ?, finished_at = CASE WHEN ? IN ('done', 'failed', "
                "'cancelled') THEN current_timestamp ELSE finished_at END WHERE id = ?",
                [status, error, status, run_id],
            )

    def is_pairwise_run(self, run_id: str) -> bool:
        with self.db.connect() as con:
            return con.execute("SELECT count(*) FROM pairwise_runs WHERE id = ?", [run_id]).fetchone()[0] > 0

    def pairwise_run(self, run_id: str) -> dict[str, Any]:
        with self.db.connect() as con:
            row = con.execute(f"SELECT {', '.join(_RUN_KEYS)} FROM pairwise_runs WHERE id = ?", [run_id]).fetchone()
            if row is None:
                raise NotFound(f"No pairwise run '{run_id}': judge pairwise-runs lists them.")
            run = dict(zip(_RUN_KEYS, row))
            counts = con.execute(
                "SELECT count(*), count(error), count(*) FILTER (WHERE cached), sum(cost_usd) FROM pairwise_verdicts WHERE run_id = ?", [run_id]).fetchone()
        run["spec_body"] = json.loads(run["spec_body"]) if run["spec_body"] else None
        run["orders"] = json.loads(run["orders"])
        run["batch"] = json.loads(run["batch"]) if run["batch"] else None
        run.update(done=counts[0], failed=counts[1], cached=counts[2], cost_usd=counts[3])
        return run

    def pairwise_runs(self, dataset_name: str | None = None) -> pd.DataFrame:
        where, params = ("WHERE r.dataset_name = ?", [dataset_name]) if dataset_name else ("", [])
        with self.db.connect() as con:
            return con.execute(
                "SELECT r.id, r.name, r.dataset_name, r.spec_name, r.criterion, r.model, r.source, r.status, "
                "r.total_pairs, r.batch IS NOT NULL AS batch, count(v.run_id) AS replies, count(v.error) AS failed, sum(v.cost_usd) AS cost_usd, "
                f"r.created_at FROM pairwise_runs r LEFT JOIN pairwise_verdicts v ON v.run_id = r.id {where} "
                "GROUP BY ALL ORDER BY r.created_at DESC, r.id DESC",
                params,
            ).df()

    def add_pairwise_verdicts(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        frame = pd.DataFrame(rows, columns=list(PAIRWISE_VERDICT_COLUMNS))
        with self.db.connect() as con:
            register_frame(con, "new_pairwise_verdicts", frame)
            con.execute(f"INSERT OR IGNORE INTO pairwise_verdicts ({', '.join(PAIRWISE_VERDICT_COLUMNS)}) "
                        f"SELECT {', '.join(PAIRWISE_VERDICT_COLUMNS)} FROM new_pairwise_verdicts")
            con.unregister("new_pairwise_verdicts")

    def pairwise_verdicts(self, run_id: str) -> pd.DataFrame:
        """Every reply of a run with its pair's id and systems, in pair order then shown order."""
        with self.db.connect() as con:
            frame = con.execute(
                "SELECT v.*, p.pair_id, p.system_a, p.system_b, p.metadata FROM pairwise_verdicts v "
                "JOIN pairs p ON p.uid = v.pair_uid WHERE v.run_id = ? ORDER BY p.position, v.shown_order",
                [run_id],
            ).df()
        frame["metadata"] = [json.loads(m) if isinstance(m, str) else (m or {}) for m in frame["metadata"]]
        return frame

    def done_pair_orders(self, run_id: str) -> set[tuple[str, str]]:
        """(pair uid, shown order) replies a run already has: what a resumed run skips."""
        with self.db.connect() as con:
            rows = con.execute("SELECT pair_uid, shown_order FROM pairwise_verdicts WHERE run_id = ?",
                               [run_id]).fetchall()
        return {(uid, order) for uid, order in rows}

    def discard_failed_pairwise_verdicts(self, run_id: str) -> int:
        """Drop a run's failed replies before it executes again: a failure is never done, a resume asks again."""
        with self.db.connect() as con:
            return len(con.execute("DELETE FROM pairwise_verdicts WHERE run_id = ? AND error IS NOT NULL "
                                   "RETURNING pair_uid", [run_id]).fetchall())

    def cached_pairwise_verdicts(self, cache_keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The earliest successful reply per cache key, from any pairwise run."""
        keys = sorted(set(cache_keys))
        if not keys:
            return {}
        with self.db.connect() as con:
            frame = con.execute(
                f"SELECT {', '.join(PAIRWISE_VERDICT_COLUMNS)} FROM pairwise_verdicts "
                "WHERE cache_key IN (SELECT unnest(?)) AND error IS NULL "
                "QUALIFY row_number() OVER (PARTITION BY cache_key ORDER BY created_at) = 1",
                [keys],
            ).df()
        return {row["cache_key"]: row for row in frame.to_dict("records")}

    # -- pairwise labeling tasks and links ---------------------------------------------------------------
    def create_pair_task(self, name: str, dataset_name: str, criterion: str, instructions: str | None) -> int:
        with self.db.connect() as con:
            return con.execute(
                "INSERT INTO pair_tasks (name, dataset_name, criterion, instructions) VALUES (?, ?, ?, ?) RETURNING id",
                [name, dataset_name, criterion, instructions],
            ).fetchone()[0]

    def pair_task(self, task_id: int) -> dict[str, Any]:
        keys = ("id", "name", "dataset_name", "criterion", "instructions", "created_at", "closed_at")
        with self.db.connect() as con:
            row = con.execute(f"SELECT {', '.join(keys)} FROM pair_tasks WHERE id = ?", [task_id]).fetchone()
        if row is None:
            raise NotFound(f"No pairwise labeling task {task_id} (see `judge pair-task --list`).")
        return dict(zip(keys, row))

    def pair_tasks(self) -> pd.DataFrame:
        with self.db.connect() as con:
            return con.execute("SELECT id, name, dataset_name, criterion, created_at, closed_at FROM pair_tasks "
                               "ORDER BY id").df()

    def add_pair_link(self, task_id: int, token_hash: str, *, annotator_id: int | None, expires_at) -> int:
        with self.db.connect() as con:
            self.pair_task(task_id)
            return con.execute(
                "INSERT INTO pair_links (pair_task_id, annotator_id, token_hash, expires_at) VALUES (?, ?, ?, ?) "
                "RETURNING id",
                [task_id, annotator_id, token_hash, expires_at],
            ).fetchone()[0]

    def pair_link_by_hash(self, token_hash: str) -> dict[str, Any] | None:
        keys = ("id", "task_id", "annotator", "expires_at", "revoked_at")
        with self.db.connect() as con:
            row = con.execute(
                "SELECT k.id, k.pair_task_id, a.name, k.expires_at, k.revoked_at FROM pair_links k "
                "LEFT JOIN annotators a ON a.id = k.annotator_id WHERE k.token_hash = ?",
                [token_hash],
            ).fetchone()
        return dict(zip(keys, row)) if row else None

    def named_pair_link_annotators(self) -> set[str]:
        """Names bound to a named pairwise link: an open link may not label under them."""
        with self.db.connect() as con:
            rows = con.execute("SELECT DISTINCT a.name FROM pair_links k JOIN annotators a ON a.id = k.annotator_id"
                               ).fetchall()
        return {name for (name,) in rows}

    def pair_links(self, task_id: int | None = None) -> pd.DataFrame:
        """Pairwise labeling links (never their tokens), newest first; of one task when given."""
        where, params = ("WHERE k.pair_task_id = ?", [task_id]) if task_id is not None else ("", [])
        with self.db.connect() as con:
            return con.execute(
                "SELECT k.id, k.pair_task_id AS task_id, t.name AS task, t.dataset_name, "
                "coalesce(a.name, '(open link)') AS annotator, k.created_at, k.expires_at, k.revoked_at "
                "FROM pair_links k JOIN pair_tasks t ON t.id = k.pair_task_id "
                f"LEFT JOIN annotators a ON a.id = k.annotator_id {where} ORDER BY k.id DESC", params).df()

    def revoke_pair_link(self, link_id: int, when) -> None:
        with self.db.connect() as con:
            con.execute("UPDATE pair_links SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", [when, link_id])
