"""Published ports for real: 127.0.0.1 and host addresses DNAT to a server inside a
container namespace, over TCP and UDP; unpublishing closes the door."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from dockyard import errors
from dockyard.network import NetworkManager


def _host_address(manager: NetworkManager) -> str | None:
    """A non-loopback address of the host that is not one of our bridges."""
    from pyroute2 import IPRoute

    ours = {n.gateway for n in manager.list_networks()}
    with IPRoute() as ipr:
        for a in ipr.get_addr(family=2):
            ip = a.get("IFA_ADDRESS")
            if not ip.startswith("127.") and ip not in ours:
                return str(ip)
    return None


def test_published_tcp_port_reaches_the_container(
    manager: NetworkManager, namespaces, echo, tcp_talk: Callable[..., bytes]
) -> None:
    ns = namespaces.new()
    manager.create_network("pub")
    ep = manager.connect(ns, "pub", "1" * 64, "web")
    server = echo(ns, 8080)
    anywhere, loopback_only = manager.publish(ep, ["8080", "127.0.0.1::8080"])
    assert anywhere.host_ip == "" and loopback_only.host_ip == "127.0.0.1"
    assert anywhere.host_port != loopback_only.host_port

    assert tcp_talk("127.0.0.1", anywhere.host_port) == b"echo:hi"
    assert tcp_talk("127.0.0.1", loopback_only.host_port) == b"echo:hi"
    # Loopback sources reach the container masqueraded as the gateway.
    assert server.peers[-1][0] == ep.gateway
    host_ip = _host_address(manager)
    if host_ip is not None:
        assert tcp_talk(host_ip, anywhere.host_port) == b"echo:hi"
        with pytest.raises(ConnectionRefusedError):
            tcp_talk(host_ip, loopback_only.host_port)

    # The port is taken for the next container; and withdrawn with this one.
    other = manager.connect(namespaces.new(), "pub", "2" * 64, "other")
    with pytest.raises(errors.Conflict, match="port is already allocated"):
        manager.publish(other, [f"{anywhere.host_port}:80"])
    manager.unpublish(ep.container_id)
    with pytest.raises(ConnectionRefusedError):
        tcp_talk("127.0.0.1", anywhere.host_port)


def test_published_udp_port_reaches_the_container(
    manager: NetworkManager, namespaces, echo
) -> None:
    ns = namespaces.new()
    manager.create_network("dgram")
    ep = manager.connect(ns, "dgram", "3" * 64, "dns")
    echo(ns, 5353, udp=True)
    (mapping,) = manager.publish(ep, ["127.0.0.1::5353/udp"])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(b"hi", ("127.0.0.1", mapping.host_port))
        assert s.recvfrom(100)[0] == b"echo:hi"


def test_port_held_by_a_host_socket_is_refused(manager: NetworkManager, namespaces) -> None:
    ep = manager.connect(namespaces.new(), manager.create_network("held").name, "4" * 64, "x")
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        with pytest.raises(errors.Conflict, match=f"Bind for 127.0.0.1:{port} failed"):
            manager.publish(ep, [f"127.0.0.1:{port}:80"])
    assert manager.ports() == []


def test_published_port_via_host_address_from_containers(
    manager: NetworkManager, namespaces, echo, tcp_talk: Callable[..., bytes]
) -> None:
    """Containers reach a published port through a host address: the publishing container
    itself (hairpin), a neighbour, and a container of another network."""
    front, back = manager.create_network("front"), manager.create_network("back")
    ns_web, ns_peer, ns_other = namespaces.new(), namespaces.new(), namespaces.new()
    web = manager.connect(ns_web, "front", "5" * 64, "web")
    manager.connect(ns_peer, "front", "6" * 64, "peer")
    other = manager.connect(ns_other, "back", "7" * 64, "other")
    server = echo(ns_web, 80)
    (mapping,) = manager.publish(web, ["80"])
    host_ip = _host_address(manager) or front.gateway
    for ns in (ns_web, ns_peer, ns_other):
        assert tcp_talk(host_ip, mapping.host_port, ns) == b"echo:hi"
    # Each came masqueraded: the container sees the gateway of the network it is on.
    assert [p[0] for p in server.peers] == [front.gateway, front.gateway, front.gateway]
    # Isolation still holds for the container's own address.
    with pytest.raises(TimeoutError):
        tcp_talk(web.ip, 80, ns_other, timeout=0.5)
    assert other.gateway == back.gateway
