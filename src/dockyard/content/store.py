"""Blobs by digest on the filesystem: ``<root>/blobs/sha256/<hex>``.

Writes go to ``<root>/ingest/`` (a private temporary file per writer), are hashed as they come,
verified, fsynced and renamed into place, so a reader sees a whole, verified blob or nothing.
Two processes ingesting the same blob both succeed: the rename is atomic and the bytes equal.

Must not import anything above L2.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from dockyard import errors
from dockyard.content.protocol import BlobInfo
from dockyard.oci import digest as digests

__all__ = ["BlobWriter", "ContentStore"]

_CHUNK = 1 << 20


class ContentStore:
    """The content store: Provider + Ingester + Manager over one directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._blobs = root / "blobs"
        self._ingest = root / "ingest"

    # -- provider ---------------------------------------------------------------------------
    def path(self, digest: str) -> Path:
        algorithm, hexpart = digests.split(digest)
        return self._blobs / algorithm / hexpart

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def info(self, digest: str) -> BlobInfo:
        """Size of a stored blob; raises NotFound."""
        try:
            return BlobInfo(digest, self.path(digest).stat().st_size)
        except FileNotFoundError as exc:
            raise errors.NotFound(f"content {digest}: not found") from exc

    def open(self, digest: str) -> BinaryIO:
        """Open a stored blob for reading; raises NotFound."""
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError as exc:
            raise errors.NotFound(f"content {digest}: not found") from exc

    def read_bytes(self, digest: str) -> bytes:
        with self.open(digest) as f:
            return f.read()

    # -- ingester ---------------------------------------------------------------------------
    def writer(self, expected: str | None = None, size: int | None = None) -> BlobWriter:
        """A writer for a new blob; *expected* (a digest) and *size* are checked at commit."""
        if expected is not None:
            digests.validate(expected)
        self._ingest.mkdir(parents=True, exist_ok=True)
        return BlobWriter(self, expected, size)

    def put_bytes(self, data: bytes, expected: str | None = None) -> str:
        """Store *data*; returns its digest. Raises DigestMismatch if *expected* differs."""
        with self.writer(expected, len(data) if expected else None) as w:
            w.write(data)
            return w.commit()

    def ingest(self, stream: BinaryIO, expected: str | None = None, size: int | None = None) -> str:
        """Copy *stream* to the store; returns the digest. Raises DigestMismatch."""
        with self.writer(expected, size) as w:
            while chunk := stream.read(_CHUNK):
                w.write(chunk)
            return w.commit()

    # -- manager ----------------------------------------------------------------------------
    def delete(self, digest: str) -> None:
        """Remove a blob; a missing blob is not an error."""
        try:
            self.path(digest).unlink()
        except FileNotFoundError:
            pass

    def walk(self) -> Iterator[BlobInfo]:
        if not self._blobs.is_dir():
            return
        for algorithm in sorted(os.listdir(self._blobs)):
            folder = self._blobs / algorithm
            for name in sorted(os.listdir(folder)):
                yield BlobInfo(f"{algorithm}:{name}", (folder / name).stat().st_size)

    def _install(self, tmp: Path, digest: str) -> None:
        target = self.path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)
        dirfd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)


class BlobWriter:
    """One ingest: ``write()`` bytes, then ``commit()``; leaving the ``with`` block aborts."""

    def __init__(self, store: ContentStore, expected: str | None, size: int | None) -> None:
        self._store = store
        self._expected = expected
        self._size = size
        self._hash = digests.hasher(expected) if expected else digests.hasher("sha256:" + "0" * 64)
        import tempfile  # only when a blob is written: ~3 ms of every start otherwise

        fd, name = tempfile.mkstemp(dir=store._ingest, prefix="ingest-")
        self._file = os.fdopen(fd, "wb", buffering=0)
        self._tmp = Path(name)
        self._offset = 0
        self._done = False

    @property
    def offset(self) -> int:
        """Bytes written so far (where a resumed download continues)."""
        return self._offset

    def write(self, data: bytes | memoryview) -> int:
        self._hash.update(data)
        self._file.write(data)
        self._offset += len(data)
        return len(data)

    def flush(self) -> None:
        """Nothing to do (writes are unbuffered); lets compressors write into a blob directly."""

    def commit(self) -> str:
        """Verify, fsync and install the blob; returns its digest.

        Raises DigestMismatch (and removes the temporary file) when the bytes do not match the
        expected digest or size.
        """
        algorithm = self._expected.split(":", 1)[0] if self._expected else "sha256"
        actual = f"{algorithm}:{self._hash.hexdigest()}"
        try:
            if self._size is not None and self._offset != self._size:
                raise errors.DigestMismatch(
                    f"content {self._expected or actual}: size mismatch: "
                    f"got {self._offset} bytes, expected {self._size}"
                )
            if self._expected is not None and actual != self._expected:
                raise errors.DigestMismatch(
                    f"content {self._expected}: digest mismatch: got {actual}"
                )
            os.fsync(self._file.fileno())
            self._file.close()
            self._store._install(self._tmp, actual)
        except BaseException:
            self.abort()
            raise
        self._done = True
        return actual

    def abort(self) -> None:
        """Drop the temporary file (idempotent)."""
        if not self._file.closed:
            self._file.close()
        try:
            self._tmp.unlink()
        except FileNotFoundError:
            pass
        self._done = True

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._done:
            self.abort()
