"""What a snapshotter is: the roles, the vocabulary and the lifecycle (containerd's model).

Vocabulary
----------
A *snapshot* is a directory tree that is either being changed or frozen.

* An **active** snapshot is writable. It is created by ``prepare(key, parent)`` and named by
  its **key**. Mounting it (``mounts(key)``) gives the parent's tree with a writable layer on
  top; what is written lands in its own directory (``upper_dir(key)``).
* A **view** is a read-only active snapshot, made by ``view(key, parent)``; it cannot be
  committed and exists to look at a committed tree (``docker export``, ``cp`` from an image).
* A **committed** snapshot is frozen and named by its **name**; ``commit(name, key)`` turns
  active ``key`` into committed ``name`` (the key disappears). Only committed snapshots should be
  parents of long-lived snapshots; keys and names share one namespace.
* The **parent** of a snapshot is the snapshot it was prepared on; a chain of parents is the
  stack of layers of an image. Images name their committed layer snapshots by chain id.

Lifecycle
---------
::

    prepare(key, parent) ──▶ active ──commit(name, key)──▶ committed ──remove(name)──▶ gone
          │                    └──────────remove(key)─────────────────────────────▶ gone
    view(key, parent)    ──▶ view   ──remove(key)──▶ gone

* ``remove`` refuses (Conflict) while a snapshot has children, or while something is mounted
  below its directory.
* Unpacking an image: ``prepare(tmp_key_i, parent=tmp_key_{i-1})`` for every layer in order
  (a parent may be an active snapshot of the same batch), apply each layer tar into
  ``fs_dir(tmp_key_i)`` (in parallel if you like: no mount is needed, whiteouts are written
  as overlay whiteouts), then ``commit(chain_id_i, tmp_key_i)`` in order: a commit refuses
  (FailedPrecondition) while the parent is still active. Children stay linked across commits.
  A layer whose place in the chain is not known yet (``load`` reads the archive's manifest
  last) can be prepared without a parent, applied, and put in place with
  ``rebase(key, parent)`` before it is committed; only an active snapshot without children
  can be rebased.
* Running a container: ``prepare(container_key, parent=top_chain_id)`` and mount what
  ``mounts(key)`` returns as the rootfs. Building a layer from it: ``upper_dir(key)`` is the
  diff (overlay whiteouts included), see ``image/diff.py``.

Mounts are data: methods return :class:`dockyard.mount.Mount` lists and never mount anything.

Errors: NotFound (no such key/name or parent), AlreadyExists (key or name taken),
FailedPrecondition (wrong kind for the operation, parent not committed), Conflict (has
children, mounted), InvalidArgument (bad key).

Imports only the standard library and ``dockyard.mount`` (for the Mount type).
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from dockyard.mount import Mount

__all__ = [
    "Cleaner",
    "Info",
    "Kind",
    "Lister",
    "Preparer",
    "Remover",
    "Snapshotter",
    "Usage",
]


class Kind(enum.StrEnum):
    """The state of a snapshot; only these transitions exist: ACTIVE → COMMITTED."""

    ACTIVE = "active"
    VIEW = "view"
    COMMITTED = "committed"


@dataclass(frozen=True)
class Info:
    """A snapshot's record: ``name`` is its key (active, view) or name (committed); ``parent``
    is the parent's key or name, or None; ``created`` is a Unix timestamp."""

    kind: Kind
    name: str
    parent: str | None
    created: float
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Usage:
    """Disk use of a snapshot's own directory (not its parents'): bytes and inodes."""

    size: int
    inodes: int


class Preparer(Protocol):
    """Create snapshots and get the mounts that show them."""

    def prepare(
        self, key: str, parent: str | None = None, labels: Mapping[str, str] | None = None
    ) -> list[Mount]: ...
    def view(
        self, key: str, parent: str | None = None, labels: Mapping[str, str] | None = None
    ) -> list[Mount]: ...
    def mounts(self, key: str) -> list[Mount]: ...
    def commit(self, name: str, key: str, labels: Mapping[str, str] | None = None) -> None: ...
    def rebase(self, key: str, parent: str | None) -> None: ...
    def upper_dir(self, key: str) -> Path: ...
    def fs_dir(self, key: str) -> Path: ...


class Lister(Protocol):
    """Look at snapshots."""

    def stat(self, key: str) -> Info: ...
    def usage(self, key: str) -> Usage: ...
    def walk(self) -> Iterator[Info]: ...
    def describe(self, key: str) -> dict[str, str]:
        """Driver data for ``inspect`` (Docker's ``GraphDriver.Data``: ``UpperDir``,
        ``LowerDir`` when there are parents, ``WorkDir``, ``MergedDir``)."""
        ...


class Remover(Protocol):
    """Delete snapshots."""

    def remove(self, key: str) -> None: ...


class Cleaner(Protocol):
    """Reclaim what a crash left behind (directories without a record)."""

    def cleanup(self) -> None: ...


class Snapshotter(Preparer, Lister, Remover, Cleaner, Protocol):
    """All the roles together; what the composition root builds."""
