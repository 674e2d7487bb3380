"""Bridge networks for real: containers (network namespaces) reach each other on one network,
not across networks; internal networks have no way out; teardown leaves nothing behind."""

from __future__ import annotations

import os
import socket
import statistics
import time
from collections.abc import Callable

import pytest

from dockyard import errors
from dockyard.network import NetworkManager
from dockyard.network._netns import run_in_netns


def _links_in(netns: str) -> dict[str, dict[str, object]]:
    """ifname -> {mac, addrs, up} inside *netns*, and its default gateway under ``"route"``."""
    from pyroute2 import IPRoute

    def look() -> dict[str, dict[str, object]]:
        with IPRoute() as ipr:
            out: dict[str, dict[str, object]] = {}
            for link in ipr.get_links():
                idx = link["index"]
                addrs = [
                    f"{a.get('IFA_ADDRESS')}/{a['prefixlen']}"
                    for a in ipr.get_addr(index=idx, family=2)
                ]
                out[link.get("IFLA_IFNAME")] = {
                    "mac": link.get("IFLA_ADDRESS"),
                    "addrs": addrs,
                    "up": bool(link["flags"] & 1),
                }
            gws = [r.get("RTA_GATEWAY") for r in ipr.get_default_routes(family=2)]
            out["route"] = {"gateways": gws}
            return out

    return run_in_netns(netns, look)


def _host_links() -> set[str]:
    return {n for n in os.listdir("/sys/class/net") if n.startswith(("dy-", "dockyard"))}


def test_same_network_connects_other_network_is_isolated(
    manager: NetworkManager, namespaces, echo, tcp_talk: Callable[..., bytes]
) -> None:
    ns1, ns2, ns3 = namespaces.new(), namespaces.new(), namespaces.new()
    manager.create_network("front")
    manager.create_network("back")
    timings = []
    for ns, net, cid, name in (
        (ns1, "front", "a" * 64, "one"),
        (ns2, "front", "b" * 64, "two"),
        (ns3, "back", "c" * 64, "three"),
    ):
        start = time.perf_counter()
        ep = manager.connect(ns, net, cid, name)
        timings.append(time.perf_counter() - start)
        if name == "two":
            two = ep
    print(f"network setup per container: {[round(t * 1000, 1) for t in timings]} ms")
    assert statistics.median(timings) < 0.2

    inside = _links_in(ns2)
    assert inside["eth0"] == {"mac": two.mac, "addrs": [f"{two.ip}/{two.prefix}"], "up": True}
    assert inside["lo"]["up"] is True
    assert inside["route"] == {"gateways": [two.gateway]}

    echo(ns2, 7000)
    assert tcp_talk(two.ip, 7000, ns1) == b"echo:hi"
    # Routing between bridges is on (so only our firewall stands between the networks)...
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        assert f.read().strip() == "1"
    # ...and the isolation rules drop the third container's attempt.
    with pytest.raises(TimeoutError):
        tcp_talk(two.ip, 7000, ns3, timeout=0.5)


def test_internal_network_has_no_route_out(manager: NetworkManager, namespaces) -> None:
    ns = namespaces.new()
    manager.create_network("secret", internal=True)
    ep = manager.connect(ns, "secret", "d" * 64, "hidden")
    assert ep.gateway == ""
    assert _links_in(ns)["route"] == {"gateways": []}

    def reach_out() -> None:
        with socket.create_connection(("192.0.2.123", 80), timeout=0.5):
            pass

    with pytest.raises(OSError) as info:
        run_in_netns(ns, reach_out)
    assert info.value.errno == 101  # ENETUNREACH


def test_second_network_is_eth1_and_disconnect_removes_it(
    manager: NetworkManager, namespaces
) -> None:
    ns = namespaces.new()
    manager.create_network("n1")
    manager.create_network("n2")
    first = manager.connect(ns, "n1", "e" * 64, "multi")
    second = manager.connect(ns, "n2", "e" * 64, "multi")
    assert (first.ifname, second.ifname) == ("eth0", "eth1")
    # The first network keeps the default route, as in Docker.
    assert _links_in(ns)["route"] == {"gateways": [first.gateway]}
    assert manager.disconnect("n2", "e" * 64)
    assert "eth1" not in _links_in(ns)
    assert second.host_veth not in _host_links()
    with pytest.raises(errors.AlreadyExists):
        manager.connect(ns, "n1", "e" * 64, "multi")


def test_teardown_leaves_no_link_table_or_address(
    manager: NetworkManager, namespaces, data_root
) -> None:
    before = _host_links()
    ns = namespaces.new()
    default = manager.ensure_default()
    web = manager.create_network("web")
    ep1 = manager.connect(ns, "bridge", "f" * 64, "x")
    ep2 = manager.connect(ns, "web", "f" * 64, "x")
    manager.publish(ep2, ["80"])
    table = f"dockyard-t{os.getpid()}"
    assert {default.bridge, web.bridge, ep1.host_veth, ep2.host_veth} <= _host_links()
    assert table in os.popen("nft list tables").read()

    manager.disconnect_all("f" * 64)
    manager.remove_network("web")
    assert table in os.popen("nft list tables").read()  # the default network still needs it
    manager.prune_default()
    assert _host_links() == before - {default.bridge}
    assert table not in os.popen("nft list tables").read()
    assert manager.endpoints() == [] and manager.ports() == []


def test_vanished_container_namespace_disconnects_cleanly(
    manager: NetworkManager, namespaces
) -> None:
    ns = namespaces.new()
    manager.create_network("gone")
    ep = manager.connect(ns, "gone", "9" * 64, "ghost")
    namespaces.close()  # the container exited: its namespace and veth pair vanish
    deadline = time.monotonic() + 2
    while ep.host_veth in _host_links() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert manager.disconnect("gone", "9" * 64)
    assert manager.endpoints("gone") == []
    # Its address is free again.
    ns2 = namespaces.new()
    assert manager.connect(ns2, "gone", "8" * 64, "next").ip == ep.ip


def test_missing_namespace_is_not_found_and_leaves_no_link(manager: NetworkManager) -> None:
    manager.create_network("lonely")
    before = _host_links()
    with pytest.raises(errors.NotFound, match="network namespace /proc/999999999/ns/net"):
        manager.connect("/proc/999999999/ns/net", "lonely", "0" * 64, "nobody")
    assert _host_links() == before
    assert manager.endpoints("lonely") == []


def test_network_none_gets_a_working_loopback_only(
    manager: NetworkManager, namespaces, echo, tcp_talk: Callable[..., bytes]
) -> None:
    ns = namespaces.new()
    assert _links_in(ns)["lo"]["up"] is False
    manager.loopback_only(ns)
    links = _links_in(ns)
    assert links["lo"]["up"] is True and set(links) == {"lo", "route"}
    echo(ns, 9999)
    assert tcp_talk("127.0.0.1", 9999, ns) == b"echo:hi"
