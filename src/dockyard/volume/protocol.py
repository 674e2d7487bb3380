"""The roles the volume service is built from, as small ``typing.Protocol`` interfaces.

Vocabulary: a *volume* is a named directory the engine keeps (``<root>/volumes/<name>/_data``,
its *mountpoint*); a *driver* makes and removes it and, when the volume has options
(``--opt type=tmpfs``...), mounts them on the mountpoint while containers use it; a *ref* is
one user of a mounted volume (a container id); the *records* remember volumes and refs.
A *mount spec* (``model.MountSpec``) is what a container asks for; volumes are one kind.

Imports only the standard library, ``dockyard.mount`` (data only) and the package's model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from dockyard.mount import Mount
from dockyard.volume.model import VolumeRecord

__all__ = ["VolumeDriver", "VolumeRecords"]


class VolumeRecords(Protocol):
    """What the engine remembers about volumes (``records.SqliteVolumeRecords``)."""

    def add(self, record: VolumeRecord) -> tuple[VolumeRecord, bool]:
        """Store *record* unless one of that name exists; (the stored record, created?)."""
        ...

    def find(self, name: str) -> VolumeRecord | None: ...

    def get(self, name: str) -> VolumeRecord:
        """The volume *name*. Raises NotFound (``get NAME: no such volume``)."""
        ...

    def all(self) -> list[VolumeRecord]: ...

    def delete(self, name: str) -> bool:
        """Forget *name* (and its refs); False when it was not there."""
        ...

    def add_ref(self, name: str, ref: str) -> int:
        """Record *ref* as a user of *name*; return how many refs it has now."""
        ...

    def remove_ref(self, name: str, ref: str) -> int:
        """Forget *ref*; return how many refs *name* has left."""
        ...

    def refs(self, name: str) -> list[str]: ...

    def names_for_ref(self, ref: str) -> list[str]:
        """The volumes *ref* holds."""
        ...


class VolumeDriver(Protocol):
    """Makes volumes on the host (``local.LocalDriver``)."""

    name: str

    def validate_options(self, options: dict[str, str]) -> None:
        """Raises InvalidArgument for options the driver cannot take."""
        ...

    def create(self, name: str) -> Path:
        """Make the volume's directories; return its mountpoint (idempotent)."""
        ...

    def mountpoint(self, name: str) -> Path: ...

    def mounts(self, record: VolumeRecord) -> list[Mount]:
        """What to mount on the mountpoint while the volume is in use (may be empty)."""
        ...

    def mount(self, record: VolumeRecord) -> Path:
        """Make :meth:`mounts` on the mountpoint (idempotent); return the mountpoint."""
        ...

    def unmount(self, record: VolumeRecord) -> None: ...

    def remove(self, name: str) -> None:
        """Unmount and delete the volume's directories."""
        ...

    def size(self, name: str) -> int:
        """Bytes the volume holds (each hard-linked file once)."""
        ...
