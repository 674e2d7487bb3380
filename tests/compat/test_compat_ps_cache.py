"""``docker ps`` through the daemon, which remembers what it read for the last listing, right
after the ``dockyard`` CLI changed containers behind its back and a shim recorded an exit.
Runs real containers: root."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from compat_daemon import Daemon

from dockyard.service.containers.state import RACY_NS

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="running containers needs root")


def _ps(daemon: Daemon) -> dict[str, tuple[str, str]]:
    return {p["Names"]: (p["State"], p["Status"]) for p in daemon.docker_json("ps", "-a")}


def test_ps_sees_cli_changes_and_exits_at_once(daemon: Daemon, busybox_tar: Path) -> None:
    daemon.docker("import", "--change", 'CMD ["sh"]', str(busybox_tar), "bb:1")
    daemon.docker("run", "-d", "--name", "runner", "bb:1", "sleep", "100")
    daemon.docker("create", "--name", "idle", "bb:1", "true")
    daemon.docker("create", "--name", "doomed", "bb:1", "true")
    time.sleep(RACY_NS / 1e9 + 0.2)  # old enough for the daemon to keep what it reads
    before = _ps(daemon)
    assert before["runner"][0] == "running" and before["idle"][0] == "created"
    assert _ps(daemon) == before  # now from what the daemon kept
    daemon.dockyard("kill", "runner")  # the shim records the exit (state.json, exit.json)
    assert daemon.dockyard("wait", "runner").stdout.strip() == "137"
    daemon.dockyard("rename", "idle", "renamed")
    daemon.dockyard("rm", "doomed")
    after = _ps(daemon)
    assert sorted(after) == ["renamed", "runner"]
    assert after["runner"][0] == "exited" and after["runner"][1].startswith("Exited (137)")
    assert after["renamed"] == ("created", "Created")
    assert daemon.docker("ps", "-q").stdout.strip() == ""
