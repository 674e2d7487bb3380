"""Turning the shim into a daemon that survives whoever started it.

Double fork with ``setsid`` in between: the first child leaves the starter's session, the
second can never reacquire a controlling terminal, and both intermediate processes exit at
once so the starter (the CLI) is free to go. stdio goes to /dev/null; the readiness pipe the
starter passed stays open so the starter learns whether the container started.

Imports only the standard library.
"""

from __future__ import annotations

import os

__all__ = ["daemonize"]


def daemonize(workdir: str, keep_fds: tuple[int, ...] = ()) -> None:
    """Detach from the caller; returns in the grandchild, with *workdir* as cwd.

    Raises OSError if *workdir* cannot be entered (before forking, so the caller sees it).
    """
    os.chdir(workdir)
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    os.umask(0o022)
    null = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):
        if target not in keep_fds:
            os.dup2(null, target)
    if null > 2:
        os.close(null)
