"""From the mount flags of one ``run`` to the list of mounts to make, and each to OCI.

:func:`combine` applies Docker's precedence: ``--volumes-from`` first, overridden by ``-v``
and ``--mount`` (which may not name the same target twice: ``Duplicate mount point: /x``);
``--tmpfs`` wins over all of them at its target; each image ``VOLUME`` not covered gets an
anonymous volume. The result is sorted parents first. :func:`oci_mount` turns one spec,
with its host source resolved (a bind's real path, a volume's mountpoint), into an OCI
runtime-spec mount entry.

Pure: imports only the standard library, ``dockyard.errors`` and this package's modules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from dockyard import errors
from dockyard.volume import modes
from dockyard.volume.model import BIND, TMPFS, VOLUME, MountSpec
from dockyard.volume.parse_tmpfs import TMPFS_DEFAULTS, merge_tmpfs_options

__all__ = ["combine", "inspect_entry", "oci_mount", "sort_for_mounting"]


def combine(
    volumes_from: Sequence[MountSpec] = (),
    volumes: Sequence[MountSpec] = (),
    mounts: Sequence[MountSpec] = (),
    tmpfs: Sequence[MountSpec] = (),
    image_volumes: Iterable[str] = (),
) -> list[MountSpec]:
    """The container's mounts, parents first. Raises InvalidArgument (``Duplicate mount point:
    /data``) when ``-v``/``--mount`` name one target twice."""
    chosen: dict[str, MountSpec] = {m.target: m for m in volumes_from}
    explicit: set[str] = set()
    for m in (*volumes, *mounts):
        if m.target in explicit:
            raise errors.InvalidArgument(f"Duplicate mount point: {m.target}")
        explicit.add(m.target)
        chosen[m.target] = m
    for m in tmpfs:
        chosen[m.target] = m
    for path in image_volumes:
        target = modes.clean_path(path)
        if target not in chosen:
            chosen[target] = MountSpec(type=VOLUME, target=target)
    return sort_for_mounting(chosen.values())


def sort_for_mounting(mounts: Iterable[MountSpec]) -> list[MountSpec]:
    """Parents before children (by number of path parts), otherwise in the given order."""
    return sorted(mounts, key=lambda m: len(modes.clean_path(m.target).split("/")))


def oci_mount(spec: MountSpec, host_source: str = "") -> dict[str, Any]:
    """The OCI mount entry for *spec*. *host_source* is the resolved host path of a bind
    (``bindsource.resolve``) or the mountpoint of a volume; unused for tmpfs.

    Raises InvalidArgument when a bind or volume comes without its host source.
    """
    if spec.type == TMPFS:
        options = [*TMPFS_DEFAULTS, *spec.options]
        if spec.readonly:
            options.append("ro")
        return {"destination": spec.target, "type": "tmpfs", "source": "tmpfs",
                "options": merge_tmpfs_options(options)}  # fmt: skip
    if spec.type not in (BIND, VOLUME):
        raise errors.InvalidArgument(f"mount type {spec.type!r} unknown")
    if not host_source:
        raise errors.InvalidArgument(f"mount on {spec.target}: host source not resolved")
    bind = "bind" if spec.non_recursive else "rbind"
    propagation = spec.propagation or "rprivate"
    options = [bind, propagation, "ro" if spec.readonly else "rw"]
    return {"destination": spec.target, "type": "bind", "source": host_source,
            "options": options}  # fmt: skip


def inspect_entry(spec: MountSpec, host_source: str = "") -> dict[str, Any]:
    """One element of ``Mounts`` in Docker's ``container inspect`` for an attached *spec*
    (a volume's ``source`` is its name, *host_source* its mountpoint)."""
    entry: dict[str, Any] = {"Type": spec.type}
    if spec.type == VOLUME:
        entry["Name"] = spec.source
    entry["Source"] = host_source if spec.type != TMPFS else ""
    entry["Destination"] = spec.target
    if spec.type == VOLUME:
        entry["Driver"] = spec.volume_driver or "local"
    entry["Mode"] = spec.mode
    entry["RW"] = not spec.readonly
    entry["Propagation"] = spec.propagation if spec.type == BIND else ""
    return entry
