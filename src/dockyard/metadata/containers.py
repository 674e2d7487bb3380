"""Container records in SQLite: what a container *is* (not what it is doing).

A record holds the container's identity (64-hex id, unique name), the image it was created
from (id and the name the user gave), its Docker ``Config`` and ``HostConfig`` as JSON, the
key of its writable snapshot and the OCI runtime that runs it. Live state (running, pid, exit
code) is never stored here: the container's shim keeps it in files in the state directory,
so it stays true when no engine process is running.

Must not import anything above L2.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from dockyard import errors
from dockyard.metadata.db import Database

__all__ = ["ContainerRecord", "ContainerRecords"]

MIGRATIONS = [
    """
    CREATE TABLE containers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        image_id TEXT NOT NULL,
        image TEXT NOT NULL,
        created TEXT NOT NULL,
        config TEXT NOT NULL,
        host_config TEXT NOT NULL,
        snapshot_key TEXT NOT NULL,
        runtime TEXT NOT NULL,
        extra TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX containers_image ON containers(image_id);
    """,
]


@dataclass
class ContainerRecord:
    """One container as created. ``name`` has no leading slash; ``extra`` is free-form
    JSON other services may extend (networks, mounts) without a migration."""

    id: str
    name: str
    image_id: str
    image: str
    created: str
    config: dict[str, Any]
    host_config: dict[str, Any]
    snapshot_key: str
    runtime: str
    extra: dict[str, Any] = field(default_factory=dict)


_COLUMNS = "id, name, image_id, image, created, config, host_config, snapshot_key, runtime, extra"


def _record(row: sqlite3.Row) -> ContainerRecord:
    return ContainerRecord(
        id=row["id"],
        name=row["name"],
        image_id=row["image_id"],
        image=row["image"],
        created=row["created"],
        config=json.loads(row["config"]),
        host_config=json.loads(row["host_config"]),
        snapshot_key=row["snapshot_key"],
        runtime=row["runtime"],
        extra=json.loads(row["extra"]),
    )


class ContainerRecords:
    """The ``containers`` table."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.migrate("containers", MIGRATIONS)
        # id -> (the row as read, its record): what ``all_shared`` parsed last time
        self._shared: dict[str, tuple[tuple[Any, ...], ContainerRecord]] = {}

    def put(self, record: ContainerRecord) -> None:
        """Insert *record*. Raises Conflict when its name is taken (Docker's message)."""
        with self._db.tx() as tx:
            row = tx.execute("SELECT id FROM containers WHERE name = ?", (record.name,)).fetchone()
            if row is not None:
                raise errors.Conflict(
                    f'Conflict. The container name "/{record.name}" is already in use by '
                    f'container "{row[0]}". You have to remove (or rename) that container to '
                    "be able to reuse that name."
                )
            tx.execute(
                "INSERT INTO containers (id, name, image_id, image, created, config, "
                "host_config, snapshot_key, runtime, extra) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    record.id,
                    record.name,
                    record.image_id,
                    record.image,
                    record.created,
                    json.dumps(record.config),
                    json.dumps(record.host_config),
                    record.snapshot_key,
                    record.runtime,
                    json.dumps(record.extra),
                ),
            )

    def get(self, container_id: str) -> ContainerRecord:
        """The record of full id *container_id*. Raises NotFound."""
        row = (
            self._db.read()
            .execute("SELECT * FROM containers WHERE id = ?", (container_id,))
            .fetchone()
        )
        if row is None:
            raise errors.NotFound(f"No such container: {container_id}")
        return _record(row)

    def by_name(self, name: str) -> ContainerRecord | None:
        """The record named *name* (without the slash), or None."""
        row = (
            self._db.read()
            .execute("SELECT * FROM containers WHERE name = ?", (name.lstrip("/"),))
            .fetchone()
        )
        return None if row is None else _record(row)

    def ids_with_prefix(self, prefix: str) -> list[str]:
        """Full ids starting with *prefix* (lowercase hex)."""
        rows = (
            self._db.read()
            .execute("SELECT id FROM containers WHERE id >= ? AND id < ?", (prefix, prefix + "g"))
            .fetchall()
        )
        return [str(r[0]) for r in rows]

    def all(self) -> list[ContainerRecord]:
        """Every record, newest first."""
        rows = (
            self._db.read()
            .execute("SELECT * FROM containers ORDER BY created DESC, rowid DESC")
            .fetchall()
        )
        return [_record(r) for r in rows]

    def all_shared(self) -> list[ContainerRecord]:
        """Every record, newest first, like ``all``, but a record whose row is unchanged since
        the last call is the same object as then (its JSON parsed once): for readers (``ps``)
        that never change what they get. Another process's changes show at once: every row is
        read and compared with the one the record was parsed from."""
        rows = (
            self._db.read()
            .execute(f"SELECT {_COLUMNS} FROM containers ORDER BY created DESC, rowid DESC")
            .fetchall()
        )
        seen = self._shared
        kept: dict[str, tuple[tuple[Any, ...], ContainerRecord]] = {}
        out = []
        for row in rows:
            raw = tuple(row)
            hit = seen.get(raw[0])
            if hit is None or hit[0] != raw:
                hit = (raw, _record(row))
            kept[raw[0]] = hit
            out.append(hit[1])
        self._shared = kept
        return out

    def names(self) -> set[str]:
        """Every name in use."""
        return {str(r[0]) for r in self._db.read().execute("SELECT name FROM containers")}

    def using_image(self, image_id: str) -> list[str]:
        """Ids of the containers created from *image_id*."""
        rows = (
            self._db.read()
            .execute("SELECT id FROM containers WHERE image_id = ?", (image_id,))
            .fetchall()
        )
        return [str(r[0]) for r in rows]

    def rename(self, container_id: str, name: str) -> None:
        """Give *container_id* a new name. Raises NotFound, Conflict (name taken)."""
        with self._db.tx() as tx:
            row = tx.execute("SELECT id FROM containers WHERE name = ?", (name,)).fetchone()
            if row is not None and row[0] != container_id:
                raise errors.Conflict(
                    f'Conflict. The container name "/{name}" is already in use by container '
                    f'"{row[0]}". You have to remove (or rename) that container to be able to '
                    "reuse that name."
                )
            cur = tx.execute("UPDATE containers SET name = ? WHERE id = ?", (name, container_id))
            if cur.rowcount == 0:
                raise errors.NotFound(f"No such container: {container_id}")

    def update_extra(self, container_id: str, extra: dict[str, Any]) -> None:
        """Replace the ``extra`` JSON of *container_id*. Raises NotFound."""
        with self._db.tx() as tx:
            cur = tx.execute(
                "UPDATE containers SET extra = ? WHERE id = ?", (json.dumps(extra), container_id)
            )
            if cur.rowcount == 0:
                raise errors.NotFound(f"No such container: {container_id}")

    def delete(self, container_id: str) -> None:
        """Forget *container_id* (a missing one is fine)."""
        with self._db.tx() as tx:
            tx.execute("DELETE FROM containers WHERE id = ?", (container_id,))
