"""The nftables ruleset of Dockyard's one table, ``ip dockyard``, rendered from state.

Pure: given the networks and the published ports, return the ``nft -f`` text that replaces the
whole table atomically (or deletes it). Regenerating the table per change keeps it exactly in
step with the state file: a removed container's ports vanish with it, and the table goes when
the last network goes. Imports only the standard library and the package's model.

What the table does:

* ``publish`` (jumped to from nat prerouting and output for local destination addresses):
  DNAT through two maps, ``publish_ip`` (``host_ip . proto . port``, ports bound to one
  address) then ``publish_any`` (``proto . port``), to ``container_ip . container_port``; so
  both host addresses and 127.0.0.1 reach the container (loopback also needs
  ``route_localnet`` on the bridge and the masquerade of 127.0.0.0/8 below). Publishing a
  port adds a map element (~0.3 ms); rewriting chains costs an RCU grace period (~10-20 ms).
* ``postrouting``: masquerade a non-internal network's subnet leaving by anything but its
  bridge, and DNATed traffic from it back into it (hairpin); masquerade loopback sources
  going to a bridge.
* ``forward``, in this order: drop everything in/out of internal networks; accept DNATed
  traffic to a container (a published port, from anywhere); drop traffic between two
  Dockyard bridges; accept established traffic to containers, drop other new traffic routed
  to them, accept traffic from them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dockyard.network.model import NetworkRecord, PortMapping

__all__ = ["FAMILY", "TABLE", "delete_script", "render_table", "replace_script"]

FAMILY = "ip"
TABLE = "dockyard"
BRIDGE_GLOB = "dockyard*"
MAP_ANY = "publish_any"  # proto . port -> container ip . port
MAP_IP = "publish_ip"  # host ip . proto . port -> container ip . port
_PUBLISH = [
    f"dnat ip to ip daddr . meta l4proto . th dport map @{MAP_IP}",
    f"dnat ip to meta l4proto . th dport map @{MAP_ANY}",
]


def _q(name: str) -> str:
    return f'"{name}"'


def _key(p: PortMapping) -> str:
    key = f"{p.proto} . {p.host_port}"
    return f"{p.host_ip} . {key}" if p.host_ip else key


def _element(p: PortMapping) -> str:
    return f"{_key(p)} : {p.container_ip} . {p.container_port}"


def _map(name: str, key_type: str, ports: list[PortMapping]) -> list[str]:
    lines = [f"\tmap {name} {{", f"\t\ttype {key_type} : ipv4_addr . inet_service"]
    if ports:
        lines.append("\t\telements = { " + ", ".join(_element(p) for p in ports) + " }")
    return [*lines, "\t}"]


def _map_of(p: PortMapping) -> str:
    return MAP_IP if p.host_ip else MAP_ANY


def _postrouting_rules(networks: Sequence[NetworkRecord]) -> list[str]:
    rules = []
    for net in networks:
        br = _q(net.bridge)
        rules.append(f"ip saddr 127.0.0.0/8 oifname {br} masquerade")
        if not net.internal:
            rules.append(f"ip saddr {net.subnet} oifname != {br} masquerade")
            # Hairpin: a container reaching a published port of its own network through a
            # host address must see the reply come from the host, not straight from the peer.
            rules.append(f"ip saddr {net.subnet} oifname {br} ct status dnat masquerade")
    return rules


def _forward_rules(networks: Sequence[NetworkRecord]) -> list[str]:
    internal = [n for n in networks if n.internal]
    public = [n for n in networks if not n.internal]
    rules = []
    for net in internal:  # an internal network talks to nothing but itself
        br = _q(net.bridge)
        rules.append(f"iifname {br} oifname != {br} drop")
        rules.append(f"oifname {br} iifname != {br} drop")
    for net in public:  # published ports are reachable from anywhere, other networks too
        rules.append(f"oifname {_q(net.bridge)} ct status dnat accept")
    for net in public:  # otherwise networks are isolated from each other
        br = _q(net.bridge)
        rules.append(f'iifname {br} oifname "{BRIDGE_GLOB}" oifname != {br} drop')
    for net in public:
        br = _q(net.bridge)
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
    mapped = sorted(ports, key=lambda m: (m.host_port, m.proto, m.host_ip))
    lines = [f"table {FAMILY} {table} {{"]
    lines += _map(MAP_ANY, "inet_proto . inet_service", [p for p in mapped if not p.host_ip])
    lines += _map(MAP_IP, "ipv4_addr . inet_proto . inet_service", [p for p in mapped if p.host_ip])
    local = "fib daddr type local jump publish"
    lines += _chain(
        "prerouting", "type nat hook prerouting priority dstnat; policy accept;", [local]
    )
    lines += _chain("output", "type nat hook output priority -100; policy accept;", [local])
    lines += _chain("publish", "", _PUBLISH)
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


def add_ports_script(ports: Iterable[PortMapping], table: str = TABLE) -> str:
    """One transaction adding *ports* to the table's port maps (no rule changes: fast)."""
    return "".join(
        f"add element {FAMILY} {table} {_map_of(p)} {{ {_element(p)} }}\n" for p in ports
    )


def delete_ports_script(ports: Iterable[PortMapping], table: str = TABLE) -> str:
    """One transaction removing *ports* from the table's port maps."""
    return "".join(f"delete element {FAMILY} {table} {_map_of(p)} {{ {_key(p)} }}\n" for p in ports)


def delete_script(table: str = TABLE) -> str:
    """One ``nft -f`` transaction that deletes the table if it exists."""
    return f"table {FAMILY} {table} {{}}\ndelete table {FAMILY} {table}\n"
