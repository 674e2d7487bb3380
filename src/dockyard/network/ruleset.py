"""The nftables ruleset of Dockyard's one table, ``ip dockyard``, rendered from state.

Pure: given the networks and the published ports, return the ``nft -f`` text that replaces the
whole table atomically (or deletes it). Regenerating the table per change keeps it exactly in
step with the state file: a removed container's ports vanish with it, and the table goes when
the last network goes. Imports only the standard library and the package's model.

What the table does:

* ``publish`` (jumped to from nat prerouting and output for local destination addresses):
  DNAT ``[host_ip] proto dport host_port`` to ``container_ip:container_port``, so both host
  addresses and 127.0.0.1 reach the container (loopback also needs ``route_localnet`` on the
  bridge and the masquerade of 127.0.0.0/8 below).
* ``postrouting``: masquerade a non-internal network's subnet leaving by anything but its
  bridge; masquerade loopback sources going to a bridge.
* ``forward``: drop traffic between two Dockyard bridges and in/out of internal networks;
  accept DNATed and established traffic to containers, drop other new traffic routed to them,
  accept traffic from them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dockyard.network.model import NetworkRecord, PortMapping

__all__ = ["FAMILY", "TABLE", "delete_script", "render_table", "replace_script"]

FAMILY = "ip"
TABLE = "dockyard"
BRIDGE_GLOB = "dockyard*"


def _q(name: str) -> str:
    return f'"{name}"'


def _publish_rules(ports: Iterable[PortMapping]) -> list[str]:
    rules = []
    for p in sorted(ports, key=lambda m: (m.host_port, m.proto, m.host_ip)):
        daddr = f"ip daddr {p.host_ip} " if p.host_ip else ""
        rules.append(
            f"{daddr}{p.proto} dport {p.host_port} dnat to {p.container_ip}:{p.container_port}"
        )
    return rules


def _postrouting_rules(networks: Sequence[NetworkRecord]) -> list[str]:
    rules = []
    for net in networks:
        br = _q(net.bridge)
        rules.append(f"ip saddr 127.0.0.0/8 oifname {br} masquerade")
        if not net.internal:
            rules.append(f"ip saddr {net.subnet} oifname != {br} masquerade")
    return rules


def _forward_rules(networks: Sequence[NetworkRecord]) -> list[str]:
    rules = []
    for net in networks:
        br = _q(net.bridge)
        if net.internal:
            rules.append(f"iifname {br} oifname != {br} drop")
            rules.append(f"oifname {br} iifname != {br} drop")
            continue
        rules.append(f'iifname {br} oifname "{BRIDGE_GLOB}" oifname != {br} drop')
    for net in networks:
        if net.internal:
            continue
        br = _q(net.bridge)
        rules.append(f"oifname {br} iifname != {br} ct status dnat accept")
        rules.append(f"oifname {br} ct state established,related accept")
        rules.append(f"oifname {br} iifname != {br} drop")
        rules.append(f"iifname {br} accept")
    return rules


def _chain(name: str, hook: str, rules: list[str]) -> list[str]:
    lines = [f"\tchain {name} {{"]
    if hook:
        lines.append(f"\t\t{hook}")
    lines += [f"\t\t{rule}" for rule in rules]
    lines.append("\t}")
    return lines


def render_table(
    networks: Sequence[NetworkRecord], ports: Iterable[PortMapping], table: str = TABLE
) -> str:
    """The full ``table ip dockyard { ... }`` for *networks* and their published *ports*."""
    nets = sorted(networks, key=lambda n: n.bridge)
    lines = [f"table {FAMILY} {table} {{"]
    local = "fib daddr type local jump publish"
    lines += _chain(
        "prerouting", "type nat hook prerouting priority dstnat; policy accept;", [local]
    )
    lines += _chain("output", "type nat hook output priority -100; policy accept;", [local])
    lines += _chain("publish", "", _publish_rules(ports))
    lines += _chain(
        "postrouting",
        "type nat hook postrouting priority srcnat; policy accept;",
        _postrouting_rules(nets),
    )
    lines += _chain(
        "forward", "type filter hook forward priority filter; policy accept;", _forward_rules(nets)
    )
    lines.append("}")
    return "\n".join(lines) + "\n"


def replace_script(
    networks: Sequence[NetworkRecord], ports: Iterable[PortMapping], table: str = TABLE
) -> str:
    """One ``nft -f`` transaction that replaces the table (creating it if missing)."""
    return delete_script(table) + render_table(networks, ports, table)


def delete_script(table: str = TABLE) -> str:
    """One ``nft -f`` transaction that deletes the table if it exists."""
    return f"table {FAMILY} {table} {{}}\ndelete table {FAMILY} {table}\n"
