"""The launcher: what a shim runs to bring a runtime container into being.

``python -m dockyard.runtime.launch SPEC`` (SPEC is JSON, see :func:`spec`), run in the
container's state directory, which the runtime's bundle is:

1. mounts the root filesystem (one snapshot mount) on ``rootfs``, private, in the host's mount
   namespace, just long enough for the runtime's ``create`` to copy it into the container's;
2. runs the runtime's ``create``: the builtin runtime in this very process, runc or crun as a
   program (and the shim runs this module in its forked child, with no interpreter to start:
   see ``shim.spawn``);
3. moves the init into the given cgroup directories when the runtime does not (the builtin
   runtime, so its own Python process stays outside a tight memory or pids limit): into the
   hierarchies whose limits cannot hinder its set-up as soon as its pid is known, while it sets
   up, and into the memory, pids and devices ones (and v2's one) once it is ready;
4. on any failure leaves ``start-failed`` and runs the runtime's ``delete --force`` (a create
   that died after forking the init must not leave it waiting on its exec fifo);
5. detaches the host's copy of the mount, so nothing of a container stays mounted on the host.

Exits 0, or the runtime's code, or 125 when the mount failed. Errors go to stderr, which is the
container's log: the engine reads the runtime's last words there.

Imports the standard library, ``dockyard.mount`` and ``dockyard._sys.mountapi``; the builtin
runtime only when it is the one asked for.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["START_FAILED", "main", "spec"]

START_FAILED = "start-failed"
ROOTFS = "rootfs"


def spec(
    mount: dict[str, Any],
    runtime: Sequence[str],
    create_args: Sequence[str],
    container_id: str,
    cgroup_dirs: Sequence[str] = (),
    builtin: bool = False,
) -> str:
    """The launcher's SPEC: *mount* (``type``/``source``/``options``), the runtime's argv
    prefix (*runtime*, with ``--root``), the ``create`` arguments after it, the container's id,
    and the cgroup directories to move the init into. With *builtin* the runtime runs in the
    launcher's own process."""
    return json.dumps({
        "mount": mount, "runtime": list(runtime), "create": list(create_args),
        "id": container_id, "cgroup_dirs": list(cgroup_dirs), "builtin": builtin,
    })  # fmt: skip


def _run_runtime(
    runtime: list[str], args: list[str], builtin: bool, on_pid: Callable[[int], None] | None = None
) -> int:
    if builtin:  # runtime is [python, (-S,) -m, dockyard.runtime.builtin, --root, DIR]
        from dockyard.runtime.builtin.__main__ import main as builtin_main

        root = runtime.index("--root")
        return builtin_main([*runtime[root:], *args], on_pid=on_pid)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(runtime[0], [*runtime, *args])
        except OSError as exc:
            os.write(2, f"{runtime[0]}: {exc.strerror}\n".encode())
        os._exit(127)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128


# v1 hierarchies whose limits cannot touch the init's own set-up (it mounts, makes device
# nodes and, in Python, writes to copy-on-write pages): the init joins these while it sets up
_EARLY = frozenset(("cpu", "cpuacct", "cpu,cpuacct", "cpuset", "blkio", "freezer", "perf_event",
                    "net_cls", "net_prio", "net_cls,net_prio", "hugetlb", "rdma", "misc"))  # fmt: skip


def _split_early(dirs: list[str]) -> tuple[list[str], list[str]]:
    """*dirs* (``HIERARCHY/dockyard/ID``) as (joined at the init's pid, joined once it is
    ready). The first move into a cgroup waits for an RCU grace period in the kernel (~15 ms,
    once per burst of moves): made while the init sets up, it costs the start nothing."""
    early = [d for d in dirs if os.path.basename(os.path.dirname(os.path.dirname(d))) in _EARLY]
    return early, [d for d in dirs if d not in early]


def _join_cgroups(dirs: list[str], pid: int | None = None) -> int:
    if pid is None:
        with open("init.pid") as f:
            pid = int(f.read().strip())
    for d in dirs:
        try:
            with open(os.path.join(d, "cgroup.procs"), "w") as f:
                f.write(str(pid))
        except OSError as exc:
            print(f"dockyard-launch: cgroup {d}: {exc.strerror}", file=sys.stderr)
            return 125
    return 0


def _early_join(dirs: list[str]) -> Callable[[int], None] | None:
    """The ``on_pid`` hook that moves the init into *dirs* (raising if it cannot)."""
    if not dirs:
        return None

    def join(pid: int) -> None:
        if _join_cgroups(dirs, pid) != 0:
            raise OSError("cannot move the init into its cgroup")

    return join


def launch(s: dict[str, Any]) -> int:
    """Perform a SPEC (already parsed); the exit code."""
    from pathlib import Path

    from dockyard import errors
    from dockyard._sys import mountapi
    from dockyard.mount import Mount, mount_all

    m = s["mount"]
    options = (*(m.get("options") or ()), "private")
    try:
        mount_all([Mount(m["type"], m["source"], options)], Path(ROOTFS))
    except errors.DockyardError as exc:
        print(f"dockyard-launch: {exc}", file=sys.stderr)
        open(START_FAILED, "w").close()
        return 125
    runtime, builtin = list(s["runtime"]), bool(s.get("builtin"))
    dirs = list(s.get("cgroup_dirs") or ())
    early, late = _split_early(dirs) if builtin else ([], dirs)  # only create calls on_pid
    try:
        try:
            rc = _run_runtime(runtime, list(s["create"]), builtin, _early_join(early))
        except Exception:  # a bug, not the container's fault: say it, and clean up below
            import traceback

            traceback.print_exc()
            rc = 125
        if rc == 0 and late:
            rc = _join_cgroups(late)
        if rc != 0:
            open(START_FAILED, "w").close()
            sys.stderr.flush()
            devnull = os.open(os.devnull, os.O_WRONLY)
            saved = os.dup(2)
            os.dup2(devnull, 2)  # delete's complaints are noise next to create's error
            try:
                _run_runtime(runtime, ["delete", "--force", s["id"]], builtin)
                sys.stderr.flush()
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                os.close(devnull)
    finally:
        try:
            mountapi.umount(ROOTFS, mountapi.MNT_DETACH)
        except OSError:
            pass
    return rc


def main(argv: list[str] | None = None) -> int:
    """``python -m dockyard.runtime.launch SPEC`` (*argv*: the arguments, SPEC)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m dockyard.runtime.launch SPEC", file=sys.stderr)
        return 125
    try:
        code = launch(json.loads(args[0]))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
