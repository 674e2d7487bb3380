"""The daemon's aiohttp application: routes, version negotiation, error mapping, headers.

``make_app(engine)`` is everything but the socket: tests drive it with aiohttp's test client,
``server.py`` binds it to a unix socket or TCP port. Imports aiohttp and the service layer;
never click or ``cli/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, ThreadPoolExecutor

from aiohttp import web

from dockyard import __version__
from dockyard.api import _waits, routes, versions
from dockyard.api._errors import error_response
from dockyard.api._work import ENGINE, EXECUTOR, STOPPING, request_version
from dockyard.service.engine import Engine

__all__ = ["STOPPING", "make_app", "request_version"]


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Threads for Engine calls, made on demand. Streams (save, load, pull, logs -f) and container
# waits (every attached ``docker run`` has one) hold one for their whole length.
POOL_SIZE = 256


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        versions.check(request_version(request))
        return await handler(request)
    except (asyncio.CancelledError, ConnectionError):
        raise  # the client went away: nobody to answer
    except Exception as exc:
        return error_response(exc)


async def _headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Api-Version"] = versions.MAX_API_VERSION
    response.headers["Ostype"] = "linux"
    response.headers["Server"] = f"Dockyard/{__version__} (linux)"
    response.headers["Docker-Experimental"] = "false"


async def _on_shutdown(app: web.Application) -> None:
    app[STOPPING].set()  # ends the endless streams (/events) so shutdown does not wait on them


async def _on_cleanup(app: web.Application) -> None:
    executor = app[EXECUTOR]
    executor.shutdown(wait=False, cancel_futures=True)


def make_app(engine: Engine, executor: Executor | None = None) -> web.Application:
    """The Docker Engine API over *engine*. The app owns *executor* (shut down on cleanup)."""
    app = web.Application(middlewares=[_errors], client_max_size=64 << 20)
    app[ENGINE] = engine
    app[EXECUTOR] = executor or ThreadPoolExecutor(POOL_SIZE, thread_name_prefix="dockyard-api")
    app[STOPPING] = asyncio.Event()
    app.on_response_prepare.append(_headers)
    app.on_shutdown.append(_on_shutdown)
    app.on_cleanup.append(_on_cleanup)
    _waits.setup(app)
    routes.install(app)
    return app
