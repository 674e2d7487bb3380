"""``start``: release a created container's init so it execs the user's process.

The init blocks opening ``exec.fifo`` for writing; opening it for reading here completes that
rendezvous, the init writes one byte, and the fifo is removed (the container is then
``running``). Imports only the standard library, ``dockyard.errors`` and this package.
"""

from __future__ import annotations

import os
import select

from dockyard import errors
from dockyard.runtime.builtin import store as st

__all__ = ["start"]


def start(container_id: str, *, root: str = st.DEFAULT_ROOT, timeout: float = 10.0) -> None:
    """Start created container *container_id*.

    Raises NotFound, FailedPrecondition (not ``created``, or its init died waiting).
    """
    record, state = st.current(root, container_id)
    if state.status != "created":
        raise errors.FailedPrecondition(
            f"container {container_id} is {state.status}: only a created container can start"
        )
    fifo = os.path.join(st.container_dir(root, container_id), st.FIFO)
    fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        waited = 0.0
        while not poller.poll(100):
            waited += 0.1
            if st.process_start_time(record.pid) != record.start_time or waited > timeout:
                raise errors.FailedPrecondition(f"container {container_id}: init is gone")
        if os.read(fd, 1) != b"0":
            raise errors.FailedPrecondition(f"container {container_id}: init is gone")
    finally:
        os.close(fd)
    os.unlink(fifo)
