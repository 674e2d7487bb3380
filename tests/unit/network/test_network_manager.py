"""NetworkManager over recording fakes: IPAM persistence, locking, release, ports, rules."""

from __future__ import annotations

import multiprocessing
from collections.abc import Mapping, Sequence
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from dockyard import errors
from dockyard.network import NetworkManager
from dockyard.network.dns import NameTable
from dockyard.network.model import NetworkRecord, PortMapping


class FakeLinks:
    def __init__(self, host: Sequence[str] = ()) -> None:
        self.host = [IPv4Network(h) for h in host]
        self.links: dict[str, str] = {}  # name -> bridge ("" for bridges)

    def host_subnets(self) -> list[IPv4Network]:
        return list(self.host)

    def bridge_exists(self, name: str) -> bool:
        return name in self.links

    def ensure_bridge(self, name: str, gateway: str, prefix: int) -> None:
        self.links[name] = ""

    def remove_link(self, name: str) -> bool:
        return self.links.pop(name, None) is not None

    def add_veth(
        self,
        bridge: str,
        host_name: str,
        netns_path: str,
        mac: str,
        ip: str,
        prefix: int,
        gateway: str | None,
    ) -> str:
        assert bridge in self.links
        if host_name in self.links:  # as the kernel: a name is taken until its link is gone
            raise errors.AlreadyExists(f"cannot create veth {host_name}: File exists")
        self.links[host_name] = bridge
        return "eth0"

    def loopback_up(self, netns_path: str) -> None:
        self.links[f"lo@{netns_path}"] = ""


class FakeFirewall:
    """Records the rules the manager asks for: networks and published ports."""

    def __init__(self) -> None:
        self.networks: list[str] = []
        self.ports: list[str] = []
        self.rebuilds = 0
        self.forwarding_open = False

    def apply(self, networks: Sequence[NetworkRecord], ports: Sequence[PortMapping]) -> None:
        self.networks = sorted(n.name for n in networks)
        self.ports = [str(p) for p in ports]
        self.rebuilds += 1

    def add_ports(self, ports: Sequence[PortMapping]) -> None:
        self.ports += [str(p) for p in ports]

    def remove_ports(self, ports: Sequence[PortMapping]) -> None:
        for p in ports:
            self.ports.remove(str(p))

    def open_forwarding(self) -> None:
        self.forwarding_open = True

    def close_forwarding(self) -> None:
        self.forwarding_open = False


class FakeProbe:
    def __init__(self, busy: Sequence[int] = ()) -> None:
        self.busy = set(busy)

    def is_free(self, proto: str, host_ip: str, port: int) -> bool:
        return port not in self.busy

    def ephemeral_range(self) -> tuple[int, int]:
        return 40000, 40100


class Names:
    def __init__(self) -> None:
        self.seen: dict[str, dict[str, list[str]]] = {}

    def names_changed(self, network: NetworkRecord, names: Mapping[str, Sequence[str]]) -> None:
        self.seen[network.name] = {k: list(v) for k, v in names.items()}

    def network_removed(self, network: NetworkRecord) -> None:
        del self.seen[network.name]


def _manager(root: Path, **kw: object) -> tuple[NetworkManager, FakeLinks, FakeFirewall]:
    links = kw.pop("links", None) or FakeLinks()
    fw = FakeFirewall()
    return NetworkManager(root, links=links, firewall=fw, probe=FakeProbe(), **kw), links, fw  # type: ignore[arg-type]


def test_new_network_avoids_host_routes_and_other_networks(tmp_path: Path) -> None:
    mgr, links, fw = _manager(tmp_path, links=FakeLinks(["172.17.0.0/16", "192.0.2.0/24"]))
    a = mgr.create_network("a")
    b = mgr.create_network("b", labels={"x": "y"})
    assert (a.subnet, a.gateway) == ("172.18.0.0/16", "172.18.0.1")
    assert b.subnet == "172.19.0.0/16"
    assert a.bridge == f"dockyard-{a.id[:6]}" and len(a.bridge) <= 15
    assert set(links.links) == {a.bridge, b.bridge}
    assert (fw.networks, fw.ports) == (["a", "b"], []) and fw.forwarding_open
    # Another manager on the same state directory sees them.
    other, _, _ = _manager(tmp_path)
    assert [n.name for n in other.list_networks()] == ["a", "b"]
    assert other.inspect_network(b.id[:8]).labels == {"x": "y"}


def test_network_name_and_subnet_clashes(tmp_path: Path) -> None:
    mgr, _, _ = _manager(tmp_path)
    mgr.create_network("a", subnet="10.10.0.0/16")
    with pytest.raises(errors.AlreadyExists, match="network with name a already exists"):
        mgr.create_network("a")
    with pytest.raises(errors.Conflict, match="overlaps"):
        mgr.create_network("b", subnet="10.10.5.0/24")
    with pytest.raises(errors.PermissionDenied):
        mgr.create_network("host")
    with pytest.raises(errors.NotFound, match="network nope not found"):
        mgr.inspect_network("nope")


