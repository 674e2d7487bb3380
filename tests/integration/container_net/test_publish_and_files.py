"""Published ports and a container's network files through the CLI: ``run -p`` answers on
127.0.0.1, ``ps``/``port``/``inspect`` show it like Docker, and once the container is gone
(``rm``, or an exit ``run`` observed) nothing of its network remains on the host."""

from __future__ import annotations

import json
import socket
import subprocess
import time

import pytest
from cnet_support import Dockyard, free_port, httpd, wait_http

pytestmark = pytest.mark.root


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    with socket.socket() as s:  # and nothing answers there either (no DNAT left)
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


def _links() -> set[str]:
    out = subprocess.run(["ip", "-j", "link"], capture_output=True, text=True, check=True)
    return {link["ifname"] for link in json.loads(out.stdout)}


def _nft_table() -> str:
    from cnet_support import TABLE

    out = subprocess.run(["nft", "list", "table", "ip", TABLE], capture_output=True, text=True)
    return out.stdout


def test_publish_answers_then_rm_leaves_nothing(dy: Dockyard) -> None:
    port = free_port()
    links_before = _links()
    cid = dy.out("run", "-d", "--name", "web", "-p", f"{port}:80", *httpd("hello")).strip()
    assert wait_http(port) == b"hello\n"

    rows = dy.out("ps").splitlines()
    assert f"0.0.0.0:{port}->80/tcp" in rows[1]
    assert dy.out("port", "web").strip() == f"80/tcp -> 0.0.0.0:{port}"
    settings = dy.inspect("web")["NetworkSettings"]
    assert settings["Ports"] == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": str(port)}]}
    assert settings["IPAddress"] and settings["Gateway"]
    assert settings["Networks"]["bridge"]["IPAddress"] == settings["IPAddress"]
    assert str(port) in _nft_table()
    (endpoint,) = dy.state()["endpoints"]
    veth = endpoint["host_veth"]
    assert veth in _links() - links_before

    dy.run("rm", "-f", "web")
    assert _port_free(port)
    assert str(port) not in _nft_table()
    assert veth not in _links()
    state = dy.state()
    assert state["endpoints"] == [] and state["ports"] == []
    with open("/proc/self/mountinfo") as f:
        assert cid not in f.read()


def test_exit_observed_by_run_releases_address_and_port(dy: Dockyard) -> None:
    port = free_port()
    dy.run("run", "--name", "once", "-p", f"{port}:80", "busybox", "sleep", "0.3")
    state = dy.state()
    assert state["endpoints"] == [] and state["ports"] == []
    assert _port_free(port)
    # started again it gets its network back; `wait` observes the exit and releases it
    dy.run("start", "once")
    assert len(dy.state()["endpoints"]) == 1
    assert dy.out("wait", "once").strip() == "0"
    state = dy.state()
    assert state["endpoints"] == [] and state["ports"] == []
    assert _port_free(port)


def test_an_unobserved_exit_gives_up_its_port_and_network_to_the_next(dy: Dockyard) -> None:
    port = free_port()
    dy.run("network", "create", "side")
    dy.run("run", "-d", "--name", "gone", "-p", f"{port}:80", "busybox", "true")
    dy.run("run", "-d", "--name", "gone2", "--network", "side", "busybox", "true")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(
        dy.inspect(c)["State"]["Running"] for c in ("gone", "gone2")
    ):
        time.sleep(0.05)
    # nobody observed "gone" exit: a new container still gets its published port, as in Docker
    dy.run("run", "-d", "--name", "next", "-p", f"{port}:80", *httpd("next"))
    assert wait_http(port) == b"next\n"
    assert dy.inspect("side")["Containers"] == {}  # an exited container is not on a network
    dy.run("network", "rm", "side")


def test_start_again_after_stop_serves_again(dy: Dockyard) -> None:
    port = free_port()
    dy.run("run", "-d", "--name", "web", "-p", f"127.0.0.1:{port}:80", *httpd("again"))
    assert wait_http(port) == b"again\n"
    dy.run("stop", "-t", "1", "web")
    assert dy.state()["ports"] == []
    dy.run("start", "web")
    assert wait_http(port) == b"again\n"
    assert dy.out("port", "web", "80").strip() == f"127.0.0.1:{port}"


