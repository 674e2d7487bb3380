"""``wait``: block until a container stops; its exit code.

The shim's ``state.json`` says ``exited`` once no restart is pending, so waiting is polling
files (10 ms at first, backing off to 100 ms): no connection, no daemon. A long-lived caller
that learns of changes sooner (the API daemon) passes its own *pause*. Whoever observes the
exit emits ``die`` and gives the container's network back (its address and published ports),
as Docker does when a container stops.

Imports only metadata and sibling modules; never cli/ or api/.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from dockyard import errors
from dockyard.metadata.containers import ContainerRecord

if TYPE_CHECKING:
    from dockyard.service.containers.service import ContainerService

__all__ = ["CONDITIONS", "wait"]

CONDITIONS = ("not-running", "next-exit", "removed")
FIRST_DELAY_S = 0.01
MAX_DELAY_S = 0.1


def _sleep(delay: float) -> float:
    time.sleep(delay)
    return min(delay * 1.5, MAX_DELAY_S)


def wait(
    svc: ContainerService,
    record: ContainerRecord,
    condition: str = "not-running",
    timeout: float | None = None,
    *,
    pause: Callable[[float], float] = _sleep,
    exit_code: Callable[[int], int] | None = None,
) -> int:
    """Wait for *condition* (``not-running``, ``next-exit``; ``removed`` also waits for the
    record to go); the exit code. A never-started container waits until it has run.
    *pause* sleeps at most the delay it is given and returns the next one (it may raise to
    give up); *exit_code* maps the code when the exit is seen (the container may be gone by
    the time ``removed`` holds).

    Raises InvalidArgument (condition), Unavailable (*timeout* passed).
    """
    from dockyard.service.containers.networking import release

    if condition not in CONDITIONS:
        raise errors.InvalidArgument(f"invalid condition: {condition!r}")
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = FIRST_DELAY_S
    seen_running = condition != "next-exit"
    code: int | None = None
    while True:
        if code is None:
            live = svc.live(record)
            if live.running:
                seen_running = True
            elif seen_running and live.ever_started:
                code = exit_code(live.exit_code) if exit_code else live.exit_code
                release(svc, record)  # its address and ports go back
                svc.emit_die(record)
                if condition != "removed":
                    return code
        if condition == "removed":
            try:
                svc.records.get(record.id)
            except errors.NotFound:
                return code or 0
        if deadline is not None and time.monotonic() > deadline:
            raise errors.Unavailable(f"container {record.name} did not stop in {timeout}s")
        delay = pause(delay)
