"""Unpack an image's layer blobs into snapshots named by chain id, each layer once.

A layer's snapshot holds only that layer's files (whiteouts converted to overlay's), so layers
unpack independently: the missing ones are prepared in order, applied concurrently, verified
against the image config's diff ids, and committed in order. A per-chain-id file lock makes two
processes that unpack the same layer take turns; the second finds it done.

**Early start.** An :class:`Unpacker` can begin applying a layer blob the moment it is stored
and verified in the content store (``early(digest)``), while a pull still downloads the other
layers or a load still reads the archive. Such a layer goes into a private snapshot without a
parent (its place in a chain may not be known yet: a ``docker save`` archive names its layers
in ``manifest.json``, at its end). ``unpack`` later takes it, puts it on its parent
(``Snapshotter.rebase``), checks its diff id and commits it in chain order, exactly as a layer
applied there. Nothing is visible before that: an early snapshot has a private key, and one no
image claimed is removed by ``close``.

On any failure every snapshot this call prepared or committed is removed, after the workers
writing into them have stopped: no half-unpacked layer and no stray snapshot remains.
Must not import runtime/, network/, volume/ or anything above L3.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from dockyard import errors
from dockyard.content.protocol import Provider
from dockyard.oci.digest import chain_ids
from dockyard.snapshot.protocol import Snapshotter

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

__all__ = ["LayerBlob", "Unpacker", "locked"]

# Layers applied at once, each in its own process: applying a layer is part kernel work
# (file creation) and part Python (tar headers, per-file calls), and only processes run the
# Python parts side by side. Small stacks are applied in this process (forking costs more).
MAX_PARALLEL = max(2, min(4, os.cpu_count() or 2))
_PARALLEL_MIN_BYTES = 16 << 20
# A blob this big is worth starting the workers for on its own (see Unpacker.early).
_EARLY_MIN_BYTES = 4 << 20
_TAR_MAGIC = b"ustar"


def _apply_in_worker(blob_path: str, dest: str) -> str:
    """Apply one layer blob into *dest* (runs in a worker process); returns the diff id."""
    from dockyard.image.layer import apply_layer

    with open(blob_path, "rb") as stream:
        return apply_layer(stream, Path(dest)).diff_id


def _started() -> None:
    """A job that makes the pool start its workers."""


def _quiet_on_interrupt() -> None:
    """Ctrl-C reaches the workers too (they are in the terminal's process group): a worker
    leaves at once, without a traceback; the main process gets the interrupt and removes
    what the workers were writing."""
    import signal

    signal.signal(signal.SIGINT, lambda signum, frame: os._exit(128 + signum))


@dataclass(frozen=True)
class LayerBlob:
    digest: str
    media_type: str


def _exists(snapshotter: Snapshotter, name: str) -> bool:
    try:
        snapshotter.stat(name)
    except errors.NotFound:
        return False
    return True


@contextmanager
def locked(lock_dir: Path, names: Sequence[str]) -> Iterator[None]:
    lock_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        for name in sorted(set(names)):
            fd = os.open(lock_dir / f"unpack-{name.split(':')[-1]}", os.O_CREAT | os.O_RDWR, 0o600)
            stack.callback(os.close, fd)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield


def _looks_like_layer(head: bytes) -> bool:
    """Could a blob starting with *head* be a layer (a tar, gzip or zstd stream)?"""
    from dockyard.image.compression import Compression, detect

    return detect(head) is not Compression.NONE or head[257:262] == _TAR_MAGIC


class Unpacker:
    """Applies layer blobs in worker processes, early ones as soon as they are stored.

    Use it as a context manager; ``close`` (on leaving) waits for the workers and removes
    every early snapshot no ``unpack`` took. Not thread-safe: call it from one thread.
    """

    def __init__(self, content: Provider, snapshotter: Snapshotter, lock_dir: Path,
                 workers: int = MAX_PARALLEL) -> None:
        self._content = content
        self._snapshotter = snapshotter
        self._lock_dir = lock_dir
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._token = secrets.token_hex(4)
        self._early: dict[str, tuple[str, Future[str]]] = {}  # blob digest → (key, apply)
        self._futures: list[Future[str]] = []  # every job submitted, to wait for on failure

    # -- workers ----------------------------------------------------------------------------
    def _get_pool(self) -> ProcessPoolExecutor:
        """The worker processes: forked when this process has one thread (the CLI; cheap), else
        started by a fork server that has the layer code imported (the daemon must never fork
        a threaded process)."""
        if self._pool is None:
            import multiprocessing
            import threading

            import dockyard.image.layer  # noqa: F401 - forked workers inherit it

            context: BaseContext
            if threading.active_count() == 1:
                context = multiprocessing.get_context("fork")
            else:
                # The server imports the main module and the layer code once; each worker
                # it forks has them (else every worker of every pull imports them again).
                server = multiprocessing.get_context("forkserver")
                server.set_forkserver_preload(["__main__", "dockyard.image.layer"])
                context = server
            self._pool = ProcessPoolExecutor(
                self._workers, mp_context=context, initializer=_quiet_on_interrupt
            )
            # With fork, the first job starts every worker, before the pool's own thread.
            self._pool.submit(_started)
        return self._pool

    def warm(self, sizes: Sequence[int]) -> None:
        """Start the workers now if blobs of these *sizes* are about to come (and will use
        them): call it while this process has a single thread (before download threads
        start), so that they are forked rather than started by a fork server."""
        if sizes and (sum(sizes) >= _PARALLEL_MIN_BYTES or max(sizes) >= _EARLY_MIN_BYTES):
            self._get_pool()

    def _submit(self, blob: str, key: str) -> Future[str]:
        future = self._get_pool().submit(
            _apply_in_worker, str(self._content.path(blob)), str(self._snapshotter.fs_dir(key))
        )
        self._futures.append(future)
        return future

    # -- early start ------------------------------------------------------------------------
    def early(self, digest: str) -> None:
        """Blob *digest* is stored and verified: when it looks like a layer, start applying it
        into a private snapshot now (when the workers run already, or it is big enough to
        start them). ``unpack`` takes the result when the blob is one of its layers."""
        if digest in self._early:
            return
        size = self._content.info(digest).size
        if self._pool is None and size < _EARLY_MIN_BYTES:
            return
        with self._content.open(digest) as f:
            head = f.read(512)
        if not _looks_like_layer(head):
            return
        key = f"extract-{self._token}-blob-{digest.split(':')[-1]}"
        self._snapshotter.prepare(key, None)
        try:
            self._early[digest] = (key, self._submit(digest, key))
        except BaseException:
            self._remove(key)
            raise

    # -- unpacking --------------------------------------------------------------------------
    def unpack(
        self,
        blobs: Sequence[LayerBlob],
        diff_ids: Sequence[str],
        on_layer: Callable[[int, str], None] | None = None,
        then: Callable[[dict[str, int]], None] | None = None,
    ) -> dict[str, int]:
        """Make sure every layer of the stack is a committed snapshot; returns the sizes (bytes
        on disk) of the layers this call unpacked, by chain id.

        *then* is called with those sizes while the layers' locks are still held, so the caller
        can record the image before a garbage collection (which takes the same locks) could
        judge the layers unused.

        Raises DigestMismatch when a layer's content does not match its diff id,
        InvalidArgument for a hostile or broken layer, NotFound when a blob is missing.
        """
        from dockyard.image.layer import apply_layer

        if len(blobs) != len(diff_ids):
            raise errors.InvalidArgument(
                f"image has {len(blobs)} layers but its config lists {len(diff_ids)} diff ids"
            )
        snapshotter = self._snapshotter
        chain = chain_ids(list(diff_ids))
        with locked(self._lock_dir, chain):
            missing = [i for i in range(len(chain)) if not _exists(snapshotter, chain[i])]
            keys: dict[int, str] = {}  # prepared or taken, not committed yet
            committed: list[int] = []
            futures: dict[int, Future[str]] = {}
            try:
                for i in missing:
                    parent = None if i == 0 else keys.get(i - 1, chain[i - 1])
                    taken = self._early.pop(blobs[i].digest, None)
                    if taken is not None:
                        keys[i], futures[i] = taken
                        snapshotter.rebase(keys[i], parent)
                    else:
                        keys[i] = f"extract-{self._token}-{chain[i].split(':')[-1]}"
                        snapshotter.prepare(keys[i], parent)
                rest = [i for i in missing if i not in futures]
                in_pool = self._pool is not None or (
                    len(rest) > 1
                    and sum(self._content.info(blobs[i].digest).size for i in rest)
                    >= _PARALLEL_MIN_BYTES
                )
                if in_pool:
                    for i in rest:
                        futures[i] = self._submit(blobs[i].digest, keys[i])
                for i in missing:
                    if i in futures:
                        diff_id = futures[i].result()
                    else:
                        with self._content.open(blobs[i].digest) as stream:
                            diff_id = apply_layer(stream, snapshotter.fs_dir(keys[i])).diff_id
                    if diff_id != diff_ids[i]:
                        raise errors.DigestMismatch(
                            f"layer {blobs[i].digest}: content has diff id {diff_id}, "
                            f"the image config says {diff_ids[i]}"
                        )
                    # Verified and its parent committed: commit it now, while later layers
                    # are still being applied.
                    snapshotter.commit(chain[i], keys.pop(i))
                    committed.append(i)
                    if on_layer is not None:
                        on_layer(i, blobs[i].digest)
                sizes = {chain[i]: snapshotter.usage(chain[i]).size for i in missing}
                if then is not None:
                    then(sizes)
            except BaseException:
                self._settle()
                names = {**{i: chain[i] for i in committed}, **keys}
                for i in sorted(names, reverse=True):  # children first
                    self._remove(names[i])
                raise
            return sizes

    # -- ending -----------------------------------------------------------------------------
    def _settle(self) -> None:
        """Cancel the jobs not started and wait for the running ones: nothing writes into a
        snapshot any more once this returns."""
        for future in self._futures:
            future.cancel()
        wait(self._futures)

    def _remove(self, key: str) -> None:
        try:
            self._snapshotter.remove(key)
        except errors.DockyardError:
            pass

    def close(self) -> None:
        """Wait for the workers, remove the early snapshots no ``unpack`` took, stop the pool."""
        try:
            self._settle()
            for key, _ in self._early.values():
                self._remove(key)
            self._early.clear()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def __enter__(self) -> Unpacker:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

