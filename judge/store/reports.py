"""Queries behind agreement reports: per-item human and judge labels, run statistics, baselines, imported runs.

Which labels count (the rule `judge.reports` documents), always within ONE criterion:
- each annotator's latest label on that criterion; the item's human score is the lower median of those
  scores (with an even count, the lower of the two middle scores: the stricter reading), and its pass/fail
  the majority of the annotators' pass/fail (a tie fails). An annotator's pass/fail is the one resolved when
  the label was written (labels.effective_passed, see judge.criteria): never re-derived from a judge.
- an adjudication (labels.kind = 'adjudication', latest wins) overrides that for every field it sets.
- a judge's item score with several samples is the lower median of its valid samples, the same rule; its
  pass/fail is score >= the pass threshold the run recorded when it started.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

import pandas as pd

from judge.errors import NotFound
from judge.store._db import register_frame

# Parameters: dataset id, criterion id, rubric id (twice), whether review labels count (judge-first review:
# given while seeing the judge's answer, so left out of agreement by default; included, they count as labels). quantile_disc(x, 0.5) is the lower median;
# pass/fail is a pass only when passes outnumber failures. arg_max_null keeps a latest label's NULL fields
# NULL. An item's sample design and share are those of the first label drawn under a design (label-next). With a rubric id, labels given under another version of the rubric are left out (a label with no
# recorded version counts).
_HUMANS = """
WITH latest AS (
    SELECT l.item_uid, l.annotator_id, CASE WHEN l.kind = 'review' THEN 'label' ELSE l.kind END AS kind,
           max(l.id) AS id, arg_max_null(l.score, l.id) AS score,
           arg_max_null(l.effective_passed, l.id) AS passed,
           min(l.id) FILTER (WHERE l.sample_design IS NOT NULL) AS design_label_id,
           arg_min(l.sample_design, l.id) FILTER (WHERE l.sample_design IS NOT NULL) AS sample_design,
           arg_min(l.sample_share, l.id) FILTER (WHERE l.sample_design IS NOT NULL) AS sample_share
    FROM labels l JOIN dataset_items di ON di.item_uid = l.item_uid AND di.dataset_id = ?
    WHERE l.criterion_id = ? AND (?::INTEGER IS NULL OR l.rubric_id IS NULL OR l.rubric_id = ?)
      AND (l.kind <> 'review' OR ?::BOOLEAN)
    GROUP BY l.item_uid, l.annotator_id, 3
), humans AS (
    SELECT item_uid,
           coalesce(arg_max_null(score, id) FILTER (WHERE kind = 'adjudication'),
                    quantile_disc(score, 0.5) FILTER (WHERE kind = 'label'))::INTEGER AS human_score,
           coalesce(arg_max_null(passed, id) FILTER (WHERE kind = 'adjudication'),
                    CASE WHEN count(passed) FILTER (WHERE kind = 'label') > 0
                         THEN count_if(passed AND kind = 'label') > count_if(NOT passed AND kind = 'label') END
           ) AS human_passed,
           count_if(kind = 'adjudication') > 0 AS adjudicated,
           count_if(kind = 'label') AS annotators,
           arg_min(sample_design, design_label_id) AS sample_design,
           arg_min(sample_share, design_label_id) AS sample_share
    FROM latest GROUP BY item_uid
)"""

# Parameters: pass threshold, run id. Failed calls (error set, no verdict) are not verdicts on the item; a
# pass/fail judge's verdict has no score.
_JUDGED = """
WITH judged AS (
    SELECT item_uid, quantile_disc(score, 0.5)::INTEGER AS judge_score,
           count_if(ok) > count_if(NOT ok) AS judge_passed
    FROM (SELECT item_uid, score, coalesce(passed, score >= ?) AS ok FROM verdicts
          WHERE run_id = ? AND error IS NULL AND (score IS NOT NULL OR passed IS NOT NULL))
    GROUP BY item_uid
)"""


class ReportQueries:
    # -- runs -----------------------------------------------------------------------------------------
    def report_run(self, run_id: str) -> dict[str, Any]:
        """The run as recorded when it started: its dataset, the exact spec body it ran with, the criterion
        it is measured on (with its id and scale) and the pass threshold. Never the current spec."""
        with self.db.connect() as con:
            row = con.execute(
                """
                SELECT r.id, r.name, r.dataset_id, d.name, d.version, r.spec_name, r.model, r.samples,
                       r.version_tag, r.source, r.status, r.created_at, r.finished_at, r.spec_body, s.version,
                       r.criterion, c.id, c.scale, coalesce(r.pass_threshold, 4), r.rubric_id, rb.version
                FROM runs r
                JOIN datasets d ON d.id = r.dataset_id
                LEFT JOIN judge_specs s ON s.id = r.spec_id
                LEFT JOIN criteria c ON c.dataset_name = d.name AND c.name = r.criterion
                LEFT JOIN rubrics rb ON rb.id = r.rubric_id
                WHERE r.id = ?
                """,
                [run_id],
            ).fetchone()
            if row is None:
                recent = [r for (r,) in con.execute("SELECT id FROM runs ORDER BY created_at DESC LIMIT 5").fetchall()]
                raise NotFound(f"No run '{run_id}'. Recent runs: {', '.join(recent) or 'none yet (judge run)'}.")
        keys = ("id", "name", "dataset_id", "dataset", "dataset_version", "spec_name", "model", "samples",
                "version_tag", "source", "status", "created_at", "finished_at", "spec", "spec_version",
                "criterion", "criterion_id", "scale", "pass_threshold", "rubric_id", "rubric_version")
        out = dict(zip(keys, row))
        out["spec"] = json.loads(out["spec"]) if out["spec"] else {}
        return out

    def spec_runs(self, spec_name: str, criterion: str | None = None) -> pd.DataFrame:
        """Every finished-or-running run of a judge, oldest first, with its spec version and app version tag.

        The app version is runs.version_tag, else the most common `app_version` in its items' metadata.
        `criterion` keeps the runs measured on that criterion.
        """
        with self.db.connect() as con:
            return con.execute(
                """
                SELECT r.id, r.name, r.dataset_id, d.name AS dataset, d.version AS dataset_version,
                       r.criterion, r.model, s.version AS spec_version, r.status, r.source, r.created_at,
                       coalesce(r.version_tag, (
                           SELECT mode(json_extract_string(di.metadata, '$.app_version'))
                           FROM dataset_items di WHERE di.dataset_id = r.dataset_id)) AS version_tag
                FROM runs r
                JOIN datasets d ON d.id = r.dataset_id
                LEFT JOIN judge_specs s ON s.id = r.spec_id
                WHERE r.spec_name = ? AND (?::VARCHAR IS NULL OR r.criterion = ?)
                ORDER BY r.created_at, r.id
                """,
                [spec_name, criterion, criterion],
            ).df()

    def other_rubric_labels(self, dataset_id: int, criterion_id: int | None, rubric_id: int | None) -> int:
        """How many current labels on the criterion were given under another version of its rubric than
        `rubric_id`: what a report leaves out, and says so."""
        if rubric_id is None:
            return 0
        with self.db.connect() as con:
            return int(con.execute(
                """
                SELECT count(*) FROM (
                    SELECT arg_max(l.rubric_id, l.id) AS rubric_id FROM labels l
                    JOIN dataset_items di ON di.item_uid = l.item_uid AND di.dataset_id = ?
                    WHERE l.criterion_id = ? GROUP BY l.item_uid, l.annotator_id, l.kind)
                WHERE rubric_id IS NOT NULL AND rubric_id <> ?
                """,
                [dataset_id, criterion_id, rubric_id],
            ).fetchall()[0][0])

    def judge_item_scores(self, run_id: str, pass_threshold: int) -> pd.DataFrame:
        """One row per judged item: the judge's score and pass/fail (lower median over valid samples)."""
        with self.db.connect() as con:
            return con.execute(f"{_JUDGED} SELECT * FROM judged", [pass_threshold, run_id]).df()

    def judge_summary(self, run_id: str, pass_threshold: int, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
        """What a run's pass rate and mean score need: items per judge score 1-5, items judged and passed.
        Items in `exclude` (the judge's few-shot examples) are left out: the judge was shown their answers."""
        with self.db.connect() as con:
            rows = con.execute(
                f"{_JUDGED} SELECT judge_score, count(*), count_if(judge_passed), count(judge_passed) "
                "FROM judged WHERE item_uid NOT IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL",
                [pass_threshold, run_id, list(exclude)],
            ).fetchall()
        counts = [0] * 5
        for score, n, _, _ in rows:
            if score is not None:
                counts[int(score) - 1] += n
        return {"score_counts": counts, "judged": sum(r[3] for r in rows), "passed": sum(r[2] for r in rows)}

    def human_item_labels(self, dataset_id: int, criterion_id: int | None, *,
                          rubric_id: int | None = None, include_review: bool = False) -> pd.DataFrame:
        """One row per item of a dataset version labeled on a criterion: the human score and pass/fail
        (with `rubric_id`, from labels given under that rubric version only)."""
        with self.db.connect() as con:
            return con.execute(f"{_HUMANS} SELECT * FROM humans",
                               [dataset_id, criterion_id, rubric_id, rubric_id, include_review]).df()

    def paired_item_labels(self, run_id: str, dataset_id: int, criterion_id: int | None,
                           pass_threshold: int, *, rubric_id: int | None = None,
                           include_review: bool = False) -> pd.DataFrame:
        """Items both labeled on the criterion and judged: human and judge score and pass/fail, and whether
        the item has a reference (with `rubric_id`, labels under that rubric version only)."""
        with self.db.connect() as con:
            return con.execute(
                f"""
                {_HUMANS}, {_JUDGED.strip()[len("WITH "):]}
                SELECT h.*, j.judge_score, j.judge_passed, coalesce(trim(i.reference), '') <> '' AS has_reference
                FROM humans h JOIN judged j ON j.item_uid = h.item_uid JOIN items i ON i.uid = h.item_uid
                """,
                [dataset_id, criterion_id, rubric_id, rubric_id, include_review, pass_threshold, run_id],
            ).df()

    def run_stats(self, run_id: str) -> dict[str, Any]:
        """Counts, cost, tokens and latency of a run (latency over calls actually made, not cache hits)."""
        with self.db.connect() as con:
            row = con.execute(
                """
                SELECT count(*), count(DISTINCT item_uid),
                       count(*) FILTER (WHERE error IS NOT NULL OR (score IS NULL AND passed IS NULL)),
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

    def disagreements(self, run_id: str, dataset_id: int, criterion_id: int | None, pass_threshold: int, *,
                      limit: int = 200, rubric_id: int | None = None) -> pd.DataFrame:
        """Items where judge and human differ (pass/fail first, then by score distance), with the judge's
        reasoning beside the human critique on that criterion."""
        with self.db.connect() as con:
            return con.execute(
                f"""
                {_HUMANS}, {_JUDGED.strip()[len("WITH "):]}
                SELECT h.item_uid, i.item_id, h.human_score, j.judge_score, h.human_passed, j.judge_passed,
                       abs(j.judge_score - h.human_score) AS distance,
                       (SELECT l.critique FROM labels l WHERE l.item_uid = h.item_uid AND l.critique IS NOT NULL
                          AND l.criterion_id = ?
                        ORDER BY l.kind = 'adjudication' DESC, l.id DESC LIMIT 1) AS critique,
                       (SELECT v.reasoning FROM verdicts v WHERE v.run_id = ? AND v.item_uid = h.item_uid
                          AND v.error IS NULL ORDER BY v.sample LIMIT 1) AS reasoning,
                       i.input, i.output, i.reference
                FROM humans h JOIN judged j ON j.item_uid = h.item_uid JOIN items i ON i.uid = h.item_uid
                WHERE coalesce(h.human_score <> j.judge_score, false)
                   OR coalesce(h.human_passed <> j.judge_passed, false)
                ORDER BY coalesce(h.human_passed <> j.judge_passed, false) DESC, distance DESC NULLS LAST,
                         h.item_uid
                LIMIT ?
                """,
                [dataset_id, criterion_id, rubric_id, rubric_id, False, pass_threshold, run_id, criterion_id, run_id,
                 limit],
            ).df()

    def annotator_labels(self, dataset_id: int, criterion_id: int | None, *,
                         rubric_id: int | None = None) -> pd.DataFrame:
        """Each annotator's latest label (kind 'label') per item on one criterion (none for None), with
        `rubric_id` those given under that rubric version (or none recorded): what inter-annotator agreement
        is measured on. `passed` is the resolved pass/fail."""
        with self.db.connect() as con:
            return con.execute(
                """
                SELECT l.item_uid, a.name AS annotator, c.name AS criterion, arg_max_null(l.score, l.id) AS score,
                       arg_max_null(l.effective_passed, l.id) AS passed
                FROM labels l
                JOIN dataset_items di ON di.item_uid = l.item_uid AND di.dataset_id = ?
                JOIN annotators a ON a.id = l.annotator_id
                JOIN criteria c ON c.id = l.criterion_id
                WHERE l.kind = 'label' AND l.criterion_id = ?
                  AND (?::INTEGER IS NULL OR l.rubric_id IS NULL OR l.rubric_id = ?)
                GROUP BY l.item_uid, a.name, c.name
                """,
                [dataset_id, criterion_id, rubric_id, rubric_id],
            ).df()

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
            register_frame(con, "imported", verdicts)
            con.execute(
                "INSERT INTO runs (id, name, dataset_id, spec_name, model, source, status, total_items, "
                "version_tag, criterion, pass_threshold, rubric_id, started_at, finished_at) "
                "VALUES (?, ?, ?, ?, ?, 'import', 'done', ?, ?, ?, ?, ?, current_timestamp, current_timestamp)",
                [run["id"], run["name"], run["dataset_id"], run["spec_name"], run.get("model"),
                 len(verdicts), run.get("version_tag"), run.get("criterion"), run.get("pass_threshold", 4),
                 run.get("rubric_id")],
            )
            con.execute(
                "INSERT INTO verdicts (run_id, item_uid, sample, score, reasoning, error) "
                "SELECT ?, item_uid, 0, score, reasoning, error FROM imported",
                [run["id"]],
            )
            con.unregister("imported")
