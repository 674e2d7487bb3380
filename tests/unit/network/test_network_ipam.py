"""IPAM: subnet choice around the host's networks, gateways, addresses and MACs."""

from ipaddress import IPv4Address, IPv4Network

import pytest

from dockyard import errors
from dockyard.network import ipam


def test_first_pool_is_dockers_default() -> None:
    assert ipam.choose_subnet([]) == IPv4Network("172.17.0.0/16")


def test_pools_that_overlap_host_routes_or_other_networks_are_skipped() -> None:
    taken = [IPv4Network("172.17.5.0/24"), IPv4Network("172.18.0.0/16"), IPv4Network("0.0.0.0/0")]
    assert ipam.choose_subnet(taken) == IPv4Network("172.19.0.0/16")


def test_after_172_31_comes_192_168_in_slash_20s() -> None:
    taken = [IPv4Network("172.16.0.0/12"), IPv4Network("192.168.0.0/24")]
    assert ipam.choose_subnet(taken) == IPv4Network("192.168.16.0/20")


def test_no_pool_left_is_unavailable() -> None:
    taken = [IPv4Network("172.16.0.0/12"), IPv4Network("192.168.0.0/16")]
    with pytest.raises(errors.Unavailable, match="non-overlapping"):
        ipam.choose_subnet(taken)


def test_gateway_is_first_host_and_must_be_inside() -> None:
    net = IPv4Network("10.9.0.0/24")
    assert ipam.default_gateway(net) == IPv4Address("10.9.0.1")
    with pytest.raises(errors.InvalidArgument, match=r"10\.9\.1\.1"):
        ipam.check_gateway(net, IPv4Address("10.9.1.1"))
    with pytest.raises(errors.InvalidArgument):
        ipam.check_gateway(net, IPv4Address("10.9.0.255"))


def test_addresses_are_handed_out_lowest_free_first() -> None:
    net = IPv4Network("10.9.0.0/24")
    used = {IPv4Address("10.9.0.1"), IPv4Address("10.9.0.2")}
    assert ipam.allocate_address(net, used) == IPv4Address("10.9.0.3")
    # A released address is reused.
    assert ipam.allocate_address(net, {IPv4Address("10.9.0.1")}) == IPv4Address("10.9.0.2")


def test_requested_address_must_be_inside_and_free() -> None:
    net = IPv4Network("10.9.0.0/24")
    used = {IPv4Address("10.9.0.1"), IPv4Address("10.9.0.7")}
    assert ipam.allocate_address(net, used, IPv4Address("10.9.0.9")) == IPv4Address("10.9.0.9")
    with pytest.raises(errors.Conflict, match="already in use"):
        ipam.allocate_address(net, used, IPv4Address("10.9.0.7"), "web")
    with pytest.raises(errors.InvalidArgument, match="does not belong to network web"):
        ipam.allocate_address(net, used, IPv4Address("10.8.0.9"), "web")


def test_full_subnet_is_unavailable() -> None:
    net = IPv4Network("10.9.0.0/30")  # hosts .1 (gateway) and .2
    with pytest.raises(errors.Unavailable, match="no available IPv4 addresses on network tiny"):
        ipam.allocate_address(net, {IPv4Address("10.9.0.1"), IPv4Address("10.9.0.2")}, None, "tiny")


def test_subnet_parsing() -> None:
    assert ipam.parse_subnet("10.1.2.3/16") == IPv4Network("10.1.0.0/16")
    for bad in ("10.1.2.3", "fd00::/64", "10.0.0.0/31", "nonsense"):
        with pytest.raises(errors.InvalidArgument):
            ipam.parse_subnet(bad)


def test_mac_derives_from_ip_like_docker() -> None:
    assert ipam.mac_from_ip(IPv4Address("172.17.0.2")) == "02:42:ac:11:00:02"
    assert ipam.parse_mac("02:42:AC:11:00:09") == "02:42:ac:11:00:09"
    with pytest.raises(errors.InvalidArgument, match="multicast"):
        ipam.parse_mac("01:00:5e:00:00:01")
    with pytest.raises(errors.InvalidArgument):
        ipam.parse_mac("02:42:ac:11:00")
