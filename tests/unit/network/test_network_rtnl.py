"""The rtnetlink encoding of the default link driver, and keeping pyroute2 off the hot path."""

import struct
import subprocess
import sys

from dockyard.network import _rtnl as nl


def test_attributes_are_length_prefixed_and_padded() -> None:
    assert nl.attr(nl.IFLA_IFNAME, "eth0") == struct.pack("=HH", 9, 3) + b"eth0\0" + b"\0" * 3
    assert nl.attr(nl.IFLA_MASTER, 7) == struct.pack("=HHI", 8, 10, 7)
    assert len(nl.attr(nl.BRPORT_MODE, b"\x01")) == 8  # 5 bytes padded to 8


def test_nested_attributes_round_trip() -> None:
    info = nl.nested(nl.IFLA_LINKINFO, nl.attr(nl.INFO_KIND, "veth"))
    (length, kind) = struct.unpack_from("=HH", info)
    assert kind == nl.IFLA_LINKINFO | nl.NLA_F_NESTED and length == len(info)
    outer = nl.parse_attrs(info + nl.attr(nl.IFLA_IFNAME, "dy-x"))
    assert nl.cstr(outer[nl.IFLA_IFNAME]) == "dy-x"
    assert nl.cstr(nl.parse_attrs(outer[nl.IFLA_LINKINFO])[nl.INFO_KIND]) == "veth"


def test_network_package_does_not_import_pyroute2() -> None:
    code = (
        "import sys, dockyard.network, dockyard.network.rawlinks, dockyard.network.manager; "
        "sys.exit('pyroute2' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
