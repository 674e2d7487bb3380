"""``--tmpfs /path[:options]`` and ``--volumes-from CONTAINER[:ro|rw]``, in Docker's syntax,
and Docker's merging of tmpfs options.

``--tmpfs`` options are mount flags (``ro``, ``noexec``, ``exec``...) and tmpfs data
(``size``, ``mode``, ``uid``, ``gid``, ``nr_inodes``, ``nr_blocks``, ``mpol``); anything else
is refused as Docker refuses it (``invalid tmpfs option ["foo"]``). ``--volumes-from``
copies another container's mounts: the container service looks the container up and passes
its mount list to :func:`inherit`.

Pure: imports only the standard library, ``dockyard.errors`` and this package's model and
modes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from dockyard import errors
from dockyard.volume import modes
from dockyard.volume.model import TMPFS, MountSpec

__all__ = ["inherit", "merge_tmpfs_options", "parse_tmpfs", "parse_volumes_from"]

# Mount flags that may appear among tmpfs options, grouped by the bit they set: later wins.
_FLAG_GROUPS = {
    "ro": "rdonly", "rw": "rdonly", "suid": "nosuid", "nosuid": "nosuid", "dev": "nodev",
    "nodev": "nodev", "exec": "noexec", "noexec": "noexec", "sync": "sync", "async": "sync",
    "dirsync": "dirsync", "mand": "mand", "nomand": "mand", "atime": "noatime",
    "noatime": "noatime", "diratime": "nodiratime", "nodiratime": "nodiratime",
    "relatime": "relatime", "norelatime": "relatime", "strictatime": "strictatime",
    "nostrictatime": "strictatime", "private": "propagation", "rprivate": "propagation",
    "shared": "propagation", "rshared": "propagation", "slave": "propagation",
    "rslave": "propagation", "unbindable": "propagation", "runbindable": "propagation",
}  # fmt: skip
_DATA_KEYS = frozenset({"size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "mpol"})
# What Docker gives every tmpfs before the user's options.
TMPFS_DEFAULTS = ("noexec", "nosuid", "nodev", "rprivate")


def _option_error(option: str) -> errors.InvalidArgument:
    parts = " ".join(f'"{p}"' for p in option.split("=", 1))
    return errors.InvalidArgument(f"invalid tmpfs option [{parts}]")


def merge_tmpfs_options(options: Sequence[str]) -> list[str]:
    """Docker's ``MergeTmpfsOptions``: later options win over earlier ones of the same kind
    (``exec`` over ``noexec``, the last ``size=``); ``defaults`` is dropped. Raises
    InvalidArgument for an option tmpfs does not know."""
    seen: set[str] = set()
    merged: list[str] = []
    for option in reversed(options):
        if option in ("defaults", ""):
            continue
        key = _FLAG_GROUPS.get(option)
        if key is None:
            name, sep, _ = option.partition("=")
            if not sep or name not in _DATA_KEYS:
                raise _option_error(option)
            key = "data:" + name
        if key not in seen:
            seen.add(key)
            merged.insert(0, option)
    return merged


def parse_tmpfs(raw: str) -> MountSpec:
    """Parse one ``--tmpfs`` value. Raises InvalidArgument for a relative or ``/`` path, or an
    unknown option."""
    target, _, data = raw.partition(":")
    problem = modes.validate_target(target)
    if problem is not None:
        raise errors.InvalidArgument(problem)
    options = tuple(o for o in data.split(",") if o)
    merge_tmpfs_options(options)  # validate now, not when the container starts
    readonly = "ro" in options and options.index("ro") > max(
        (i for i, o in enumerate(options) if o == "rw"), default=-1
    )
    rest = tuple(o for o in options if o not in ("ro", "rw"))
    return MountSpec(type=TMPFS, target=modes.clean_path(target), readonly=readonly,
                     options=rest)  # fmt: skip


def parse_volumes_from(raw: str) -> tuple[str, str]:
    """Split ``CONTAINER[:MODE]`` into (container, mode); mode defaults to ``rw``.

    Raises InvalidArgument for an empty value, or a mode other than ``ro``/``rw`` (with an
    optional ``z``/``Z``): propagation and copy modes are refused, as Docker refuses them.
    """
    if not raw:
        raise errors.InvalidArgument("volumes-from specification cannot be an empty string")
    container, _, mode = raw.partition(":")
    if not mode:
        return container, "rw"
    if (not modes.valid_mode(mode) or modes.propagation_of(mode)
            or modes.copy_mode(mode) is not None):  # fmt: skip
        raise errors.InvalidArgument(f"invalid mode for volumes-from: {mode}")
    return container, mode


def inherit(mounts: Sequence[MountSpec], mode: str) -> list[MountSpec]:
    """The mounts a container gets from ``--volumes-from`` another with *mounts*: the same
    sources and targets, read-only when either side says so, never filled from the image.
    Anonymous volumes of the other container are shared by name, so *mounts* must carry
    the names given to them (``MountSpec.source``)."""
    ro = not modes.read_write(mode)
    return [
        dataclasses.replace(m, readonly=m.readonly or ro, nocopy=True, create_source=False)
        for m in mounts
    ]
