"""The streaming plumbing every long operation uses: JSON progress, bodies in and out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from dockyard import errors
from dockyard.api import _work
from dockyard.api.app import _errors


def _app() -> web.Application:
    app = web.Application(middlewares=[_errors])
    app[_work.EXECUTOR] = ThreadPoolExecutor(4)

    async def progress(request: web.Request) -> web.StreamResponse:
        fail_at = int(request.query["fail_at"])

        def job(emit: _work.Emit) -> None:
            for i in range(3):
                if i == fail_at:
                    raise errors.NotFound("manifest unknown")
                emit({"status": f"step {i}"})

        return await _work.json_lines(request, job)

    async def count(request: web.Request) -> web.Response:
        def job(stream: BinaryIO) -> int:
            if request.query.get("refuse"):
                stream.read(10)
                raise errors.InvalidArgument("not an archive")
            return sum(len(chunk) for chunk in iter(lambda: stream.read(1 << 16), b""))

        return _work.json_response({"bytes": await _work.body_to_worker(request, job)})

    async def produce(request: web.Request) -> web.StreamResponse:
        size = int(request.query["size"])

        def job(out: BinaryIO) -> None:
            if size < 0:
                raise errors.NotFound("No such image: x")
            for _ in range(size // 4096):
                out.write(b"z" * 4096)

        return await _work.worker_to_response(request, job, {"Content-Type": "application/x-tar"})

    app.router.add_get("/progress", progress)
    app.router.add_post("/count", count)
    app.router.add_get("/produce", produce)
    return app


@pytest.fixture
def run() -> Iterator[Any]:
    runner = asyncio.Runner()

    async def start() -> TestClient[Any, Any]:
        client: TestClient[Any, Any] = TestClient(TestServer(_app()))
        await client.start_server()
        return client

    client = runner.run(start())

    def go(method: str, path: str, **kwargs: Any) -> tuple[int, bytes]:
        async def request() -> tuple[int, bytes]:
            resp = await client.request(method, path, **kwargs)
            return resp.status, await resp.read()

        return runner.run(request())

    yield go
    runner.run(client.close())
    runner.close()


def test_progress_lines_then_dockers_error_object(run: Any) -> None:
    status, body = run("GET", "/progress?fail_at=2")
    lines = [json.loads(line) for line in body.splitlines()]
    assert status == 200
    assert lines == [{"status": "step 0"}, {"status": "step 1"},
                     {"errorDetail": {"message": "manifest unknown"}, "error": "manifest unknown"}]


def test_an_error_before_any_progress_is_an_http_error(run: Any) -> None:
    assert run("GET", "/progress?fail_at=0") == (404, b'{"message": "manifest unknown"}')


def test_a_body_reaches_the_job_in_full(run: Any) -> None:
    data = bytes(range(256)) * 40_000  # 10 MB, far more than the pipe holds
    status, body = run("POST", "/count", data=data)
    assert (status, json.loads(body)) == (200, {"bytes": len(data)})


def test_a_job_that_refuses_the_body_answers_without_reading_it_all(run: Any) -> None:
    status, body = run("POST", "/count?refuse=1", data=b"x" * 5_000_000)
    assert (status, json.loads(body)) == (400, {"message": "not an archive"})


def test_a_jobs_output_streams_as_the_response(run: Any) -> None:
    status, body = run("GET", "/produce?size=8388608")
    assert status == 200 and len(body) == 8388608 and set(body) == {ord("z")}
    assert run("GET", "/produce?size=-1")[0] == 404  # failed before the first byte
