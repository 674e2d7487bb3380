"""Networks through the API: create, list with filters, inspect, remove, prune and the
connect/disconnect refusals, over a NetworkManager whose host side only records (no root)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from ipaddress import IPv4Network
from typing import Any

import pytest
from api_testclient import Api

from _helpers import images as helpers
from dockyard.network import NetworkManager, NetworkRecord, PortMapping
from dockyard.service import networks as networks_module


class _Host:
    """Links, firewall and port probe that only remember."""

    def __init__(self) -> None:
        self.links: dict[str, str] = {}

    def host_subnets(self) -> list[IPv4Network]:
        return []

    def bridge_exists(self, name: str) -> bool:
        return name in self.links

    def ensure_bridge(self, name: str, gateway: str, prefix: int) -> None:
        self.links[name] = f"{gateway}/{prefix}"

    def remove_link(self, name: str) -> bool:
        return self.links.pop(name, None) is not None

    def add_veth(self, *args: Any) -> str:
        raise AssertionError("no container joins a network in these tests")

    def loopback_up(self, netns_path: str) -> None:
        pass

    def apply(self, networks: Sequence[NetworkRecord], ports: Sequence[PortMapping]) -> None:
        pass

    def add_ports(self, ports: Sequence[PortMapping]) -> None:
        pass

    def remove_ports(self, ports: Sequence[PortMapping]) -> None:
        pass

    def open_forwarding(self) -> None:
        pass

    def close_forwarding(self) -> None:
        pass

    def is_free(self, proto: str, host_ip: str, port: int) -> bool:
        return True

    def ephemeral_range(self) -> tuple[int, int]:
        return 40000, 40100


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> _Host:
    fake = _Host()
    monkeypatch.setenv("DOCKYARD_NFT_TABLE", "dockyard-unit")
    monkeypatch.setenv("DOCKYARD_DEFAULT_BRIDGE", "dockyard0-unit")

    def manager(state_dir: Any, **kw: Any) -> NetworkManager:
        return NetworkManager(state_dir, links=fake, firewall=fake, probe=fake, **kw)

    monkeypatch.setattr(networks_module, "NetworkManager", manager)
    return fake


def test_create_inspect_list_remove(api: Api, host: _Host) -> None:
    made = api.post("/v1.50/networks/create", json={
        "Name": "backend", "Driver": "bridge", "Labels": {"app": "web"},
        "IPAM": {"Config": [{"Subnet": "10.77.0.0/24", "Gateway": "10.77.0.1"}]}})
    assert made.status == 201
    body = made.json()
    assert body["Warning"] == "" and len(body["Id"]) == 64
    doc = api.get("/networks/backend").json()
    assert doc["Id"] == body["Id"] and doc["Driver"] == "bridge" and doc["Labels"] == {"app": "web"}
    assert doc["IPAM"]["Config"] == [{"Subnet": "10.77.0.0/24", "Gateway": "10.77.0.1"}]
    assert doc["Containers"] == {}
    assert api.get(f"/v1.44/networks/{body['Id'][:12]}").json()["Name"] == "backend"
    names = [n["Name"] for n in api.get("/networks").json()]
    assert names == ["backend", "bridge", "host", "none"]
    by_label = api.get("/networks", params={"filters": json.dumps({"label": {"app=web": True}})})
    assert [n["Name"] for n in by_label.json()] == ["backend"]
    by_name = api.get("/networks", params={"filters": json.dumps({"name": ["back"]})})
    assert [n["Id"] for n in by_name.json()] == [body["Id"]]
    assert api.delete("/networks/backend").status == 204
    missing = api.get("/networks/backend")
    assert missing.status == 404 and "backend" in missing.json()["message"]
    assert api.delete("/networks/backend").status == 404


def test_create_refusals(api: Api, host: _Host) -> None:
    assert api.post("/networks/create", json={"Name": "a"}).status == 201
    again = api.post("/networks/create", json={"Name": "a"})
    assert again.status == 409 and "a" in again.json()["message"]
    assert api.post("/networks/create", json={"Name": "b", "Driver": "overlay"}).status == 404
    assert api.post("/networks/create", json={}).status == 400
    assert api.post("/networks/create", data=b"[1]",
                    headers={"Content-Type": "application/json"}).status == 400
    removal = api.delete("/networks/bridge")
    assert removal.status == 403 and "pre-defined" in removal.json()["message"]


def test_prune_removes_unused_user_networks(api: Api, host: _Host) -> None:
    api.post("/networks/create", json={"Name": "keep", "Labels": {"keep": "yes"}})
    api.post("/networks/create", json={"Name": "drop"})
    nothing = api.post("/networks/prune", params={"filters": json.dumps({"label": ["none=1"]})})
    assert nothing.json() == {"NetworksDeleted": None}
    pruned = api.post("/networks/prune", params={"filters": json.dumps({"label!": ["x"]})})
    assert pruned.status == 400
    assert api.post("/networks/prune").json() == {"NetworksDeleted": ["drop", "keep"]}
    assert [n["Name"] for n in api.get("/networks").json()] == ["bridge", "host", "none"]


def test_connect_and_disconnect_refusals(api: Api, host: _Host) -> None:
    api.post("/networks/create", json={"Name": "net"})
    missing = api.post("/networks/net/connect", json={"Container": "ghost"})
    assert missing.status == 404 and "ghost" in missing.json()["message"]
    assert api.post("/networks/net/connect", json={}).status == 400
    assert api.post("/networks/net/disconnect", json={"Container": "ghost"}).status == 404
    assert api.post("/networks/nonet/disconnect", json={"Container": "x"}).status == 404


def test_a_created_container_joins_the_network_at_start(
    api: Api, host: _Host, loaded: helpers.TestImage
) -> None:
    """As compose does: connect a created container; it is recorded for start, not attached."""
    api.post("/networks/create", json={"Name": "net"})
    cid = api.post("/containers/create", params={"name": "web"},
                   json={"Image": "busybox", "HostConfig": {"NetworkMode": "net"}}).json()["Id"]
    joined = api.post("/networks/net/connect",
                      json={"Container": "web", "EndpointConfig": {"Aliases": ["api"],
                            "IPAMConfig": {"IPv4Address": "10.0.0.9"}}})
    assert joined.status == 200, joined.body
    record = api.engine.containers.resolve(cid)
    assert record.extra["NetworkingConfig"]["EndpointsConfig"] == {
        "net": {"Aliases": ["api"], "IPAMConfig": {"IPv4Address": "10.0.0.9"}}}
    assert api.get("/networks/net").json()["Containers"] == {}  # nothing attached before start
    again = api.post("/networks/net/connect", json={"Container": cid})  # dockerd: a no-op
    assert again.status == 200
    assert api.engine.containers.resolve(cid).extra["NetworkingConfig"]["EndpointsConfig"] == {
        "net": {"Aliases": ["api"], "IPAMConfig": {"IPv4Address": "10.0.0.9"}}}
    assert api.post("/networks/host/connect", json={"Container": cid}).status == 403
    assert api.post("/networks/net/disconnect", json={"Container": "web"}).status == 200
    assert api.engine.containers.resolve(cid).extra["NetworkingConfig"]["EndpointsConfig"] == {}
    not_joined = api.post("/networks/net/disconnect", json={"Container": "web"})
    assert not_joined.status == 403 and "is not connected" in not_joined.json()["message"]
    forced = api.post("/networks/net/disconnect", json={"Container": "web", "Force": True})
    assert forced.status == 200
