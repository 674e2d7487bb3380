"""When another firewall (Docker's iptables) sets the FORWARD policy to DROP, Dockyard adds
accept rules for its bridges there, and removes them with its last network.

Runs in a network namespace standing in for the host, so the real host's iptables are never
touched: a thread entered into it runs the manager, and the iptables/nft processes it starts
inherit that namespace.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.network import NetworkManager
from dockyard.network._netns import run_in_netns
from dockyard.network.firewall import NftFirewall, iptables_forward_rules
from dockyard.network.protocol import LinkDriver


def _uplink(outside: str) -> None:
    """veth ``dy-uplink`` (10.250.0.1/24, this namespace) to ``eth0`` (10.250.0.2) *outside*."""
    import os

    from pyroute2 import IPRoute

    fd = os.open(outside, os.O_RDONLY)
    with IPRoute() as ipr:
        ipr.link("add", ifname="dy-uplink", kind="veth", peer={"ifname": "eth0", "net_ns_fd": fd})
        idx = ipr.link_lookup(ifname="dy-uplink")[0]
        ipr.addr("add", index=idx, address="10.250.0.1", prefixlen=24)
        ipr.link("set", index=idx, state="up")
    os.close(fd)

    def inside() -> None:
        with IPRoute() as ipr:
            idx = ipr.link_lookup(ifname="eth0")[0]
            ipr.addr("add", index=idx, address="10.250.0.2", prefixlen=24)
            ipr.link("set", index=idx, state="up")

    run_in_netns(outside, inside)


def test_forward_drop_policy_gets_tagged_accept_rules(
    data_root: Path, namespaces, echo, tcp_talk: Callable[..., bytes], links: LinkDriver
) -> None:
    host_before = subprocess.run(["iptables", "-S", "FORWARD"], capture_output=True, text=True)
    fake_host, outside, container = namespaces.new(), namespaces.new(), namespaces.new()

    def scenario() -> None:
        subprocess.run(["iptables", "-w", "-P", "FORWARD", "DROP"], check=True)
        mgr = NetworkManager(data_root / "network", links=links, firewall=NftFirewall())
        mgr.create_network("web")
        rules = iptables_forward_rules()
        assert len(rules) == 2 and all("ACCEPT" in r for r in rules)
        assert any("-i dockyard+" in r for r in rules) and any("-o dockyard+" in r for r in rules)

        _uplink(outside)
        server = echo(outside, 9000)
        mgr.connect(container, "web", "7" * 64, "client")
        assert tcp_talk("10.250.0.2", 9000, container) == b"echo:hi"
        assert server.peers[-1][0] == "10.250.0.1"  # masqueraded behind the host

        # Without our rules the DROP policy wins over our table's accept.
        mgr.firewall.close_forwarding()
        with pytest.raises(TimeoutError):
            tcp_talk("10.250.0.2", 9000, container, timeout=0.5)
        mgr.firewall.open_forwarding()
        assert tcp_talk("10.250.0.2", 9000, container) == b"echo:hi"

        mgr.disconnect_all("7" * 64)
        mgr.remove_network("web")
        assert iptables_forward_rules() == []
        tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True)
        assert "dockyard" not in tables.stdout

    run_in_netns(fake_host, scenario)
    host_after = subprocess.run(["iptables", "-S", "FORWARD"], capture_output=True, text=True)
    assert host_after.stdout == host_before.stdout
