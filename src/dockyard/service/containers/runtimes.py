"""The OCI runtimes a container can run with, and the command lines the shim runs for them.

Every runtime is driven through runc's command line (``create``/``start``/``delete``/
``exec``/``kill`` with ``--root``), so the builtin runtime (``python -m
dockyard.runtime.builtin``), runc and crun are interchangeable (``--runtime``).

The root filesystem is mounted by the *launcher* the shim runs (``dockyard.runtime.launch``,
in a forked child of the shim, around the runtime's ``create``; the builtin runtime's
``create`` runs in that same process) on ``STATE_DIR/rootfs`` in the host's mount namespace
just long enough for ``create`` to copy it into the container's own namespace, then detached. So
nothing of a container stays mounted on the host, every (re)start by the shim's restart
policy mounts afresh, and when the container's last process exits its mounts vanish with its
namespace. A failed ``create`` leaves ``start-failed`` in the state dir.

Imports only the standard library, ``dockyard.errors``, ``dockyard.mount``'s data type and
the launcher's spec.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard import errors
from dockyard.runtime.launch import START_FAILED

if TYPE_CHECKING:
    from dockyard.mount import Mount

__all__ = [
    "KNOWN",
    "START_FAILED",
    "launcher",
    "runtime_base",
    "start_delete_commands",
    "without_site",
]

KNOWN = ("builtin", "runc", "crun")


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


def without_site(argv: list[str]) -> tuple[list[str], dict[str, str] | None]:
    """*argv* (``python -m dockyard.…``) without ``site`` (``python -S``, ~20 ms less per
    start), and the environment that finds Dockyard then; any other argv is returned as it is
    (None: inherit the environment)."""
    if len(argv) < 3 or argv[1] != "-m" or not argv[2].startswith("dockyard."):
        return argv, None
    import os

    import dockyard

    src = os.path.dirname(os.path.dirname(os.path.abspath(dockyard.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return [argv[0], "-S", *argv[1:]], env


def start_delete_commands(base: list[str], container_id: str) -> tuple[list[str], list[str]]:
    """The shim's ``start`` and ``delete --force`` commands for the runtime *base* (its argv
    prefix). The builtin runtime's are ``python -m dockyard.runtime.builtin …`` commands,
    which the shim runs in a forked child without starting an interpreter (``shim.spawn``).
    A failed start is followed by the delete, which kills an init left waiting on its fifo."""
    return [*base, "start", container_id], [*base, "delete", "--force", container_id]


def launcher(
    rootfs: Sequence[Mount],
    runtime: list[str],
    create_args: list[str],
    container_id: str,
    cgroup_dirs: Sequence[str] = (),
) -> tuple[list[str], dict[str, str] | None]:
    """The shim's command for a runtime container (``dockyard.runtime.launch``, which the
    shim runs in its forked child) and the command's environment: mount *rootfs* (one mount, as a snapshot's), run the
    runtime's ``create`` (*runtime* is its argv prefix, *create_args* what follows), move the
    init into *cgroup_dirs*, detach the host's copy of the mount; on failure the runtime's
    ``delete --force``. Raises InvalidArgument for another mount shape."""
    from dockyard.runtime.launch import spec

    if len(rootfs) != 1:
        raise errors.InvalidArgument(f"a root filesystem is one mount, not {len(rootfs)}")
    m = rootfs[0]
    mount = {"type": m.type, "source": m.source, "options": list(m.options)}
    builtin = runtime[1:3] == ["-m", "dockyard.runtime.builtin"]
    text = spec(mount, runtime, create_args, container_id, cgroup_dirs, builtin)
    command, env = without_site([sys.executable, "-m", "dockyard.runtime.launch"])
    return [*command, text], env
