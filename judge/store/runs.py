"""Queries over judge runs, their verdicts, the verdict cache and the model price overrides.

Verdicts are written in batches by the runner's writer thread; `INSERT OR IGNORE` on the primary key
(run_id, item_uid, sample) is what makes a replayed or resumed batch harmless.
"""

from __future__ import annotations

import json
import math
from datetime import timedelta
from typing import Any, Iterable

import pandas as pd

from judge.errors import JudgeError, NotFound

# A 'running' run whose heartbeat is older than this lost its process: it shows as 'interrupted'.
STALE_HEARTBEAT = timedelta(seconds=30)

VERDICT_COLUMNS = (
    "run_id", "item_uid", "sample", "score", "weighted_score", "passed", "reasoning", "raw_reply", "prompt",
    "model_reported", "input_tokens", "output_tokens", "latency_ms", "cost_usd", "cache_key", "cached", "error",
    "cached_input_tokens", "cache_write_tokens", "batch_id", "score_probs",
)
_VERDICT_TYPES = (
    "VARCHAR", "VARCHAR", "INTEGER", "TINYINT", "DOUBLE", "BOOLEAN", "VARCHAR", "VARCHAR", "VARCHAR",
    "VARCHAR", "INTEGER", "INTEGER", "DOUBLE", "DOUBLE", "VARCHAR", "BOOLEAN", "VARCHAR",
    "INTEGER", "INTEGER", "VARCHAR", "VARCHAR",
)
# Columns copied from an earlier verdict when a cache hit is reused in a new run.
CACHED_COLUMNS = (
    "score", "weighted_score", "passed", "reasoning", "raw_reply", "prompt", "model_reported",
    "input_tokens", "output_tokens", "latency_ms", "cost_usd", "cached_input_tokens", "cache_write_tokens",
    "score_probs",
)
_RUN_STATUS_SQL = f"""
    CASE WHEN r.status = 'running' AND coalesce(r.heartbeat_at, r.started_at, r.created_at)
              < current_timestamp::TIMESTAMP - INTERVAL {int(STALE_HEARTBEAT.total_seconds())} SECOND
         THEN 'interrupted' ELSE r.status END
"""
RUN_STATUSES = ("pending", "running", "done", "cancelled", "failed")


