"""The firewall side of the bridge driver: Dockyard's nftables table and, when Docker (or
anyone) set the iptables FORWARD policy to DROP, accept rules there for Dockyard's bridges.

A packet is dropped if *any* base chain at its hook drops it, so our own table's accepts do
not help against ``ip filter FORWARD policy drop`` (Docker's iptables-nft setup): then two
rules tagged with a ``dockyard`` comment go into that chain (``-i dockyard+`` and
``-o dockyard+``), and come out when the last Dockyard network goes. Isolation and internal
networks stay enforced by our table's drops.

Performs; the ruleset itself comes from ``ruleset.py``. Never imports runtime/, image/ or
volume/.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence

from dockyard import errors
from dockyard.network import ruleset
from dockyard.network._nft import run_nft
from dockyard.network.model import NetworkRecord, PortMapping

__all__ = ["COMMENT", "NftFirewall", "iptables_forward_rules"]

COMMENT = "dockyard: accept forwarding for Dockyard bridges"
_RULES = (["-i", "dockyard+"], ["-o", "dockyard+"])


def _rule(match: list[str]) -> list[str]:
    return [*match, "-m", "comment", "--comment", COMMENT, "-j", "ACCEPT"]


def _iptables(*args: str) -> subprocess.CompletedProcess[str] | None:
    exe = shutil.which("iptables")
    if exe is None:
        return None
    return subprocess.run([exe, "-w", *args], capture_output=True, text=True)


def iptables_forward_rules() -> list[str]:
    """The iptables FORWARD rules (``-S`` form) that Dockyard added."""
    out = _iptables("-S", "FORWARD")
    if out is None or out.returncode != 0:
        return []
    return [line for line in out.stdout.splitlines() if "dockyard" in line]


def _forward_policy_drops() -> bool:
    out = _iptables("-S", "FORWARD")
    return out is not None and out.returncode == 0 and "-P FORWARD DROP" in out.stdout


class NftFirewall:
    """Keeps the ``ip dockyard`` table equal to the state, and the iptables escape hatch.

    *table* is ``dockyard`` for the engine; tests and side-by-side engines give their own
    ``dockyard-...`` name so their rules never overwrite each other.
    """

    def __init__(self, table: str = ruleset.TABLE) -> None:
        if not table.startswith("dockyard"):
            raise errors.InvalidArgument(f"nftables table {table!r} must be named dockyard...")
        self.table = table

    def apply(self, networks: Sequence[NetworkRecord], ports: Sequence[PortMapping]) -> None:
        """Replace the table atomically with the rules for *networks* and *ports*; delete it
        when there is no network.

        Raises Unavailable when nftables is missing or refuses the rules.
        """
        if networks:
            run_nft(ruleset.replace_script(networks, ports, self.table), "install Dockyard's rules")
        else:
            run_nft(ruleset.delete_script(self.table), "delete Dockyard's table")

    def add_ports(self, ports: Sequence[PortMapping]) -> None:
        """Add *ports* to the existing table's maps. Raises Unavailable when nftables refuses
        (the table is gone, say: then ``apply`` rebuilds it)."""
        if ports:
            run_nft(ruleset.add_ports_script(ports, self.table), "publish ports")

    def remove_ports(self, ports: Sequence[PortMapping]) -> None:
        """Remove *ports* from the table's maps. Raises Unavailable when nftables refuses."""
        if ports:
            run_nft(ruleset.delete_ports_script(ports, self.table), "withdraw ports")

    def open_forwarding(self) -> None:
        """Add the FORWARD accept rules if the iptables FORWARD policy is DROP (idempotent).

        Raises Unavailable when iptables refuses a rule.
        """
        if not _forward_policy_drops():
            return
        for match in _RULES:
            check = _iptables("-C", "FORWARD", *_rule(match))
            if check is not None and check.returncode == 0:
                continue
            added = _iptables("-I", "FORWARD", "1", *_rule(match))
            if added is None or added.returncode != 0:
                reason = added.stderr.strip() if added is not None else "iptables not found"
                raise errors.Unavailable(f"cannot open forwarding for Dockyard: {reason}")

    def close_forwarding(self) -> None:
        """Remove every FORWARD rule Dockyard added (when the last network goes)."""
        if not iptables_forward_rules():
            return
        for match in _RULES:
            for _ in range(16):
                gone = _iptables("-D", "FORWARD", *_rule(match))
                if gone is None or gone.returncode != 0:
                    break
