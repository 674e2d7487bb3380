"""Resolving a bind mount's host path, safely, before the runtime binds it.

The source is resolved with ``realpath``: every symlink on the way, the last one included,
is followed *on the host, now*, and the runtime is given a path with no symlink left in it.
What the container then sees is exactly that directory (or file) and what lies below it; a
bind cannot be widened by the container, because the kernel resolves any symlink found
inside the bind later, from inside the container's mount namespace (see README.md).

``--mount type=bind`` needs an existing source (Docker's ``bind source path does not exist``);
``-v /host:/x`` creates a missing directory (mode 0755), as Docker does.

Imports only the standard library, ``dockyard.errors`` and this package's model and modes.
"""

from __future__ import annotations

import errno
import os

from dockyard import errors
from dockyard.volume import modes
from dockyard.volume.model import BIND, MountSpec

__all__ = ["resolve", "resolve_path"]


def resolve_path(source: str, create: bool) -> str:
    """The real path of host *source*; with *create*, a missing directory is made first.

    Raises InvalidArgument (``invalid mount config for type "bind": bind source path does
    not exist: /x``) when it is missing and *create* is False, or when it cannot be created
    (``error while creating mount source path '/x': ...``).
    """
    if not source.startswith("/"):
        raise modes.config_error(BIND, f"invalid mount path: '{source}' mount path must be absolute")
    real = os.path.realpath(source)
    if os.path.exists(real):
        return real
    if not create:
        raise modes.config_error(BIND, f"bind source path does not exist: {source}")
    try:
        os.makedirs(real, mode=0o755, exist_ok=True)
    except OSError as exc:
        reason = os.strerror(exc.errno or errno.EIO).lower()
        raise errors.InvalidArgument(
            f"error while creating mount source path '{source}': mkdir {real}: {reason}"
        ) from exc
    return os.path.realpath(real)


def resolve(spec: MountSpec) -> str:
    """The host path to bind for a ``bind`` *spec* (see :func:`resolve_path`).

    Raises InvalidArgument for a spec that is not a bind, or as :func:`resolve_path`.
    """
    if spec.type != BIND:
        raise errors.InvalidArgument(f"mount on {spec.target}: not a bind mount")
    return resolve_path(spec.source, spec.create_source)
