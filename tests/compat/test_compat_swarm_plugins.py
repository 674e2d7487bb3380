"""Routes of features Dockyard does not have, answered as dockerd answers them when the feature
is inactive: swarm mode (503 and dockerd's sentence, which SDK tear-downs and ``docker node ls``
depend on), plugins (none), and ``docker builder prune``."""

from __future__ import annotations

from pathlib import Path

import pytest
from compat_daemon import Daemon


def test_swarm_routes_say_not_a_manager_like_dockerd(daemon: Daemon) -> None:
    out = daemon.docker("node", "ls", check=False)
    assert out.returncode == 1
    assert "This node is not a swarm manager." in out.stderr, out.stderr
    assert daemon.docker("service", "ls", check=False).returncode == 1

    client = daemon.sdk()
    docker_sdk = pytest.importorskip("docker")
    assert client.swarm.leave(force=True) is True  # the SDK takes a 503 as "already out"
    with pytest.raises(docker_sdk.errors.APIError) as leave:
        client.swarm.leave()
    assert leave.value.status_code == 503
    assert "not part of a swarm" in str(leave.value.explanation)
    with pytest.raises(docker_sdk.errors.APIError) as secrets:
        client.secrets.list()
    assert secrets.value.status_code == 503
    client.close()


def test_plugin_ls_is_empty(daemon: Daemon) -> None:
    out = daemon.docker("plugin", "ls", "--format", "{{.Name}}")
    assert out.stdout.strip() == ""


def test_builder_prune_forgets_the_build_cache(daemon: Daemon, busybox_tar: Path,
                                               tmp_path: Path) -> None:
    daemon.docker("import", str(busybox_tar), "bb:1")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM bb:1\nRUN echo cached > /f\n")
    client = daemon.sdk()

    def build_log() -> str:
        _image, log = client.images.build(path=str(ctx), tag="pruned:1")
        return "".join(str(chunk.get("stream", "")) for chunk in log)

    build_log()
    assert "Using cache" in build_log()
    report = client.api.prune_builds()
    assert set(report) >= {"CachesDeleted", "SpaceReclaimed"}
    # the layer stays (pruned:1 holds it), so nothing is freed, but the step is forgotten
    assert report["SpaceReclaimed"] == 0
    assert "Using cache" not in build_log()
    client.close()
