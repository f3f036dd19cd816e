"""Queries behind agreement reports: per-item human and judge labels, run statistics, baselines, imported runs.

Which labels count (the rule `judge.reports` documents):
- each annotator's latest label; the item's human score is the lower median of those scores (with an even
  count, the lower of the two middle scores: the stricter reading), and its pass/fail the lower median of
  the annotators' pass/fail (a tie fails). An annotator's pass/fail is what they ticked, else score >= the
  judge's pass threshold.
- an adjudication (labels.kind = 'adjudication', latest wins) overrides that for every field it sets.
- a judge's item score with several samples is the lower median of its valid samples, the same rule.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from judge.errors import NotFound

# The lower median of a DuckDB list: element (len + 1) // 2 of the sorted list (lists are 1-based).
_LOWER_MEDIAN = "CASE WHEN len({0}) > 0 THEN list_sort({0})[(len({0}) + 1) // 2] END"


class ReportQueries:
    # -- runs -----------------------------------------------------------------------------------------
    def report_run(self, run_id: str) -> dict[str, Any]:
        """The run with its dataset and the spec body it ran with (the latest of its name if unrecorded)."""
        with self.db.connect() as con:
            row = con.execute(
                """
                SELECT r.id, r.name, r.dataset_id, d.name, d.version, r.spec_name, r.model, r.samples,
                       r.version_tag, r.source, r.status, r.created_at, r.finished_at,
                       coalesce(s.body, latest.body), coalesce(s.version, latest.version)
                FROM runs r
                JOIN datasets d ON d.id = r.dataset_id
                LEFT JOIN judge_specs s ON s.id = r.spec_id
                LEFT JOIN (SELECT name, body, version FROM judge_specs
                           QUALIFY row_number() OVER (PARTITION BY name ORDER BY version DESC) = 1) latest
                       ON latest.name = r.spec_name AND r.spec_id IS NULL
                WHERE r.id = ?
                """,
                [run_id],
            ).fetchone()
            if row is None:
                recent = [r for (r,) in con.execute("SELECT id FROM runs ORDER BY created_at DESC LIMIT 5").fetchall()]
                raise NotFound(f"No run '{run_id}'. Recent runs: {', '.join(recent) or 'none yet (judge run)'}.")
        keys = ("id", "name", "dataset_id", "dataset", "dataset_version", "spec_name", "model", "samples",
                "version_tag", "source", "status", "created_at", "finished_at", "spec", "spec_version")
        out = dict(zip(keys, row))
        out["spec"] = json.loads(out["spec"]) if out["spec"] else {}
        return out

    def spec_runs(self, spec_name: str) -> pd.DataFrame:
        """Every finished-or-running run of a judge, oldest first, with its spec version and app version tag.

        The app version is runs.version_tag, else the most common `app_version` in its items' metadata.
        """
        with self.db.connect() as con:
            return con.execute(
                """
                SELECT r.id, r.name, r.dataset_id, d.name AS dataset, d.version AS dataset_version,
                       r.model, s.version AS spec_version, r.status, r.source, r.created_at,
                       coalesce(r.version_tag, (
                           SELECT mode(json_extract_string(di.metadata, '$.app_version'))
                           FROM dataset_items di WHERE di.dataset_id = r.dataset_id)) AS version_tag
                FROM runs r
                JOIN datasets d ON d.id = r.dataset_id
                LEFT JOIN judge_specs s ON s.id = r.spec_id
                WHERE r.spec_name = ?
                ORDER BY r.created_at, r.id
                """,
                [spec_name],
            ).df()

    def judge_item_scores(self, run_id: str, pass_threshold: int) -> pd.DataFrame:
        """One row per judged item: the judge's score and pass/fail (lower median over valid samples)."""
        with self.db.connect() as con:
            return con.execute(
                f"""
                WITH valid AS (
                    SELECT item_uid, score, coalesce(passed, score >= ?) AS passed
                    FROM verdicts WHERE run_id = ? AND error IS NULL AND score IS NOT NULL
                ), pooled AS (
                    SELECT item_uid, list(score) AS scores, list(passed) AS passes FROM valid GROUP BY item_uid
                )
                SELECT item_uid, {_LOWER_MEDIAN.format('scores')}::INTEGER AS judge_score,
                       {_LOWER_MEDIAN.format('passes')} AS judge_passed
                FROM pooled
                """,
                [pass_threshold, run_id],
            ).df()

    def human_item_labels(self, dataset_id: int, pass_threshold: int) -> pd.DataFrame:
        """One row per labeled item of a dataset version: the human score and pass/fail the judge is measured on."""
        with self.db.connect() as con:
            return con.execute(
                f"""
                WITH latest AS (
                    SELECT l.id, l.item_uid, l.annotator_id, l.kind, l.score, l.critique,
                           coalesce(l.passed, l.score >= ?) AS passed
                    FROM labels l JOIN dataset_items di ON di.item_uid = l.item_uid AND di.dataset_id = ?
                    QUALIFY row_number() OVER (PARTITION BY l.item_uid, l.annotator_id, l.kind ORDER BY l.id DESC) = 1
                ), adjudicated AS (
                    SELECT item_uid, score, passed, critique FROM latest WHERE kind = 'adjudication'
                    QUALIFY row_number() OVER (PARTITION BY item_uid ORDER BY id DESC) = 1
                ), pooled AS (
                    SELECT item_uid, count(*) AS annotators,
                           list(score) FILTER (WHERE score IS NOT NULL) AS scores,
                           list(passed) FILTER (WHERE passed IS NOT NULL) AS passes,
                           arg_max(critique, id) FILTER (WHERE critique IS NOT NULL) AS critique
                    FROM latest WHERE kind = 'label' GROUP BY item_uid
                )
                SELECT coalesce(a.item_uid, p.item_uid) AS item_uid,
                       coalesce(a.score, {_LOWER_MEDIAN.format('p.scores')})::INTEGER AS human_score,
                       coalesce(a.passed, {_LOWER_MEDIAN.format('p.passes')}) AS human_passed,
                       a.item_uid IS NOT NULL AS adjudicated,
                       coalesce(p.annotators, 0) AS annotators,
                       coalesce(a.critique, p.critique) AS critique
                FROM adjudicated a FULL JOIN pooled p ON p.item_uid = a.item_uid
                """,
                [pass_threshold, dataset_id],
            ).df()

    def run_stats(self, run_id: str) -> dict[str, Any]:
        """Counts, cost, tokens and latency of a run (latency over calls actually made, not cache hits)."""
        with self.db.connect() as con:
            row = con.execute(
                """
                SELECT count(*), count(DISTINCT item_uid), count(*) FILTER (WHERE score IS NULL),
                       sum(cost_usd), sum(input_tokens), sum(output_tokens), count(*) FILTER (WHERE cached),
                       quantile_cont(latency_ms, 0.5) FILTER (WHERE NOT cached),
                       quantile_cont(latency_ms, 0.95) FILTER (WHERE NOT cached)
                FROM verdicts WHERE run_id = ?
                """,
                [run_id],
            ).fetchone()
        keys = ("verdicts", "items", "failed_verdicts", "cost_usd", "input_tokens", "output_tokens", "cached",
                "latency_p50_ms", "latency_p95_ms")
        return dict(zip(keys, row))

    def disagreements(self, run_id: str, pass_threshold: int, *, limit: int = 200) -> pd.DataFrame:
        """Items where judge and human differ most, with the judge's reasoning beside the human critique."""
        run = self.report_run(run_id)
        judged = self.judge_item_scores(run_id, pass_threshold)
        humans = self.human_item_labels(run["dataset_id"], pass_threshold)
        both = humans.merge(judged, on="item_uid").dropna(subset=["human_score", "judge_score"])
        both["distance"] = (both["judge_score"] - both["human_score"]).abs()
        both = both[both["distance"] > 0].sort_values(["distance", "item_uid"], ascending=[False, True]).head(limit)
        with self.db.connect() as con:
            con.register("picked", both[["item_uid"]])
            texts = con.execute(
                """
                SELECT p.item_uid, i.item_id, i.input, i.output, i.reference,
                       (SELECT v.reasoning FROM verdicts v WHERE v.run_id = ? AND v.item_uid = p.item_uid
                          AND v.error IS NULL ORDER BY v.sample LIMIT 1) AS reasoning
                FROM picked p JOIN items i ON i.uid = p.item_uid
                """,
                [run_id],
            ).df()
            con.unregister("picked")
        columns = ["item_uid", "item_id", "human_score", "judge_score", "distance", "critique", "reasoning",
                   "input", "output", "reference"]
        return both.merge(texts, on="item_uid")[columns].reset_index(drop=True)

    def items_with_reference(self, dataset_id: int) -> list[str]:
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT di.item_uid FROM dataset_items di JOIN items i ON i.uid = di.item_uid "
                "WHERE di.dataset_id = ? AND coalesce(trim(i.reference), '') <> ''",
                [dataset_id],
            ).fetchall()
        return [uid for (uid,) in rows]

    def item_metadata_values(self, dataset_id: int, column: str) -> pd.DataFrame:
        """(item_uid, value) of one metadata column in a dataset version: the slices of a report."""
        with self.db.connect() as con:
            return con.execute(
                "SELECT item_uid, json_extract_string(metadata, ?) AS value FROM dataset_items WHERE dataset_id = ?",
                [f'$."{column}"', dataset_id],
            ).df()

    # -- baselines ------------------------------------------------------------------------------------
    def pin_baseline(self, spec_name: str, run_id: str) -> None:
        """Pin a run as the judge's baseline (append-only; the latest pin wins)."""
        with self.db.connect() as con:
            self.report_run(run_id)
            con.execute("INSERT INTO baselines (spec_name, run_id) VALUES (?, ?)", [spec_name, run_id])

    def baseline_run(self, spec_name: str) -> str | None:
        with self.db.connect() as con:
            row = con.execute(
                "SELECT run_id FROM baselines WHERE spec_name = ? ORDER BY id DESC LIMIT 1", [spec_name]
            ).fetchone()
        return row[0] if row else None

    # -- imported runs --------------------------------------------------------------------------------
    def add_imported_run(self, run: dict[str, Any], verdicts: pd.DataFrame) -> None:
        """Store scores produced elsewhere as one finished run (source = 'import'), atomically."""
        with self.db.connect() as con:
            con.execute(
                "INSERT INTO runs (id, name, dataset_id, spec_name, model, source, status, total_items, "
                "version_tag, started_at, finished_at) "
                "VALUES (?, ?, ?, ?, ?, 'import', 'done', ?, ?, current_timestamp, current_timestamp)",
                [run["id"], run["name"], run["dataset_id"], run["spec_name"], run.get("model"),
                 len(verdicts), run.get("version_tag")],
            )
            con.register("imported", verdicts)
            con.execute(
                "INSERT INTO verdicts (run_id, item_uid, sample, score, reasoning, error) "
                "SELECT ?, item_uid, 0, score, reasoning, error FROM imported",
                [run["id"]],
            )
            con.unregister("imported")
