"""``docker network`` through the daemon: create, ls, inspect, rm, prune (compared with what
``dockyard network`` shows), and ``docker run --network`` with name resolution between two
containers. Root: networks are bridges and an nftables table, named for this test alone."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from compat_daemon import Daemon

from dockyard.service.engine import Engine
from dockyard.service.settings import Settings

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="networks need root")


def remove_networks(root: Path) -> None:
    """Remove every network of the data root *root* (the default bridge too) and wait for its
    DNS helper to leave: what a test's daemon made on the host goes with the test."""
    service = Engine(Settings.resolve(root)).networks
    for ep in service.manager.endpoints():
        service.disconnect_all(ep.container_id)
    for net in service.manager.list_networks():
        if not net.default:
            service.manager.remove_network(net.id)
    service.manager.prune_default()
    deadline = time.monotonic() + 5
    while (pid := service.dns_helper_pid()) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid:
        os.kill(pid, 15)


@pytest.fixture
def net_daemon(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Daemon]:
    """The test's daemon with its own nftables table and default bridge (set before it starts)."""
    monkeypatch.setenv("DOCKYARD_NFT_TABLE", f"dockyard-c{os.getpid()}")
    monkeypatch.setenv("DOCKYARD_DEFAULT_BRIDGE", f"dockyard0c{os.getpid() % 100000}")
    d: Daemon = request.getfixturevalue("daemon")
    yield d
    d.stop()  # the daemon fixture stops it again (a no-op) and removes the containers
    remove_networks(d.root)


def test_create_ls_inspect_rm_prune(net_daemon: Daemon) -> None:
    d = net_daemon
    net_id = d.docker("network", "create", "--subnet", "10.231.7.0/24", "--label", "app=web",
                      "appnet").stdout.strip()
    assert len(net_id) == 64
    rows = d.docker_json("network", "ls")
    # ``bridge`` is missing only when the host has no free subnet left for it
    assert {r["Name"] for r in rows} - {"bridge"} == {"appnet", "host", "none"}
    assert {r["Name"]: r["Driver"] for r in rows}["appnet"] == "bridge"
    assert d.docker("network", "ls", "-q", "--filter", "label=app=web").stdout.split() == [net_id[:12]]
    ours = d.dockyard("network", "ls", "-q", "--filter", "label=app=web").stdout.split()
    assert ours == [net_id[:12]]
    [doc] = json.loads(d.docker("network", "inspect", "appnet").stdout)
    assert doc["Id"] == net_id and doc["Labels"] == {"app": "web"}
    assert doc["IPAM"]["Config"][0]["Subnet"] == "10.231.7.0/24"
    assert json.loads(d.dockyard("network", "inspect", "appnet").stdout)[0]["Id"] == net_id
    dup = d.docker("network", "create", "appnet", check=False)
    assert dup.returncode == 1 and "appnet" in dup.stderr
    assert d.docker("network", "rm", "appnet").stdout.strip() == "appnet"
    gone = d.docker("network", "inspect", "appnet", check=False)
    assert gone.returncode == 1 and "appnet" in gone.stderr
    refused = d.docker("network", "rm", "bridge", check=False)
    assert refused.returncode == 1 and "pre-defined" in refused.stderr
    d.docker("network", "create", "--subnet", "10.231.10.0/24", "spare1")
    d.docker("network", "create", "--subnet", "10.231.11.0/24", "spare2")
    pruned = d.docker("network", "prune", "-f").stdout
    assert pruned.splitlines()[:3] == ["Deleted Networks:", "spare1", "spare2"]
    assert {r["Name"] for r in d.docker_json("network", "ls")} - {"bridge"} == {"host", "none"}


@pytest.fixture
def busybox(net_daemon: Daemon, busybox_tar: Path) -> str:
    net_daemon.docker("import", "--change", 'CMD ["sh"]', str(busybox_tar), "busybox:latest")
    return "busybox:latest"


