"""L3 network: bridge networks, IPAM, veth endpoints, published ports (nftables) and DNS.

Works on a network namespace given as a path and returns data; never imports runtime/,
image/ or volume/. Importing this package is cheap (no pyroute2 unless ``links.LinuxLinks``
is chosen). See README.md for the why.
"""

from dockyard.network.manager import NetworkManager
from dockyard.network.model import Endpoint, NetworkRecord, PortMapping
from dockyard.network.ports import PortRequest, parse_port_spec, parse_port_specs
from dockyard.network.resolvconf import build_hosts, build_resolv_conf

__all__ = [
    "Endpoint",
    "NetworkManager",
    "NetworkRecord",
    "PortMapping",
    "PortRequest",
    "build_hosts",
    "build_resolv_conf",
    "parse_port_spec",
    "parse_port_specs",
]
