"""Fixtures of the compatibility tests: a daemon per test, with its own data root.

The daemon runs as ``python -m dockyard --root ROOT daemon -H unix://ROOT/d.sock``; the docker
CLI and SDK reach it only through ``DOCKER_HOST`` (never a Docker daemon of the host).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from compat_daemon import DOCKER, Daemon, Registry, start_daemon, start_registry


@pytest.fixture
def daemon(data_root: Path, tmp_path: Path) -> Iterator[Daemon]:
    if DOCKER is None:
        pytest.skip("the docker CLI is not installed")
    config = tmp_path / "docker-config"
    config.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("DOCKER_") and k != "DOCKYARD_ROOT"}
    env["DOCKER_CONFIG"] = str(config)
    d = start_daemon(data_root, env)
    yield d
    d.stop()


@pytest.fixture
def local_registry(tmp_path: Path) -> Iterator[Registry]:
    reg = start_registry(tmp_path)
    yield reg
    reg.stop()


@pytest.fixture
def auth_registry(tmp_path: Path) -> Iterator[Registry]:
    """A registry that wants ``alice`` / ``wonderland`` (basic auth)."""
    import subprocess

    out = subprocess.run(["htpasswd", "-Bbn", "alice", "wonderland"], capture_output=True,
                         text=True, check=True)
    reg = start_registry(tmp_path, out.stdout)
    yield reg
    reg.stop()
