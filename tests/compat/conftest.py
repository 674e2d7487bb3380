"""Fixtures of the compatibility tests: a daemon per test, with its own data root.

The daemon runs as ``python -m dockyard --root ROOT daemon -H unix://ROOT/d.sock``; the docker
CLI and SDK reach it only through ``DOCKER_HOST`` (never a Docker daemon of the host).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from compat_daemon import DOCKER, DOCKYARD, Daemon, Registry, start_daemon, start_registry


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
    # containers outlive the daemon (their shims do): remove what the test left
    left = subprocess.run([*DOCKYARD, "--root", str(data_root), "ps", "-aq", "--no-trunc"],
                          capture_output=True, text=True, env=env, timeout=60)
    for container_id in left.stdout.split() if left.returncode == 0 else []:
        subprocess.run([*DOCKYARD, "--root", str(data_root), "rm", "-f", container_id],
                       capture_output=True, env=env, timeout=60)


@pytest.fixture
def local_registry(tmp_path: Path) -> Iterator[Registry]:
    reg = start_registry(tmp_path)
    yield reg
    reg.stop()


@pytest.fixture
def auth_registry(tmp_path: Path) -> Iterator[Registry]:
    """A registry that wants ``alice`` / ``wonderland`` (basic auth)."""
    out = subprocess.run(["htpasswd", "-Bbn", "alice", "wonderland"], capture_output=True,
                         text=True, check=True)
    reg = start_registry(tmp_path, out.stdout)
    yield reg
    reg.stop()


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A rootfs tarball with the host's static busybox: an image that runs."""
    from _helpers.images import busybox_rootfs, tar_dir

    root = busybox_rootfs(tmp_path_factory.mktemp("compat-rootfs") / "rootfs")
    path = root.parent / "busybox.tar"
    path.write_bytes(tar_dir(root))
    return path
