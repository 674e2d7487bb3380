"""SQLite state (WAL mode) with per-component, versioned migrations.

Each store that keeps records declares its own ordered list of migrations and calls
``Database.migrate(component, migrations)`` once when it opens; the ``schema_versions`` table
remembers how far each component got. Writes go through ``Database.tx()``, one ``BEGIN
IMMEDIATE`` transaction per operation, so concurrent processes serialize on SQLite's lock
(with a generous busy timeout) and a crash leaves the old state or the new one.

Must not import anything above L2.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

__all__ = ["Database"]

_BUSY_TIMEOUT_S = 60.0


class Database:
    """One SQLite file; a connection per thread, opened lazily."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._migrated: set[str] = set()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=True
            )
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``): committed on success, rolled back on error.

        Nested use joins the outer transaction.
        """
        conn = self._conn()
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def read(self) -> sqlite3.Connection:
        """A connection for reads (autocommit: each statement sees the latest commit)."""
        return self._conn()

    def migrate(self, component: str, migrations: Sequence[str]) -> None:
        """Bring *component*'s tables to ``len(migrations)``; each entry is one SQL script.

        Migrations are append-only: never edit a released one, add the next.
        """
        if component in self._migrated:
            return
        conn = self._conn()
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_versions "
            "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
        row = conn.execute(
            "SELECT version FROM schema_versions WHERE component = ?", (component,)
        ).fetchone()
        if row is None or row[0] < len(migrations):
            with self.tx() as tx:
                row = tx.execute(
                    "SELECT version FROM schema_versions WHERE component = ?", (component,)
                ).fetchone()
                current = 0 if row is None else int(row[0])
                for script in migrations[current:]:
                    for statement in _statements(script):
                        tx.execute(statement)
                tx.execute(
                    "INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                    "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                    (component, len(migrations)),
                )
        self._migrated.add(component)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]
