"""Waiting for a container to stop (or to go), woken early by what the daemon itself sees.

The service's ``wait`` polls the shim's files, backing off to 100 ms between looks: right for
the CLI, but one ``docker run --rm`` through the daemon waits twice in a row (the ``--rm``
removal waits for the exit, then the client's ``wait`` for the removal) and lost up to 0.2 s
of its ~0.4 s asleep. The daemon often knows sooner: an attach stream that ends means the
container's process has exited (its shim hangs up once the exit is recorded), and a stop, kill
or removal it did itself has just changed the container. Those places call ``hint``; a wait
sleeping on that container looks again at once, then every few ms while the shim finishes.

Waits run in the pool (file reads and SQLite) and end when their caller goes away (a client
that left, a daemon shutting down). The wait that sees an exit gives the container's network
back, as the CLI's ``wait`` does. Imports aiohttp and the service layer only.
"""

from __future__ import annotations

import asyncio
import os
import threading

from aiohttp import web

from dockyard import errors
from dockyard.api._work import EXECUTOR, watch
from dockyard.metadata.containers import ContainerRecord
from dockyard.service.engine import Engine

__all__ = ["CONDITIONS", "hint", "setup", "wait_exit"]

CONDITIONS = ("not-running", "next-exit", "removed")
FIRST_DELAY_S = 0.01  # as the service's wait: 10 ms, growing by half to 100 ms
MAX_DELAY_S = 0.1
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


def _gone(eng: Engine, record: ContainerRecord) -> bool:
    try:
        eng.containers.records.get(record.id)
    except errors.NotFound:
        return True
    return False


def _wait(eng: Engine, record: ContainerRecord, condition: str, waker: threading.Event,
          done: threading.Event) -> int:
    """The service's ``wait`` loop (same conditions, same ``die`` event), sleeping on
    *waker*; gives up (ConnectionResetError) once *done* is set. Whoever observes an exit
    gives the container's network back (as the CLI's ``wait`` and ``run`` do)."""
    from dockyard.service.containers.networking import release_exited

    seen_running = condition != "next-exit"
    code: int | None = None
    delay = FIRST_DELAY_S
    while not done.is_set():
        if code is None:
            live = eng.containers.live(record)
            if live.running:
                seen_running = True
            elif seen_running and live.ever_started:
                code = _exit_code(eng, record, live.exit_code)
                release_exited(eng.containers, record)  # its address and ports go back
                eng.containers.emit_die(record)
                if condition != "removed":
                    return code
        if condition == "removed" and _gone(eng, record):
            return code or 0
        if waker.wait(delay):
            waker.clear()
            delay = HINTED_DELAY_S
        else:
            delay = min(delay * 1.5, MAX_DELAY_S)
    raise ConnectionResetError("nobody waits for the container any more")


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
