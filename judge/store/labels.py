"""Queries over annotators, rubrics and labels. Labels are append-only: the latest row wins."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from judge.errors import JudgeError, NotFound
from judge.names import name_problem

LABEL_KINDS = ("label", "adjudication")


def validate_label(score: Any, passed: Any, critique: Any) -> tuple[int | None, bool | None, str | None]:
    """A label needs a 1-5 integer score or a pass/fail; returns them normalized."""
    if score is not None:
        if isinstance(score, bool) or not float(score).is_integer() or not 1 <= int(score) <= 5:
            raise JudgeError(f"A score must be an integer from 1 to 5, not {score!r}.")
        score = int(score)
    if passed is not None:
        passed = bool(passed)
    if score is None and passed is None:
        raise JudgeError("A label needs a 1-5 score or a pass/fail.")
    critique = (str(critique).strip() or None) if critique is not None else None
    return score, passed, critique


class LabelQueries:
    # -- annotators ---------------------------------------------------------------------------------
    def annotator_id(self, name: str, *, create: bool = True, email: str | None = None) -> int:
        """The id of the named annotator, created on first use."""
        name = (name or "").strip()
        if not name:
            raise JudgeError("An annotator needs a name.")
        with self.db.connect() as con:
            row = con.execute("SELECT id FROM annotators WHERE name = ?", [name]).fetchone()
            if row:
                return row[0]
            if not create:
                raise NotFound(f"No annotator named '{name}'.")
            problem = name_problem(name)
            if problem:
                raise JudgeError(f"Cannot add the annotator: {problem}.")
            return con.execute(
                "INSERT INTO annotators (name, email) VALUES (?, ?) RETURNING id", [name, email]
            ).fetchone()[0]

    def annotators(self) -> pd.DataFrame:
        with self.db.connect() as con:
            return con.execute(
                "SELECT a.id, a.name, a.email, count(l.id) AS labels, max(l.created_at) AS last_label_at "
                "FROM annotators a LEFT JOIN labels l ON l.annotator_id = a.id "
                "GROUP BY ALL ORDER BY a.name"
            ).df()

    # -- rubrics ------------------------------------------------------------------------------------
    def save_rubric(self, name: str, criteria: str, anchors: dict[str, str], pass_threshold: int = 4) -> int:
        """Store a new version of a rubric (never an edit in place); returns its id."""
        if sorted(str(k) for k in anchors) != ["1", "2", "3", "4", "5"]:
            raise JudgeError("A rubric needs an anchor description for each score 1 to 5.")
        if not 1 <= int(pass_threshold) <= 5:
            raise JudgeError("The pass threshold must be a score from 1 to 5.")
        anchors = {str(k): str(v) for k, v in anchors.items()}
        with self.db.connect() as con:
            latest = con.execute(
                "SELECT id, criteria, anchors, pass_threshold FROM rubrics WHERE name = ? "
                "ORDER BY version DESC LIMIT 1",
                [name],
            ).fetchone()
            if latest and (latest[1], json.loads(latest[2]), latest[3]) == (criteria, anchors, int(pass_threshold)):
                return latest[0]
            return con.execute(
                "INSERT INTO rubrics (name, version, criteria, anchors, pass_threshold) "
                "SELECT ?, coalesce(max(version), 0) + 1, ?, ?, ? FROM rubrics WHERE name = ? RETURNING id",
                [name, criteria, json.dumps(anchors), int(pass_threshold), name],
            ).fetchone()[0]

    def rubric(self, name: str | None = None, *, rubric_id: int | None = None) -> dict[str, Any]:
        """A rubric by id, or the latest version of a name."""
        with self.db.connect() as con:
            row = con.execute(
                "SELECT id, name, version, criteria, anchors, pass_threshold, created_at FROM rubrics "
                "WHERE (? IS NULL OR id = ?) AND (? IS NULL OR name = ?) ORDER BY version DESC LIMIT 1",
                [rubric_id, rubric_id, name, name],
            ).fetchone()
        if row is None:
            raise NotFound(f"No rubric {name or rubric_id!r}.")
        keys = ("id", "name", "version", "criteria", "anchors", "pass_threshold", "created_at")
        out = dict(zip(keys, row))
        out["anchors"] = json.loads(out["anchors"])
        return out

    def rubrics(self) -> pd.DataFrame:
        with self.db.connect() as con:
            return con.execute(
                "SELECT id, name, version, criteria, pass_threshold, created_at FROM rubrics "
                "QUALIFY row_number() OVER (PARTITION BY name ORDER BY version DESC) = 1 ORDER BY name"
            ).df()

    # -- labels -------------------------------------------------------------------------------------
    def add_label(
        self,
        item_uid: str,
        annotator: str,
        *,
        score: int | None = None,
        passed: bool | None = None,
        critique: str | None = None,
        rubric_id: int | None = None,
        task_id: int | None = None,
        source: str = "ui",
        kind: str = "label",
    ) -> int:
        """Append a label (an edit is a new row; the old one stays in history); returns its id."""
        score, passed, critique = validate_label(score, passed, critique)
        if kind not in LABEL_KINDS:
            raise JudgeError(f"A label kind is one of {LABEL_KINDS}, not {kind!r}.")
        with self.db.connect() as con:
            if con.execute("SELECT 1 FROM items WHERE uid = ?", [item_uid]).fetchone() is None:
                raise NotFound(f"No item with uid {item_uid}.")
            annotator_id = self.annotator_id(annotator)
            return con.execute(
                "INSERT INTO labels (item_uid, annotator_id, kind, score, passed, critique, rubric_id, task_id, source) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [item_uid, annotator_id, kind, score, passed, critique, rubric_id, task_id, source],
            ).fetchone()[0]

    def latest_labels(self, dataset_id: int, *, annotator: str | None = None, kind: str = "label") -> pd.DataFrame:
        """The current label of each (item, annotator) in a dataset version: the latest row wins."""
        with self.db.connect() as con:
            return con.execute(
                """
                SELECT l.id AS label_id, l.item_uid, a.name AS annotator, l.score, l.passed, l.critique,
                       l.rubric_id, l.task_id, l.source, l.created_at
                FROM labels l
                JOIN annotators a ON a.id = l.annotator_id
                JOIN dataset_items di ON di.item_uid = l.item_uid AND di.dataset_id = ?
                WHERE l.kind = ? AND (? IS NULL OR a.name = ?)
                QUALIFY row_number() OVER (PARTITION BY l.item_uid, l.annotator_id ORDER BY l.id DESC) = 1
                ORDER BY di.position, a.name
                """,
                [dataset_id, kind, annotator, annotator],
            ).df()

    def label_history(self, item_uid: str) -> pd.DataFrame:
        """Every label ever given on an item, newest first."""
        with self.db.connect() as con:
            return con.execute(
                "SELECT l.id AS label_id, a.name AS annotator, l.kind, l.score, l.passed, l.critique, "
                "l.rubric_id, l.source, l.created_at FROM labels l JOIN annotators a ON a.id = l.annotator_id "
                "WHERE l.item_uid = ? ORDER BY l.id DESC",
                [item_uid],
            ).df()

    def add_labels(self, labels: pd.DataFrame, *, source: str = "import") -> int:
        """Append many labels in one statement, creating annotators as needed; returns how many were added.

        `labels` has columns item_uid, annotator, score, passed, critique. The last row per (item, annotator)
        counts, and a label identical to that annotator's current one is skipped, so importing the same
        labels twice adds nothing.
        """
        frame = labels[["item_uid", "annotator", "score", "passed", "critique"]]
        frame = frame.drop_duplicates(["item_uid", "annotator"], keep="last").reset_index(drop=True)
        frame = frame.astype({"score": "Int8", "passed": "boolean"})
        if frame.empty:
            return 0
        problems = [problem for name in frame["annotator"].unique() if (problem := name_problem(name))]
        if problems:
            raise JudgeError(f"Cannot add the labels: {problems[0]}.")
        with self.db.connect() as con:
            con.register("import_labels", frame)
            try:
                con.execute(
                    "INSERT INTO annotators (name) SELECT DISTINCT annotator FROM import_labels f "
                    "WHERE NOT EXISTS (SELECT 1 FROM annotators a WHERE a.name = f.annotator)"
                )
                return con.execute(
                    """
                    INSERT INTO labels (item_uid, annotator_id, kind, score, passed, critique, source)
                    SELECT f.item_uid, a.id, 'label', f.score, f.passed, f.critique, ?
                    FROM import_labels f
                    JOIN annotators a ON a.name = f.annotator
                    LEFT JOIN (
                        SELECT item_uid, annotator_id, score, passed, critique FROM labels WHERE kind = 'label'
                        QUALIFY row_number() OVER (PARTITION BY item_uid, annotator_id ORDER BY id DESC) = 1
                    ) cur ON cur.item_uid = f.item_uid AND cur.annotator_id = a.id
                    WHERE cur.item_uid IS NULL OR cur.score IS DISTINCT FROM f.score
                       OR cur.passed IS DISTINCT FROM f.passed OR cur.critique IS DISTINCT FROM f.critique
                    """,
                    [source],
                ).fetchone()[0]
            finally:
                con.unregister("import_labels")
