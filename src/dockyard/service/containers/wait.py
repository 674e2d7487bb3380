"""``wait``: block until a container stops; its exit code.

The shim's ``state.json`` says ``exited`` once no restart is pending, so waiting is polling
files (10 ms at first, backing off to 100 ms): no connection, no daemon.

Imports only metadata and sibling modules; never cli/ or api/.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from dockyard import errors
from dockyard.metadata.containers import ContainerRecord

if TYPE_CHECKING:
    from dockyard.service.containers.service import ContainerService

__all__ = ["wait"]


def wait(
    svc: ContainerService,
    record: ContainerRecord,
    condition: str = "not-running",
    timeout: float | None = None,
) -> int:
    """Wait for *condition* (``not-running``, ``next-exit``; ``removed`` also waits for the
    record to go); the exit code. A never-started container waits until it has run.

    Raises InvalidArgument (condition), Unavailable (*timeout* passed).
    """
    if condition not in ("not-running", "next-exit", "removed"):
        raise errors.InvalidArgument(f"invalid condition: {condition!r}")
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = 0.01
    seen_running = condition != "next-exit"
    code = 0
    while True:
        live = svc.live(record)
        if live.running:
            seen_running = True
        elif seen_running and live.ever_started:
            code = live.exit_code
            if condition != "removed":
                svc.emit_die(record)
                return code
        if condition == "removed":
            try:
                svc.records.get(record.id)
            except errors.NotFound:
                return code
        if deadline is not None and time.monotonic() > deadline:
            raise errors.Unavailable(f"container {record.name} did not stop in {timeout}s")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.1)
