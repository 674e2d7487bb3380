"""A build step's writable root filesystem, and turning what it changed into a layer.

``layer_step(storage, parent, do)`` prepares an active snapshot on ``parent`` (a chain id or
None), mounts it, lets ``do(rootfs)`` change it, unmounts, and commits the overlay upper
directory as one layer: the diff tar is written once, gzip-compressed straight into the content
store (``image.diff`` never walks the whole rootfs), and the snapshot is committed under its
chain id so registering the image finds the layer already unpacked. On any failure the
snapshot and the mount are gone: no half-built layer is left.

``read_only_view(storage, chain_id)`` mounts a committed tree read-only (``COPY --from``,
``RUN --mount=from=``). ``rebuild_blob`` makes a layer blob again from its snapshot.

Imports only the standard library, ``dockyard.errors``, ``dockyard.mount``, ``image/`` and
``oci/``; never ``service/``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dockyard import errors
from dockyard.build.cache import CacheEntry
from dockyard.build.protocol import Storage
from dockyard.build.state import Layer, chain_of
from dockyard.mount import Mount, active_mounts, mount_all, unmount_all

__all__ = ["chain_of", "layer_step", "read_only_view", "rebuild_blob", "write_blob"]


def write_blob(storage: Storage, tree: Path) -> tuple[str, dict[str, Any]]:
    """Tar ``tree`` (an overlay upper dir) into a gzip blob: ``(diff id, descriptor)``."""
    from dockyard.image.diff import write_layer_blob  # only on a cache miss

    return write_layer_blob(storage.content, tree)


def rebuild_blob(storage: Storage, entry: CacheEntry) -> CacheEntry:
    """``entry`` with its blob made again from its snapshot (the blob was collected)."""
    diff_id, desc = write_blob(storage, storage.snapshotter.fs_dir(entry.chain_id))
    if diff_id != entry.diff_id:
        raise errors.DigestMismatch(f"cached layer {entry.chain_id} changed on disk")
    return CacheEntry(entry.chain_id, diff_id, desc["digest"], desc["size"], desc["mediaType"])


def _volatile(mounts: list[Mount]) -> list[Mount]:
    """Overlay mounts made ``volatile``: unmounting then skips the sync of the whole upper
    filesystem (~100 ms per step on a busy disk). A step's upper dir is read back into the
    layer blob, which the content store fsyncs; the snapshot is a cache of that blob."""
    return [
        dataclasses.replace(m, options=(*m.options, "volatile"))
        if m.type == "overlay" and "volatile" not in m.options
        else m
        for m in mounts
    ]


def _exists(storage: Storage, name: str) -> bool:
    try:
        storage.snapshotter.stat(name)
    except errors.NotFound:
        return False
    return True


def layer_step(
    storage: Storage, parent: str | None, do: Callable[[Path], None]
) -> tuple[Layer, str]:
    """Run ``do(rootfs)`` on a writable snapshot of ``parent``; the new layer and its chain id.

    Raises what ``do`` raises (after cleaning up), and what the snapshotter and the mount
    raise.
    """
    from dockyard.image.unpack import locked

    snap = storage.snapshotter
    key = f"build-{secrets.token_hex(8)}"
    bundle = storage.work_dir / key
    rootfs = bundle / "rootfs"
    snap.prepare(key, parent, {"dockyard.build": "step"})
    committed = False
    try:
        rootfs.mkdir(parents=True)
        mount_all(_volatile(snap.mounts(key)), rootfs)
        try:
            do(rootfs)
        finally:
            unmount_all(rootfs)
        diff_id, desc = write_blob(storage, snap.upper_dir(key))
        chain_id = chain_of(parent, diff_id)
        with locked(storage.lock_dir, [chain_id]):
            if _exists(storage, chain_id):
                snap.remove(key)
            else:
                snap.commit(chain_id, key)
            committed = True
            storage.cache.pin(chain_id)
        return Layer(diff_id, desc), chain_id
    finally:
        if not committed:
            with contextlib.suppress(errors.DockyardError):
                snap.remove(key)
        _remove_dir(bundle)


@contextlib.contextmanager
def read_only_view(storage: Storage, chain_id: str | None) -> Iterator[Path]:
    """The tree of committed snapshot ``chain_id`` mounted read-only (an empty dir for None)."""
    key = f"buildview-{secrets.token_hex(8)}"
    where = storage.work_dir / key
    where.mkdir(parents=True)
    try:
        if chain_id is None:
            yield where
            return
        mounts = storage.snapshotter.view(key, chain_id)
        try:
            mount_all(mounts, where)
            try:
                yield where
            finally:
                unmount_all(where)
        finally:
            with contextlib.suppress(errors.DockyardError):
                storage.snapshotter.remove(key)
    finally:
        _remove_dir(where)


def _remove_dir(path: Path) -> None:
    """Remove a scratch directory, never while something is still mounted below it."""
    if path.exists() and not active_mounts(path):
        shutil.rmtree(path, ignore_errors=True)
