"""Interop with a real Docker daemon through a real registry: what one pushes, the other pulls.

Skipped when ``docker info`` does not answer. Docker treats 127.0.0.0/8 registries as
insecure (plain HTTP) by default. Every image these tests create in Docker is removed by
name afterwards; no other image of the daemon is touched.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from _helpers.images import busybox_rootfs, tar_dir

pytestmark = pytest.mark.root


def _docker_ok() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0
    except subprocess.TimeoutExpired:
        return False


requires_docker = pytest.mark.skipif(not _docker_ok(), reason="no Docker daemon answers")


def _run(*cmd: str, input: bytes | None = None) -> str:
    proc = subprocess.run(cmd, input=input, capture_output=True, timeout=300)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()}")
    return proc.stdout.decode()


@pytest.fixture
def dockyard(data_root: Path, docker_config: Path):
    def run(*args: str, input: bytes | None = None) -> str:
        return _run(sys.executable, "-m", "dockyard", "--root", str(data_root), *args, input=input)

    return run


@pytest.fixture(scope="module")
def busybox_tar(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return tar_dir(busybox_rootfs(tmp_path_factory.mktemp("rootfs") / "rootfs"))


@pytest.fixture
def docker_images() -> Iterator[list[str]]:
    """Names of the images a test made in Docker; each is removed afterwards."""
    names: list[str] = []
    yield names
    for name in names:
        subprocess.run(["docker", "rmi", "-f", name], capture_output=True, timeout=120)


@requires_docker
def test_docker_pulls_and_runs_what_dockyard_pushes(registry, dockyard, busybox_tar, docker_images):
    name = f"{registry.host}/interop/from-dockyard:1"
    image_id = dockyard("import", "-", name, input=busybox_tar).strip()
    dockyard("push", name)
    docker_images.append(name)
    _run("docker", "pull", name)
    assert _run("docker", "image", "inspect", "-f", "{{.Id}}", name).strip() == image_id
    assert _run("docker", "run", "--rm", name, "echo", "ok") == "ok\n"


@requires_docker
def test_dockyard_pulls_what_docker_pushes_with_the_same_id(
    registry, dockyard, busybox_tar, docker_images
):
    name = f"{registry.host}/interop/from-docker:1"
    docker_images.append(name)
    _run("docker", "import", "--change", "CMD [\"sh\"]", "-", name, input=busybox_tar)
    _run("docker", "push", name)
    docker_id = _run("docker", "image", "inspect", "-f", "{{.Id}}", name).strip()
    [repo_digest] = json.loads(
        _run("docker", "image", "inspect", "-f", "{{json .RepoDigests}}", name)
    )
    dockyard("pull", name)
    info = json.loads(dockyard("image", "inspect", name))[0]
    assert info["Id"] == docker_id
    assert repo_digest in info["RepoDigests"]
    assert info["Config"]["Cmd"] == ["sh"]
    # Pulling again is a no-op, as Docker reports it.
    assert f"Status: Image is up to date for {name}" in dockyard("pull", name)
