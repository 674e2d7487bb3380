"""Port spec parsing with Docker's messages, and host port choice."""

import random

import pytest

from dockyard import errors
from dockyard.network.ports import PortRequest, parse_port_spec, pick_host_port


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("80", [PortRequest(80)]),
        ("8080:80", [PortRequest(80, "tcp", "", 8080, 8080)]),
        ("127.0.0.1:8080:80/udp", [PortRequest(80, "udp", "127.0.0.1", 8080, 8080)]),
        ("127.0.0.1::80", [PortRequest(80, "tcp", "127.0.0.1")]),
        ("0.0.0.0:8080:80", [PortRequest(80, "tcp", "", 8080, 8080)]),
        ("[127.0.0.1]:53:53/UDP", [PortRequest(53, "udp", "127.0.0.1", 53, 53)]),
        ("80/", [PortRequest(80)]),
        ("9000-9010:80", [PortRequest(80, "tcp", "", 9000, 9010)]),
        (
            "7000-7001:80-81",
            [PortRequest(80, "tcp", "", 7000, 7000), PortRequest(81, "tcp", "", 7001, 7001)],
        ),
        ("80-81", [PortRequest(80), PortRequest(81)]),
    ],
)
def test_valid_specs(spec: str, expected: list[PortRequest]) -> None:
    assert parse_port_spec(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no port specified: <empty>"),
        ("8080:", "no port specified: 8080:<empty>"),
        ("abc", "invalid containerPort: abc"),
        ("70000", "invalid containerPort: 70000"),
        ("90-80", "invalid containerPort: 90-80"),
        ("x:80", "invalid hostPort: x"),
        ("1.2.3:80:80", "invalid IP address: 1.2.3"),
        ("80/sctpx", "invalid proto: sctpx"),
        (
            "1000-1002:80-81",
            "invalid ranges specified for container and host Ports: 80-81 and 1000-1002",
        ),
    ],
)
def test_invalid_specs_give_dockers_errors(spec: str, message: str) -> None:
    with pytest.raises(errors.InvalidArgument) as info:
        parse_port_spec(spec)
    assert str(info.value) == message


def test_requested_port_taken_is_conflict() -> None:
    with pytest.raises(
        errors.Conflict, match=r"Bind for 0.0.0.0:8080 failed: port is already allocated"
    ):
        pick_host_port(PortRequest(80, "tcp", "", 8080, 8080), lambda port: False)


def test_host_range_takes_first_free_port() -> None:
    req = PortRequest(80, "tcp", "", 9000, 9005)
    assert pick_host_port(req, lambda port: port >= 9003) == 9003


def test_random_port_is_in_the_ephemeral_range_and_free() -> None:
    taken = set(range(40000, 40010))
    port = pick_host_port(
        PortRequest(80), lambda p: p not in taken, (40000, 40020), random.Random(1)
    )
    assert 40010 <= port <= 40020
    with pytest.raises(errors.Conflict):
        pick_host_port(PortRequest(80), lambda p: False, (40000, 40003))
