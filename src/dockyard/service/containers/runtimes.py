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

import shlex
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dockyard import errors

if TYPE_CHECKING:
    from dockyard.mount import Mount

__all__ = [
    "KNOWN",
    "START_FAILED",
    "fast_create",
    "launcher",
    "runtime_base",
    "start_delete_commands",
]

KNOWN = ("builtin", "runc", "crun")
START_FAILED = "start-failed"

# $1 is the mount program's prefix ("busybox" or ""): a static busybox mounts in ~3 ms,
# util-linux's mount(8) (libmount, fstab, mountinfo) in ~30 ms. $2 lists the cgroup
# directories the init moves into once created, before it runs anything: the runtime itself
# (a Python process for the builtin one) stays outside, so a 6 MB memory or a 3 pids limit
# binds the container's processes only. $3 is the runtime's `delete --force` (shell-quoted),
# run when anything failed: a create that died after forking the init (OOM-killed, say)
# must not leave that init waiting on its exec fifo forever.
_SCRIPT = (
    'M="$1"; CG="$2"; FORCE="$3"; shift 3\n'
    '$M mount -t "$1" -o "$2" "$3" rootfs && $M mount --make-private rootfs || exit 125\n'
    "shift 3\n"
    '"$@"\n'
    "rc=$?\n"
    'if [ "$rc" -eq 0 ] && [ -n "$CG" ]; then\n'
    "  read -r pid < init.pid\n"
    '  for d in $CG; do echo "$pid" > "$d/cgroup.procs" || rc=125; done\n'
    "fi\n"
    'if [ "$rc" -ne 0 ]; then\n'
    f"  : > {START_FAILED}\n"
    '  eval "$FORCE" >/dev/null 2>&1\n'
    "fi\n"
    "$M umount -l rootfs\n"
    'exit "$rc"\n'
)
_BUSYBOX = ("/usr/bin/busybox", "/bin/busybox")


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


def fast_create(base: list[str]) -> tuple[list[str], dict[str, str] | None]:
    """The builtin runtime's argv prefix for ``create`` without ``site`` (``python -S``,
    ~20 ms less per start), and the environment that finds Dockyard then; other runtimes
    are returned as they are (None: inherit the environment)."""
    if base[1:3] != ["-m", "dockyard.runtime.builtin"]:
        return base, None
    import os

    import dockyard

    src = os.path.dirname(os.path.dirname(os.path.abspath(dockyard.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return [base[0], "-S", *base[1:]], env


def start_delete_commands(
    name: str, base: list[str], container_id: str
) -> tuple[list[str], list[str]]:
    """The shim's ``start`` and ``delete`` commands for runtime *name*.

    For the builtin runtime these are the two file operations its ``start`` and ``delete``
    amount to once the init waits on ``exec.fifo`` (read one byte, remove the fifo) or has
    been reaped (remove its state directory), done by ``sh`` instead of a Python interpreter
    each: ~100 ms of every ``run``.
    """
    if name != "builtin":
        return [*base, "start", container_id], [*base, "delete", "--force", container_id]
    from dockyard.runtime.builtin.store import FIFO, container_dir

    state = container_dir(base[base.index("--root") + 1], container_id)
    fifo = f"{state}/{FIFO}"
    # a start that fails (the init gone, or 10 s without it) takes the whole container down,
    # so no init is left blocked on its fifo; the shim then records the failed start
    script = 'timeout 10 head -c1 "$1" >/dev/null && rm -f "$1" || { eval "$2"; exit 1; }'
    force = shlex.join([*base, "delete", "--force", container_id])
    start = ["/bin/sh", "-c", script, "start", fifo, f"{force} >/dev/null 2>&1"]
    delete = ["/bin/rm", "-rf", state]
    return start, delete


def launcher(
    rootfs: Sequence[Mount],
    create_argv: list[str],
    cgroup_dirs: Sequence[str] = (),
    force_delete: Sequence[str] = (),
) -> list[str]:
    """The shim's command: mount *rootfs* (one mount, as a snapshot's), run *create_argv*,
    move the init (pid in ``init.pid``) into *cgroup_dirs*, detach the host's copy of the
    mount; on any failure run *force_delete* (the runtime's ``delete --force ID``). Raises
    InvalidArgument for another mount shape."""
    if len(rootfs) != 1:
        raise errors.InvalidArgument(f"a root filesystem is one mount, not {len(rootfs)}")
    m = rootfs[0]
    kind = "none" if m.type == "bind" else m.type
    import os

    busybox = next((b for b in _BUSYBOX if os.access(b, os.X_OK)), "")
    options = ",".join(m.options)
    dirs = " ".join(cgroup_dirs)
    return [
        "/bin/sh",
        "-c",
        _SCRIPT,
        "launch",
        busybox,
        dirs,
        shlex.join(force_delete) if force_delete else ":",
        kind,
        options,
        m.source,
        *create_argv,
    ]
