"""Exec: ``POST /containers/{id}/exec``, ``POST /exec/{id}/start`` (attached over a hijacked
connection, or detached), ``POST /exec/{id}/resize``, ``GET /exec/{id}/json``.

The daemon is threaded and the builtin runtime forks, so each exec runs in a helper process
(``python -m dockyard.service.containers.exec``) whose exit code is the process's. Without a
tty the process writes to the helper's pipes and the output is framed here (Docker's
multiplexed stream); with one, the container's pty master comes to a console socket this
handler listens on, and is copied raw (resize is an ioctl on it).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import tempfile
from typing import Any

from aiohttp import web

from dockyard import errors
from dockyard.api._work import call, engine, json_response

__all__ = ["routes"]

routes = web.RouteTableDef()


def _frame(stream: int, data: bytes) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


class _Feeder:
    """The hijacked connection's bytes → a writer (the process's stdin or the pty)."""

    def __init__(self, write: Any, close: Any) -> None:
        self._write, self._close = write, close

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        with contextlib.suppress(OSError, RuntimeError):
            self._write(data)
        return False, b""

    def feed_eof(self) -> None:
        with contextlib.suppress(OSError, RuntimeError):
            self._close()

    def close(self) -> None:
        pass


def _read_pid(inst: Any, pid_file: str) -> bool:
    """Take the process's pid from the helper's pid file, if it is there yet."""
    try:
        with open(pid_file) as f:
            inst.pid = int(f.read() or 0)
    except (OSError, ValueError):
        return False
    return True


async def _watch_pid(inst: Any, pid_file: str) -> None:
    """Set ``inst.pid`` once the helper has written the process's pid (``exec inspect``)."""
    for _ in range(100):
        if _read_pid(inst, pid_file):
            return
        await asyncio.sleep(0.05)


def _store(request: web.Request) -> Any:
    return engine(request).containers.exec_store()


@routes.post("/containers/{id}/exec")
async def exec_create(request: web.Request) -> web.Response:
    body = await request.json() if request.can_read_body else {}
    eng = engine(request)
    inst = await call(request, eng.containers.exec_store().add, eng.containers,
                      request.match_info["id"], body)  # fmt: skip
    return json_response({"Id": inst.id}, status=201)


@routes.get("/exec/{id}/json")
async def exec_inspect(request: web.Request) -> web.Response:
    return json_response(_store(request).get(request.match_info["id"]).inspect())


@routes.post("/exec/{id}/resize")
async def exec_resize(request: web.Request) -> web.Response:
    import fcntl
    import struct
    import termios

    inst = _store(request).get(request.match_info["id"])
    try:
        rows, cols = int(request.query.get("h", "0")), int(request.query.get("w", "0"))
    except ValueError as exc:
        raise errors.InvalidArgument(f"invalid size: {exc}") from exc
    master = getattr(inst, "master", None)
    if master is not None and rows > 0 and cols > 0:
        with contextlib.suppress(OSError):
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    return web.Response(status=200)


def _prepare_process(svc: Any, inst: Any, tty: bool) -> str:
    from dockyard.service.containers import exec as ex

    cfg = inst.config
    _, process = ex.prepare(svc, inst.container_id, list(cfg.get("Cmd") or []),
                            env=cfg.get("Env") or [], user=cfg.get("User") or None,
                            workdir=cfg.get("WorkingDir") or None, tty=tty)  # fmt: skip
    fd, path = tempfile.mkstemp(prefix="dy-exec-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(process, f)
    return path


@routes.post("/exec/{id}/start")
async def exec_start(request: web.Request) -> web.StreamResponse:
    from dockyard.service.containers import exec as ex

    eng = engine(request)
    svc = eng.containers
    inst = svc.exec_store().get(request.match_info["id"])
    body = await request.json() if request.can_read_body else {}
    if inst.started:
        raise errors.Conflict(f"exec {inst.id} has already started")
    tty = bool(body.get("Tty", inst.config.get("Tty")))
    detach = bool(body.get("Detach"))
    process_file = await call(request, _prepare_process, svc, inst, tty and not detach)
    inst.started = True
    root = str(eng.settings.root)
    if detach:
        argv = ex.helper_argv(root, inst.container_id, process_file, None, True)
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)  # fmt: skip
        _, err = await proc.communicate()
        if proc.returncode:
            inst.exit_code = proc.returncode
            raise errors.FailedPrecondition(err.decode(errors="replace").strip())
        return web.Response(status=200)
    upgrade = request.headers.get("Upgrade", "").lower() == "tcp"
    kind = "raw" if tty else "multiplexed"
    headers = {"Content-Type": f"application/vnd.docker.{kind}-stream"}
    if upgrade:
        headers.update({"Connection": "Upgrade", "Upgrade": "tcp"})
    response = web.StreamResponse(
        status=101 if upgrade else 200, reason="UPGRADED" if upgrade else None, headers=headers
    )
    response.force_close()
    from dockyard.api.routes_attach import _hold_half_open

    half_open = _hold_half_open(request) if upgrade else None
    await response.prepare(request)
    inst.running = True
    try:
        if tty:
            code = await _run_tty(request, response, inst, root, process_file, half_open)
        else:
            code = await _run_pipes(request, response, inst, root, process_file, half_open)
        inst.exit_code = code
    finally:
        inst.running = False
    with contextlib.suppress(ConnectionError, RuntimeError):
        await response.write_eof()
    return response


