"""``POST /build``: the legacy builder protocol (``DOCKER_BUILDKIT=0``, the docker SDK's
``images.build``, and what ``docker build`` speaks when ``/_ping`` says ``Builder-Version: 1``).

The request body is the context tar (plain, gzip, bzip2 or xz). It is first spooled to an
unlinked temporary file under the data root (streamed: memory stays flat, and a crash leaves
nothing behind), then the build runs in the pool and its progress streams back as the legacy
builder's JSON lines::

    {"stream": "Step 2/3 : RUN make\\n"}
    {"stream": " ---> Using cache\\n"}
    {"aux": {"ID": "sha256:…"}}
    {"stream": "Successfully built 1234abcd5678\\n"}
    {"stream": "Successfully tagged app:latest\\n"}

A build failing after its first line ends the stream with ``{"errorDetail": {"code": N,
"message": …}, "error": …}`` (``N`` the failed RUN's exit code), which the docker CLI prints
before exiting non-zero; one failing before that is an ordinary HTTP error.

Accepted and ignored: ``rm``/``forcerm`` (the builder makes no intermediate containers),
``X-Registry-Config`` (base images are pulled with the daemon's stored logins), ``cachefrom``,
``shmsize``, ``memory`` and the other resource limits of RUN.

Imports aiohttp, the api helpers, ``errors`` and the build service; never the builder itself.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import threading
from typing import IO, Any, BinaryIO

from aiohttp import web

from dockyard import errors
from dockyard.api import _params
from dockyard.api._errors import status_and_message
from dockyard.api._work import Emit, body_to_worker, call, engine, json_lines, json_response
from dockyard.service.build import BuildImageRequest, build_image, prune_build_cache
from dockyard.service.engine import Engine

__all__ = ["LegacyProgress", "build_request", "routes", "step_line"]

routes = web.RouteTableDef()

_LABEL = re.compile(r"^\[\S+ (\d+/\d+)\] (.*)$", re.DOTALL)
_EXIT_CODE = re.compile(r"exit code: (\d+)")
_NETWORK_MODES = {"": "default", "default": "default", "bridge": "default", "host": "host",
                  "none": "none"}  # fmt: skip


def step_line(label: str) -> str:
    """The legacy builder's step line for a vertex label: ``[stage-0 2/3] RUN make`` →
    ``Step 2/3 : RUN make``."""
    match = _LABEL.match(label)
    if match is None:
        return f"Step : {label}"
    return f"Step {match.group(1)} : {match.group(2)}"


class LegacyProgress:
    """The builder's ``Progress`` role rendered as legacy ``{"stream": …}`` lines through
    *emit* (nothing with *quiet*). Thread-safe: stages report from several threads."""

    def __init__(self, emit: Emit, quiet: bool = False) -> None:
        self._emit = emit
        self._quiet = quiet
        self._lock = threading.Lock()
        self.emitted = False

    def send(self, obj: dict[str, Any]) -> None:
        with self._lock:
            self._emit(obj)
            self.emitted = True

    def stream(self, text: str) -> None:
        if not self._quiet:
            self.send({"stream": text})

    def start(self, vertex: int, name: str) -> None:
        self.stream(step_line(name) + "\n")

    def output(self, vertex: int, line: str) -> None:
        self.stream(line if line.endswith("\n") else line + "\n")

    def cached(self, vertex: int) -> None:
        self.stream(" ---> Using cache\n")

    def done(self, vertex: int) -> None:
        pass

    def error(self, vertex: int, message: str) -> None:
        pass  # the build's error ends the stream


def _json_map(value: str | None, what: str) -> dict[str, str]:
    """A ``buildargs``/``labels`` JSON object; null values dropped. Raises InvalidArgument."""
    if not value:
        return {}
    try:
        doc = json.loads(value)
    except ValueError as exc:
        raise errors.InvalidArgument(f"invalid {what}: {exc}") from exc
    if not isinstance(doc, dict):
        raise errors.InvalidArgument(f"invalid {what}: not a JSON object")
    return {str(k): str(v) for k, v in doc.items() if v is not None}


def build_request(query: Any) -> BuildImageRequest:
    """The BuildImageRequest (without its context) of ``/build``'s query parameters. Raises
    InvalidArgument for a remote context, a bad JSON parameter or network mode."""
    if query.get("remote"):
        raise errors.InvalidArgument("remote build contexts are not supported: send a tar")
    mode = query.get("networkmode") or ""
    if mode not in _NETWORK_MODES:
        raise errors.InvalidArgument(f"network mode {mode!r} is not supported by the builder")
    return BuildImageRequest(
        dockerfile=query.get("dockerfile") or None,
        tags=[t for t in query.getall("t", []) if t],
        build_args=_json_map(query.get("buildargs"), "build args"),
        target=query.get("target") or None,
        no_cache=_params.boolean(query.get("nocache")),
        pull=_params.boolean(query.get("pull")),
        labels=_json_map(query.get("labels"), "labels"),
        platform=query.get("platform") or None,
        network=_NETWORK_MODES[mode],
    )


def _spool(eng: Engine, body: BinaryIO) -> IO[bytes]:
    """The request body copied to an unlinked temporary file, rewound."""
    tmp = eng.settings.root / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    spooled = tempfile.TemporaryFile(dir=tmp, prefix="build-context-")  # noqa: SIM115 (handed over)
    try:
        shutil.copyfileobj(body, spooled, 1 << 20)
        spooled.seek(0)
    except BaseException:
        spooled.close()
        raise
    return spooled


def _error_line(exc: BaseException) -> dict[str, Any]:
    _, message = status_and_message(exc)
    found = _EXIT_CODE.search(message)
    code = int(found.group(1)) if found else 1
    return {"errorDetail": {"code": code, "message": message}, "error": message}


def _run(eng: Engine, req: BuildImageRequest, quiet: bool, emit: Emit) -> None:
    progress = LegacyProgress(emit, quiet)
    try:
        result = build_image(eng, req, progress)
    except errors.DockyardError as exc:
        if not progress.emitted:
            raise  # nothing sent yet: an ordinary HTTP error
        progress.send(_error_line(exc))
        return
    finally:
        if req.context_tar is not None:
            req.context_tar.close()
    if result.unused_args:
        progress.stream(f"[Warning] One or more build-args [{' '.join(result.unused_args)}] "
                        "were not consumed\n")
    progress.send({"aux": {"ID": result.image_id}})
    short = result.image_id.removeprefix("sha256:")[:12]
    if quiet:
        progress.send({"stream": result.image_id + "\n"})
        return
    progress.stream(f"Successfully built {short}\n")
    for tag in result.tags:
        progress.stream(f"Successfully tagged {tag}\n")


@routes.post("/build")
async def build(request: web.Request) -> web.StreamResponse:
    req = build_request(request.query)
    quiet = _params.boolean(request.query.get("q"))
    eng = engine(request)
    req.context_tar = await body_to_worker(request, lambda body: _spool(eng, body))
    return await json_lines(request, lambda emit: _run(eng, req, quiet, emit))


@routes.post("/build/prune")
async def build_prune(request: web.Request) -> web.Response:
    """``docker builder prune``: every cached step goes (the cache keeps no per-entry ids
    to list, so ``CachesDeleted`` stays null as dockerd's is when it names none)."""
    _count, freed = await call(request, prune_build_cache, engine(request))
    return json_response({"CachesDeleted": None, "SpaceReclaimed": freed})
