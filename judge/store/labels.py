"""Queries over annotators, rubrics and labels. Labels are append-only: the latest row wins."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from judge.criteria import DEFAULT_CRITERION, SCALE_PASS_FAIL, SCALE_SCORE, Criterion, check_anchors
from judge.errors import JudgeError, NotFound
from judge.store._db import register_frame
from judge.names import name_problem

LABEL_KINDS = ("label", "adjudication", "review")  # review: given while seeing the judge's answer
_LABEL_COLUMNS = ("item_uid", "annotator", "criterion_id", "score", "passed", "effective_passed", "critique",
                  "rubric_id")

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
            ).fetchall()[0][0]

    def annotators(self) -> pd.DataFrame:
        with self.db.connect() as con:
            return con.execute(
                "SELECT a.id, a.name, a.email, count(l.id) AS labels, max(l.created_at) AS last_label_at "
                "FROM annotators a LEFT JOIN labels l ON l.annotator_id = a.id "
                "GROUP BY ALL ORDER BY a.name"
            ).df()

    # -- rubrics ------------------------------------------------------------------------------------
    def save_rubric(self, name: str, criteria: str, anchors: dict[str, str], pass_threshold: int = 4) -> int:
        """Store a new version of a rubric (never an edit in place); returns its id.

        Anchors describe each score 1-5, or 'pass' and 'fail' for a pass/fail criterion.
        """
        pass_fail = isinstance(anchors, dict) and {str(k).lower() for k in anchors} == {"pass", "fail"}
        anchors = check_anchors(anchors, SCALE_PASS_FAIL if pass_fail else SCALE_SCORE)
        if isinstance(pass_threshold, bool) or not 1 <= int(pass_threshold) <= 5:
            raise JudgeError("The pass threshold must be a score from 1 to 5.")
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
            ).fetchall()[0][0]

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
    def item_criterion(self, item_uid: str, criterion: str | None = None) -> Criterion:
        """The criterion a label on this item grades (by name; without one, the item's dataset's only one).

        A dataset without any criterion gets the default one ('overall', 1-5) on its first label.
        """
        with self.db.connect() as con:
            row = con.execute("SELECT dataset_name FROM items WHERE uid = ?", [item_uid]).fetchone()
            if row is None:
                raise NotFound(f"No item with uid {item_uid}.")
            if criterion is None and not self.criteria_records(row[0]):
                rubric = row[0] if con.execute("SELECT 1 FROM rubrics WHERE name = ?", [row[0]]).fetchone() else None
                self.define_criterion(row[0], DEFAULT_CRITERION, SCALE_SCORE, rubric_name=rubric)
            return self.criterion(row[0], criterion)

    def add_label(
        self,
        item_uid: str,
        annotator: str,
        *,
        score: Any = None,
        passed: Any = None,
        critique: Any = None,
        criterion: str | None = None,
        rubric_id: int | None = None,
        task_id: int | None = None,
        source: str = "ui",
        kind: str = "label",
    ) -> int:
        """Append one grade on one criterion (an edit is a new row; the old one stays); returns its id."""
        ids = self.add_grades(item_uid, annotator, {criterion: {"score": score, "passed": passed,
                                                                "critique": critique}},
                              rubric_ids={criterion: rubric_id} if rubric_id else None, task_id=task_id,
                              source=source, kind=kind)
        return ids[0]

    def add_grades(
        self,
        item_uid: str,
        annotator: str,
        grades: dict[str | None, dict[str, Any]],
        *,
        rubric_ids: dict[str | None, int] | None = None,
        task_id: int | None = None,
        source: str = "ui",
        kind: str = "label",
        sample_design: str | None = None,
        sample_share: float | None = None,
    ) -> list[int]:
        """Append one person's grades of one item on several criteria, all in one transaction.

        `grades` maps a criterion name (None: the dataset's only criterion) to {score, passed, critique}.
        Each is validated for its criterion's scale and its pass/fail resolved by the one rule
        (judge.criteria.resolve_pass) under the rubric version it is given under: `rubric_ids` names that
        version per criterion (a task's), else the criterion's current rubric. `sample_design` and
        `sample_share` record the design a strategy drew the item under (judge.label_next), so reports can
        weight it by its inclusion probability. Returns the label ids.
        """
        if kind not in LABEL_KINDS:
            raise JudgeError(f"A label kind is one of {LABEL_KINDS}, not {kind!r}.")
        if not grades:
            raise JudgeError("Nothing to save: give a grade for at least one criterion.")
        with self.db.connect() as con:
            rows = []
            for name, values in grades.items():
                criterion = self.item_criterion(item_uid, name)
                rubric_id = (rubric_ids or {}).get(name) or criterion.rubric_id
                if rubric_id and rubric_id != criterion.rubric_id:
                    criterion = Criterion(criterion.name, criterion.scale, criterion.dataset, criterion.id,
                                          rubric=self.rubric(rubric_id=rubric_id))
                grade = criterion.grade(values.get("score"), values.get("passed"), values.get("critique"))
                rows.append((criterion.id, grade, rubric_id))
            annotator_id = self.annotator_id(annotator)
            return [con.execute(
                "INSERT INTO labels (item_uid, annotator_id, kind, criterion_id, score, passed, effective_passed, "
                "critique, rubric_id, task_id, source, sample_design, sample_share) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [item_uid, annotator_id, kind, criterion_id, grade.score, grade.passed, grade.effective_passed,
                 grade.critique, rubric_id, task_id, source, sample_design, sample_share],
            ).fetchall()[0][0] for criterion_id, grade, rubric_id in rows]

    def latest_labels(self, dataset_id: int, *, annotator: str | None = None, kind: str = "label",
                      criterion: str | None = None) -> pd.DataFrame:
        """The current label of each (item, annotator, criterion) in a dataset version: the latest row wins.

        `criterion` keeps one criterion's labels (by name); `passed` is the resolved pass/fail.
        """
        with self.db.connect() as con:
            return con.execute(
                """
                SELECT l.id AS label_id, l.item_uid, a.name AS annotator, c.name AS criterion, l.score,
                       l.effective_passed AS passed, l.passed AS ticked, l.critique,
                       l.rubric_id, l.task_id, l.source, l.created_at
                FROM labels l
                JOIN annotators a ON a.id = l.annotator_id
                JOIN criteria c ON c.id = l.criterion_id
                JOIN dataset_items di ON di.item_uid = l.item_uid AND di.dataset_id = ?
                WHERE l.kind = ? AND (? IS NULL OR a.name = ?) AND (? IS NULL OR c.name = ?)
                QUALIFY row_number() OVER (PARTITION BY l.item_uid, l.annotator_id, l.criterion_id
                                           ORDER BY l.id DESC) = 1
                ORDER BY di.position, c.position, a.name
                """,
                [dataset_id, kind, annotator, annotator, criterion, criterion],
            ).df()

    def label_history(self, item_uid: str) -> pd.DataFrame:
        """Every label ever given on an item, newest first, with its criterion."""
        with self.db.connect() as con:
            return con.execute(
                "SELECT l.id AS label_id, a.name AS annotator, c.name AS criterion, l.kind, l.score, "
                "l.effective_passed AS passed, l.critique, l.rubric_id, l.source, l.created_at FROM labels l "
                "JOIN annotators a ON a.id = l.annotator_id LEFT JOIN criteria c ON c.id = l.criterion_id "
                "WHERE l.item_uid = ? ORDER BY l.id DESC",
                [item_uid],
            ).df()

    def add_labels(self, labels: pd.DataFrame, *, source: str = "import") -> int:
        """Append many labels in one statement, creating annotators as needed; returns how many were added.

        `labels` has columns item_uid, annotator, criterion_id, score, passed, effective_passed, critique,
        rubric_id (resolved by the caller with judge.criteria). The last row per (item, annotator, criterion)
        counts, and a label identical to that annotator's current one is skipped, so importing the same
        labels twice adds nothing.
        """
        frame = labels[list(_LABEL_COLUMNS)]
        frame = frame.drop_duplicates(["item_uid", "annotator", "criterion_id"], keep="last").reset_index(drop=True)
        frame = frame.astype({"score": "Int8", "passed": "boolean", "effective_passed": "boolean",
                              "criterion_id": "Int32", "rubric_id": "Int32"})
        if frame.empty:
            return 0
        problems = [problem for name in frame["annotator"].unique() if (problem := name_problem(name))]
        if problems:
            raise JudgeError(f"Cannot add the labels: {problems[0]}.")
        with self.db.connect() as con:
            register_frame(con, "import_labels", frame)
            try:
                con.execute(
                    "INSERT INTO annotators (name) SELECT DISTINCT annotator FROM import_labels f "
                    "WHERE NOT EXISTS (SELECT 1 FROM annotators a WHERE a.name = f.annotator)"
                )
                return con.execute(
                    """
                    INSERT INTO labels (item_uid, annotator_id, kind, criterion_id, score, passed, effective_passed,
                                        critique, rubric_id, source)
                    SELECT f.item_uid, a.id, 'label', f.criterion_id, f.score, f.passed, f.effective_passed,
                           f.critique, f.rubric_id, ?
                    FROM import_labels f
                    JOIN annotators a ON a.name = f.annotator
                    LEFT JOIN (
                        SELECT item_uid, annotator_id, criterion_id, score, passed, critique FROM labels
                        WHERE kind = 'label'
                        QUALIFY row_number() OVER (PARTITION BY item_uid, annotator_id, criterion_id
                                                   ORDER BY id DESC) = 1
                    ) cur ON cur.item_uid = f.item_uid AND cur.annotator_id = a.id
                         AND cur.criterion_id = f.criterion_id
                    WHERE cur.item_uid IS NULL OR cur.score IS DISTINCT FROM f.score
                       OR cur.passed IS DISTINCT FROM f.passed OR cur.critique IS DISTINCT FROM f.critique
                    """,
                    [source],
                ).fetchone()[0]
            finally:
                con.unregister("import_labels")
