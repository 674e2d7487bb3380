"""Fakes for the network service's unit tests: a NetworkManager over links, firewall and port
probe that only record, so the service, ``container_network`` and the CLI run without root."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import pytest

from dockyard.network import NetworkManager, NetworkRecord, PortMapping
from dockyard.service import networks as networks_module
from dockyard.service.engine import Engine
from dockyard.service.settings import Settings


class FakeHost:
    """Links, firewall and port probe of a pretend host, shared by every manager of a test."""

    def __init__(self) -> None:
        self.links: dict[str, str] = {}
        self.rules: list[str] = []
        self.ports: list[str] = []
        self.dns_waits: list[tuple[str, str]] = []

    # LinkDriver
    def host_subnets(self) -> list[IPv4Network]:
        return [IPv4Network("172.17.0.0/16")]  # Docker's docker0

    def bridge_exists(self, name: str) -> bool:
        return name in self.links

    def ensure_bridge(self, name: str, gateway: str, prefix: int) -> None:
        self.links[name] = f"{gateway}/{prefix}"

    def remove_link(self, name: str) -> bool:
        return self.links.pop(name, None) is not None

    def add_veth(self, bridge: str, host_name: str, netns_path: str, mac: str, ip: str,
                 prefix: int, gateway: str | None) -> str:  # fmt: skip
        assert bridge in self.links
        self.links[host_name] = bridge
        return "eth0"

    def loopback_up(self, netns_path: str) -> None:
        self.links[f"lo@{netns_path}"] = "up"

    # Firewall
    def apply(self, networks: Sequence[NetworkRecord], ports: Sequence[PortMapping]) -> None:
        self.rules = sorted(n.bridge for n in networks)
        self.ports = [str(p) for p in ports]

    def add_ports(self, ports: Sequence[PortMapping]) -> None:
        self.ports += [str(p) for p in ports]

    def remove_ports(self, ports: Sequence[PortMapping]) -> None:
        for p in ports:
            self.ports.remove(str(p))

    def open_forwarding(self) -> None:
        pass

    def close_forwarding(self) -> None:
        pass

    # PortProbe
    def is_free(self, proto: str, host_ip: str, port: int) -> bool:
        return True

    def ephemeral_range(self) -> tuple[int, int]:
        return 40000, 40100


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHost]:
    """Every NetworkManager the service builds runs on one FakeHost; the DNS helper is not
    started (its wait is recorded instead)."""
    fake = FakeHost()
    monkeypatch.setenv("DOCKYARD_NFT_TABLE", "dockyard-unit")
    monkeypatch.setenv("DOCKYARD_DEFAULT_BRIDGE", "dockyard0-unit")

    def manager(state_dir: Any, **kw: Any) -> NetworkManager:
        return NetworkManager(state_dir, links=fake, firewall=fake, probe=fake, **kw)

    def ensure_dns(self: Any, net: NetworkRecord, name: str) -> None:
        fake.dns_waits.append((net.name, name))

    monkeypatch.setattr(networks_module, "NetworkManager", manager)
    monkeypatch.setattr(networks_module.NetworkService, "ensure_dns", ensure_dns)
    yield fake


@pytest.fixture
def engine(tmp_path: Path, host: FakeHost) -> Engine:
    return Engine(Settings.resolve(tmp_path / "root"))
