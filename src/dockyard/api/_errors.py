"""The one place where errors become HTTP answers: ``{"message": …}`` with the category's status.

Dockyard's error categories carry their HTTP status (``errors.py``); anything else the engine
raises is a 500 whose message is logged with its traceback. aiohttp's own HTTP errors (no such
route, wrong method) keep their status with Docker's body shape.

Imports only ``errors`` and aiohttp.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web

from dockyard import errors

__all__ = ["error_response", "status_and_message"]

log = logging.getLogger("dockyard.api")


def status_and_message(exc: BaseException) -> tuple[int, str]:
    """The HTTP status and message the daemon answers for *exc*."""
    if isinstance(exc, errors.DockyardError):
        return exc.http_status, exc.message
    if isinstance(exc, web.HTTPException):
        if exc.status == 404:
            return 404, "page not found"
        return exc.status, exc.reason
    log.error("internal error", exc_info=exc)
    return 500, str(exc) or type(exc).__name__


def error_response(exc: BaseException) -> web.Response:
    status, message = status_and_message(exc)
    return web.Response(body=json.dumps({"message": message}).encode(), status=status,
                        headers={"Content-Type": "application/json"})


def stream_error(exc: BaseException) -> dict[str, object]:
    """An error after a stream began: the object Docker's JSON message stream ends with."""
    _, message = status_and_message(exc)
    return {"errorDetail": {"message": message}, "error": message}
