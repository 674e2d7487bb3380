"""``run``: create, start, wait for the container's process, delete; its exit code.

The caller becomes a child subreaper so the init (whose parent stage exits) is reparented to
it and can be waited for; signals the caller gets are forwarded to the container, as runc
does. Imports only the standard library and this package.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

from dockyard.runtime.builtin import store as st

__all__ = ["run"]

_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT,
              signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH)  # fmt: skip


def run(
    container_id: str,
    bundle: str,
    *,
    root: str = st.DEFAULT_ROOT,
    pid_file: str | None = None,
    console_socket: str | None = None,
    place: Callable[[int], None] | None = None,
) -> int:
    """Run *container_id* from *bundle* to completion; its exit code (128+n for signal n).

    Raises what ``create`` and ``start`` raise; the container is deleted either way.
    """
    from dockyard._sys import prctl
    from dockyard.runtime.builtin.container_create import create
    from dockyard.runtime.builtin.container_delete import delete
    from dockyard.runtime.builtin.container_start import start

    prctl.set_child_subreaper(True)
    state = create(
        container_id,
        bundle,
        root=root,
        pid_file=pid_file,
        console_socket=console_socket,
        place=place,
    )
    previous = {}
    waited = False
    try:
        for sig in _FORWARDED:
            previous[sig] = signal.signal(sig, lambda n, _f: os.kill(state.pid, n))
        start(container_id, root=root)
        _, status = os.waitpid(state.pid, 0)
        waited = True
        if os.WIFSIGNALED(status):
            return 128 + os.WTERMSIG(status)
        return os.waitstatus_to_exitcode(status)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        delete(container_id, root=root, force=True)
        if not waited:
            try:
                os.waitpid(state.pid, 0)  # reap the init delete killed
            except ChildProcessError:
                pass
