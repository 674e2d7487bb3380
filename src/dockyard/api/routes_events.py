"""``GET /events``: the event log as a stream of JSON lines.

Events live in the shared SQLite database, written by every process (the daemon, each
``dockyard`` CLI run), so the stream polls the log every ``POLL_S`` (off the event loop) rather
than waiting on an in-process signal. ``since`` or ``until`` replays the stored events first
(from ``since``, or all the log keeps); ``until`` ends the stream once that time has passed;
without it the stream runs until the client or the daemon goes away. Without either, only new
events are sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

from aiohttp import web

from dockyard.api import _params
from dockyard.api._event_filter import EventFilter
from dockyard.api._work import STOPPING, call, engine

__all__ = ["listener_count", "routes", "setup"]

routes = web.RouteTableDef()

POLL_S = 0.15
_LISTENERS = web.AppKey("event_listeners", list)  # one entry per open stream


def setup(app: web.Application) -> None:
    app[_LISTENERS] = []


def listener_count(app: web.Application) -> int:
    return len(app.get(_LISTENERS, []))


@routes.get("/events")
async def events(request: web.Request) -> web.StreamResponse:
    q = request.query
    since = _params.timestamp_nano(q.get("since"))
    until = _params.timestamp_nano(q.get("until"))
    flt = EventFilter(_params.filters(q.get("filters")))
    log = engine(request).events
    replay = since is not None or until is not None  # as dockerd: either replays the log
    last_id = 0 if replay else await call(request, log.last_id)
    stopping = request.app[STOPPING]
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    listeners = request.app[_LISTENERS]
    token = object()
    listeners.append(token)
    try:
        while True:
            finished = until is not None and time.time_ns() > until
            batch = await call(request, log.since, last_id, since or 0, until)
            for ev in batch:
                last_id = ev.id
                if flt.match(ev):
                    await response.write(json.dumps(ev.to_docker()).encode() + b"\n")
            gone = request.transport is None or request.transport.is_closing()
            if finished or gone or stopping.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), POLL_S)
    except ConnectionError:
        pass  # the client left
    finally:
        listeners.remove(token)
    return response
