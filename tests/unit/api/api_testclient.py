"""A synchronous client for the daemon's aiohttp app (one event loop per client, no plugin)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from multidict import CIMultiDictProxy

from dockyard.api.app import make_app
from dockyard.service.engine import Engine


@dataclass
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def lines(self) -> list[Any]:
        return [json.loads(line) for line in self.body.splitlines() if line.strip()]


class Api:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._runner = asyncio.Runner()

        async def start() -> TestClient[Any, Any]:
            client: TestClient[Any, Any] = TestClient(TestServer(make_app(engine)))
            await client.start_server()
            return client

        self._client = self._runner.run(start())

    def request(self, method: str, path: str, **kwargs: Any) -> Reply:
        async def go() -> Reply:
            resp = await self._client.request(method, path, **kwargs)
            return Reply(resp.status, resp.headers, await resp.read())

        return self._runner.run(go())

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Reply:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self._runner.run(self._client.close())
        self._runner.close()