def test_addresses_persist_and_are_released_on_disconnect(tmp_path: Path) -> None:
    names = Names()
    mgr, links, _ = _manager(tmp_path, registry=names)
    net = mgr.create_network("web", subnet="10.20.0.0/24")
    e1 = mgr.connect("/ns/1", "web", "c1" * 32, "one", aliases=["uno"])
    e2 = mgr.connect("/ns/2", "web", "c2" * 32, "two", ip="10.20.0.50")
    assert (e1.ip, e1.gateway, e1.prefix, e1.mac) == (
        "10.20.0.2",
        "10.20.0.1",
        24,
        "02:42:0a:14:00:02",
    )
    assert e2.ip == "10.20.0.50"
    assert links.links[e1.host_veth] == net.bridge and e1.host_veth.startswith("dy-")
    assert names.seen["web"] == {
        "one": ["10.20.0.2"],
        "uno": ["10.20.0.2"],
        ("c1" * 6): ["10.20.0.2"],
        "two": ["10.20.0.50"],
        ("c2" * 6): ["10.20.0.50"],
    }
    with pytest.raises(errors.Conflict, match="Address already in use"):
        mgr.connect("/ns/3", "web", "c3" * 32, "three", ip="10.20.0.50")
    with pytest.raises(errors.Conflict, match="active endpoints"):
        mgr.remove_network("web")
    assert mgr.disconnect("web", "c1" * 32)
    assert e1.host_veth not in links.links
    assert "one" not in names.seen["web"]
    again, _, _ = _manager(tmp_path, links=links)
    assert again.connect("/ns/4", "web", "c4" * 32, "four").ip == "10.20.0.2"
    again.disconnect_all("c2" * 32)
    again.disconnect_all("c4" * 32)
    mgr.remove_network("web")
    assert "web" not in names.seen


def test_name_source_sees_changes_made_by_other_managers(tmp_path: Path) -> None:
    links = FakeLinks()
    mgr, _, _ = _manager(tmp_path, links=links)
    mgr.create_network("web")
    table = NameTable(refresh=mgr.name_source("web"))
    assert table.resolve("one") is None
    other, _, _ = _manager(tmp_path, links=links)
    ep = other.connect("/ns/1", "web", "c1" * 32, "one", aliases=["uno"])
    assert table.resolve("UNO") == (ep.ip,)
    assert table.reverse(ep.ip) == "one"
    other.disconnect("web", "c1" * 32)
    assert table.resolve("one") is None


def test_internal_network_has_no_gateway_route_nor_ports(tmp_path: Path) -> None:
    mgr, _, _ = _manager(tmp_path)
    mgr.create_network("secret", internal=True)
    ep = mgr.connect("/ns/1", "secret", "c" * 64, "c")
    assert ep.gateway == ""
    assert mgr.publish(ep, ["8080:80"]) == [] and mgr.ports() == []


def test_default_network_is_predefined(tmp_path: Path) -> None:
    mgr, _, _ = _manager(tmp_path)
    first = mgr.connect("/ns/0", "bridge", "0" * 64, "zero")  # created on first use
    net = mgr.ensure_default()
    assert first.network_id == net.id and first.gateway == net.gateway
    assert (net.name, net.bridge) == ("bridge", "dockyard0")
    assert mgr.ensure_default().id == net.id
    with pytest.raises(errors.PermissionDenied, match="pre-defined"):
        mgr.remove_network("bridge")
    with pytest.raises(errors.InvalidArgument, match="user defined networks only"):
        mgr.connect("/ns/1", "bridge", "c" * 64, "c", ip="172.17.0.9")


def test_ports_are_published_and_withdrawn_with_the_container(tmp_path: Path) -> None:
    mgr, _, fw = _manager(tmp_path)
    mgr.create_network("web")
    ep = mgr.connect("/ns/1", "web", "c1" * 32, "one")
    maps = mgr.publish(ep, ["8080:80", "127.0.0.1::53/udp"])
    assert str(maps[0]) == "0.0.0.0:8080->80/tcp"
    assert maps[1].host_ip == "127.0.0.1" and 40000 <= maps[1].host_port <= 40100
    assert fw.ports == [str(m) for m in maps]
    other = mgr.connect("/ns/2", "web", "c2" * 32, "two")
    with pytest.raises(errors.Conflict, match=r"0\.0\.0\.0:8080 failed: port is already allocated"):
        mgr.publish(other, ["8080:80"])
    assert mgr.publish(other, ["8080:80/udp"])[0].host_port == 8080  # other protocol is free
    mgr.disconnect_all("c1" * 32)
    assert [p.container_id for p in mgr.ports()] == ["c2" * 32]
    assert fw.ports == ["0.0.0.0:8080->80/udp"]
    assert mgr.unpublish("c2" * 32)
    assert fw.ports == []


