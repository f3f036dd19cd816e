"""What the store holds at a glance, for the Settings page: row counts and the schema migrations applied."""

from __future__ import annotations

from typing import Any

# Shown name -> the SQL that counts it. Labels and runs count every row: both tables are append-only history.
_COUNTS = {
    "datasets": "SELECT count(DISTINCT name) FROM datasets",
    "dataset versions": "SELECT count(*) FROM datasets",
    "items": "SELECT count(*) FROM items",
    "labels": "SELECT count(*) FROM labels",
    "runs": "SELECT count(*) FROM runs",
    "verdicts": "SELECT count(*) FROM verdicts",
}


class InfoQueries:
    def store_counts(self) -> dict[str, int]:
        """Rows per kind of record, in one store visit."""
        with self.db.connect() as con:
            return {name: int(con.execute(sql).fetchone()[0]) for name, sql in _COUNTS.items()}

    def applied_migrations(self) -> list[dict[str, Any]]:
        """Every schema migration this file has seen, in the order it was applied."""
        with self.db.connect() as con:
            rows = con.execute("SELECT name, applied_at FROM schema_migrations ORDER BY applied_at, name").fetchall()
        return [{"name": name, "applied_at": applied_at} for name, applied_at in rows]