def test_run_on_a_user_network_resolves_other_containers(net_daemon: Daemon, busybox: str) -> None:
    d = net_daemon
    d.docker("network", "create", "--subnet", "10.231.8.0/24", "appnet")
    d.docker("run", "-d", "--name", "db", "--network", "appnet", busybox, "sleep", "30")
    networks = json.loads(d.docker("inspect", "db").stdout)[0]["NetworkSettings"]["Networks"]
    assert list(networks) == ["appnet"]
    db_ip = networks["appnet"]["IPAddress"]
    assert db_ip.startswith("10.231.8.")
    [doc] = json.loads(d.docker("network", "inspect", "appnet").stdout)
    assert [c["Name"] for c in doc["Containers"].values()] == ["db"]
    probe = d.docker("run", "--rm", "--network", "appnet", busybox, "sh", "-c",
                     "nslookup db 2>&1; ping -c 1 -W 2 db")
    assert db_ip in probe.stdout
    assert "1 packets received" in probe.stdout
    # a running container joins a second network at once, and leaves it
    d.docker("network", "create", "--subnet", "10.231.13.0/24", "side")
    d.docker("network", "connect", "side", "db")
    [side] = json.loads(d.docker("network", "inspect", "side").stdout)
    [(endpoint)] = side["Containers"].values()
    assert endpoint["Name"] == "db" and endpoint["IPv4Address"].startswith("10.231.13.")
    d.docker("network", "disconnect", "side", "db")
    assert json.loads(d.docker("network", "inspect", "side").stdout)[0]["Containers"] == {}
    again = d.docker("network", "disconnect", "side", "db", check=False)
    assert again.returncode == 1 and "is not connected" in again.stderr
    d.docker("rm", "-f", "db")
    assert json.loads(d.docker("network", "inspect", "appnet").stdout)[0]["Containers"] == {}


def _stranger_refused(d: Daemon, name: str, message: str) -> None:
    """Disconnecting *name*, no longer on network ``twice``, fails with dockerd's *message*
    from the CLI and with 403 from the API."""
    docker_errors = pytest.importorskip("docker.errors")
    stray = d.docker("network", "disconnect", "twice", name, check=False)
    assert stray.returncode == 1
    assert message in stray.stderr
    with pytest.raises(docker_errors.APIError) as refused:
        d.sdk().api.disconnect_container_from_network(name, "twice")
    assert refused.value.status_code == 403


def test_connect_twice_and_disconnect_a_stranger_as_dockerd(net_daemon: Daemon, busybox: str) -> None:
    """dockerd forbids (403) connecting a running container twice and disconnecting one that
    is not on the network, in these words; a stopped container connected twice stays as it
    was (200)."""
    d = net_daemon
    docker_errors = pytest.importorskip("docker.errors")
    api = d.sdk().api
    d.docker("network", "create", "--subnet", "10.231.14.0/24", "twice")
    web = d.docker("run", "-d", "--name", "web", busybox, "sleep", "30").stdout.strip()
    d.docker("network", "connect", "twice", "web")
    again = d.docker("network", "connect", "twice", "web", check=False)
    assert again.returncode == 1
    assert "endpoint with name web already exists in network twice" in again.stderr
    with pytest.raises(docker_errors.APIError) as refused:
        api.connect_container_to_network("web", "twice")
    assert refused.value.status_code == 403
    d.docker("network", "disconnect", "twice", "web")
    _stranger_refused(d, "web", f"container {web} is not connected to network twice")
    idle = d.docker("create", "--name", "idle", busybox, "sleep", "30").stdout.strip()
    d.docker("network", "connect", "twice", "idle")
    d.docker("network", "connect", "twice", "idle")  # dockerd: a no-op
    d.docker("network", "disconnect", "twice", "idle")
    _stranger_refused(d, "idle", f"container {idle} is not connected to the network twice")
    d.docker("rm", "-f", "web", "idle")