def _install_stdin(request: web.Request, half_open: Any, feeder: _Feeder) -> None:
    if request.protocol is not None:
        request.protocol.set_parser(feeder)  # type: ignore[arg-type]
    if half_open is not None:
        for data in half_open.early:
            feeder.feed_data(data)
        half_open.early.clear()
        half_open.stdin = feeder
        if half_open.eof:
            feeder.feed_eof()


async def _run_pipes(request: web.Request, response: web.StreamResponse, inst: Any,
                     root: str, process_file: str, half_open: Any) -> int:  # fmt: skip
    from dockyard.service.containers import exec as ex

    attach_stdin = bool(inst.config.get("AttachStdin"))
    pid_file = process_file + ".pid"
    argv = ex.helper_argv(root, inst.container_id, process_file, None, False, pid_file)
    pipe = asyncio.subprocess.PIPE
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=pipe if attach_stdin else asyncio.subprocess.DEVNULL, stdout=pipe,
        stderr=pipe)  # fmt: skip
    watcher = asyncio.ensure_future(_watch_pid(inst, pid_file))
    if attach_stdin and proc.stdin is not None:
        stdin = proc.stdin
        _install_stdin(request, half_open, _Feeder(stdin.write, stdin.close))

    async def pump(reader: asyncio.StreamReader | None, stream: int) -> None:
        if reader is None:
            return
        while data := await reader.read(1 << 16):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await response.write(_frame(stream, data))

    try:
        await asyncio.gather(pump(proc.stdout, 1), pump(proc.stderr, 2))
        return await proc.wait()
    finally:
        watcher.cancel()
        if not inst.pid:  # a quick process may end before the watcher looked
            _read_pid(inst, pid_file)
        with contextlib.suppress(OSError):
            os.unlink(pid_file)


async def _run_tty(request: web.Request, response: web.StreamResponse, inst: Any,
                   root: str, process_file: str, half_open: Any) -> int:  # fmt: skip
    from dockyard.runtime.shim.attach import ConsoleSocket
    from dockyard.service.containers import exec as ex

    loop = asyncio.get_running_loop()
    tmp = tempfile.mkdtemp(prefix="dy-exec-")
    console = ConsoleSocket(os.path.join(tmp, "c.sock"))
    try:
        pid_file = process_file + ".pid"
        argv = ex.helper_argv(root, inst.container_id, process_file, console.name, False, pid_file)
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)  # fmt: skip
        watcher = asyncio.ensure_future(_watch_pid(inst, pid_file))
        master = None
        for _ in range(100):
            master = console.receive()
            if master is not None or proc.returncode is not None:
                break
            await asyncio.sleep(0.05)
    finally:
        console.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if master is None:
        watcher.cancel()
        if not inst.pid:  # a quick process may end before the watcher looked
            _read_pid(inst, pid_file)
        with contextlib.suppress(OSError):
            os.unlink(pid_file)
        _, err = await proc.communicate()
        await response.write(err)
        return await proc.wait()
    inst.master = master
    os.set_blocking(master, False)
    if inst.config.get("AttachStdin"):
        _install_stdin(request, half_open, _Feeder(lambda d: os.write(master, d), lambda: None))
    out: asyncio.Queue[bytes] = asyncio.Queue()

    def readable() -> None:
        try:
            data = os.read(master, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(master)
        out.put_nowait(data)

    loop.add_reader(master, readable)
    waiter = asyncio.ensure_future(proc.wait())
    try:
        while True:
            getter = asyncio.ensure_future(out.get())
            done, _ = await asyncio.wait([getter, waiter], return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                data = getter.result()
                if not data:
                    break
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await response.write(data)
            else:
                getter.cancel()
                while True:  # what the process wrote just before it ended
                    try:
                        data = os.read(master, 1 << 16)
                    except OSError:
                        break
                    if not data:
                        break
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await response.write(data)
                break
        return await waiter
    finally:
        loop.remove_reader(master)
        inst.master = None
        os.close(master)
        watcher.cancel()
        if not inst.pid:  # a quick process may end before the watcher looked
            _read_pid(inst, pid_file)
        with contextlib.suppress(OSError):
            os.unlink(pid_file)
