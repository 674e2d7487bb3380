"""``container_network`` over a pretend host: what the container service gets back, in
Docker's shapes, and that detaching takes everything back."""

from __future__ import annotations

import pytest

from dockyard import errors
from dockyard.cli.networks import render_ports
from dockyard.network import PortMapping
from dockyard.service.container_network import (
    HOST_NETNS,
    attach_container,
    detach_container,
    network_settings,
    parse_network_mode,
    ports_doc,
)
from dockyard.service.engine import Engine

CID = "a" * 64
OTHER = "b" * 64


def test_parse_network_mode() -> None:
    assert parse_network_mode(None) == ("bridge", "bridge")
    assert parse_network_mode("default") == ("bridge", "bridge")
    assert parse_network_mode("web") == ("bridge", "web")
    assert parse_network_mode("none") == ("none", "")
    assert parse_network_mode("host") == ("host", "")
    assert parse_network_mode("container:db") == ("container", "db")
    with pytest.raises(errors.InvalidArgument):
        parse_network_mode("container:")


def test_ports_doc_and_port_lines() -> None:
    ports = [
        PortMapping("tcp", "", 5000, "10.0.0.2", 80),
        PortMapping("udp", "127.0.0.1", 5353, "10.0.0.2", 53),
    ]
    assert ports_doc(["80/tcp", "443/tcp"], ports) == {
        "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "5000"}],
        "443/tcp": None,
        "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}],
    }
    assert render_ports(ports) == ["53/udp -> 127.0.0.1:5353", "80/tcp -> 0.0.0.0:5000"]
    assert render_ports(ports, "80") == ["0.0.0.0:5000"]
    assert render_ports(ports, "53") == []


def test_default_bridge_with_ports(engine: Engine, host) -> None:  # type: ignore[no-untyped-def]
    setup = attach_container(engine, CID, "web", "/proc/self/ns/net", "bridge",
                             ports=["5000:80"], publish_all_exposed=True,
                             exposed_ports={"80/tcp": {}, "443/tcp": {}},
                             extra_hosts=["db:10.9.9.9"], hostname="webhost")  # fmt: skip
    assert setup.mode == "bridge" and setup.join_netns is None
    assert setup.gateway.endswith(".1") and setup.ip.startswith(setup.gateway.rsplit(".", 1)[0])
    settings = setup.settings
    assert settings["IPAddress"] == setup.ip and settings["Gateway"] == setup.gateway
    assert settings["MacAddress"] == setup.mac
    assert settings["Ports"]["80/tcp"] == [{"HostIp": "0.0.0.0", "HostPort": "5000"}]
    assert int(settings["Ports"]["443/tcp"][0]["HostPort"]) in range(40000, 40101)  # -P
    bridge = settings["Networks"]["bridge"]
    assert bridge["IPAddress"] == setup.ip and bridge["IPPrefixLen"] == setup.endpoints[0].prefix
    assert bridge["Aliases"] is None and len(bridge["NetworkID"]) == 64
    assert setup.hosts.splitlines()[-2:] == ["10.9.9.9\tdb", f"{setup.ip}\twebhost"]
    assert "nameserver" in setup.resolv_conf and setup.endpoints[0].gateway not in setup.resolv_conf
    assert host.dns_waits == []  # no embedded DNS on the default bridge
    assert len(host.ports) == 2
    assert network_settings(engine, CID)["Ports"] == settings["Ports"]
    detach_container(engine, CID)
    assert host.ports == [] and [n for n in host.links if n.startswith("dy-")] == []
    assert engine.networks.manager.endpoints() == []
    detach_container(engine, CID)  # twice is fine


def test_user_networks_embedded_dns_and_aliases(engine: Engine, host) -> None:  # type: ignore[no-untyped-def]
    engine.networks.create("front", subnet="10.80.0.0/24")
    engine.networks.create("back", subnet="10.81.0.0/24")
    setup = attach_container(engine, CID, "ui", "/proc/self/ns/net", "front",
                             networks=[("front", ["www"], "10.80.0.50"), ("back", [], None)],
                             dns_search=["example.org"])  # fmt: skip
    assert [e.ip for e in setup.endpoints] == ["10.80.0.50", "10.81.0.2"]
    assert setup.resolv_conf.splitlines()[1:] == ["nameserver 10.80.0.1", "search example.org",
                                                 "options ndots:0"]  # fmt: skip
    nets = setup.settings["Networks"]
    assert set(nets) == {"front", "back"}
    assert nets["front"]["Aliases"] == ["www", CID[:12]]
    assert nets["front"]["DNSNames"] == ["ui", "www", CID[:12]]
    assert setup.settings["IPAddress"] == ""  # Docker fills it for the default bridge only
    assert host.dns_waits == [("front", "ui"), ("back", "ui")]
    assert engine.networks.manager.dns_names("front")["www"] == ["10.80.0.50"]
    detach_container(engine, CID)
    assert engine.networks.manager.dns_names("front") == {}


def test_failed_attach_leaves_nothing(engine: Engine, host) -> None:  # type: ignore[no-untyped-def]
    attach_container(engine, OTHER, "first", "/proc/self/ns/net", "bridge", ports=["8080:80"])
    with pytest.raises(errors.Conflict):
        attach_container(engine, CID, "second", "/proc/self/ns/net", "bridge", ports=["8080:80"])
    assert [e.container_id for e in engine.networks.manager.endpoints()] == [OTHER]
    with pytest.raises(errors.InvalidArgument):
        attach_container(engine, CID, "second", "/proc/self/ns/net", "bridge", ports=["x:80"])
    with pytest.raises(errors.InvalidArgument, match="user defined networks"):
        attach_container(engine, CID, "second", "/proc/self/ns/net", "bridge",
                         networks=[("bridge", ["alias"], None)])  # fmt: skip
    with pytest.raises(errors.NotFound):
        attach_container(engine, CID, "second", "/proc/self/ns/net", "nonet")
    assert [e.container_id for e in engine.networks.manager.endpoints()] == [OTHER]
    detach_container(engine, OTHER)


def test_none_and_host_modes(engine: Engine, host) -> None:  # type: ignore[no-untyped-def]
    none = attach_container(engine, CID, "quiet", "/ns/x", "none", ports=["80"], hostname="q")
    assert host.links == {"lo@/ns/x": "up"}
    assert none.endpoints == () and none.ip == ""
    assert "\tq" not in none.hosts  # no address for the hostname, as Docker
    assert set(none.settings["Networks"]) == {"none"} and none.settings["Ports"] == {}
    assert none.warnings == ("Published ports are discarded when using none network mode",)
    hostmode = attach_container(engine, OTHER, "h", None, "host", extra_hosts=["x:1.2.3.4"])
    assert hostmode.join_netns == HOST_NETNS
    assert hostmode.hosts.endswith("1.2.3.4\tx\n")
    assert set(hostmode.settings["Networks"]) == {"host"}
    assert engine.networks.manager.endpoints() == []


def test_network_named_by_id_and_name_is_joined_once(engine: Engine, host) -> None:  # type: ignore[no-untyped-def]
    net = engine.networks.create("solo", subnet="10.82.0.0/24")
    setup = attach_container(engine, CID, "one", "/proc/self/ns/net", net.id[:12],
                             networks=[("solo", ["uno"], None)])  # fmt: skip
    assert [e.network_id for e in setup.endpoints] == [net.id]
    assert setup.endpoints[0].aliases == ("uno",)
    detach_container(engine, CID)
