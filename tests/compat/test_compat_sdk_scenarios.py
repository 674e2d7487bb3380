"""The docker Python SDK (7.x) driving the daemon through everyday scenarios: images (import,
list, get, tag, remove, build), containers (run detached, logs, stop, remove), networks,
volumes, events, version and info. Root: containers run and networks are bridges."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from compat_daemon import Daemon
from test_compat_networks import remove_networks

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="containers and networks need root")


@pytest.fixture
def client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
           busybox_tar: Path) -> Iterator[Any]:
    """An SDK client of the test's daemon (own nftables table and bridge), with busybox:latest
    imported."""
    monkeypatch.setenv("DOCKYARD_NFT_TABLE", f"dockyard-k{os.getpid()}")
    monkeypatch.setenv("DOCKYARD_DEFAULT_BRIDGE", f"dockyard0k{os.getpid() % 100000}")
    d: Daemon = request.getfixturevalue("daemon")
    sdk = d.sdk()
    sdk.api.import_image(src=str(busybox_tar), repository="busybox", tag="latest",
                         changes=['CMD ["sh"]'])
    yield sdk
    sdk.close()
    d.stop()
    remove_networks(d.root)


def test_version_info_and_images(client: Any) -> None:
    version = client.version()
    assert version["Os"] == "linux" and version["ApiVersion"]
    info = client.info()
    assert info["Images"] == 1 and info["Containers"] == 0
    [img] = client.images.list()
    assert img.tags == ["busybox:latest"]
    assert client.images.get("busybox").id == img.id
    assert img.tag("sdk/copy", "v1") is True
    assert sorted(client.images.get(img.id).tags) == ["busybox:latest", "sdk/copy:v1"]
    client.images.remove("sdk/copy:v1")
    assert client.images.get(img.id).tags == ["busybox:latest"]


def test_build_then_run_logs_stop_remove(client: Any, tmp_path: Path) -> None:
    import docker

    (tmp_path / "motd").write_text("built by the sdk\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM busybox\nCOPY motd /motd\nLABEL made=sdk\n"
        'CMD ["sh", "-c", "cat /motd; echo ready; exec sleep 30"]\n')
    image, logs = client.images.build(path=str(tmp_path), tag="sdkapp:1", rm=True)
    assert image.tags == ["sdkapp:1"] and image.labels == {"made": "sdk"}
    streamed = "".join(chunk.get("stream", "") for chunk in logs)
    assert "Successfully tagged sdkapp:1" in streamed
    (tmp_path / "Dockerfile").write_text("FROM busybox\nRUN exit 4\n")
    with pytest.raises(docker.errors.BuildError, match="exit code: 4"):
        client.images.build(path=str(tmp_path), tag="broken")

    container = client.containers.run("sdkapp:1", detach=True, name="sdkweb",
                                      network_mode="none")
    deadline = time.monotonic() + 10
    while b"ready" not in container.logs():
        assert time.monotonic() < deadline, container.logs()
        time.sleep(0.1)
    assert container.logs() == b"built by the sdk\nready\n"
    container.reload()
    assert container.status == "running" and container.name == "sdkweb"
    assert [c.id for c in client.containers.list()] == [container.id]
    container.stop(timeout=1)
    container.reload()
    assert container.status == "exited"
    assert container.wait()["StatusCode"] == 137  # sleep ignores TERM: killed
    container.remove()
    assert client.containers.list(all=True) == []
    with pytest.raises(docker.errors.NotFound):
        client.containers.get("sdkweb")


def test_networks_volumes_and_events(client: Any) -> None:
    import docker

    since = time.time()
    pool = docker.types.IPAMPool(subnet="10.231.12.0/24")
    net = client.networks.create("sdknet", driver="bridge", labels={"by": "sdk"},
                                 ipam=docker.types.IPAMConfig(pool_configs=[pool]))
    assert [n.name for n in client.networks.list(names=["sdknet"])] == ["sdknet"]
    assert client.networks.get(net.id).attrs["Labels"] == {"by": "sdk"}
    assert {"host", "none", "sdknet"} <= {n.name for n in client.networks.list()}
    vol = client.volumes.create("sdkvol", labels={"by": "sdk"})
    assert vol.attrs["Mountpoint"]
    assert [v.name for v in client.volumes.list(filters={"label": "by=sdk"})] == ["sdkvol"]
    vol.remove()
    net.remove()
    with pytest.raises(docker.errors.NotFound):
        client.networks.get("sdknet")
    assert client.volumes.list() == []
    events = list(client.events(since=since, until=time.time() + 0.5, decode=True))
    seen = [(e["Type"], e["Action"]) for e in events if e["Type"] in ("network", "volume")]
    assert seen == [("network", "create"), ("volume", "create"), ("volume", "destroy"),
                    ("network", "destroy")]
    assert all(e["Actor"]["ID"] for e in events)
