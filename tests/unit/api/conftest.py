"""Fixtures for the API unit tests: the daemon's app over a fresh data root."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_testclient import Api

from _helpers.images import TestImage, docker_archive, image
from dockyard.service.engine import Engine
from dockyard.service.settings import Settings


@pytest.fixture
def api(data_root: Path) -> Iterator[Api]:
    client = Api(Engine(Settings.resolve(data_root)))
    yield client
    client.close()


@pytest.fixture
def sample() -> TestImage:
    """A two-layer image tagged busybox:latest and example.com/app:1.0."""
    return image([[("etc/", None), ("etc/hello", b"hi")], [("data", b"x" * 5000)]],
                 tags=["busybox:latest", "example.com/app:1.0"], labels={"tier": "web"})


@pytest.fixture
def loaded(api: Api, sample: TestImage) -> TestImage:
    reply = api.post("/v1.50/images/load", data=docker_archive([sample]))
    assert reply.status == 200, reply.body
    return sample
