"""Volume records in the engine's SQLite database (component ``volumes``).

One row per volume (name, driver, labels and options as JSON, creation time, whether it is
anonymous, mountpoint) and one per (volume, ref) while a container has the volume mounted,
so several processes (CLI, daemon, shims) agree on when a volume with options can be
unmounted. Imports only the standard library, ``dockyard.errors``, ``dockyard.metadata``
and the package's model.
"""

from __future__ import annotations

import json
import sqlite3

from dockyard import errors
from dockyard.metadata.db import Database
from dockyard.volume.model import VolumeRecord

__all__ = ["SqliteVolumeRecords"]

MIGRATIONS = [
    """
    CREATE TABLE volumes (
        name TEXT PRIMARY KEY,
        driver TEXT NOT NULL,
        labels TEXT NOT NULL,
        options TEXT NOT NULL,
        created TEXT NOT NULL,
        anonymous INTEGER NOT NULL,
        mountpoint TEXT NOT NULL
    );
    CREATE TABLE volume_refs (
        name TEXT NOT NULL REFERENCES volumes(name) ON DELETE CASCADE,
        ref TEXT NOT NULL,
        PRIMARY KEY (name, ref)
    )
    """,
]


def _record(row: sqlite3.Row) -> VolumeRecord:
    return VolumeRecord(
        name=row["name"], mountpoint=row["mountpoint"], created=row["created"],
        driver=row["driver"], labels=json.loads(row["labels"]),
        options=json.loads(row["options"]), anonymous=bool(row["anonymous"]),
    )  # fmt: skip


class SqliteVolumeRecords:
    """The ``VolumeRecords`` role over :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.migrate("volumes", MIGRATIONS)

    def add(self, record: VolumeRecord) -> tuple[VolumeRecord, bool]:
        with self._db.tx() as tx:
            row = tx.execute("SELECT * FROM volumes WHERE name = ?", (record.name,)).fetchone()
            if row is not None:
                return _record(row), False
            tx.execute(
                "INSERT INTO volumes (name, driver, labels, options, created, anonymous, "
                "mountpoint) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (record.name, record.driver, json.dumps(record.labels),
                 json.dumps(record.options), record.created, int(record.anonymous),
                 record.mountpoint),
            )  # fmt: skip
        return record, True

    def find(self, name: str) -> VolumeRecord | None:
        row = self._db.read().execute("SELECT * FROM volumes WHERE name = ?", (name,)).fetchone()
        return None if row is None else _record(row)

    def get(self, name: str) -> VolumeRecord:
        record = self.find(name)
        if record is None:
            raise errors.NotFound(f"get {name}: no such volume")
        return record

    def all(self) -> list[VolumeRecord]:
        rows = self._db.read().execute("SELECT * FROM volumes ORDER BY name").fetchall()
        return [_record(r) for r in rows]

    def delete(self, name: str) -> bool:
        with self._db.tx() as tx:
            return tx.execute("DELETE FROM volumes WHERE name = ?", (name,)).rowcount > 0

    def add_ref(self, name: str, ref: str) -> int:
        with self._db.tx() as tx:
            tx.execute("INSERT OR IGNORE INTO volume_refs (name, ref) VALUES (?, ?)", (name, ref))
            return int(tx.execute("SELECT COUNT(*) FROM volume_refs WHERE name = ?",
                                  (name,)).fetchone()[0])  # fmt: skip

    def remove_ref(self, name: str, ref: str) -> int:
        with self._db.tx() as tx:
            tx.execute("DELETE FROM volume_refs WHERE name = ? AND ref = ?", (name, ref))
            return int(tx.execute("SELECT COUNT(*) FROM volume_refs WHERE name = ?",
                                  (name,)).fetchone()[0])  # fmt: skip

    def refs(self, name: str) -> list[str]:
        rows = self._db.read().execute(
            "SELECT ref FROM volume_refs WHERE name = ? ORDER BY ref", (name,)
        ).fetchall()
        return [r[0] for r in rows]

    def names_for_ref(self, ref: str) -> list[str]:
        rows = self._db.read().execute(
            "SELECT name FROM volume_refs WHERE ref = ? ORDER BY name", (ref,)
        ).fetchall()
        return [r[0] for r in rows]
