"""Queries over the provider batches of a run (`run_batches`) and the units of work inside them (`batch_units`).

A batch is recorded with all its units before anything is sent to the provider, and its provider ids the moment
they are known: whichever process resumes the run then polls and collects it, and never submits it again.
Collecting a batch (its verdicts, each unit's outcome, the batch's status) is one transaction.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

import pandas as pd

from judge.errors import JudgeError

# Outcomes of a collected unit that leave its (item, sample) without a verdict, to be sent again.
UNSETTLED_OUTCOMES = ("retry", "repair", "canceled")
_UPDATABLE = {"status", "batch_id", "input_file_id", "provider_status", "output_file_id", "error_file_id",
              "cancel_requested", "error"}
_UNIT_COLUMNS = ("custom_id", "item_uid", "sample", "cache_key", "kind", "prompt", "carried")


class BatchQueries:
    def add_batch(self, *, key: str, run_id: str, provider: str, round: int, units: list[dict[str, Any]]) -> None:
        """Record a batch and its units (status 'submitting') before the provider is asked for anything."""
        columns = [[unit.get(c) if c != "carried" else _json(unit.get(c)) for unit in units] for c in _UNIT_COLUMNS]
        with self.db.connect() as con:
            con.execute("INSERT INTO run_batches (key, run_id, provider, round, requests) VALUES (?, ?, ?, ?, ?)",
                        [key, run_id, provider, int(round), len(units)])
            con.execute(
                f"""INSERT INTO batch_units (batch_key, run_id, {', '.join(_UNIT_COLUMNS)})
                    SELECT ?, ?, unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::INTEGER[]),
                           unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::JSON[])""",
                [key, run_id, *columns])

    def update_batch(self, key: str, **fields: Any) -> None:
        """Set provider ids and states as they become known; 'submitted' also stamps submitted_at."""
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise JudgeError(f"update_batch: unknown field(s) {', '.join(sorted(unknown))}.")
        if not fields:
            return
        sets = ", ".join(f"{name} = ?" for name in fields)
        stamp = ", submitted_at = coalesce(submitted_at, current_timestamp)" \
            if fields.get("status") == "submitted" else ""
        with self.db.connect() as con:
            con.execute(f"UPDATE run_batches SET {sets}{stamp} WHERE key = ?", [*fields.values(), key])

    def forget_unsent_batch(self, key: str) -> None:
        """Drop a batch that never reached the provider, so its units count as pending again."""
        with self.db.connect() as con:
            con.execute("DELETE FROM batch_units WHERE batch_key = ?", [key])
            con.execute("DELETE FROM run_batches WHERE key = ? AND status = 'submitting'", [key])

    def open_batches(self, run_id: str) -> list[dict[str, Any]]:
        """Batches not collected yet (submitting or submitted), oldest first."""
        with self.db.connect() as con:
            df = con.execute("SELECT * FROM run_batches WHERE run_id = ? AND status IN ('submitting', 'submitted') "
                             "ORDER BY created_at, key", [run_id]).df()
        return [_clean(row) for row in df.to_dict("records")]

    def run_batches(self, run_id: str) -> pd.DataFrame:
        """Every batch of a run with its unit outcomes, for `judge show` and the run page."""
        with self.db.connect() as con:
            return con.execute(
                """
                SELECT b.key, b.round, b.provider, b.batch_id, b.status, b.provider_status, b.requests,
                       count(u.custom_id) FILTER (u.outcome = 'stored') AS stored,
                       count(u.custom_id) FILTER (u.outcome IN ('retry', 'repair')) AS resent,
                       count(u.custom_id) FILTER (u.outcome = 'canceled') AS canceled,
                       b.cancel_requested, b.error, b.created_at, b.submitted_at, b.collected_at
                FROM run_batches b LEFT JOIN batch_units u ON u.batch_key = b.key
                WHERE b.run_id = ? GROUP BY ALL ORDER BY b.created_at, b.key
                """, [run_id]).df()

    def batch_units(self, key: str) -> list[dict[str, Any]]:
        with self.db.connect() as con:
            rows = con.execute(f"SELECT {', '.join(_UNIT_COLUMNS)} FROM batch_units WHERE batch_key = ? "
                               "ORDER BY custom_id", [key]).fetchall()
        units = [dict(zip(_UNIT_COLUMNS, row)) for row in rows]
        for unit in units:
            unit["carried"] = json.loads(unit["carried"]) if unit["carried"] else None
        return units

    def units_in_open_batches(self, run_id: str) -> set[tuple[str, int]]:
        """(item_uid, sample) of every unit a provider may still be working on: never sent twice."""
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT u.item_uid, u.sample FROM batch_units u JOIN run_batches b ON b.key = u.batch_key "
                "WHERE u.run_id = ? AND b.status IN ('submitting', 'submitted')", [run_id]).fetchall()
        return {(uid, int(sample)) for uid, sample in rows}

    def unit_history(self, run_id: str) -> dict[tuple[str, int], dict[str, Any]]:
        """Per (item_uid, sample) left without a verdict by a collected batch: how many batch attempts it had,
        the latest outcome (retry, repair, canceled), its reason and what a repair carries."""
        with self.db.connect() as con:
            rows = con.execute(
                """
                SELECT u.item_uid, u.sample,
                       count(*) FILTER (u.outcome = 'retry') OVER w AS retries,
                       u.outcome, u.reason, u.carried
                FROM batch_units u JOIN run_batches b ON b.key = u.batch_key
                WHERE u.run_id = ? AND b.status = 'collected'
                WINDOW w AS (PARTITION BY u.item_uid, u.sample)
                QUALIFY row_number() OVER (PARTITION BY u.item_uid, u.sample
                                           ORDER BY b.collected_at DESC, b.round DESC) = 1
                """, [run_id]).fetchall()
        return {(uid, int(sample)): {"retries": int(retries), "outcome": outcome, "reason": reason,
                                     "carried": json.loads(carried) if carried else None}
                for uid, sample, retries, outcome, reason, carried in rows}

    def collect_batch(self, key: str, verdicts: list[dict[str, Any]], outcomes: Iterable[tuple[str, str, str | None,
                      dict | None]], *, status: str = "collected", error: str | None = None) -> None:
        """In ONE transaction: the batch's verdicts, each unit's (custom_id, outcome, reason, carried), its status."""
        outcomes = list(outcomes)
        with self.db.connect() as con:
            self.add_verdicts(verdicts)
            if outcomes:
                ids, kinds, reasons, carried = (list(column) for column in zip(*outcomes))
                con.execute(
                    """UPDATE batch_units SET outcome = o.outcome, reason = o.reason,
                              carried = coalesce(o.carried, batch_units.carried)
                       FROM (SELECT unnest(?::VARCHAR[]) AS custom_id, unnest(?::VARCHAR[]) AS outcome,
                                    unnest(?::VARCHAR[]) AS reason, unnest(?::JSON[]) AS carried) o
                       WHERE batch_units.batch_key = ? AND batch_units.custom_id = o.custom_id""",
                    [ids, kinds, reasons, [_json(c) for c in carried], key])
            con.execute("UPDATE run_batches SET status = ?, error = coalesce(?, error), "
                        "collected_at = current_timestamp WHERE key = ?", [status, error, key])

    def known_batch_ids(self) -> set[str]:
        """Every provider batch id this store has recorded (a recovered batch must not be claimed twice)."""
        with self.db.connect() as con:
            return {b for (b,) in con.execute(
                "SELECT batch_id FROM run_batches WHERE batch_id IS NOT NULL").fetchall()}

    def run_usage(self, run_id: str) -> dict[str, dict[str, Any]]:
        """Tokens and cost of the calls this run paid for (cache copies excluded), for direct and batch calls."""
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT batch_id IS NOT NULL, count(*), sum(input_tokens), sum(cached_input_tokens), "
                "sum(cache_write_tokens), sum(output_tokens), sum(cost_usd) FROM verdicts "
                "WHERE run_id = ? AND NOT cached AND input_tokens IS NOT NULL GROUP BY ALL", [run_id]).fetchall()
        keys = ("calls", "input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "cost_usd")
        usage = {kind: dict.fromkeys(keys, 0) for kind in ("direct", "batch")}
        for batched, *values in rows:
            usage["batch" if batched else "direct"] = {k: (v or 0) for k, v in zip(keys, values)}
        return usage


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if not isinstance(v, (list, dict)) and pd.isna(v) else v) for k, v in row.items()}