class RunQueries:
    # -- runs ---------------------------------------------------------------------------------------
    def create_run(
        self, *, run_id: str, dataset_id: int, spec_name: str, model: str | None, base_url: str | None,
        params: dict[str, Any], samples: int, version_tag: str | None, total_items: int,
        template_hash: str | None, code_version: str, spec_id: int | None = None, name: str | None = None,
        source: str = "judge", spec_body: dict[str, Any] | None = None, criterion: str | None = None,
        pass_threshold: int | None = None, rubric_id: int | None = None,
    ) -> str:
        """Record everything that reproduces the run, and everything its numbers depend on (the exact spec
        body, its criterion, pass threshold and rubric version), before the first call is made."""
        with self.db.connect() as con:
            con.execute(
                "INSERT INTO runs (id, name, dataset_id, spec_id, spec_name, model, base_url, params, samples, "
                "version_tag, source, status, total_items, template_hash, code_version, spec_body, criterion, "
                "pass_threshold, rubric_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?)",
                [run_id, name, dataset_id, spec_id, spec_name, model, base_url, json.dumps(params), samples,
                 version_tag, source, total_items, template_hash, code_version,
                 json.dumps(spec_body, ensure_ascii=False) if spec_body is not None else None, criterion,
                 pass_threshold, rubric_id],
            )
        return run_id

    def set_run_status(self, run_id: str, status: str, *, error: str | None = None) -> None:
        """Move a run to `status`; 'running' stamps started_at once, a final status stamps finished_at."""
        if status not in RUN_STATUSES:
            raise JudgeError(f"Unknown run status '{status}'; use one of {', '.join(RUN_STATUSES)}.")
        with self.db.connect() as con:
            con.execute(
                """
                UPDATE runs SET status = ?, error = ?, notice = NULL,
                    started_at = CASE WHEN ? = 'running' THEN coalesce(started_at, current_timestamp)
                                      ELSE started_at END,
                    heartbeat_at = CASE WHEN ? = 'running' THEN current_timestamp ELSE heartbeat_at END,
                    finished_at = CASE WHEN ? IN ('done', 'cancelled', 'failed') THEN current_timestamp END
                WHERE id = ?
                """,
                [status, error, status, status, status, run_id],
            )

    def heartbeat(self, run_id: str, *, notice: str | None = None) -> None:
        """The executing process is alive; `notice` says what it is waiting for (None: nothing)."""
        with self.db.connect() as con:
            con.execute("UPDATE runs SET heartbeat_at = current_timestamp, notice = ? WHERE id = ?",
                        [notice, run_id])

    def run(self, run_id: str) -> dict[str, Any]:
        """One run with its dataset name/version, live status ('interrupted' when its process died) and counts."""
        with self.db.connect() as con:
            counts = self.run_counts(run_id)
            df = con.execute(
                f"""
                SELECT r.id, r.name, r.dataset_id, d.name AS dataset, d.version AS dataset_version, r.spec_id,
                       r.spec_name, r.criterion, r.pass_threshold, r.model, r.base_url, r.params, r.samples,
                       r.version_tag, r.source,
                       {_RUN_STATUS_SQL} AS status, r.total_items, r.template_hash, r.code_version, r.error,
                       r.created_at, r.started_at, r.finished_at, r.heartbeat_at,
                       CASE WHEN r.status = 'running' THEN r.notice END AS notice
                FROM runs r JOIN datasets d ON d.id = r.dataset_id WHERE r.id = ?
                """,
                [run_id],
            ).df()
            if df.empty:
                recent = [r for (r,) in con.execute(
                    "SELECT id FROM runs ORDER BY created_at DESC LIMIT 5").fetchall()]
                raise NotFound(f"No run '{run_id}'. Recent runs: {', '.join(recent) or 'none yet (judge run)'}.")
        out = df.iloc[0].to_dict()
        out["params"] = json.loads(out["params"]) if out["params"] else {}
        out.update(counts)
        return out

    def run_counts(self, run_id: str) -> dict[str, Any]:
        """Verdicts stored so far: what progress bars and the live run page poll."""
        with self.db.connect() as con:
            row = con.execute(
                "SELECT count(*), count(*) FILTER (error IS NOT NULL), count(*) FILTER (cached), "
                "count(*) FILTER (passed), sum(cost_usd), count(*) FILTER (cost_usd IS NULL AND NOT cached "
                "AND error IS NULL), avg(score) FROM verdicts WHERE run_id = ?",
                [run_id],
            ).fetchone()
        done, failed, cached, passed, cost, unpriced, mean_score = row
        return {"done": done, "failed": failed, "cached": cached, "passed": passed,
                "cost_usd": None if unpriced or cost is None else float(cost), "mean_score": mean_score}

    def runs(self, dataset_id: int | None = None) -> pd.DataFrame:
        """Every run, newest first, with progress and cost (cost is NaN while any call's price is unknown)."""
        with self.db.connect() as con:
            return con.execute(
                f"""
                SELECT r.id, d.name AS dataset, d.version AS dataset_version, r.spec_name, r.criterion, r.model,
                       r.version_tag, r.source, {_RUN_STATUS_SQL} AS status, r.samples, r.total_items,
                       count(v.item_uid) AS done,
                       count(v.item_uid) FILTER (v.error IS NOT NULL) AS failed,
                       avg(v.score) AS mean_score,
                       avg(v.passed::INTEGER) AS pass_rate,
                       CASE WHEN count(*) FILTER (v.cost_usd IS NULL AND v.error IS NULL AND v.item_uid IS NOT NULL
                                                  AND NOT v.cached) = 0
                            THEN sum(v.cost_usd) END AS cost_usd,
                       r.created_at, r.finished_at
                FROM runs r JOIN datasets d ON d.id = r.dataset_id
                LEFT JOIN verdicts v ON v.run_id = r.id
                WHERE ? IS NULL OR r.dataset_id = ?
                GROUP BY ALL ORDER BY r.created_at DESC, r.id DESC
                """,
                [dataset_id, dataset_id],
            ).df()

    # -- verdicts -----------------------------------------------------------------------------------
    def add_verdicts(self, rows: Iterable[dict[str, Any]]) -> int:
        """Insert verdicts in one statement; a (run, item, sample) already stored is skipped. Returns rows given."""
        rows = list(rows)
        if not rows:
            return 0
        columns = [[row.get(c, False if c == "cached" else None) for row in rows] for c in VERDICT_COLUMNS]
        selects = ", ".join(f"unnest(?::{t}[])" for t in _VERDICT_TYPES)
        with self.db.connect() as con:
            con.execute(
                f"INSERT OR IGNORE INTO verdicts ({', '.join(VERDICT_COLUMNS)}) SELECT {selects}", columns
            )
        return len(rows)

    def discard_failed_verdicts(self, run_id: str) -> int:
        """Delete the run's failed verdicts, so that executing it again judges those rows anew (the primary
        key admits one verdict per (run, item, sample), and a failure must not count as done). Returns how many."""
        with self.db.connect() as con:
            (count,) = con.execute("SELECT count(*) FROM verdicts WHERE run_id = ? AND error IS NOT NULL",
                                   [run_id]).fetchone()
            if count:
                con.execute("DELETE FROM verdicts WHERE run_id = ? AND error IS NOT NULL", [run_id])
        return int(count)

    def failure_reasons(self, run_id: str, limit: int = 3) -> list[tuple[str, int]]:
        """The run's most common verdict errors with their counts, most common first."""
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT error, count(*) AS n FROM verdicts WHERE run_id = ? AND error IS NOT NULL "
                "GROUP BY error ORDER BY n DESC, error LIMIT ?", [run_id, limit]).fetchall()
        return [(error, int(n)) for error, n in rows]

    def verdicts(self, run_id: str) -> pd.DataFrame:
        """Every verdict of a run in dataset order, with the item's own id."""
        with self.db.connect() as con:
            return con.execute(
                """
                SELECT v.item_uid, i.item_id, v.sample, v.score, v.weighted_score, v.passed, v.reasoning,
                       v.raw_reply, v.prompt, v.model_reported, v.input_tokens, v.output_tokens, v.latency_ms,
                       v.cost_usd, v.cached, v.error, v.created_at, v.cached_input_tokens,
                       v.cache_write_tokens, v.batch_id, v.score_probs
                FROM verdicts v JOIN runs r ON r.id = v.run_id
                LEFT JOIN items i ON i.uid = v.item_uid
                LEFT JOIN dataset_items di ON di.dataset_id = r.dataset_id AND di.item_uid = v.item_uid
                WHERE v.run_id = ? ORDER BY di.position, v.sample
                """,
                [run_id],
            ).df()

    def pending_items(self, run_id: str, dataset_id: int, samples: int, *, after_position: int,
                      limit: int, item_uids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The next `limit` items after `after_position` that still miss a verdict for some sample.

        Each comes with `position`, its fields, `metadata` and `missing` (the sample indexes to do: none yet
        or a failed one), so a resumed run never repeats a stored verdict, retries every failed one, and a run
        never holds more than one chunk of items.
        `item_uids` limits the walk to those items (a run over a subset, e.g. a held-out split).
        """
        subset = None if item_uids is None else list(item_uids)
        with self.db.connect() as con:
            rows = con.execute(  # the chunk first, so only its items are joined and only its verdicts read
                """
                WITH chunk AS (
                    SELECT item_uid, position, metadata FROM dataset_items
                    WHERE dataset_id = ? AND position > ?
                      AND (?::VARCHAR[] IS NULL OR item_uid IN (SELECT unnest(?::VARCHAR[])))
                    ORDER BY position LIMIT ?),
                done AS (  -- a failed verdict is not done: a resume judges it again
                    SELECT item_uid, list(sample) AS samples FROM verdicts
                    WHERE run_id = ? AND error IS NULL AND item_uid IN (SELECT item_uid FROM chunk)
                    GROUP BY item_uid)
                SELECT i.uid, i.item_id, c.position, i.input, i.output, i.context, i.reference, c.metadata,
                       done.samples
                FROM chunk c JOIN items i ON i.uid = c.item_uid LEFT JOIN done ON done.item_uid = c.item_uid
                ORDER BY c.position
                """,
                [dataset_id, after_position, subset, subset, limit, run_id],
            ).fetchall()
        keys = ("uid", "item_id", "position", "input", "output", "context", "reference", "metadata")
        out = []
        for row in rows:
            item = dict(zip(keys, row[:8]))
            item["metadata"] = json.loads(item["metadata"]) if item["metadata"] else {}
            done = set(row[8] or ())
            item["missing"] = [s for s in range(samples) if s not in done]
            out.append(item)
        return out

    def cached_verdicts(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The earliest successful verdict stored under each cache key (keys without one are absent)."""
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        with self.db.connect() as con:
            rows = con.execute(
                f"""
                SELECT cache_key, {', '.join(CACHED_COLUMNS)} FROM verdicts
                WHERE cache_key IN (SELECT unnest(?::VARCHAR[])) AND error IS NULL AND score IS NOT NULL
                QUALIFY row_number() OVER (PARTITION BY cache_key ORDER BY created_at) = 1
                """,
                [keys],
            ).fetchall()
        return {row[0]: dict(zip(CACHED_COLUMNS, row[1:])) for row in rows}

    def copy_cached_verdicts(self, run_id: str, wanted: list[tuple[str, int, str]], *,
                             pass_threshold: int | None = None) -> set[tuple[str, int]]:
        """Copy into `run_id`, in one statement, the earliest successful verdict stored under each wanted
        (item_uid, sample, cache_key); returns the (item_uid, sample) pairs copied.

        Copies are marked cached and cost nothing. `pass_threshold` recomputes `passed` from the score (an LLM
        cache key leaves the threshold out); None keeps the stored `passed` (an offline key includes it).
        """
        if not wanted:
            return set()
        uids, samples, keys = (list(column) for column in zip(*wanted))
        copied = [c for c in CACHED_COLUMNS if c not in ("passed", "cost_usd")]
        with self.db.connect() as con:
            rows = con.execute(
                f"""
                INSERT OR IGNORE INTO verdicts (run_id, item_uid, sample, cache_key, cached, cost_usd, passed,
                                                {', '.join(copied)})
                SELECT ?, w.item_uid, w.sample, w.cache_key, true, 0.0,
                       CASE WHEN ?::INTEGER IS NULL THEN h.passed ELSE h.score >= ?::INTEGER END,
                       {', '.join(f'h.{c}' for c in copied)}
                FROM (SELECT unnest(?::VARCHAR[]) AS item_uid, unnest(?::INTEGER[]) AS sample,
                             unnest(?::VARCHAR[]) AS cache_key) w
                JOIN (SELECT * FROM verdicts
                      WHERE cache_key IN (SELECT unnest(?::VARCHAR[])) AND error IS NULL AND score IS NOT NULL
                      QUALIFY row_number() OVER (PARTITION BY cache_key ORDER BY created_at) = 1) h
                  ON h.cache_key = w.cache_key
                RETURNING item_uid, sample
                """,
                [run_id, pass_threshold, pass_threshold, uids, samples, keys, keys],
            ).fetchall()
        return {(uid, int(sample)) for uid, sample in rows}

    def sample_flip_rates(self, run_id: str) -> dict[str, Any]:
        """Among items judged more than once (samples > 1), the share whose samples disagree on pass/fail
        and on the score: how much a verdict depends on the luck of the draw."""
        with self.db.connect() as con:
            items, pass_flips, score_flips = con.execute(
                """
                SELECT count(*), count(*) FILTER (lo_pass <> hi_pass), count(*) FILTER (lo <> hi)
                FROM (SELECT item_uid, min(passed::INTEGER) AS lo_pass, max(passed::INTEGER) AS hi_pass,
                             min(score) AS lo, max(score) AS hi
                      FROM verdicts WHERE run_id = ? AND score IS NOT NULL
                      GROUP BY item_uid HAVING count(*) > 1)
                """,
                [run_id],
            ).fetchone()
        return {"items": items, "pass_flip_rate": pass_flips / items if items else None,
                "score_flip_rate": score_flips / items if items else None}

    # -- prices -------------------------------------------------------------------------------------
    def set_model_price(self, model: str, input_usd_per_mtok: float, output_usd_per_mtok: float) -> None:
        """Override the built-in price of a model (USD per million tokens); the latest override wins."""
        prices = (float(input_usd_per_mtok), float(output_usd_per_mtok))
        if not model or not all(math.isfinite(p) and p >= 0 for p in prices):
            raise JudgeError("A price needs a model name and two finite, non-negative USD-per-million-token "
                             f"numbers, not {input_usd_per_mtok!r} and {output_usd_per_mtok!r}.")
        with self.db.connect() as con:
            con.execute(
                "INSERT INTO model_prices (model, input_usd_per_mtok, output_usd_per_mtok) VALUES (?, ?, ?)",
                [model, float(input_usd_per_mtok), float(output_usd_per_mtok)],
            )

    def model_price_overrides(self) -> dict[str, tuple[float, float]]:
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT model, input_usd_per_mtok, output_usd_per_mtok FROM model_prices "
                "QUALIFY row_number() OVER (PARTITION BY model ORDER BY id DESC) = 1"
            ).fetchall()
        return {model: (inp, out) for model, inp, out in rows}
