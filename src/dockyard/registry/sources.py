"""Which repositories a blob is known to live in, per registry, for cross-repository mounts.

After a pull or a push, ``record`` notes each blob's ``(registry, repository)`` (a pull notes
its manifest and index too, so a push of the index knows where its other platforms are). A later push of
the same blob to another repository of the same registry asks for a mount from one of them
(``POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<repo>``) instead of uploading the bytes.
A stale record costs nothing: the registry answers 202 and we upload as usual.

Kept in the metadata database under the component ``registry``. Imports ``metadata.db`` only.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from dockyard.metadata.db import Database

__all__ = ["BlobSources"]

_MIGRATIONS = [
    """
    CREATE TABLE registry_blob_sources (
        digest TEXT NOT NULL,
        registry TEXT NOT NULL,
        repository TEXT NOT NULL,
        seen REAL NOT NULL,
        PRIMARY KEY (digest, registry, repository)
    );
    """,
]


class BlobSources:
    """The blob → source repository table."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.migrate("registry", _MIGRATIONS)

    def record(self, registry: str, repository: str, blob_digests: Iterable[str]) -> None:
        now = time.time()
        rows = [(d, registry, repository, now) for d in dict.fromkeys(blob_digests)]
        with self._db.tx() as conn:
            conn.executemany(
                "INSERT INTO registry_blob_sources (digest, registry, repository, seen) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (digest, registry, repository) "
                "DO UPDATE SET seen = excluded.seen",
                rows,
            )

    def repositories(self, registry: str, blob_digest: str) -> list[str]:
        """Repositories of *registry* known to hold *blob_digest*, most recently seen first."""
        rows = self._db.read().execute(
            "SELECT repository FROM registry_blob_sources WHERE digest = ? AND registry = ? "
            "ORDER BY seen DESC",
            (blob_digest, registry),
        )
        return [str(r[0]) for r in rows]

    def locations(self, blob_digest: str) -> list[tuple[str, str]]:
        """Every ``(registry, repository)`` known to hold *blob_digest*, most recent first."""
        rows = self._db.read().execute(
            "SELECT registry, repository FROM registry_blob_sources WHERE digest = ? "
            "ORDER BY seen DESC",
            (blob_digest,),
        )
        return [(str(r[0]), str(r[1])) for r in rows]
