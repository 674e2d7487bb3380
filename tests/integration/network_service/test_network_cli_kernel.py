"""``dockyard network ...`` through the real command line, on the real host: bridges and the
nftables table come and go with the networks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from netsvc_support import TABLE

pytestmark = pytest.mark.root

DOCKYARD = str(Path(sys.executable).parent / "dockyard")


def test_network_lifecycle_through_the_cli(engine, host_names, netns) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, **host_names, "DOCKYARD_ROOT": str(engine.settings.root)}

    def dy(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        out = subprocess.run([DOCKYARD, *args], env=env, capture_output=True, text=True, timeout=60)
        if check:
            assert out.returncode == 0, out.stderr
        return out

    net_id = dy("network", "create", "--subnet", "10.123.45.0/24", "--gateway", "10.123.45.254",
                "--internal", "--label", "env=test", "backend").stdout.strip()  # fmt: skip
    dy("network", "create", "spare")
    doc = json.loads(dy("network", "inspect", "backend").stdout)[0]
    assert doc["Id"] == net_id and doc["Internal"] is True and doc["Labels"] == {"env": "test"}
    assert doc["IPAM"]["Config"] == [{"Subnet": "10.123.45.0/24", "Gateway": "10.123.45.254"}]
    bridge = f"dockyard-{net_id[:6]}"
    assert os.path.exists(f"/sys/class/net/{bridge}")
    table = subprocess.run(["nft", "list", "table", "ip", TABLE], capture_output=True, text=True)
    assert f'"{bridge}"' in table.stdout  # its isolation rules
    rows = [line.split() for line in dy("network", "ls").stdout.splitlines()]
    assert rows[0] == ["NETWORK", "ID", "NAME", "DRIVER", "SCOPE"]
    assert [r[1] for r in rows[1:]] == ["backend", "bridge", "host", "none", "spare"]
    # a connected container keeps its network from rm and prune
    engine.networks.connect("backend", "9" * 64, "db", netns())
    busy = dy("network", "rm", "backend", check=False)
    assert busy.returncode == 1 and "has active endpoints" in busy.stderr
    assert dy("network", "prune", "-f").stdout == "Deleted Networks:\nspare\n\n"
    assert os.path.exists(f"/sys/class/net/{bridge}")
    engine.networks.disconnect("backend", "9" * 64)
    assert dy("network", "rm", net_id[:12]).stdout == f"{net_id[:12]}\n"
    assert not os.path.exists(f"/sys/class/net/{bridge}")
    missing = dy("network", "inspect", "backend", check=False)
    assert missing.returncode == 1 and "No such network: backend" in missing.stderr
