"""Queries over team-labeling tasks, their items and their links (tokens are stored only as SHA-256 hashes)."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pandas as pd

from judge.errors import JudgeError, NotFound

_TASK_KEYS = ("id", "name", "dataset_id", "rubric_id", "instructions", "filter", "sample_size", "seed",
              "overlap", "due_date", "created_at", "closed_at", "criterion_ids")
_LINK_KEYS = ("id", "task_id", "annotator_id", "annotator", "created_at", "expires_at", "revoked_at")


class TaskQueries:
    # -- tasks ----------------------------------------------------------------------------------------
    def create_task(
        self,
        name: str,
        dataset_id: int,
        item_uids: list[str],
        *,
        rubric_id: int | None = None,
        instructions: str | None = None,
        filter: dict[str, Any] | None = None,
        sample_size: int | None = None,
        seed: int | None = None,
        overlap: int = 1,
        due_date: date | None = None,
        criterion_ids: list[int] | None = None,
    ) -> int:
        """A task, the criteria it grades and its ordered items, written in one transaction; returns its id."""
        if not item_uids:
            raise JudgeError("A task needs at least one item: widen the filter or the sample size.")
        with self.db.connect() as con:
            task_id = con.execute(
                "INSERT INTO tasks (name, dataset_id, rubric_id, instructions, filter, sample_size, seed, overlap, "
                "due_date, criterion_ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [name, dataset_id, rubric_id, instructions, json.dumps(filter) if filter else None, sample_size,
                 seed, overlap, due_date, json.dumps(list(criterion_ids or []))],
            ).fetchall()[0][0]
            con.executemany(
                "INSERT INTO task_items (task_id, item_uid, position) VALUES (?, ?, ?)",
                [(task_id, uid, position) for position, uid in enumerate(item_uids)],
            )
        return task_id

    def task(self, task_id: int) -> dict[str, Any]:
        with self.db.connect() as con:
            row = con.execute(f"SELECT {', '.join(_TASK_KEYS)} FROM tasks WHERE id = ?", [task_id]).fetchone()
        if row is None:
            raise NotFound(f"No labeling task with id {task_id} (see `judge task list`).")
        out = dict(zip(_TASK_KEYS, row))
        out["filter"] = json.loads(out["filter"]) if out["filter"] else {}
        out["criterion_ids"] = json.loads(out["criterion_ids"]) if out["criterion_ids"] else []
        return out

    def tasks(self) -> pd.DataFrame:
        """Every task with its dataset, size, overlap and how many labels it has gathered."""
        with self.db.connect() as con:
            return con.execute(
                """
                SELECT t.id, t.name, d.name AS dataset, d.version AS dataset_version, t.overlap, t.due_date,
                       (SELECT count(*) FROM task_items ti WHERE ti.task_id = t.id) AS items,
                       (SELECT count(*) FROM labels l WHERE l.task_id = t.id AND l.kind = 'label') AS labels,
                       t.created_at, t.closed_at
                FROM tasks t JOIN datasets d ON d.id = t.dataset_id
                ORDER BY t.id DESC
                """
            ).df()

    def close_task(self, task_id: int, when: datetime) -> None:
        """A closed task accepts no more labels from its links (the owner can still adjudicate)."""
        with self.db.connect() as con:
            self.task(task_id)
            con.execute("UPDATE tasks SET closed_at = coalesce(closed_at, ?) WHERE id = ?", [when, task_id])

    def task_items(self, task_id: int) -> pd.DataFrame:
        """The task's items in task order, with their content."""
        with self.db.connect() as con:
            return con.execute(
                """
                SELECT ti.position, i.uid, i.item_id, i.input, i.output, i.context, i.reference
                FROM task_items ti JOIN items i ON i.uid = ti.item_uid
                WHERE ti.task_id = ? ORDER BY ti.position
                """,
                [task_id],
            ).df()

    def task_has_item(self, task_id: int, item_uid: str) -> bool:
        with self.db.connect() as con:
            return con.execute(
                "SELECT 1 FROM task_items WHERE task_id = ? AND item_uid = ?", [task_id, item_uid]
            ).fetchone() is not None

    def annotator_queue(self, task_id: int, annotator: str, overlap: int) -> list[str]:
        """Item uids this annotator has not labeled yet in this task, in the order to ask for them.

        Items still short of `overlap` distinct annotators come first; within each group the order is a
        per-annotator shuffle (md5 of name and uid), stable across sessions and devices, that spreads
        annotators over different items so overlap fills evenly; a task a strategy chose keeps its order.
        """
        with self.db.connect() as con:
            rows = con.execute(
                """
                WITH done AS (
                    SELECT l.item_uid, count(DISTINCT l.annotator_id) AS annotators,
                           bool_or(a.name = ?) AS mine
                    FROM labels l JOIN annotators a ON a.id = l.annotator_id
                    WHERE l.task_id = ? AND l.kind = 'label'
                    GROUP BY l.item_uid
                )
                SELECT ti.item_uid
                FROM task_items ti LEFT JOIN done ON done.item_uid = ti.item_uid
                WHERE ti.task_id = ? AND NOT coalesce(done.mine, false)
                ORDER BY coalesce(done.annotators, 0) >= ?,
                         CASE WHEN ti.sample_share IS NOT NULL THEN ti.position END, md5(? || ti.item_uid)
                """,
                [annotator, task_id, task_id, overlap, annotator],
            ).fetchall()
        return [uid for (uid,) in rows]

    def task_labels(self, task_id: int, *, kind: str = "label", criterion_id: int | None = None) -> pd.DataFrame:
        """The current label of each (item, annotator, criterion) given in this task, in task order; one
        criterion's only with `criterion_id`. `passed` is the resolved pass/fail."""
        with self.db.connect() as con:
            return con.execute(
                """
                SELECT l.id AS label_id, l.item_uid, ti.position, a.name AS annotator, c.name AS criterion,
                       l.score, l.effective_passed AS passed, l.critique, l.source, l.created_at
                FROM labels l
                JOIN annotators a ON a.id = l.annotator_id
                JOIN criteria c ON c.id = l.criterion_id
                JOIN task_items ti ON ti.task_id = l.task_id AND ti.item_uid = l.item_uid
                WHERE l.task_id = ? AND l.kind = ? AND (?::INTEGER IS NULL OR l.criterion_id = ?)
                QUALIFY row_number() OVER (PARTITION BY l.item_uid, l.annotator_id, l.criterion_id
                                           ORDER BY l.id DESC) = 1
                ORDER BY ti.position, c.position, a.name
                """,
                [task_id, kind, criterion_id, criterion_id],
            ).df()

    def task_label_times(self, task_id: int) -> pd.DataFrame:
        """Every label row written in this task (edits included) with its time: what pace is measured on."""
        with self.db.connect() as con:
            return con.execute(
                "SELECT a.name AS annotator, l.item_uid, l.created_at FROM labels l "
                "JOIN annotators a ON a.id = l.annotator_id WHERE l.task_id = ? AND l.kind = 'label' "
                "ORDER BY l.id",
                [task_id],
            ).df()

    # -- links ----------------------------------------------------------------------------------------
    def add_link(self, task_id: int, token_hash: str, *, annotator_id: int | None, expires_at: datetime) -> int:
        with self.db.connect() as con:
            self.task(task_id)
            return con.execute(
                "INSERT INTO task_links (task_id, annotator_id, token_hash, expires_at) VALUES (?, ?, ?, ?) "
                "RETURNING id",
                [task_id, annotator_id, token_hash, expires_at],
            ).fetchone()[0]

    def link_by_hash(self, token_hash: str) -> dict[str, Any] | None:
        """The link whose token hashes to `token_hash`, revoked or expired ones included; None if none."""
        with self.db.connect() as con:
            row = con.execute(
                "SELECT k.id, k.task_id, k.annotator_id, a.name, k.created_at, k.expires_at, k.revoked_at "
                "FROM task_links k LEFT JOIN annotators a ON a.id = k.annotator_id WHERE k.token_hash = ?",
                [token_hash],
            ).fetchone()
        return dict(zip(_LINK_KEYS, row)) if row else None

    def revoke_link(self, link_id: int, when: datetime) -> None:
        with self.db.connect() as con:
            if con.execute("SELECT 1 FROM task_links WHERE id = ?", [link_id]).fetchone() is None:
                raise NotFound(f"No link with id {link_id} (see `judge link list`).")
            con.execute("UPDATE task_links SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", [when, link_id])

    def task_links(self, task_id: int | None = None) -> pd.DataFrame:
        """Links (never their tokens) with the annotator they belong to; annotator is empty for open links."""
        with self.db.connect() as con:
            return con.execute(
                """
                SELECT k.id, k.task_id, t.name AS task, coalesce(a.name, '') AS annotator,
                       k.annotator_id IS NULL AS open, k.created_at, k.expires_at, k.revoked_at,
                       (SELECT count(*) FROM labels l WHERE l.source = 'link:' || k.id) AS labels
                FROM task_links k JOIN tasks t ON t.id = k.task_id
                LEFT JOIN annotators a ON a.id = k.annotator_id
                WHERE (? IS NULL OR k.task_id = ?)
                ORDER BY k.id
                """,
                [task_id, task_id],
            ).df()

    def annotator_label_sources(self) -> dict[str, set[str]]:
        """Every annotator with the sources its labels came from (`link:<id>`, `ui`, `import`...; empty if none):
        an open link lets a name come back only if that link alone made it."""
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT a.name, list(DISTINCT l.source) FILTER (l.source IS NOT NULL) FROM annotators a "
                "LEFT JOIN labels l ON l.annotator_id = a.id GROUP BY a.name"
            ).fetchall()
        return {name: set(sources or ()) for name, sources in rows}

    def named_link_annotators(self) -> set[str]:
        """Names bound to a named link: an open link may not label under them."""
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT DISTINCT a.name FROM task_links k JOIN annotators a ON a.id = k.annotator_id"
            ).fetchall()
        return {name for (name,) in rows}