def test_ports_survive_a_lost_table(tmp_path: Path) -> None:
    mgr, _, fw = _manager(tmp_path)
    mgr.create_network("web")
    ep = mgr.connect("/ns/1", "web", "c1" * 32, "one")
    mgr.publish(ep, ["8080:80"])

    def refuse(ports: Sequence[PortMapping]) -> None:
        raise errors.Unavailable("nftables refused: no such table")

    fw.add_ports = refuse  # type: ignore[method-assign]
    rebuilds = fw.rebuilds
    mgr.publish(ep, ["9090:90"])
    assert fw.rebuilds == rebuilds + 1
    assert fw.ports == ["0.0.0.0:8080->80/tcp", "0.0.0.0:9090->90/tcp"]


def test_last_network_removes_the_table_and_forwarding(tmp_path: Path) -> None:
    mgr, links, fw = _manager(tmp_path)
    mgr.create_network("a")
    mgr.create_network("b")
    mgr.remove_network("a")
    assert fw.forwarding_open
    mgr.remove_network("b")
    assert (fw.networks, fw.ports) == ([], []) and not fw.forwarding_open
    assert links.links == {}


def _connect_many(root: str, start: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    mgr = NetworkManager(root, links=FakeLinks(), firewall=FakeFirewall(), probe=FakeProbe())
    mgr.links.links[mgr.inspect_network("busy").bridge] = ""  # type: ignore[attr-defined]
    for i in range(start, start + 10):
        out.put(mgr.connect(f"/ns/{i}", "busy", f"{i:064x}", f"c{i}").ip)


def test_concurrent_processes_never_share_an_address(tmp_path: Path) -> None:
    mgr, _, _ = _manager(tmp_path)
    mgr.create_network("busy", subnet="10.30.0.0/24")
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_connect_many, args=(str(tmp_path), n * 100, out)) for n in range(4)
    ]
    for p in procs:
        p.start()
    ips = [out.get(timeout=30) for _ in range(40)]
    for p in procs:
        p.join(timeout=30)
    assert len(set(ips)) == 40
    assert len(mgr.endpoints("busy")) == 40


def test_lost_bridge_is_recreated_on_next_connect(tmp_path: Path) -> None:
    mgr, links, fw = _manager(tmp_path)
    net = mgr.create_network("web")
    links.links.clear()  # a host reboot took the bridge (and our table) away
    rebuilds = fw.rebuilds
    mgr.connect("/ns/1", "web", "c1" * 32, "one")
    assert links.links.get(net.bridge) == "" and fw.rebuilds == rebuilds + 1


def test_corrupt_state_file_is_reported_not_overwritten(tmp_path: Path) -> None:
    mgr, _, _ = _manager(tmp_path)
    (tmp_path / "network.json").write_text("{not json")
    with pytest.raises(errors.FailedPrecondition, match=r"network state .* is corrupt"):
        mgr.create_network("web")
    assert (tmp_path / "network.json").read_text() == "{not json"


def test_a_default_bridge_without_a_record_is_taken_down(tmp_path: Path) -> None:
    """A process killed between making the default bridge and saving the state leaves a
    bridge no record claims: the next first use remakes it, and prune_default takes it away."""
    links = FakeLinks()
    mgr, _, _ = _manager(tmp_path, links=links)
    links.ensure_bridge(mgr.default_bridge, "172.17.0.1", 16)  # the killed process's bridge
    removed: list[str] = []
    original = links.remove_link
    links.remove_link = lambda name: removed.append(name) or original(name)  # type: ignore[method-assign]
    net = mgr.ensure_default()
    assert removed == [mgr.default_bridge] and links.bridge_exists(net.bridge)
    mgr.prune_default()
    assert not links.bridge_exists(mgr.default_bridge)
    links.ensure_bridge(mgr.default_bridge, "172.17.0.1", 16)  # orphaned again, no record
    mgr.prune_default()
    assert not links.bridge_exists(mgr.default_bridge)


def test_a_veth_left_to_its_namespace_does_not_block_the_next_start(tmp_path: Path) -> None:
    mgr, links, _ = _manager(tmp_path)
    net = mgr.create_network("web", subnet="10.30.0.0/24")
    first = mgr.connect("/ns/1", "web", "c1" * 32, "one")
    # released with its namespace: the address goes back now, the kernel deletes the veth later
    assert mgr.disconnect("web", "c1" * 32, netns_dropped=True)
    assert links.links[first.host_veth] == net.bridge
    assert mgr.connect("/ns/2", "web", "c2" * 32, "two").ip == first.ip
    # started again before the kernel got to it: the stale veth is replaced, not an error
    again = mgr.connect("/ns/3", "web", "c1" * 32, "one")
    assert again.host_veth == first.host_veth and links.links[again.host_veth] == net.bridge
    assert again.ip == "10.30.0.3"
