"""Volumes and mount specifications (layer L3).

The ``local`` volume driver and its SQLite records; the parsers of every mount flag of
``run`` (``-v``, ``--mount``, ``--tmpfs``, ``--volumes-from``) into :class:`MountSpec`\\ s;
safe resolution of bind sources; filling an empty volume from the image. Never imports
``runtime/``, ``image/`` or ``network/`` (L3 packages are independent); see README.md for
how bind mounts keep a container inside the named host path.
"""

from dockyard.volume.bindsource import resolve as resolve_bind_source
from dockyard.volume.model import ANONYMOUS_LABEL, MountSpec, VolumeRecord
from dockyard.volume.parse_mount import parse_mount
from dockyard.volume.parse_tmpfs import inherit, parse_tmpfs, parse_volumes_from
from dockyard.volume.parse_volume import parse_volume
from dockyard.volume.plan import combine, inspect_entry, oci_mount
from dockyard.volume.populate import populate, source_in_rootfs

__all__ = [
    "ANONYMOUS_LABEL",
    "MountSpec",
    "VolumeRecord",
    "combine",
    "inherit",
    "inspect_entry",
    "oci_mount",
    "parse_mount",
    "parse_tmpfs",
    "parse_volume",
    "parse_volumes_from",
    "populate",
    "resolve_bind_source",
    "source_in_rootfs",
]
