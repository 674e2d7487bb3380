"""The nftables ruleset rendered from networks and published ports."""

from dockyard.network.model import NetworkRecord, PortMapping
from dockyard.network.ruleset import (
    add_ports_script,
    delete_ports_script,
    delete_script,
    render_table,
    replace_script,
)

WEB = NetworkRecord("a" * 64, "web", "dockyard-aaaaaa", "172.18.0.0/16", "172.18.0.1")
SECRET = NetworkRecord(
    "b" * 64, "secret", "dockyard-bbbbbb", "172.19.0.0/16", "172.19.0.1", internal=True
)


def _rules(text: str, chain: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(f"\tchain {chain} {{")
    end = lines.index("\t}", start)
    return [line.strip() for line in lines[start + 1 : end] if "hook" not in line]


def test_published_ports_dnat_from_any_or_one_host_address() -> None:
    ports = [
        PortMapping("tcp", "", 8080, "172.18.0.2", 80),
        PortMapping("udp", "127.0.0.1", 5353, "172.18.0.3", 53),
    ]
    text = render_table([WEB], ports)
    assert "\t\telements = { tcp . 8080 : 172.18.0.2 . 80 }\n" in text
    assert "\t\telements = { 127.0.0.1 . udp . 5353 : 172.18.0.3 . 53 }\n" in text
    # Ports bound to one address are looked up first; both maps DNAT to container ip . port.
    assert _rules(text, "publish") == [
        "dnat ip to ip daddr . meta l4proto . th dport map @publish_ip",
        "dnat ip to meta l4proto . th dport map @publish_any",
    ]
    # Both hooks (traffic arriving and traffic from the host itself) reach the DNAT rules.
    assert "fib daddr type local jump publish" in _rules(text, "prerouting")
    assert "fib daddr type local jump publish" in _rules(text, "output")


def test_ports_are_added_and_removed_as_map_elements() -> None:
    ports = [
        PortMapping("tcp", "", 8080, "172.18.0.2", 80),
        PortMapping("udp", "127.0.0.1", 5353, "172.18.0.3", 53),
    ]
    assert add_ports_script(ports, "dockyard-x") == (
        "add element ip dockyard-x publish_any { tcp . 8080 : 172.18.0.2 . 80 }\n"
        "add element ip dockyard-x publish_ip { 127.0.0.1 . udp . 5353 : 172.18.0.3 . 53 }\n"
    )
    assert delete_ports_script(ports) == (
        "delete element ip dockyard publish_any { tcp . 8080 }\n"
        "delete element ip dockyard publish_ip { 127.0.0.1 . udp . 5353 }\n"
    )


def test_masquerade_only_for_non_internal_networks_and_loopback() -> None:
    rules = _rules(render_table([WEB, SECRET], []), "postrouting")
    assert 'ip saddr 172.18.0.0/16 oifname != "dockyard-aaaaaa" masquerade' in rules
    assert not any("172.19.0.0/16" in r for r in rules)
    assert 'ip saddr 127.0.0.0/8 oifname "dockyard-aaaaaa" masquerade' in rules


def test_bridges_are_isolated_and_internal_networks_closed() -> None:
    rules = _rules(render_table([WEB, SECRET], []), "forward")
    assert rules[:4] == [
        'iifname "dockyard-bbbbbb" oifname != "dockyard-bbbbbb" drop',
        'oifname "dockyard-bbbbbb" iifname != "dockyard-bbbbbb" drop',
        # Published ports stay reachable from other networks (as through Docker's proxy)...
        'oifname "dockyard-aaaaaa" ct status dnat accept',
        # ...but nothing else crosses from one Dockyard bridge to another.
        'iifname "dockyard-aaaaaa" oifname "dockyard*" oifname != "dockyard-aaaaaa" drop',
    ]
    assert 'iifname "dockyard-aaaaaa" accept' in rules
    assert 'oifname "dockyard-aaaaaa" iifname != "dockyard-aaaaaa" drop' in rules
    assert not any("dockyard-bbbbbb" in r and "accept" in r for r in rules)


def test_hairpin_traffic_is_masqueraded() -> None:
    rules = _rules(render_table([WEB], []), "postrouting")
    assert 'ip saddr 172.18.0.0/16 oifname "dockyard-aaaaaa" ct status dnat masquerade' in rules


def test_scripts_replace_or_delete_atomically_even_when_absent() -> None:
    text = replace_script([WEB], [], table="dockyard-test")
    assert text.startswith("table ip dockyard-test {}\ndelete table ip dockyard-test\n")
    assert "table ip dockyard-test {\n" in text
    assert delete_script() == "table ip dockyard {}\ndelete table ip dockyard\n"
