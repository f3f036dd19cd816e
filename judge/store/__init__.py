"""`judge.store` owns DuckDB: the schema, its migrations and every query. Nothing else runs SQL.

`Store` is assembled from one query module per concern so each stays short; all of them go through
`Database.connect()`, which takes turns on the file (see `_db.py`). Callers outside the store group calls into
one unit of work with `Store.transaction()`.
"""

from __future__ import annotations

import os
from pathlib import Path

from contextlib import contextmanager
from typing import Iterator

from judge.config import db_path
from judge.store._db import Database
from judge.store.batches import BatchQueries
from judge.store.criteria import CriteriaQueries
from judge.store.datasets import DatasetQueries
from judge.store.funnels import FunnelQueries
from judge.store.info import InfoQueries
from judge.store.labels import LabelQueries
from judge.store.pairs import PairQueries
from judge.store.reports import ReportQueries
from judge.store.runs import RunQueries
from judge.store.sampling import SamplingQueries
from judge.store.schema import MIGRATIONS
from judge.store.specs import SpecQueries
from judge.store.tasks import TaskQueries


class Store(DatasetQueries, CriteriaQueries, LabelQueries, TaskQueries, SpecQueries, ReportQueries, RunQueries,
            InfoQueries, BatchQueries, PairQueries, SamplingQueries, FunnelQueries):
    """The one DuckDB file behind the dashboard, the CLI and the Python API."""

    def __init__(self, path: str | os.PathLike | None = None, *, timeout: float = 120.0):
        self.path: Path = db_path(path)
        self.db = Database(self.path, timeout=timeout)
        self.migrate()

    @contextmanager
    def transaction(self) -> Iterator["Store"]:
        """One unit of work: every store call inside runs in one transaction, on one turn at the file.

        Writes inside commit together or not at all; reads inside see one consistent state. Nested uses
        join the outer one.
        """
        with self.db.connect():
            yield self

    def migrate(self) -> list[str]:
        """Apply the migrations this file has not seen yet, in order; returns their names."""
        with self.db.connect() as con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "name VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
            )
            done = {name for (name,) in con.execute("SELECT name FROM schema_migrations").fetchall()}
            applied = []
            for name, sql in MIGRATIONS:
                if name in done:
                    continue
                con.execute(sql)
                con.execute("INSERT INTO schema_migrations (name) VALUES (?)", [name])
                applied.append(name)
            return applied

    def tables(self) -> dict[str, list[str]]:
        """Every table with its columns in order: what the schema test pins down."""
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
            ).fetchall()
        tables: dict[str, list[str]] = {}
        for table, column in rows:
            tables.setdefault(table, []).append(column)
        return tables


__all__ = ["Store"]
