"""Unpack an image's layer blobs into snapshots named by chain id, each layer once.

A layer's snapshot holds only that layer's files (whiteouts converted to overlay's), so layers
unpack independently: the missing ones are prepared in order, applied concurrently, verified
against the image config's diff ids, and committed in order. A per-chain-id file lock makes two
processes that unpack the same layer take turns; the second finds it done.

On any failure every snapshot this call prepared is removed: no half-unpacked layer remains.
Must not import runtime/, network/, volume/ or anything above L3.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from dockyard import errors
from dockyard.content.protocol import Provider
from dockyard.oci.digest import chain_ids
from dockyard.snapshot.protocol import Snapshotter

__all__ = ["LayerBlob", "locked", "unpack_layers"]

# Layers applied at once, each in its own process: applying a layer is part kernel work
# (file creation) and part Python (tar headers, per-file calls), and only processes run the
# Python parts side by side. Small stacks are applied in this process (forking costs more).
MAX_PARALLEL = max(2, min(4, os.cpu_count() or 2))
_PARALLEL_MIN_BYTES = 16 << 20


def _apply_in_worker(blob_path: str, dest: str) -> str:
    """Apply one layer blob into *dest* (runs in a worker process); returns the diff id."""
    from dockyard.image.layer import apply_layer

    with open(blob_path, "rb") as stream:
        return apply_layer(stream, Path(dest)).diff_id


def _pool(workers: int) -> Executor:
    """A process pool: forked when this process has one thread (the CLI; cheap), else
    started by a fork server (the daemon must never fork a threaded process)."""
    import multiprocessing
    import threading

    method = "fork" if threading.active_count() == 1 else "forkserver"
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method))


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


def unpack_layers(
    content: Provider,
    snapshotter: Snapshotter,
    blobs: Sequence[LayerBlob],
    diff_ids: Sequence[str],
    lock_dir: Path,
    on_layer: Callable[[int, str], None] | None = None,
    then: Callable[[dict[str, int]], None] | None = None,
) -> dict[str, int]:
    """Make sure every layer of the stack is a committed snapshot; returns the sizes (bytes on
    disk) of the layers this call unpacked, by chain id.

    *then* is called with those sizes while the layers' locks are still held, so the caller
    can record the image before a garbage collection (which takes the same locks) could judge
    the layers unused.

    Raises DigestMismatch when a layer's content does not match its diff id, InvalidArgument
    for a hostile or broken layer, NotFound when a blob is missing.
    """
    from dockyard.image.layer import apply_layer

    if len(blobs) != len(diff_ids):
        raise errors.InvalidArgument(
            f"image has {len(blobs)} layers but its config lists {len(diff_ids)} diff ids"
        )
    chain = chain_ids(list(diff_ids))
    with locked(lock_dir, chain):
        missing = [i for i in range(len(chain)) if not _exists(snapshotter, chain[i])]
        token = secrets.token_hex(4)
        keys: dict[int, str] = {}
        try:
            for i in missing:
                parent = None if i == 0 else keys.get(i - 1, chain[i - 1])
                keys[i] = f"extract-{token}-{chain[i]}"
                snapshotter.prepare(keys[i], parent)

            def check(i: int, diff_id: str) -> None:
                if diff_id != diff_ids[i]:
                    raise errors.DigestMismatch(
                        f"layer {blobs[i].digest}: content has diff id {diff_id}, "
                        f"the image config says {diff_ids[i]}"
                    )
                if on_layer is not None:
                    on_layer(i, blobs[i].digest)

            total = sum(content.info(blobs[i].digest).size for i in missing)
            if len(missing) <= 1 or total < _PARALLEL_MIN_BYTES:
                for i in missing:
                    with content.open(blobs[i].digest) as stream:
                        check(i, apply_layer(stream, snapshotter.fs_dir(keys[i])).diff_id)
            else:
                with _pool(min(MAX_PARALLEL, len(missing))) as pool:
                    futures = {
                        i: pool.submit(_apply_in_worker, str(content.path(blobs[i].digest)),
                                       str(snapshotter.fs_dir(keys[i])))
                        for i in missing
                    }
                    for i, future in futures.items():
                        check(i, future.result())
            for i in missing:
                snapshotter.commit(chain[i], keys[i])
                del keys[i]
        except BaseException:
            for i in sorted(keys, reverse=True):
                try:
                    snapshotter.remove(keys[i])
                except errors.DockyardError:
                    pass
            raise
        sizes = {chain[i]: snapshotter.usage(chain[i]).size for i in missing}
        if then is not None:
            then(sizes)
        return sizes
