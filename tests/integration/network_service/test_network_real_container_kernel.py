"""A real container (the container service's ``run -d``) given its network the way the
container service will on start, then ``network connect``/``disconnect`` and ``port`` through
the command line: busybox httpd answers on its published port and by name."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from netsvc_support import talk

from _helpers.images import busybox_rootfs, tar_dir
from dockyard.network import dnswire
from dockyard.network._netns import run_in_netns
from dockyard.service.container_network import attach_container, detach_container

pytestmark = pytest.mark.root

DOCKYARD = str(Path(sys.executable).parent / "dockyard")


@pytest.fixture
def dy(engine, host_names, tmp_path: Path) -> Iterator:  # type: ignore[no-untyped-def,type-arg]
    env = {**os.environ, **host_names, "DOCKYARD_ROOT": str(engine.settings.root)}

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        out = subprocess.run([DOCKYARD, *args], env=env, capture_output=True, text=True, timeout=60)
        if check:
            assert out.returncode == 0, f"dockyard {' '.join(args)}: {out.stderr}"
        return out

    tar = tmp_path / "busybox.tar"
    tar.write_bytes(tar_dir(busybox_rootfs(tmp_path / "rootfs")))
    run("import", str(tar), "busybox")
    yield run
    ids = run("ps", "-aq", "--no-trunc").stdout.split()
    for cid in ids:
        detach_container(engine, cid)  # the container service does not call it yet
    if ids:
        run("rm", "-f", *ids, check=False)


def _ask(ns: str, server: str, name: str) -> list[str]:
    def go() -> list[str]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(3)
            s.sendto(dnswire.build_query(3, name, dnswire.TYPE_A), (server, 53))
            return [v for _, v in dnswire.parse_response_answers(s.recvfrom(4096)[0])[1]]

    return run_in_netns(ns, go)


def _http(host: str, port: int, ns: str | None = None) -> bytes:
    def go() -> bytes:
        with socket.create_connection((host, port), timeout=3) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            return s.recv(100)

    return run_in_netns(ns, go) if ns else go()


def test_real_container_published_named_connected(engine, dy, netns) -> None:  # type: ignore[no-untyped-def]
    cid = dy("run", "-d", "--name", "web", "--network", "none", "busybox",
             "/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/").stdout.strip()  # fmt: skip
    pid = json.loads(dy("inspect", "web").stdout)[0]["State"]["Pid"]
    assert pid
    dy("network", "create", "front")
    setup = attach_container(engine, cid, "web", f"/proc/{pid}/ns/net", "front",
                             networks=[("front", ["www"], None)], ports=["80"],
                             exposed_ports=["80/tcp"])  # fmt: skip
    host_port = setup.ports[0].host_port
    # the host reaches httpd through the published port on loopback
    assert _http("127.0.0.1", host_port).startswith(b"HTTP/1.")
    assert dy("port", "web").stdout == f"80/tcp -> 0.0.0.0:{host_port}\n"
    assert dy("port", "web", "80/tcp").stdout == f"0.0.0.0:{host_port}\n"
    missing = dy("port", "web", "81", check=False)
    assert missing.returncode == 1 and "No public port '81/tcp' published for web" in missing.stderr
    # another "container" on the network finds it by name and alias
    client_ns = netns()
    client = attach_container(engine, "c" * 64, "client", client_ns, "front")
    gateway = engine.networks.get("front").gateway
    assert _ask(client_ns, gateway, "web") == _ask(client_ns, gateway, "www") == [setup.ip]
    assert _http(setup.ip, 80, client_ns).startswith(b"HTTP/1.")
    # network connect / disconnect of the running container, through the CLI
    dy("network", "create", "--subnet", "10.124.0.0/24", "side")
    dy("network", "connect", "--alias", "sidekick", "side", "web")
    entry = json.loads(dy("network", "inspect", "side").stdout)[0]["Containers"][cid]
    assert entry["Name"] == "web" and entry["IPv4Address"] == "10.124.0.2/24"
    names = run_in_netns(f"/proc/{pid}/ns/net", lambda: sorted(n for _, n in socket.if_nameindex()))
    assert names == ["eth0", "eth1", "lo"]
    again = dy("network", "connect", "side", "web", check=False)
    assert again.returncode != 0 and "already exists" in again.stderr
    dy("network", "disconnect", "side", "web")
    names = run_in_netns(f"/proc/{pid}/ns/net", lambda: sorted(n for _, n in socket.if_nameindex()))
    assert names == ["eth0", "lo"]
    assert dy("network", "disconnect", "side", "web", check=False).returncode != 0
    assert dy("network", "disconnect", "-f", "side", "web").returncode == 0
    assert dy("network", "rm", "side").stdout == "side\n"
    # removal: detach, then the port and the name are gone
    detach_container(engine, cid)
    detach_container(engine, client.endpoints[0].container_id)
    assert dy("port", "web").stdout == ""
    with pytest.raises(OSError):
        talk("127.0.0.1", host_port, timeout=1)
    dy("rm", "-f", "web")
    assert dy("network", "rm", "front").stdout == "front\n"
