"""The volume package's data: mount specifications parsed from the command line, and volume
records, with Docker's name rule for local volumes.

A :class:`MountSpec` is what one ``-v``, ``--mount``, ``--tmpfs`` or inherited
``--volumes-from`` entry asks for; the container service turns each into an OCI mount (see
``plan.oci_mount``). A :class:`VolumeRecord` is one named or anonymous volume kept by the
local driver.

Pure data: imports only the standard library and ``dockyard.errors``; never ``runtime/``,
``image/`` or ``network/``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from typing import Any

from dockyard import errors

__all__ = [
    "ANONYMOUS_LABEL",
    "BIND",
    "TMPFS",
    "VOLUME",
    "MountSpec",
    "VolumeRecord",
    "generate_name",
    "validate_name",
]

BIND = "bind"
VOLUME = "volume"
TMPFS = "tmpfs"

# Docker 23+ labels anonymous volumes so `volume prune` (without -a) removes only those.
ANONYMOUS_LABEL = "com.docker.volume.anonymous"
RESTRICTED_NAME_CHARS = "[a-zA-Z0-9][a-zA-Z0-9_.-]"
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


@dataclass(frozen=True)
class MountSpec:
    """One mount a container asks for.

    ``type`` is ``bind``, ``volume`` or ``tmpfs``. ``source`` is the host path of a bind, the
    name of a volume (``""`` for an anonymous one) and empty for tmpfs. ``target`` is the
    absolute, cleaned path in the container. ``options`` are extra mount options: for tmpfs
    the data options (``size=64m``, ``mode=1777``, ``exec``), for binds the ``z``/``Z``
    relabel hints (accepted, without effect). ``propagation`` is a bind's propagation
    (``rprivate`` when not given). ``mode`` is the raw ``-v`` mode string Docker shows in
    ``inspect``. ``create_source`` is True for ``-v`` binds (a missing host directory is
    created) and False for ``--mount`` (it must exist). ``nocopy`` turns off filling an
    empty volume from the image.
    """

    type: str
    target: str
    source: str = ""
    readonly: bool = False
    options: tuple[str, ...] = ()
    propagation: str = ""
    mode: str = ""
    volume_driver: str = ""
    volume_labels: dict[str, str] = field(default_factory=dict)
    volume_opts: dict[str, str] = field(default_factory=dict)
    nocopy: bool = False
    create_source: bool = False
    non_recursive: bool = False

    @property
    def anonymous(self) -> bool:
        """A volume mount without a name: a fresh volume is made for it."""
        return self.type == VOLUME and not self.source

    def __hash__(self) -> int:  # dict fields: hash on what identifies the mount
        return hash((self.type, self.source, self.target, self.readonly))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form, for a container record (read back with :meth:`from_dict`)."""
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in fields(self)}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MountSpec:
        """The spec :meth:`to_dict` gave; unknown keys are ignored. Raises InvalidArgument
        when ``type`` or ``target`` is missing."""
        if "type" not in data or "target" not in data:
            raise errors.InvalidArgument(f"mount record without type or target: {data}")
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {
            k: (tuple(v) if k == "options" else v) for k, v in data.items() if k in known
        }
        return cls(**values)


@dataclass
class VolumeRecord:
    """A volume of the local driver. ``mountpoint`` is ``<root>/volumes/<name>/_data``."""

    name: str
    mountpoint: str
    created: str  # RFC 3339, UTC, seconds
    driver: str = "local"
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    anonymous: bool = False

    def to_json(self) -> dict[str, Any]:
        """Docker's ``volume inspect`` document."""
        return {
            "CreatedAt": self.created,
            "Driver": self.driver,
            "Labels": dict(self.labels) if self.labels else None,
            "Mountpoint": self.mountpoint,
            "Name": self.name,
            "Options": dict(self.options) if self.options else None,
            "Scope": "local",
        }


def validate_name(name: str) -> None:
    """Docker's rule for local volume names. Raises InvalidArgument with Docker's message."""
    if len(name) == 1:
        raise errors.InvalidArgument(
            f"create {name}: volume name is too short, names should be at least two "
            "alphanumeric characters"
        )
    if not _NAME.match(name):
        raise errors.InvalidArgument(
            f'create {name}: "{name}" includes invalid characters for a local volume name, '
            f'only "{RESTRICTED_NAME_CHARS}" are allowed. If you intended to pass a host '
            "directory, use absolute path"
        )


def generate_name() -> str:
    """A name for an anonymous volume: 64 hex digits, like Docker's."""
    return os.urandom(32).hex()
