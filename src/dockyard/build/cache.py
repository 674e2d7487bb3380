"""The build cache: which layer a step with a given cache key produced, kept in SQLite.

A row maps a step's key (``planner.step_key``) to the layer it made: its diff id, the chain id
of the snapshot holding it, and the compressed blob in the content store. Rows survive the
process, so the next build (any process) reuses the step. A row is only trusted while its
snapshot exists; a missing blob is rebuilt from the snapshot (the layer tar is deterministic).

Cached snapshots must outlive ``rmi`` of the images that use them: each is *pinned* by an
active child snapshot named ``buildpin-<hex>`` (the snapshotter refuses to remove a snapshot
with children). ``prune`` drops the rows and pins, then removes the unpinned snapshots no
image uses, and the cache mounts (``RUN --mount=type=cache``).

Imports only the standard library, ``dockyard.errors``, ``metadata.db``, ``snapshot.protocol``.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard import errors
from dockyard.metadata.db import Database

if TYPE_CHECKING:
    from dockyard.snapshot.protocol import Snapshotter

__all__ = ["BuildCache", "CacheEntry", "pin_name"]

_MIGRATIONS = [
    """
    CREATE TABLE build_cache (
        key TEXT PRIMARY KEY,
        chain_id TEXT NOT NULL,
        diff_id TEXT NOT NULL,
        blob_digest TEXT NOT NULL,
        blob_size INTEGER NOT NULL,
        media_type TEXT NOT NULL,
        created REAL NOT NULL,
        last_used REAL NOT NULL
    );
    CREATE INDEX build_cache_chain ON build_cache (chain_id)
    """,
    """
    CREATE TABLE build_results (
        key TEXT PRIMARY KEY,
        config_digest TEXT NOT NULL,
        manifest_digest TEXT NOT NULL
    )
    """,
]


@dataclass(frozen=True)
class CacheEntry:
    """The layer a cached step made."""

    chain_id: str
    diff_id: str
    blob_digest: str
    blob_size: int
    media_type: str


def pin_name(chain_id: str) -> str:
    """The active snapshot that keeps committed snapshot ``chain_id`` alive for the cache."""
    return "buildpin-" + chain_id.split(":")[-1]


class BuildCache:
    """The ``buildcache`` component of the engine's database."""

    def __init__(self, db: Database, snapshotter: Snapshotter, mounts_dir: Path) -> None:
        self._db = db
        self._snapshotter = snapshotter
        self.mounts_dir = mounts_dir
        db.migrate("buildcache", _MIGRATIONS)

    def get(self, key: str) -> CacheEntry | None:
        """The layer of step ``key`` if it is cached and its snapshot still exists."""
        row = self._db.read().execute(
            "SELECT chain_id, diff_id, blob_digest, blob_size, media_type FROM build_cache "
            "WHERE key = ?", (key,)
        ).fetchone()  # fmt: skip
        if row is None:
            return None
        entry = CacheEntry(row[0], row[1], row[2], int(row[3]), row[4])
        try:
            self._snapshotter.stat(entry.chain_id)
        except errors.NotFound:
            return None
        with self._db.tx() as tx:
            tx.execute("UPDATE build_cache SET last_used = ? WHERE key = ?", (time.time(), key))
        return entry

    def put(self, key: str, entry: CacheEntry) -> None:
        """Record that step ``key`` made ``entry``, and pin its snapshot."""
        self.pin(entry.chain_id)
        now = time.time()
        with self._db.tx() as tx:
            tx.execute(
                "INSERT INTO build_cache VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO "
                "UPDATE SET chain_id = excluded.chain_id, diff_id = excluded.diff_id, "
                "blob_digest = excluded.blob_digest, blob_size = excluded.blob_size, "
                "media_type = excluded.media_type, last_used = excluded.last_used",
                (key, entry.chain_id, entry.diff_id, entry.blob_digest, entry.blob_size,
                 entry.media_type, now, now),
            )  # fmt: skip

    def result(self, key: str) -> tuple[str, str] | None:
        """``(config digest, manifest digest)`` a build whose final state had ``key`` wrote."""
        row = (
            self._db.read()
            .execute(
                "SELECT config_digest, manifest_digest FROM build_results WHERE key = ?", (key,)
            )
            .fetchone()
        )
        return None if row is None else (row[0], row[1])

    def put_result(self, key: str, config_digest: str, manifest_digest: str) -> None:
        """Remember the image documents of a finished build (a rebuild gives the same id)."""
        with self._db.tx() as tx:
            tx.execute(
                "INSERT INTO build_results VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                "config_digest = excluded.config_digest, manifest_digest = excluded.manifest_digest",
                (key, config_digest, manifest_digest),
            )

    def pin(self, chain_id: str) -> None:
        """Give committed snapshot ``chain_id`` a pin child (once)."""
        try:
            self._snapshotter.prepare(pin_name(chain_id), chain_id, {"dockyard.build": "pin"})
        except errors.AlreadyExists:
            pass

    def entries(self) -> list[tuple[str, CacheEntry]]:
        """Every row, newest first."""
        rows = self._db.read().execute(
            "SELECT key, chain_id, diff_id, blob_digest, blob_size, media_type FROM build_cache "
            "ORDER BY created DESC"
        ).fetchall()  # fmt: skip
        return [(r[0], CacheEntry(r[1], r[2], r[3], int(r[4]), r[5])) for r in rows]

    def blob_digests(self) -> set[str]:
        """The layer blobs cached steps point at (for the image GC's ``extra_blobs_in_use``)."""
        rows = self._db.read().execute("SELECT blob_digest FROM build_cache").fetchall()
        found = {r[0] for r in rows}
        results = self._db.read().execute(
            "SELECT config_digest, manifest_digest FROM build_results"
        )
        for config_digest, manifest_digest in results.fetchall():
            found.update((config_digest, manifest_digest))
        return found

    def prune(self, in_use: Callable[[], set[str]]) -> tuple[int, int]:
        """Forget the whole cache: ``(entries removed, bytes freed)``.

        ``in_use`` gives the chain ids images still use (those snapshots stay). Snapshots
        are removed children first; one still needed (Conflict) is kept.
        """
        rows = self.entries()
        with self._db.tx() as tx:
            tx.execute("DELETE FROM build_cache")
            tx.execute("DELETE FROM build_results")
        chains = list(dict.fromkeys(entry.chain_id for _, entry in rows))
        for chain_id in chains:
            try:
                self._snapshotter.remove(pin_name(chain_id))
            except errors.NotFound:
                pass
        for info in list(self._snapshotter.walk()):  # steps a killed build left behind
            if info.name.startswith(("build-", "buildview-")):
                try:
                    self._snapshotter.remove(info.name)  # refused while mounted (in use)
                except (errors.Conflict, errors.NotFound):
                    pass
        used = in_use()
        freed = 0
        pending = [c for c in chains if c not in used]
        progress = True
        while pending and progress:  # a parent goes once its children are gone
            progress = False
            for chain_id in list(pending):
                try:
                    size = self._snapshotter.usage(chain_id).size
                    self._snapshotter.remove(chain_id)
                except errors.NotFound:
                    pending.remove(chain_id)
                    continue
                except errors.Conflict:
                    continue
                freed += size
                pending.remove(chain_id)
                progress = True
        if self.mounts_dir.exists():
            freed += _tree_size(self.mounts_dir)
            shutil.rmtree(self.mounts_dir, ignore_errors=True)
        return len(rows), freed


def _tree_size(path: Path) -> int:
    total = 0
    for p in path.rglob("*"):
        try:
            if p.is_file() and not p.is_symlink():
                total += p.stat().st_size
        except OSError:
            continue
    return total
