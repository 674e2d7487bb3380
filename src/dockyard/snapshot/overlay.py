"""The overlayfs snapshotter: snapshots as directories, records in SQLite, mounts as data.

Layout: ``<root>/snapshots/<id>/fs`` holds a snapshot's own files (the overlay upper dir of
an active snapshot, one unpacked layer of a committed one) and ``<root>/snapshots/<id>/work``
is overlay's work dir. ``<id>`` is the row id of the snapshot's record (component
``snapshots`` of the metadata database); parents are linked by row id, so ``commit`` (which
renames the key to the name on the same row) keeps children linked and moves no directory.

Crash safety: each operation is one SQLite transaction. Directories are created inside the
transaction before it commits (as ``new-<id>-…``, renamed to ``<id>`` when complete), and are
renamed to ``rm-<id>-…`` inside the transaction that deletes their row and removed after it
commits. A crash therefore leaves at worst a directory without a record, which
:meth:`OverlaySnapshotter.cleanup` removes.

See ``protocol.py`` for the vocabulary and lifecycle. Imports only the standard library,
``dockyard.errors``, ``dockyard.mount``, ``dockyard.metadata`` and this package. Must not
import ``image/``, ``runtime/`` or anything above L2.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from dockyard import errors
from dockyard.metadata.db import Database
from dockyard.mount import Mount, active_mounts
from dockyard.snapshot._remove import disk_usage, remove_tree
from dockyard.snapshot._spread import spread_children
from dockyard.snapshot.protocol import Info, Kind, Usage

__all__ = ["OverlaySnapshotter"]

_MIGRATIONS = [
    """
    CREATE TABLE snapshots (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        parent_id INTEGER REFERENCES snapshots(id),
        created REAL NOT NULL,
        labels TEXT NOT NULL DEFAULT '{}',
        size INTEGER NOT NULL DEFAULT -1,
        inodes INTEGER NOT NULL DEFAULT -1
    );
    CREATE INDEX snapshots_parent ON snapshots(parent_id)
    """,
]

_CHAIN = """
    WITH RECURSIVE chain(id, parent_id, depth) AS (
        SELECT id, parent_id, 0 FROM snapshots WHERE id = ?
        UNION ALL
        SELECT s.id, s.parent_id, chain.depth + 1 FROM snapshots s JOIN chain ON s.id = chain.parent_id
    )
    SELECT id FROM chain ORDER BY depth
