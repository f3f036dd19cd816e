"""Queries over datasets, their versions and items."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd

from judge.errors import NotFound
from judge.store._db import register_frame

ITEM_FIELDS = ("input", "output", "context", "reference")
# Same output as json.dumps(..., ensure_ascii=False), without building an encoder per item.
_KEY_ENCODER = json.JSONEncoder(ensure_ascii=False)


def item_uid(dataset_name: str, item_id: str, input: Any, output: Any, context: Any, reference: Any) -> str:
    """Content address of an item: unchanged items keep their uid (and so their labels) across versions."""
    key = _KEY_ENCODER.encode([dataset_name, str(item_id), input, output, context, reference])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def _metadata_filter_sql(metadata: dict[str, Any] | None) -> tuple[str, list[Any]]:
    if not metadata:
        return "", []
    clauses, params = [], []
    for column, value in metadata.items():
        clauses.append("json_extract_string(di.metadata, ?) = ?")
        params.extend([f'$."{column}"', str(value)])
    return " AND " + " AND ".join(clauses), params


class DatasetQueries:
    def datasets(self) -> pd.DataFrame:
        """The latest version of every dataset, with its item and label counts."""
        with self.db.connect() as con:
            return con.execute(
                """
                WITH latest AS (
                    SELECT * FROM datasets
                    QUALIFY row_number() OVER (PARTITION BY name ORDER BY version DESC) = 1
                )
                SELECT l.id, l.name, l.version, l.row_count AS items, l.source_file, l.created_at,
                       (SELECT count(DISTINCT lb.item_uid) FROM labels lb
                          JOIN dataset_items di ON di.item_uid = lb.item_uid
                         WHERE di.dataset_id = l.id) AS labeled_items
                FROM latest l ORDER BY l.name
                """
            ).df()

    def dataset(self, name: str, version: int | None = None) -> dict[str, Any]:
        """One dataset version (the latest by default); NotFound lists the names that exist."""
        with self.db.connect() as con:
            row = con.execute(
                "SELECT id, name, version, source_file, content_hash, column_map, row_count, created_at "
                "FROM datasets WHERE name = ? AND (? IS NULL OR version = ?) ORDER BY version DESC LIMIT 1",
                [name, version, version],
            ).fetchone()
            if row is None:
                known = [n for (n,) in con.execute("SELECT DISTINCT name FROM datasets ORDER BY 1").fetchall()]
                raise NotFound(f"No dataset named '{name}'" + (f" with version {version}" if version else "")
                               + f". Known datasets: {', '.join(known) or 'none yet (run judge import)'}.")
        keys = ("id", "name", "version", "source_file", "content_hash", "column_map", "row_count", "created_at")
        out = dict(zip(keys, row))
        out["column_map"] = json.loads(out["column_map"]) if out["column_map"] else {}
        return out

    def dataset_by_id(self, dataset_id: int) -> dict[str, Any]:
        with self.db.connect() as con:
            row = con.execute("SELECT name, version FROM datasets WHERE id = ?", [dataset_id]).fetchone()
        if row is None:
            raise NotFound(f"No dataset with id {dataset_id}.")
        return self.dataset(row[0], row[1])

    def dataset_versions(self, name: str) -> pd.DataFrame:
        with self.db.connect() as con:
            return con.execute(
                "SELECT id, version, row_count AS items, source_file, content_hash, created_at "
                "FROM datasets WHERE name = ? ORDER BY version DESC",
                [name],
            ).df()

    def items(self, dataset_id: int, *, metadata: dict[str, Any] | None = None) -> pd.DataFrame:
        """Items of one dataset version in file order; `metadata` filters on metadata columns (equality)."""
        where, params = _metadata_filter_sql(metadata)
        with self.db.connect() as con:
            df = con.execute(
                f"""
                SELECT i.uid, i.item_id, di.position, i.input, i.output, i.context, i.reference, di.metadata
                FROM dataset_items di JOIN items i ON i.uid = di.item_uid
                WHERE di.dataset_id = ? {where}
                ORDER BY di.position
                """,
                [dataset_id, *params],
            ).df()
        df["metadata"] = [json.loads(m) if m else {} for m in df["metadata"]]
        return df

    def item(self, uid: str) -> dict[str, Any]:
        with self.db.connect() as con:
            row = con.execute(
                "SELECT i.uid, i.item_id, i.dataset_name, i.input, i.output, i.context, i.reference, "
                "(SELECT metadata FROM dataset_items WHERE item_uid = i.uid ORDER BY dataset_id DESC LIMIT 1) "
                "FROM items i WHERE i.uid = ?",
                [uid],
            ).fetchone()
        if row is None:
            raise NotFound(f"No item with uid {uid}.")
        keys = ("uid", "item_id", "dataset_name", "input", "output", "context", "reference", "metadata")
        out = dict(zip(keys, row))
        out["metadata"] = json.loads(out["metadata"]) if out["metadata"] else {}
        return out

    def metadata_columns(self, dataset_id: int) -> dict[str, list[str]]:
        """Each metadata column of a dataset version with its distinct values (for filters and slices)."""
        with self.db.connect() as con:
            rows = con.execute(
                """
                SELECT k.key, list(DISTINCT json_extract_string(di.metadata, '$."' || k.key || '"'))
                FROM dataset_items di, unnest(json_keys(di.metadata)) AS k(key)
                WHERE di.dataset_id = ?
                GROUP BY k.key ORDER BY k.key
                """,
                [dataset_id],
            ).fetchall()
        return {key: sorted(v for v in values if v is not None) for key, values in rows}

    def item_uids(self, dataset_id: int) -> dict[str, str]:
        """item id -> uid for one dataset version: how labels given elsewhere find their items."""
        with self.db.connect() as con:
            rows = con.execute(
                "SELECT i.item_id, i.uid FROM dataset_items di JOIN items i ON i.uid = di.item_uid "
                "WHERE di.dataset_id = ?",
                [dataset_id],
            ).fetchall()
        return dict(rows)

    def add_dataset_version(
        self,
        name: str,
        items: pd.DataFrame,
        *,
        content_hash: str,
        source_file: str | None = None,
        column_map: dict[str, Any] | None = None,
    ) -> tuple[int, int, bool]:
        """Store `items` as the next version of `name` in one bulk insert; returns (id, version, created).

        `items` has columns uid, item_id, input, output, context, reference, metadata (a JSON string), in
        file order. When the latest version already has `content_hash`, nothing is written (created=False).
        Items are content-addressed, so rows unchanged since an earlier version are shared, not copied.
        """
        frame = items[["uid", "item_id", *ITEM_FIELDS, "metadata"]].reset_index(drop=True)
        frame.insert(0, "position", range(len(frame)))
        with self.db.connect() as con:
            latest = con.execute(
                "SELECT id, version, content_hash FROM datasets WHERE name = ? ORDER BY version DESC LIMIT 1",
                [name],
            ).fetchone()
            if latest and latest[2] == content_hash:
                return latest[0], latest[1], False
            dataset_id, version = con.execute(
                "INSERT INTO datasets (name, version, source_file, content_hash, column_map, row_count) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING id, version",
                [name, (latest[1] if latest else 0) + 1, source_file, content_hash,
                 json.dumps(column_map or {}), len(frame)],
            ).fetchone()
            register_frame(con, "import_items", frame)
            try:
                con.execute(
                    "INSERT INTO items (uid, dataset_name, item_id, input, output, context, reference) "
                    "SELECT f.uid, ?, f.item_id, f.input, f.output, f.context, f.reference FROM import_items f "
                    "WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.uid = f.uid)",
                    [name],
                )
                con.execute(
                    "INSERT INTO dataset_items (dataset_id, item_uid, position, metadata) "
                    "SELECT ?, uid, position, metadata::JSON FROM import_items",
                    [dataset_id],
                )
            finally:
                con.unregister("import_items")
        return dataset_id, version, True
