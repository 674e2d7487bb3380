"""``attach_container`` / ``detach_container`` on real namespaces: names resolve through the
embedded DNS (the daemonless helper), networks are isolated, published ports answer on
127.0.0.1, and nothing is left once the container and its network are gone."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
from netsvc_support import BRIDGE, TABLE, cleanup, talk

from dockyard.network import dnswire
from dockyard.network._netns import run_in_netns
from dockyard.service.container_network import attach_container, detach_container

pytestmark = pytest.mark.root

API, UI, OUTSIDER = "1" * 64, "2" * 64, "3" * 64


def resolve(ns: str, resolv_conf: str, name: str) -> list[str]:
    """Ask the container's nameserver (its resolv.conf's) for *name*, from inside *ns*."""
    server = next(
        line.split()[1] for line in resolv_conf.splitlines() if line.startswith("nameserver")
    )

    def go() -> list[str]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(3)
            s.sendto(dnswire.build_query(9, name, dnswire.TYPE_A), (server, 53))
            _rcode, answers = dnswire.parse_response_answers(s.recvfrom(4096)[0])
            return [value for kind, value in answers if kind == dnswire.TYPE_A]

    return run_in_netns(ns, go)


def _links() -> set[str]:
    return set(os.listdir("/sys/class/net"))


def _gone(pid: int, timeout: float = 3.0) -> bool:
    """No such process, or a zombie waiting for init, within *timeout* (it may be exiting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except (OSError, IndexError):
            return True
        time.sleep(0.05)
    return False


def _table_exists() -> bool:
    out = subprocess.run(["nft", "list", "table", "ip", TABLE], capture_output=True)
    return out.returncode == 0


def test_seed_scenario_names_isolation_ports_and_cleanup(engine, netns, server) -> None:  # type: ignore[no-untyped-def]
    engine.networks.create("app")
    engine.networks.create("elsewhere")
    api_ns, ui_ns, out_ns = netns(), netns(), netns()
    api = attach_container(engine, API, "api", api_ns, "app", networks=[("app", ["backend"], None)])
    ui = attach_container(engine, UI, "ui", ui_ns, "app", ports=["127.0.0.1::8080"])
    outsider = attach_container(engine, OUTSIDER, "outsider", out_ns, "elsewhere")
    server(api_ns, 9000, b"api")
    server(ui_ns, 8080, b"ui")
    server(out_ns, 9000, b"outsider")
    helper = engine.networks.dns_helper_pid()  # one DNS helper serves both networks
    assert helper and b"dnsd" in Path(f"/proc/{helper}/cmdline").read_bytes()
    # ui reaches api by name and by alias, through the DNS its resolv.conf names
    assert resolve(ui_ns, ui.resolv_conf, "api") == [api.ip]
    assert resolve(ui_ns, ui.resolv_conf, "backend") == [api.ip]
    assert talk(api.ip, 9000, ui_ns) == b"api:hi"
    # the host reaches ui's published port on loopback
    host_port = ui.ports[0].host_port
    assert ui.settings["Ports"] == {
        "8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(host_port)}]
    }
    assert talk("127.0.0.1", host_port) == b"ui:hi"
    # another network's container knows neither name nor route
    assert resolve(out_ns, outsider.resolv_conf, "outsider") == [outsider.ip]
    with pytest.raises(OSError):
        talk(api.ip, 9000, out_ns, timeout=1)
    with pytest.raises(OSError):
        talk(outsider.ip, 9000, ui_ns, timeout=1)
    # the container's files are Docker's
    assert f"{ui.ip}\t{UI[:12]}" in ui.hosts
    gateway = engine.networks.get("app").gateway
    assert ui.resolv_conf.splitlines()[1] == f"nameserver {gateway}"
    # everything goes with the containers and the networks
    made = {ep.host_veth for ep in engine.networks.manager.endpoints()}
    bridges = {n.bridge for n in engine.networks.manager.list_networks()}
    assert made <= _links() and bridges <= _links() and _table_exists()
    for cid in (API, UI, OUTSIDER):
        detach_container(engine, cid)
    with pytest.raises(OSError):  # the DNAT went with ui
        talk("127.0.0.1", host_port, timeout=1)
    assert engine.networks.manager.endpoints() == [] and engine.networks.manager.ports() == []
    engine.networks.remove("app")
    engine.networks.remove("elsewhere")
    cleanup(engine)  # fails unless the DNS helper left with the last user network
    assert _gone(helper)
    assert not (made | bridges) & _links()
    assert not _table_exists()
    state = json.loads((Path(engine.settings.root) / "network" / "network.json").read_text())
    assert state["networks"] == state["endpoints"] == state["ports"] == []


def test_default_bridge_port_and_none_mode(engine, netns, server) -> None:  # type: ignore[no-untyped-def]
    web_ns, quiet_ns = netns(), netns()
    web = attach_container(engine, API, "web", web_ns, "bridge", ports=["80"],
                           exposed_ports=["80/tcp"])  # fmt: skip
    server(web_ns, 80, b"web")
    host_port = web.ports[0].host_port
    assert talk("127.0.0.1", host_port) == b"web:hi"
    assert engine.networks.get("bridge").bridge == BRIDGE
    assert web.settings["Networks"]["bridge"]["IPAddress"] == web.ip
    quiet = attach_container(engine, UI, "quiet", quiet_ns, "none")
    assert quiet.endpoints == ()
    names = run_in_netns(quiet_ns, lambda: sorted(socket.if_nameindex()))
    assert [n for _, n in names] == ["lo"]
    with pytest.raises(OSError):  # no route anywhere but loopback
        talk(web.ip, 80, quiet_ns, timeout=1)
    detach_container(engine, API)
    detach_container(engine, UI)
    with pytest.raises(OSError):
        talk("127.0.0.1", host_port, timeout=1)