"""

# Overlay options every mount gets: no inode index (a lower may appear in many mounts), no
# redirects (so an upper dir is a plain diff that image/diff.py can read).
_OVERLAY_BASE = ("index=off", "redirect_dir=off")


class OverlaySnapshotter:
    """Snapshots below *root*, records in *db*. See ``protocol.Snapshotter`` for the roles."""

    def __init__(self, root: Path, db: Database) -> None:
        self.root = root
        self._dir = root / "snapshots"
        self._dir.mkdir(parents=True, exist_ok=True)
        spread_children(self._dir)  # each snapshot in a block group of its own (see _spread)
        self._db = db
        db.migrate("snapshots", _MIGRATIONS)

    # --- paths -------------------------------------------------------------------------

    def _fs(self, sid: int) -> Path:
        return self._dir / str(sid) / "fs"

    def _work(self, sid: int) -> Path:
        return self._dir / str(sid) / "work"

    # --- records -----------------------------------------------------------------------

    def _row(self, conn: sqlite3.Connection, key: str) -> sqlite3.Row:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM snapshots WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            raise errors.NotFound(f"snapshot {key}: not found")
        return row

    def _chain(self, conn: sqlite3.Connection, sid: int) -> list[int]:
        return [int(r[0]) for r in conn.execute(_CHAIN, (sid,))]

    def _info(self, conn: sqlite3.Connection, row: sqlite3.Row) -> Info:
        parent = None
        if row["parent_id"] is not None:
            prow = conn.execute(
                "SELECT key FROM snapshots WHERE id = ?", (row["parent_id"],)
            ).fetchone()
            parent = None if prow is None else str(prow[0])
        return Info(
            kind=Kind(row["kind"]),
            name=row["key"],
            parent=parent,
            created=float(row["created"]),
            labels=json.loads(row["labels"]),
        )

    # --- create ------------------------------------------------------------------------

    def prepare(
        self, key: str, parent: str | None = None, labels: Mapping[str, str] | None = None
    ) -> list[Mount]:
        """Create active snapshot *key* on *parent* (committed, or active in the same batch)
        and return its mounts. Raises AlreadyExists, NotFound (parent), FailedPrecondition
        (parent is a view), InvalidArgument (empty key)."""
        return self._create(key, parent, labels, Kind.ACTIVE)

    def view(
        self, key: str, parent: str | None = None, labels: Mapping[str, str] | None = None
    ) -> list[Mount]:
        """Create read-only snapshot *key* showing *parent*; returns its mounts. Raises as
        :meth:`prepare`."""
        return self._create(key, parent, labels, Kind.VIEW)

    def _create(
        self, key: str, parent: str | None, labels: Mapping[str, str] | None, kind: Kind
    ) -> list[Mount]:
        if not key:
            raise errors.InvalidArgument("snapshot key must not be empty")
        with self._db.tx() as conn:
            if conn.execute("SELECT 1 FROM snapshots WHERE key = ?", (key,)).fetchone():
                raise errors.AlreadyExists(f"snapshot {key}: already exists")
            parent_id = None
            if parent is not None:
                prow = self._row_or(conn, parent, f"parent snapshot {parent} of {key}: not found")
                if prow["kind"] == Kind.VIEW.value:
                    raise errors.FailedPrecondition(
                        f"snapshot {key}: parent {parent} is a view and cannot have children"
                    )
                parent_id = int(prow["id"])
            cur = conn.execute(
                "INSERT INTO snapshots (key, kind, parent_id, created, labels) VALUES (?, ?, ?, ?, ?)",
                (key, kind.value, parent_id, time.time(), json.dumps(dict(labels or {}))),
            )
            sid = int(cur.lastrowid or 0)
            stale = self._dir / str(sid)
            if os.path.lexists(stale):  # left by a crashed, rolled-back transaction
                remove_tree(stale)
            # Made under a random name, then renamed: ext4 places a child of ``snapshots``
            # by a hash of its name (see _spread), and ids repeat from 1 in every new store.
            fresh = self._dir / f"new-{sid}-{os.urandom(4).hex()}"
            (fresh / "fs").mkdir(parents=True, mode=0o755)
            (fresh / "work").mkdir(mode=0o700)
            os.rename(fresh, stale)
            return self._mounts(conn, sid, kind)

    def _row_or(self, conn: sqlite3.Connection, key: str, message: str) -> sqlite3.Row:
        row: sqlite3.Row | None = conn.execute(
            "SELECT * FROM snapshots WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            raise errors.NotFound(message)
        return row

    # --- mounts ------------------------------------------------------------------------

    def mounts(self, key: str) -> list[Mount]:
        """The mounts of active or view snapshot *key*. Raises NotFound, FailedPrecondition
        (committed)."""
        conn = self._db.read()
        row = self._row(conn, key)
        kind = Kind(row["kind"])
        if kind is Kind.COMMITTED:
            raise errors.FailedPrecondition(f"snapshot {key}: committed snapshots have no mounts")
        return self._mounts(conn, int(row["id"]), kind)

    def _mounts(self, conn: sqlite3.Connection, sid: int, kind: Kind) -> list[Mount]:
        parents = self._chain(conn, sid)[1:]
        lower = ":".join(os.fspath(self._fs(p)) for p in parents)
        if kind is Kind.ACTIVE:
            if not parents:
                return [Mount("bind", os.fspath(self._fs(sid)), ("rbind", "rw"))]
            return [
                Mount(
                    "overlay",
                    "overlay",
                    (
                        *_OVERLAY_BASE,
                        f"lowerdir={lower}",
                        f"upperdir={self._fs(sid)}",
                        f"workdir={self._work(sid)}",
                    ),
                )
            ]
        if not parents:
            return [Mount("bind", os.fspath(self._fs(sid)), ("rbind", "ro"))]
        if len(parents) == 1:  # overlay needs two lowers when there is no upper
            return [Mount("bind", os.fspath(self._fs(parents[0])), ("rbind", "ro"))]
        return [Mount("overlay", "overlay", (*_OVERLAY_BASE, f"lowerdir={lower}"))]

    def upper_dir(self, key: str) -> Path:
        """The writable directory of active snapshot *key* (its diff, overlay whiteouts
        included). Raises NotFound, FailedPrecondition (not active)."""
        row = self._row(self._db.read(), key)
        if row["kind"] != Kind.ACTIVE.value:
            raise errors.FailedPrecondition(f"snapshot {key}: is {row['kind']}, not active")
        return self._fs(int(row["id"]))

    def fs_dir(self, key: str) -> Path:
        """The directory holding snapshot *key*'s own files; unpack a layer into it right
        after ``prepare``. Raises NotFound."""
        return self._fs(int(self._row(self._db.read(), key)["id"]))

    # --- rebase ------------------------------------------------------------------------

    def rebase(self, key: str, parent: str | None) -> None:
        """Put active snapshot *key*, which has no children, on *parent* (committed, or active
        in the same batch): for a layer unpacked before its place in a chain was known.
        Raises NotFound (key or parent), FailedPrecondition (key not active or has children,
        parent is a view or *key* itself)."""
        with self._db.tx() as conn:
            row = self._row(conn, key)
            if row["kind"] != Kind.ACTIVE.value:
                raise errors.FailedPrecondition(
                    f"snapshot {key}: is {row['kind']}; only active snapshots can be rebased"
                )
            sid = int(row["id"])
            if conn.execute("SELECT 1 FROM snapshots WHERE parent_id = ?", (sid,)).fetchone():
                raise errors.FailedPrecondition(f"snapshot {key}: has children, cannot be rebased")
            parent_id = None
            if parent is not None:
                prow = self._row_or(conn, parent, f"parent snapshot {parent} of {key}: not found")
                if prow["kind"] == Kind.VIEW.value or int(prow["id"]) == sid:
                    raise errors.FailedPrecondition(
                        f"snapshot {key}: cannot be put on {parent}"
                    )
                parent_id = int(prow["id"])
            conn.execute("UPDATE snapshots SET parent_id = ? WHERE id = ?", (parent_id, sid))

    # --- commit ------------------------------------------------------------------------

    def commit(self, name: str, key: str, labels: Mapping[str, str] | None = None) -> None:
        """Freeze active snapshot *key* as *name* (labels are merged in). Raises NotFound,
        AlreadyExists (name), FailedPrecondition (not active, or parent not committed yet)."""
        if not name:
            raise errors.InvalidArgument("snapshot name must not be empty")
        first = self._row(self._db.read(), key)
        size, inodes = disk_usage(self._fs(int(first["id"])))
        with self._db.tx() as conn:
            row = self._row(conn, key)
            if row["kind"] != Kind.ACTIVE.value:
                raise errors.FailedPrecondition(
                    f"snapshot {key}: is {row['kind']}; only active snapshots can be committed"
                )
            if conn.execute("SELECT 1 FROM snapshots WHERE key = ?", (name,)).fetchone():
                raise errors.AlreadyExists(f"snapshot {name}: already exists")
            if row["parent_id"] is not None:
                prow = conn.execute(
                    "SELECT key, kind FROM snapshots WHERE id = ?", (row["parent_id"],)
                ).fetchone()
                if prow["kind"] != Kind.COMMITTED.value:
                    raise errors.FailedPrecondition(
                        f"snapshot {key}: parent {prow['key']} is not committed yet"
                    )
            merged = {**json.loads(row["labels"]), **dict(labels or {})}
            conn.execute(
                "UPDATE snapshots SET key = ?, kind = ?, labels = ?, size = ?, inodes = ? "
                "WHERE id = ?",
                (name, Kind.COMMITTED.value, json.dumps(merged), size, inodes, row["id"]),
            )

    # --- look ----------------------------------------------------------------------------

    def stat(self, key: str) -> Info:
        """The record of snapshot *key*. Raises NotFound."""
        conn = self._db.read()
        return self._info(conn, self._row(conn, key))

    def usage(self, key: str) -> Usage:
        """Disk use of *key*'s own directory (measured at commit for committed ones).
        Raises NotFound."""
        row = self._row(self._db.read(), key)
        if row["kind"] == Kind.COMMITTED.value and row["size"] >= 0:
            return Usage(size=int(row["size"]), inodes=int(row["inodes"]))
        size, inodes = disk_usage(self._fs(int(row["id"])))
        return Usage(size=size, inodes=inodes)

    def describe(self, key: str) -> dict[str, str]:
        """Docker's ``GraphDriver.Data`` for *key*: its own dir as ``UpperDir``, its parents'
        (nearest first) as ``LowerDir``, ``WorkDir``, and ``MergedDir`` (a conventional path;
        where a container's rootfs is really mounted is the runtime's business). Raises NotFound."""
        conn = self._db.read()
        sid = int(self._row(conn, key)["id"])
        parents = self._chain(conn, sid)[1:]
        data = {
            "UpperDir": os.fspath(self._fs(sid)),
            "WorkDir": os.fspath(self._work(sid)),
            "MergedDir": os.fspath(self._dir / str(sid) / "merged"),
        }
        if parents:
            data["LowerDir"] = ":".join(os.fspath(self._fs(p)) for p in parents)
        return data

    def walk(self) -> Iterator[Info]:
        """Every snapshot, oldest first."""
        conn = self._db.read()
        rows = conn.execute("SELECT * FROM snapshots ORDER BY id").fetchall()
        for row in rows:
            yield self._info(conn, row)

    # --- remove --------------------------------------------------------------------------

    def remove(self, key: str) -> None:
        """Delete snapshot *key* and its directory. Raises NotFound, Conflict (it has
        children, or something is mounted below its directory), DockyardError (the
        directory resisted; the record is gone and ``cleanup`` retries)."""
        with self._db.tx() as conn:
            row = self._row(conn, key)
            sid = int(row["id"])
            children = [
                str(r[0])
                for r in conn.execute("SELECT key FROM snapshots WHERE parent_id = ?", (sid,))
            ]
            if children:
                raise errors.Conflict(
                    f"snapshot {key}: has {len(children)} child snapshot(s), e.g. {children[0]}"
                )
            mounted = active_mounts(self._dir / str(sid))
            if mounted:
                raise errors.Conflict(f"snapshot {key}: {mounted[0]} is mounted")
            conn.execute("DELETE FROM snapshots WHERE id = ?", (sid,))
            trash = self._trash(sid)
        if trash is not None:
            remove_tree(trash)

    def _trash(self, sid: int) -> Path | None:
        """Rename ``<id>`` out of the way (inside the caller's transaction)."""
        src = self._dir / str(sid)
        if not os.path.lexists(src):
            return None
        dst = self._dir / f"rm-{sid}-{os.urandom(4).hex()}"
        os.rename(src, dst)
        return dst

    def cleanup(self) -> None:
        """Remove directories without a record (left by a crash) and interrupted removals.
        Raises DockyardError if one resists."""
        with self._db.tx() as conn:
            ids = {int(r[0]) for r in conn.execute("SELECT id FROM snapshots")}
            for entry in os.listdir(self._dir):
                orphan = entry.isdigit() and int(entry) not in ids
                if orphan and not active_mounts(self._dir / entry):
                    self._trash(int(entry))
                elif entry.startswith("new-"):  # a create that crashed before its rename
                    os.rename(self._dir / entry, self._dir / f"rm-{entry}")
        for entry in os.listdir(self._dir):
            if entry.startswith("rm-") and not active_mounts(self._dir / entry):
                remove_tree(self._dir / entry)
