"""Registry operations: pull (``POST /images/create?fromImage=``), push and ``POST /auth``.

Credentials come only from the request (``X-Registry-Auth``, base64url JSON, as the docker
CLI sends it), never from the daemon's own ``config.json``: the daemon acts for its client.
Progress streams as Docker's JSON messages while a pool thread does the transfer.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

from aiohttp import web

from dockyard import errors
from dockyard.api._work import Emit, call, engine, json_lines, json_response
from dockyard.api.routes_image_transfer import import_from_body
from dockyard.oci import reference
from dockyard.registry.credentials import Credentials, CredentialStore
from dockyard.registry.hosts import host_of
from dockyard.registry.progress import Progress, docker_json

__all__ = ["RequestCredentials", "decode_auth", "routes"]

routes = web.RouteTableDef()


class RequestCredentials(CredentialStore):
    """The credentials one request carried, for the one registry they name; nothing on disk."""

    def __init__(self, creds: Credentials | None, server: str = "") -> None:
        super().__init__(Path("/nonexistent/dockyard-request-credentials"))
        self._creds = creds
        self._host = host_of(server) if server else ""

    def get(self, server: str) -> Credentials | None:
        if self._host and host_of(server) != self._host:
            return None
        return self._creds

    def store(self, server: str, creds: Credentials) -> None:
        """The daemon keeps no logins: the client stores its own."""

    def erase(self, server: str) -> bool:
        return False


def _b64decode(text: str) -> bytes:
    text = text.strip()
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError) as exc:
        raise errors.InvalidArgument(f"invalid X-Registry-Auth header: {exc}") from exc


def auth_config(doc: dict[str, Any]) -> tuple[Credentials | None, str]:
    """Credentials and server of an auth config (the ``/auth`` body, the header's JSON)."""
    server = str(doc.get("serveraddress") or "")
    if doc.get("identitytoken"):
        return Credentials("<token>", str(doc["identitytoken"])), server
    username, password = str(doc.get("username") or ""), str(doc.get("password") or "")
    if not username and doc.get("auth"):
        username, _, password = _b64decode(str(doc["auth"])).decode(errors="replace").partition(":")
    if username:
        return Credentials(username, password), server
    return None, server


def decode_auth(header: str | None) -> RequestCredentials:
    """The ``X-Registry-Auth`` header as a credential store. Raises InvalidArgument."""
    if not header:
        return RequestCredentials(None)
    try:
        doc = json.loads(_b64decode(header))
    except ValueError as exc:
        raise errors.InvalidArgument(f"invalid X-Registry-Auth header: {exc}") from exc
    if not isinstance(doc, dict):
        raise errors.InvalidArgument("invalid X-Registry-Auth header: not a JSON object")
    creds, server = auth_config(doc)
    return RequestCredentials(creds, server)


def _pull_target(from_image: str, tag: str) -> tuple[str, bool]:
    """The reference to pull and whether it means every tag (no tag given anywhere)."""
    ref = reference.parse(from_image)
    if ref.tag is not None or ref.digest is not None:
        return from_image, False
    if not tag:
        return from_image, True
    return (f"{from_image}@{tag}" if ":" in tag else f"{from_image}:{tag}"), False


@routes.post("/images/create")
async def create(request: web.Request) -> web.StreamResponse:
    q = request.query
    if q.get("fromSrc"):
        return await import_from_body(request)
    if not q.get("fromImage"):
        raise errors.InvalidArgument("fromImage or fromSrc is required")
    name, all_tags = _pull_target(q["fromImage"], q.get("tag", ""))
    platform = q.get("platform") or None
    store = decode_auth(request.headers.get("X-Registry-Auth"))
    eng = engine(request)

    def job(emit: Emit) -> None:
        from dockyard.service import registry

        registry.pull(eng, name, all_tags=all_tags, platform=platform,
                      on_progress=lambda ev: emit(docker_json(ev)), credentials=store)

    return await json_lines(request, job)


@routes.post("/images/{name:.+}/push")
async def push(request: web.Request) -> web.StreamResponse:
    repo, tag = request.match_info["name"], request.query.get("tag", "")
    target = f"{repo}:{tag}" if tag else repo
    store = decode_auth(request.headers.get("X-Registry-Auth"))
    eng = engine(request)

    def job(emit: Emit) -> None:
        from dockyard.service import registry

        def progress(ev: Progress) -> None:
            emit(docker_json(ev))

        result = registry.push(eng, target, on_progress=progress, credentials=store)
        emit({"progressDetail": {}, "aux": {"Tag": result.reference.tag or "latest",
                                            "Digest": result.digest, "Size": result.size}})

    return await json_lines(request, job)


@routes.post("/auth")
async def auth(request: web.Request) -> web.Response:
    try:
        doc = await request.json()
    except ValueError as exc:
        raise errors.InvalidArgument(f"invalid auth configuration: {exc}") from exc
    if not isinstance(doc, dict):
        raise errors.InvalidArgument("invalid auth configuration: not a JSON object")
    creds, server = auth_config(doc)
    if creds is None:
        raise errors.InvalidArgument("username and password are required")
    from dockyard.service import registry

    await call(request, registry.login, engine(request), server or None, creds.username,
               creds.secret, credentials=RequestCredentials(None))
    return json_response({"Status": "Login Succeeded", "IdentityToken": ""})
