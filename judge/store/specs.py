"""Queries over judge specs (append-only versions of a JSON body) and items marked as few-shot examples."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from judge.errors import NotFound


class SpecQueries:
    def save_spec_body(self, name: str, body: dict[str, Any], body_hash: str) -> int:
        """Store a spec body (validated by judge.specs.save_spec) as a new version of its name; an identical
        body returns the current version."""
        with self.db.connect() as con:
            latest = con.execute(
                "SELECT version, body_hash FROM judge_specs WHERE name = ? ORDER BY version DESC LIMIT 1",
                [name],
            ).fetchone()
            if latest and latest[1] == body_hash:
                return latest[0]
            version = (latest[0] if latest else 0) + 1
            con.execute(
                "INSERT INTO judge_specs (name, version, body, body_hash) VALUES (?, ?, ?, ?)",
                [name, version, json.dumps(body, ensure_ascii=False), body_hash],
            )
            return version

    def spec_record(self, name: str, version: int | None = None) -> dict[str, Any]:
        """A saved spec version (latest by default) with its id, version, body and body_hash."""
        with self.db.connect() as con:
            row = con.execute(
                "SELECT id, name, version, body, body_hash, created_at FROM judge_specs "
                "WHERE name = ? AND (? IS NULL OR version = ?) ORDER BY version DESC LIMIT 1",
                [name, version, version],
            ).fetchone()
            if row is None:
                known = [n for (n,) in con.execute("SELECT DISTINCT name FROM judge_specs ORDER BY 1").fetchall()]
                raise NotFound(
                    f"No saved judge named '{name}'" + (f" with version {version}" if version else "")
                    + f". Saved judges: {', '.join(known) or 'none yet'}."
                )
        record = dict(zip(("id", "name", "version", "body", "body_hash", "created_at"), row))
        record["body"] = json.loads(record["body"])
        return record

    def spec_body(self, name: str, version: int | None = None) -> dict[str, Any]:
        return self.spec_record(name, version)["body"]

    def specs(self) -> pd.DataFrame:
        """The latest version of every saved spec."""
        with self.db.connect() as con:
            return con.execute(
                "SELECT name, version, body->>'kind' AS kind, body->>'model' AS model, created_at "
                "FROM judge_specs QUALIFY row_number() OVER (PARTITION BY name ORDER BY version DESC) = 1 "
                "ORDER BY name"
            ).df()

    def spec_history(self, name: str) -> pd.DataFrame:
        """Every version of a spec, newest first, with its body as JSON text (for diffs and restores)."""
        with self.db.connect() as con:
            return con.execute(
                "SELECT version, body->>'kind' AS kind, body->>'model' AS model, body_hash, created_at, "
                "CAST(body AS VARCHAR) AS body FROM judge_specs WHERE name = ? ORDER BY version DESC",
                [name],
            ).df()

    def mark_fewshot(self, spec_name: str, item_uid: str, active: bool = True) -> None:
        """Mark (or, with active=False, unmark) an item as a few-shot example for a judge; append-only."""
        with self.db.connect() as con:
            if con.execute("SELECT 1 FROM items WHERE uid = ?", [item_uid]).fetchone() is None:
                raise NotFound(f"No item with uid {item_uid}.")
            con.execute(
                "INSERT INTO fewshot_marks (spec_name, item_uid, active) VALUES (?, ?, ?)",
                [spec_name, item_uid, bool(active)],
            )

    def fewshot_items(self, spec_name: str) -> list[str]:
        """Items currently marked for a judge (their latest mark is active), in the order first marked."""
        with self.db.connect() as con:
            rows = con.execute(
                """
                SELECT item_uid FROM (
                    SELECT item_uid, active, min(id) OVER (PARTITION BY item_uid) AS first_id
                    FROM fewshot_marks WHERE spec_name = ?
                    QUALIFY row_number() OVER (PARTITION BY item_uid ORDER BY id DESC) = 1
                ) WHERE active ORDER BY first_id
                """,
                [spec_name],
            ).fetchall()
        return [uid for (uid,) in rows]
