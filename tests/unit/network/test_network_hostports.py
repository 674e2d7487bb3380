"""The host port probe: a port held by a socket is not free; a foreign address is an error."""

import socket

import pytest

from dockyard import errors
from dockyard.network.publish import HostPorts


def test_port_held_by_a_listening_socket_is_not_free() -> None:
    probe = HostPorts()
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        assert not probe.is_free("tcp", "127.0.0.1", port)
        assert not probe.is_free("tcp", "", port)  # every address includes 127.0.0.1
        assert probe.is_free("udp", "127.0.0.1", port)


def test_address_not_on_this_host_is_invalid() -> None:
    with pytest.raises(errors.InvalidArgument, match="not an address of this host"):
        HostPorts().is_free("tcp", "198.51.100.77", 8080)


def test_ephemeral_range_is_read_from_the_kernel() -> None:
    low, high = HostPorts().ephemeral_range()
    assert 1024 <= low < high <= 65535