def test_publish_all_gives_random_ports_to_exposed(dy: Dockyard) -> None:
    dy.run("run", "-d", "--name", "web", "--expose", "80", "-P", *httpd("any"))
    mapped = dy.out("port", "web", "80").strip()
    host_port = int(mapped.rpartition(":")[2])
    assert wait_http(host_port) == b"any\n"


def test_network_files_and_flags(dy: Dockyard) -> None:
    script = "cat /etc/hostname /etc/hosts /etc/resolv.conf; ip -o -4 addr show eth0"
    out = dy.out("run", "--rm", "-h", "box", "--domainname", "example.test",
                 "--dns", "192.0.2.53", "--dns-search", "corp.test", "--dns-option", "ndots:2",
                 "--add-host", "db.local:10.9.8.7", "--mac-address", "02:42:0a:0b:0c:0d",
                 "busybox", "sh", "-c", script)  # fmt: skip
    assert out.startswith("box\n")
    assert "10.9.8.7\tdb.local" in out
    assert "nameserver 192.0.2.53" in out
    assert "search corp.test" in out and "options ndots:2" in out
    assert " eth0 " in out
    mac = dy.out("run", "--rm", "--mac-address", "02:42:0a:0b:0c:0d", "busybox",
                 "cat", "/sys/class/net/eth0/address")  # fmt: skip
    assert mac.strip() == "02:42:0a:0b:0c:0d"


def test_network_none_and_host(dy: Dockyard) -> None:
    none = dy.out("run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net")
    assert none.split() == ["lo"]
    before = _links()
    host = dy.out("run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net")
    assert before & _links() <= set(host.split())  # other tests' links may come and go
    assert dy.state().get("endpoints", []) == []


def test_container_mode_shares_the_namespace(dy: Dockyard) -> None:
    dy.run("run", "-d", "--name", "first", "busybox", "sleep", "60")
    ip = dy.inspect("first")["NetworkSettings"]["IPAddress"]
    out = dy.out("run", "--rm", "--network", "container:first", "busybox",
                 "ip", "-o", "-4", "addr", "show", "eth0")  # fmt: skip
    assert f" {ip}/" in out


def test_alias_and_ip_on_user_network(dy: Dockyard) -> None:
    dy.run("network", "create", "--subnet", "10.213.74.0/24", "svcnet")
    dy.run("run", "-d", "--name", "alpha", "--network", "svcnet", "--network-alias", "svc",
           "--ip", "10.213.74.50", "busybox", "sleep", "60")  # fmt: skip
    net = dy.inspect("alpha")["NetworkSettings"]["Networks"]["svcnet"]
    assert net["IPAddress"] == "10.213.74.50"
    assert "svc" in net["Aliases"]
    out = dy.out("run", "--rm", "--network", "svcnet", "busybox", "nslookup", "svc")
    assert "10.213.74.50" in out


def test_unknown_network_fails_at_create(dy: Dockyard) -> None:
    got = dy.run("run", "--rm", "--network", "nosuch", "busybox", "true", check=False)
    assert got.returncode == 125
    assert "network nosuch not found" in got.stderr
    assert dy.out("ps", "-aq").strip() == ""


def test_a_start_waiting_for_its_attach_keeps_its_network(
    dy: Dockyard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between `start` and the attach, a `run` container reads as created: reclaiming the
    networks of exited containers (any `network ls` meanwhile) must leave it alone."""
    from cnet_support import BRIDGE, TABLE

    from dockyard.runtime.shim.client import connect_attach
    from dockyard.service.containers.networking import reclaim_exited
    from dockyard.service.engine import Engine
    from dockyard.service.settings import Settings

    monkeypatch.setenv("DOCKYARD_NFT_TABLE", TABLE)
    monkeypatch.setenv("DOCKYARD_DEFAULT_BRIDGE", BRIDGE)
    svc = Engine(Settings.resolve(dy.root)).containers
    cid = dy.out("create", "busybox", "sh", "-c", "ip -4 addr show eth0 | grep -c inet").strip()
    svc.start(cid, attach=True)
    assert reclaim_exited(svc) == []
    sock = connect_attach(svc.state_dir(cid))
    sock.settimeout(20)
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    sock.close()
    assert data.endswith(b"1\n")  # eth0 still had its address when the command ran
