"""Queries behind `judge.label_next`: what every judge run said about each item, and who labeled it."""

from __future__ import annotations

import pandas as pd


class SamplingQueries:
    def item_signals(self, dataset_id: int, criterion: str) -> pd.DataFrame:
        """One row per (item of the dataset version, run measured on `criterion` there): the run's item score
        (lower median of valid samples), pass share of its samples (a pass/fail verdict that stores its
        probability of a pass as weighted_score, a distilled judge's, counts as that share), spread of its
        sample scores and mean log-probability-weighted score; items without a verdict appear once with
        run_id NULL."""
        with self.db.connect() as con:
            return con.execute(
                """
                WITH per_run AS (
                    SELECT v.run_id, v.item_uid, quantile_disc(v.score, 0.5) AS judge_score,
                           avg(CASE WHEN r.source = 'distilled' AND v.score IS NULL AND v.weighted_score IS NOT NULL
                                    THEN v.weighted_score
                                    ELSE coalesce(v.passed, v.score >= coalesce(r.pass_threshold, 4))::INTEGER END
                           ) AS pass_share,
                           count(*) AS samples, max(v.score) - min(v.score) AS score_spread,
                           avg(v.weighted_score) FILTER (WHERE v.score IS NOT NULL) AS weighted_score,
                           coalesce(r.pass_threshold, 4) AS pass_threshold,
                           any_value(coalesce(r.source, '')) AS run_source
                    FROM verdicts v JOIN runs r ON r.id = v.run_id
                    WHERE r.dataset_id = ? AND r.criterion = ? AND v.error IS NULL
                      AND (v.score IS NOT NULL OR v.passed IS NOT NULL)
                    GROUP BY v.run_id, v.item_uid, r.pass_threshold
                )
                SELECT di.item_uid, i.item_id, di.position, p.run_id, p.judge_score, p.pass_share, p.samples,
                       p.score_spread, p.weighted_score, p.pass_threshold
                FROM dataset_items di JOIN items i ON i.uid = di.item_uid
                LEFT JOIN per_run p ON p.item_uid = di.item_uid
                WHERE di.dataset_id = ?
                ORDER BY di.position, p.run_id
                """,
                [dataset_id, criterion, dataset_id],
            ).df()

    def labeled_on_criterion(self, dataset_id: int, criterion_id: int,
                             kinds: tuple[str, ...] = ("label", "review")) -> set[str]:
        """Items of the dataset version that anyone has labeled or reviewed on the criterion (labels of
        `kinds` only)."""
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT DISTINCT l.item_uid FROM labels l JOIN dataset_items di ON di.item_uid = l.item_uid "
                "AND di.dataset_id = ? WHERE l.criterion_id = ? AND list_contains(?, l.kind)",
                [dataset_id, criterion_id, list(kinds)],
            ).fetchall()
        return {uid for (uid,) in rows}

    def set_task_design(self, task_id: int, design_key: str, shares: dict[str, float]) -> None:
        """Record the design a task's items were drawn under, and each item's share of it."""
        with self.db.connect() as con:
            con.execute("UPDATE tasks SET sample_design = ? WHERE id = ?", [design_key, task_id])
            con.executemany("UPDATE task_items SET sample_share = ? WHERE task_id = ? AND item_uid = ?",
                            [(share, task_id, uid) for uid, share in shares.items()])

    def task_item_design(self, task_id: int, item_uid: str) -> dict:
        """`add_grades` options for an item of a task drawn by a design ({} for a task without one)."""
        with self.db.connect() as con:
            row = con.execute(
                "SELECT t.sample_design, ti.sample_share FROM tasks t JOIN task_items ti ON ti.task_id = t.id "
                "WHERE t.id = ? AND ti.item_uid = ? AND t.sample_design IS NOT NULL", [task_id, item_uid]).fetchone()
        return {"sample_design": row[0], "sample_share": row[1]} if row else {}

    def review_label_count(self, dataset_id: int, criterion_id: int | None) -> int:
        """Current review labels (per item and annotator) on a criterion in a dataset version."""
        with self.db.connect() as con:
            return int(con.execute(
                "SELECT count(DISTINCT (l.item_uid, l.annotator_id)) FROM labels l JOIN dataset_items di "
                "ON di.item_uid = l.item_uid AND di.dataset_id = ? WHERE l.criterion_id = ? AND l.kind = 'review'",
                [dataset_id, criterion_id]).fetchone()[0])

    def design_label_count(self, design_key: str) -> int:
        """Items labeled so far under a sampling design: the sample size its inclusion probabilities use."""
        with self.db.connect() as con:
            return int(con.execute("SELECT count(DISTINCT item_uid) FROM labels WHERE sample_design = ?",
                                   [design_key]).fetchone()[0])

    def new_item_uids(self, dataset_id: int) -> set[str]:
        """Items of a dataset version that its previous version did not have (all of them for version 1)."""
        with self.db.connect() as con:
            rows = con.execute(
                """
                SELECT di.item_uid FROM dataset_items di JOIN datasets d ON d.id = di.dataset_id
                WHERE di.dataset_id = ? AND NOT EXISTS (
                    SELECT 1 FROM dataset_items prev JOIN datasets p ON p.id = prev.dataset_id
                    WHERE p.name = d.name AND p.version = d.version - 1 AND prev.item_uid = di.item_uid)
                """,
                [dataset_id],
            ).fetchall()
        return {uid for (uid,) in rows}
