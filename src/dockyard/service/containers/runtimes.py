"""The OCI runtimes a container can run with, and the command lines the shim runs for them.

Every runtime is driven through runc's command line (``create``/``start``/``delete``/
``exec``/``kill`` with ``--root``), so the builtin runtime (``python -m
dockyard.runtime.builtin``), runc and crun are interchangeable (``--runtime``).

The root filesystem is mounted by the *launcher* the shim runs — a few lines of ``sh`` around
the runtime's ``create`` — on ``STATE_DIR/rootfs`` in the host's mount namespace just long
enough for ``create`` to copy it into the container's own namespace, then detached. So
nothing of a container stays mounted on the host, every (re)start by the shim's restart
policy mounts afresh, and when the container's last process exits its mounts vanish with its
namespace. A failed ``create`` leaves ``start-failed`` in the state dir.

Imports only the standard library, ``dockyard.errors`` and ``dockyard.mount``'s data type.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from dockyard import errors
from dockyard.mount import Mount

__all__ = ["KNOWN", "START_FAILED", "launcher", "runtime_base"]

KNOWN = ("builtin", "runc", "crun")
START_FAILED = "start-failed"

_SCRIPT = (
    '/bin/mount -t "$1" -o "$2" "$3" rootfs && /bin/mount --make-private rootfs || exit 125\n'
    "shift 3\n"
    '"$@"\n'
    "rc=$?\n"
    f'[ "$rc" -eq 0 ] || : > {START_FAILED}\n'
    "/bin/umount -l rootfs\n"
    'exit "$rc"\n'
)


def runtime_base(name: str, exec_root: Path) -> list[str]:
    """The argv prefix (program + ``--root``) of runtime *name*.

    Raises InvalidArgument (unknown runtime, Docker's message) or Unavailable (not installed).
    """
    if name not in KNOWN:
        raise errors.InvalidArgument(f"unknown or invalid runtime name: {name}")
    root = str(exec_root / name)
    if name == "builtin":
        return [sys.executable, "-m", "dockyard.runtime.builtin", "--root", root]
    program = shutil.which(name)
    if program is None:
        raise errors.Unavailable(f"runtime {name} is not installed")
    return [program, "--root", root]


def launcher(rootfs: Sequence[Mount], create_argv: list[str]) -> list[str]:
    """The shim's command: mount *rootfs* (one mount, as a snapshot's), run *create_argv*,
    detach the host's copy of the mount. Raises InvalidArgument for another mount shape."""
    if len(rootfs) != 1:
        raise errors.InvalidArgument(f"a root filesystem is one mount, not {len(rootfs)}")
    m = rootfs[0]
    kind = "none" if m.type == "bind" else m.type
    return ["/bin/sh", "-c", _SCRIPT, "launch", kind, ",".join(m.options), m.source, *create_argv]
