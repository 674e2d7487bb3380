"""Image records in SQLite: images, their layers, tags and repo digests.

An image is named by its id, the digest of its config (as Docker's image ids are). Its bytes
live in the content store (manifest, config, layer blobs as they came) and its unpacked layers
in snapshots named by chain id; these tables only say which is which.

Must not import anything above L2.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field

from dockyard import errors
from dockyard.metadata.db import Database

__all__ = ["ImageRecord", "ImageRecords", "LayerRef"]

MIGRATIONS = [
    """
    CREATE TABLE images (
        id TEXT PRIMARY KEY,
        manifest_digest TEXT NOT NULL,
        manifest_media_type TEXT NOT NULL,
        index_digest TEXT,
        created TEXT NOT NULL,
        added TEXT NOT NULL,
        parent TEXT,
        last_tag_time TEXT
    );
    CREATE TABLE image_layers (
        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        chain_id TEXT NOT NULL,
        diff_id TEXT NOT NULL,
        blob_digest TEXT NOT NULL,
        blob_media_type TEXT NOT NULL,
        blob_size INTEGER NOT NULL,
        PRIMARY KEY (image_id, idx)
    );
    CREATE INDEX image_layers_chain ON image_layers(chain_id);
    CREATE INDEX image_layers_blob ON image_layers(blob_digest);
    CREATE TABLE layer_sizes (
        chain_id TEXT PRIMARY KEY,
        size INTEGER NOT NULL
    );
    CREATE TABLE image_tags (
        ref TEXT PRIMARY KEY,
        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        created TEXT NOT NULL
    );
    CREATE TABLE image_digests (
        ref TEXT PRIMARY KEY,
        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
    );
    """,
]


@dataclass(frozen=True)
class LayerRef:
    chain_id: str
    diff_id: str
    blob_digest: str
    blob_media_type: str
    blob_size: int


@dataclass
class ImageRecord:
    id: str
    manifest_digest: str
    manifest_media_type: str
    created: str
    added: str
    index_digest: str | None = None
    parent: str | None = None
    last_tag_time: str | None = None
    layers: list[LayerRef] = field(default_factory=list)
    repo_tags: list[str] = field(default_factory=list)
    repo_digests: list[str] = field(default_factory=list)

    @property
    def config_digest(self) -> str:
        return self.id

    @property
    def top_chain_id(self) -> str | None:
        return self.layers[-1].chain_id if self.layers else None


class ImageRecords:
    """Reads and writes image records; every write is one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db
        db.migrate("images", MIGRATIONS)

    # -- writes -----------------------------------------------------------------------------
    def put(self, record: ImageRecord, layer_sizes: dict[str, int]) -> None:
        """Insert or refresh an image and its layers (tags are set separately)."""
        with self._db.tx() as tx:
            tx.execute(
                "INSERT INTO images (id, manifest_digest, manifest_media_type, index_digest, created,"
                " added, parent, last_tag_time) VALUES (?,?,?,?,?,?,?,?)"
                " ON CONFLICT(id) DO UPDATE SET manifest_digest=excluded.manifest_digest,"
                " manifest_media_type=excluded.manifest_media_type,"
                " index_digest=COALESCE(excluded.index_digest, images.index_digest),"
                " parent=COALESCE(images.parent, excluded.parent)",
                (
                    record.id,
                    record.manifest_digest,
                    record.manifest_media_type,
                    record.index_digest,
                    record.created,
                    record.added,
                    record.parent,
                    record.last_tag_time,
                ),
            )
            tx.execute("DELETE FROM image_layers WHERE image_id = ?", (record.id,))
            tx.executemany(
                "INSERT INTO image_layers VALUES (?,?,?,?,?,?,?)",
                [
                    (record.id, i, lr.chain_id, lr.diff_id, lr.blob_digest, lr.blob_media_type, lr.blob_size)
                    for i, lr in enumerate(record.layers)
                ],
            )
            tx.executemany(
                "INSERT OR REPLACE INTO layer_sizes VALUES (?, ?)", list(layer_sizes.items())
            )

    def tag(self, ref: str, image_id: str, now: str) -> str | None:
        """Point *ref* at *image_id*; returns the image it pointed at before, if another."""
        with self._db.tx() as tx:
            row = tx.execute("SELECT image_id FROM image_tags WHERE ref = ?", (ref,)).fetchone()
            tx.execute(
                "INSERT OR REPLACE INTO image_tags (ref, image_id, created) VALUES (?,?,?)",
                (ref, image_id, now),
            )
            tx.execute("UPDATE images SET last_tag_time = ? WHERE id = ?", (now, image_id))
        previous = row[0] if row else None
        return previous if previous != image_id else None

    def add_digest(self, ref: str, image_id: str) -> None:
        with self._db.tx() as tx:
            tx.execute("INSERT OR REPLACE INTO image_digests VALUES (?, ?)", (ref, image_id))

    def untag(self, ref: str) -> str | None:
        """Remove a tag or digest reference; returns the image id it named."""
        with self._db.tx() as tx:
            for table in ("image_tags", "image_digests"):
                row = tx.execute(f"SELECT image_id FROM {table} WHERE ref = ?", (ref,)).fetchone()
                if row:
                    tx.execute(f"DELETE FROM {table} WHERE ref = ?", (ref,))
                    return str(row[0])
        return None

    def delete(self, image_id: str) -> None:
        with self._db.tx() as tx:
            tx.execute("DELETE FROM images WHERE id = ?", (image_id,))

    # -- reads ------------------------------------------------------------------------------
    def get(self, image_id: str) -> ImageRecord:
        """The image with this full id; raises NotFound."""
        records = self._load(["WHERE id = ?"], (image_id,))
        if not records:
            raise errors.NotFound(f"No such image: {image_id}")
        return records[0]

    def find_tag(self, ref: str) -> str | None:
        row = self._db.read().execute(
            "SELECT image_id FROM image_tags WHERE ref = ? UNION ALL "
            "SELECT image_id FROM image_digests WHERE ref = ?",
            (ref, ref),
        ).fetchone()
        return str(row[0]) if row else None

    def ids_with_prefix(self, prefix: str) -> list[str]:
        rows = self._db.read().execute(
            "SELECT id FROM images WHERE id >= ? AND id < ?", (prefix, prefix + "\x7f")
        ).fetchall()
        return [str(r[0]) for r in rows]

    def by_manifest(self, manifest_digest: str) -> list[str]:
        rows = self._db.read().execute(
            "SELECT id FROM images WHERE manifest_digest = ? OR index_digest = ?",
            (manifest_digest, manifest_digest),
        ).fetchall()
        return [str(r[0]) for r in rows]

    def all(self) -> list[ImageRecord]:
        return self._load([], ())

    def layer_size(self, chain_id: str) -> int:
        row = self._db.read().execute(
            "SELECT size FROM layer_sizes WHERE chain_id = ?", (chain_id,)
        ).fetchone()
        return int(row[0]) if row else 0

    def layer_sizes(self) -> dict[str, int]:
        rows = self._db.read().execute("SELECT chain_id, size FROM layer_sizes").fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    def forget_layer_sizes(self, chain_ids: Iterable[str]) -> None:
        with self._db.tx() as tx:
            tx.executemany("DELETE FROM layer_sizes WHERE chain_id = ?", [(c,) for c in chain_ids])

    def chain_ids_in_use(self) -> set[str]:
        rows = self._db.read().execute("SELECT DISTINCT chain_id FROM image_layers").fetchall()
        return {str(r[0]) for r in rows}

    def blobs_in_use(self) -> set[str]:
        conn = self._db.read()
        used = {str(r[0]) for r in conn.execute("SELECT DISTINCT blob_digest FROM image_layers")}
        for row in conn.execute("SELECT id, manifest_digest, index_digest FROM images"):
            used.update(str(v) for v in row if v)
        return used

    def children(self, image_id: str) -> list[str]:
        rows = self._db.read().execute(
            "SELECT id FROM images WHERE parent = ?", (image_id,)
        ).fetchall()
        return [str(r[0]) for r in rows]

    def _load(self, where: list[str], params: tuple[str, ...]) -> list[ImageRecord]:
        conn = self._db.read()
        conn.execute("BEGIN")  # one consistent snapshot across the four tables
        try:
            rows = conn.execute(f"SELECT * FROM images {' '.join(where)}", params).fetchall()
            records = [_record(r) for r in rows]
            by_id = {r.id: r for r in records}
            if by_id:
                marks = ",".join("?" * len(by_id))
                ids = tuple(by_id)
                for r in conn.execute(
                    f"SELECT * FROM image_layers WHERE image_id IN ({marks}) ORDER BY image_id, idx", ids
                ):
                    by_id[r["image_id"]].layers.append(
                        LayerRef(r["chain_id"], r["diff_id"], r["blob_digest"], r["blob_media_type"], r["blob_size"])
                    )
                for r in conn.execute(
                    f"SELECT ref, image_id FROM image_tags WHERE image_id IN ({marks}) ORDER BY created, ref", ids
                ):
                    by_id[r["image_id"]].repo_tags.append(r["ref"])
                for r in conn.execute(
                    f"SELECT ref, image_id FROM image_digests WHERE image_id IN ({marks}) ORDER BY ref", ids
                ):
                    by_id[r["image_id"]].repo_digests.append(r["ref"])
        finally:
            conn.execute("COMMIT")
        return records


def _record(row: sqlite3.Row) -> ImageRecord:
    return ImageRecord(
        id=row["id"],
        manifest_digest=row["manifest_digest"],
        manifest_media_type=row["manifest_media_type"],
        created=row["created"],
        added=row["added"],
        index_digest=row["index_digest"],
        parent=row["parent"],
        last_tag_time=row["last_tag_time"],
    )
