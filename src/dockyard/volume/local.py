"""The ``local`` volume driver: a directory per volume, optionally a mount on it.

A volume lives in ``<root>/volumes/<name>/`` with its data in ``_data`` (the mountpoint that
containers bind). Options follow Docker's local driver: ``type`` (a filesystem type, or
``none`` with ``o=bind``), ``device`` (what to mount) and ``o`` (mount options); ``type`` and
``device`` go together and ``o`` needs both. Such a volume is mounted on ``_data`` (as data:
:meth:`LocalDriver.mounts`, performed with ``dockyard.mount``) while containers use it, and
unmounted when the last one is done, so a tmpfs volume is empty again at its next use.

Imports only the standard library, ``dockyard.errors``, ``dockyard.mount`` and the
package's model (L1 and below, and itself).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from dockyard import errors
from dockyard.mount import Mount, active_mounts, mount_all, unmount_all
from dockyard.volume.model import VolumeRecord

__all__ = ["LocalDriver", "tree_size"]

_VALID_OPTS = ("type", "o", "device", "size")
_REQUIRED = {"device": ("type",), "type": ("device",), "o": ("device", "type")}


def tree_size(path: Path) -> int:
    """Bytes held below *path*: sizes of files and symlinks, each hard-linked file once."""
    total = 0
    seen: set[tuple[int, int]] = set()
    stack = [path]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                stack.append(Path(entry.path))
                continue
            if st.st_nlink > 1:
                if (st.st_dev, st.st_ino) in seen:
                    continue
                seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


class LocalDriver:
    """The ``VolumeDriver`` role for Docker's ``local`` driver, under *root* (``<data
    root>/volumes``)."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def validate_options(self, options: dict[str, str]) -> None:
        """Docker's checks. Raises InvalidArgument (``invalid option: "foo"``, ``missing
        required option: "device"``, ``quota size requested but no quota support``)."""
        for key in options:
            if key not in _VALID_OPTS:
                raise errors.InvalidArgument(f'invalid option: "{key}"')
        if "size" in options:
            raise errors.InvalidArgument("quota size requested but no quota support")
        for key, needs in _REQUIRED.items():
            if key in options:
                for need in needs:
                    if need not in options:
                        raise errors.InvalidArgument(f'missing required option: "{need}"')

    def mountpoint(self, name: str) -> Path:
        return self.root / name / "_data"

    def create(self, name: str) -> Path:
        """Make ``<root>/<name>/_data`` (the volumes directory 0701 as Docker keeps it)."""
        if not self.root.is_dir():
            self.root.mkdir(mode=0o701, parents=True, exist_ok=True)
        data = self.mountpoint(name)
        try:
            data.parent.mkdir(mode=0o755, exist_ok=True)
            data.mkdir(mode=0o755, exist_ok=True)
        except OSError as exc:
            raise errors.DockyardError(f"create {name}: {exc}") from exc
        return data

    def mounts(self, record: VolumeRecord) -> list[Mount]:
        opts = record.options
        if "type" not in opts:
            return []
        options = tuple(o for o in opts.get("o", "").split(",") if o)
        device = opts["device"]
        if any(o in ("bind", "rbind") for o in options):
            device = os.path.realpath(device)
            if not os.path.exists(device):
                raise errors.InvalidArgument(
                    f"failed to mount local volume: mount {opts['device']}: no such file or directory"
                )
        return [Mount(type=opts["type"], source=device, options=options)]

    def mounted(self, record: VolumeRecord) -> bool:
        return bool(active_mounts(self.mountpoint(record.name)))

    def mount(self, record: VolumeRecord) -> Path:
        """Mount the volume's options on its mountpoint unless mounted already.

        Raises InvalidArgument/NotFound/PermissionDenied/Unavailable (``failed to mount local
        volume: ...``) when the mount fails.
        """
        data = self.create(record.name)
        mounts = self.mounts(record)
        if mounts and not self.mounted(record):
            try:
                mount_all(mounts, data)
            except errors.DockyardError as exc:
                raise type(exc)(f"failed to mount local volume: {exc}") from exc
        return data

    def unmount(self, record: VolumeRecord) -> None:
        unmount_all(self.mountpoint(record.name))

    def remove(self, name: str) -> None:
        """Unmount anything on the volume and delete its directory. Raises DockyardError."""
        folder = self.root / name
        unmount_all(folder)
        try:
            shutil.rmtree(folder)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise errors.DockyardError(f"remove {name}: {exc}") from exc

    def size(self, name: str) -> int:
        return tree_size(self.mountpoint(name))
