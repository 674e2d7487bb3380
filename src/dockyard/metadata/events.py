"""The event log: what happened to containers, images, networks and volumes, in order.

Every process that changes state (the CLI, the daemon) appends here, in the same SQLite file,
so the daemon's ``/events`` stream shows a container started by ``dockyard run`` as well as
one started through the API. Readers poll by id (``since_id``); the log keeps the newest
``KEEP`` events.

Must not import anything above L2.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from dockyard.metadata.db import Database

__all__ = ["Event", "EventLog"]

KEEP = 1024

MIGRATIONS = [
    """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        time_nano INTEGER NOT NULL,
        type TEXT NOT NULL,
        action TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        attributes TEXT NOT NULL DEFAULT '{}'
    )
    """,
]


@dataclass(frozen=True)
class Event:
    id: int
    time_nano: int
    type: str  # container, image, network, volume, builder
    action: str  # create, start, die, destroy, pull, tag, untag, delete, ...
    actor_id: str
    attributes: dict[str, str] = field(default_factory=dict)

    def to_docker(self) -> dict[str, Any]:
        """The event as the Docker Engine API's ``/events`` stream sends it."""
        out: dict[str, Any] = {
            "Type": self.type,
            "Action": self.action,
            "Actor": {"ID": self.actor_id, "Attributes": dict(self.attributes)},
            "scope": "local",
            "time": self.time_nano // 1_000_000_000,
            "timeNano": self.time_nano,
        }
        if self.type in ("container", "image"):  # the legacy fields older clients read
            out["status"] = self.action
            out["id"] = self.actor_id
            if "image" in self.attributes:
                out["from"] = self.attributes["image"]
        return out


class EventLog:
    def __init__(self, db: Database) -> None:
        self._db = db
        db.migrate("events", MIGRATIONS)

    def emit(self, type: str, action: str, actor_id: str, attributes: dict[str, str] | None = None) -> None:
        """Append one event (and trim the log to the newest ``KEEP``)."""
        with self._db.tx() as tx:
            cur = tx.execute(
                "INSERT INTO events (time_nano, type, action, actor_id, attributes) VALUES (?,?,?,?,?)",
                (time.time_ns(), type, action, actor_id, json.dumps(attributes or {})),
            )
            newest = cur.lastrowid or 0
            if newest % 64 == 0:
                tx.execute("DELETE FROM events WHERE id <= ?", (newest - KEEP,))

    def since(self, since_id: int = 0, since_nano: int = 0, until_nano: int | None = None) -> list[Event]:
        """Events after *since_id* and at or after *since_nano* (and before *until_nano*)."""
        query = "SELECT * FROM events WHERE id > ? AND time_nano >= ?"
        params: list[Any] = [since_id, since_nano]
        if until_nano is not None:
            query += " AND time_nano <= ?"
            params.append(until_nano)
        rows = self._db.read().execute(query + " ORDER BY id", params).fetchall()
        return [
            Event(r["id"], r["time_nano"], r["type"], r["action"], r["actor_id"], json.loads(r["attributes"]))
            for r in rows
        ]

    def last_id(self) -> int:
        row = self._db.read().execute("SELECT MAX(id) FROM events").fetchone()
        return int(row[0] or 0)
