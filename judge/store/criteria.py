"""Queries over criteria: what a dataset's labels grade, each with its scale and the rubric it is graded by."""

from __future__ import annotations

from typing import Any

from judge.criteria import Criterion, InvalidCriterion
from judge.errors import NotFound

_KEYS = ("id", "dataset_name", "name", "scale", "rubric_name", "position", "created_at")


class CriteriaQueries:
    def criteria_records(self, dataset_name: str) -> list[dict[str, Any]]:
        """The criteria of a dataset (by name, shared by its versions) in the order they were defined."""
        with self.db.connect() as con:
            rows = con.execute(
                f"SELECT {', '.join(_KEYS)} FROM criteria WHERE dataset_name = ? ORDER BY position, id",
                [dataset_name],
            ).fetchall()
        return [dict(zip(_KEYS, row)) for row in rows]

    def criteria(self, dataset_name: str) -> list[Criterion]:
        """The criteria of a dataset, each with the current version of its rubric."""
        with self.db.connect():
            return [self._criterion(record) for record in self.criteria_records(dataset_name)]

    def criterion(self, dataset_name: str, name: str | None = None) -> Criterion:
        """One criterion of a dataset by name; without a name, the dataset's only criterion.

        NotFound names the criteria that exist, so a caller can say which to pick.
        """
        with self.db.connect():
            records = self.criteria_records(dataset_name)
            if name is not None:
                match = [r for r in records if r["name"] == str(name).strip()]
                if not match:
                    known = ", ".join(r["name"] for r in records) or "none yet"
                    raise NotFound(f"Dataset '{dataset_name}' has no criterion '{name}'. Its criteria: {known}.")
                return self._criterion(match[0])
            if len(records) == 1:
                return self._criterion(records[0])
            if not records:
                raise NotFound(f"Dataset '{dataset_name}' has no criteria yet: import labels or define one "
                               "(judge criterion add).")
            raise NotFound(f"Dataset '{dataset_name}' has {len(records)} criteria "
                           f"({', '.join(r['name'] for r in records)}): name one (--criterion NAME).")

    def criterion_by_id(self, criterion_id: int) -> Criterion:
        with self.db.connect() as con:
            row = con.execute(f"SELECT {', '.join(_KEYS)} FROM criteria WHERE id = ?", [criterion_id]).fetchone()
            if row is None:
                raise NotFound(f"No criterion with id {criterion_id}.")
            return self._criterion(dict(zip(_KEYS, row)))

    def define_criterion(self, dataset_name: str, name: str, scale: str, *, rubric_name: str | None = None) -> int:
        """Add a criterion to a dataset (an existing one with the same scale is kept); returns its id.

        A criterion's scale never changes once defined: its labels were given on that scale. A rubric name
        given for a criterion that has none yet is attached to it.
        """
        with self.db.connect() as con:
            row = con.execute("SELECT id, scale, rubric_name FROM criteria WHERE dataset_name = ? AND name = ?",
                              [dataset_name, name]).fetchone()
            if row is not None:
                if row[1] != scale:
                    raise InvalidCriterion(
                        f"Criterion '{name}' of dataset '{dataset_name}' is graded {row[1]}, not {scale}: its "
                        "labels were given on that scale. Use another criterion name for a new scale.")
                if rubric_name and not row[2]:
                    con.execute("UPDATE criteria SET rubric_name = ? WHERE id = ?", [rubric_name, row[0]])
                return int(row[0])
            return con.execute(
                "INSERT INTO criteria (dataset_name, name, scale, rubric_name, position) "
                "SELECT ?, ?, ?, ?, coalesce(max(position) + 1, 0) FROM criteria WHERE dataset_name = ? "
                "RETURNING id",
                [dataset_name, name, scale, rubric_name, dataset_name],
            ).fetchall()[0][0]

    def _criterion(self, record: dict[str, Any]) -> Criterion:
        rubric: dict[str, Any] = {}
        if record["rubric_name"]:
            try:
                rubric = self.rubric(record["rubric_name"])
            except NotFound:
                rubric = {}
        return Criterion(name=record["name"], scale=record["scale"], dataset=record["dataset_name"],
                         id=int(record["id"]), rubric=rubric)
