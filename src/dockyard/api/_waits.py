"""Waiting for a container to stop (or to go), woken early by what the daemon itself sees.

The service's ``wait`` polls the shim's files, backing off to 100 ms between looks: right for
the CLI, but one ``docker run --rm`` through the daemon waits twice in a row (the ``--rm``
removal waits for the exit, then the client's ``wait`` for the removal) and lost up to 0.2 s
of its ~0.4 s asleep. The daemon often knows sooner: an attach stream that ends means the
container's process has exited (its shim hangs up once the exit is recorded), and a stop, kill
or removal it did itself has just changed the container. Those places call ``hint``; a wait
sleeping on that container looks again at once, then every few ms while the shim finishes.

Waits are the service's ``wait`` with a pause that sleeps on a per-wait event; they run in the
pool (file reads and SQLite) and end when their caller goes away (a client that left, a daemon
shutting down). Imports aiohttp and the service layer only.
"""

from __future__ import annotations

import asyncio
import os
import threading

from aiohttp import web

from dockyard import errors
from dockyard.api._work import EXECUTOR, watch
from dockyard.metadata.containers import ContainerRecord
from dockyard.service.containers.wait import CONDITIONS
from dockyard.service.engine import Engine

__all__ = ["CONDITIONS", "hint", "setup", "wait_exit"]

HINTED_DELAY_S = 0.002  # after a hint: the shim writes its last state within a few ms

_WAKERS = web.AppKey("wait_wakers", dict)  # container id -> set[threading.Event]


def setup(app: web.Application) -> None:
    app[_WAKERS] = {}


def hint(app: web.Application, container_id: str) -> None:
    """Something happened to *container_id* (its stream ended, it was stopped or removed):
    its waits look again now. Call on the event loop."""
    for waker in app[_WAKERS].get(container_id, ()):
        waker.set()


def _exit_code(eng: Engine, record: ContainerRecord, code: int) -> int:
    """*code*, or Docker's 125/126/127 when the runtime could not start the command."""
    from dockyard.service.containers import runtimes
    from dockyard.service.containers.start import rootfs_dirs, start_failure

    state_dir = eng.containers.state_dir(record.id)
    if os.path.exists(os.path.join(state_dir, runtimes.START_FAILED)):
        failure = start_failure(state_dir, eng.containers.log_path(record.id),
                                rootfs_dirs(eng.containers, record))
        return failure.exit_code
    return code


def _wait(eng: Engine, record: ContainerRecord, condition: str, waker: threading.Event,
          done: threading.Event) -> int:
    """The service's ``wait``, sleeping on *waker*; gives up (ConnectionResetError) once
    *done* is set."""
    from dockyard.service.containers.wait import MAX_DELAY_S, wait

    def pause(delay: float) -> float:
        woken = waker.wait(delay)
        if done.is_set():
            raise ConnectionResetError("nobody waits for the container any more")
        if woken:
            waker.clear()
            return HINTED_DELAY_S
        return min(delay * 1.5, MAX_DELAY_S)

    return wait(eng.containers, record, condition, pause=pause,
                exit_code=lambda code: _exit_code(eng, record, code))


def _retrieved(job: asyncio.Future[int]) -> None:
    if not job.cancelled():
        job.exception()  # a wait whose caller left ends with an error nobody reads


async def wait_exit(app: web.Application, eng: Engine, record: ContainerRecord,
                    condition: str = "not-running", request: web.Request | None = None) -> int:
    """The exit code of *record* once *condition* (``CONDITIONS``) holds; Docker's 125/126/127
    when its command could not start. With *request*, gives up when that client leaves
    (ConnectionResetError). Raises InvalidArgument (condition)."""
    if condition not in CONDITIONS:
        raise errors.InvalidArgument(f"invalid condition: {condition!r}")
    waker, done = threading.Event(), threading.Event()
    wakers: set[threading.Event] = app[_WAKERS].setdefault(record.id, set())
    wakers.add(waker)
    loop = asyncio.get_running_loop()
    try:
        job = loop.run_in_executor(app[EXECUTOR], _wait, eng, record, condition, waker, done)
        job.add_done_callback(_retrieved)
        if request is None:
            return await job
        return await watch(request, job)
    finally:
        done.set()
        waker.set()
        wakers.discard(waker)
        if not wakers and app[_WAKERS].get(record.id) is wakers:
            del app[_WAKERS][record.id]
