"""``docker volume`` through the daemon, compared with ``dockyard volume``."""

from __future__ import annotations

import json

from compat_daemon import Daemon


def test_volume_create_ls_inspect_rm_prune(daemon: Daemon) -> None:
    assert daemon.docker("volume", "create", "--label", "app=web", "data").stdout.strip() == "data"
    daemon.dockyard("volume", "create", "made-by-dockyard")
    by_docker = daemon.docker("volume", "ls", "-q").stdout.split()
    by_dockyard = daemon.dockyard("volume", "ls", "-q").stdout.split()
    assert sorted(by_docker) == sorted(by_dockyard) == ["data", "made-by-dockyard"]
    assert daemon.docker("volume", "ls", "-q", "--filter", "label=app=web").stdout.split() == ["data"]
    docker_doc = json.loads(daemon.docker("volume", "inspect", "data").stdout)[0]
    dockyard_doc = json.loads(daemon.dockyard("volume", "inspect", "data").stdout)[0]
    assert docker_doc == dockyard_doc
    assert docker_doc["Mountpoint"] == f"{daemon.root}/volumes/data/_data"
    assert daemon.docker("volume", "rm", "data").stdout.strip() == "data"
    missing = daemon.docker("volume", "rm", "data", check=False)
    assert missing.returncode == 1 and "no such volume" in missing.stderr
    pruned = daemon.docker("volume", "prune", "-af").stdout
    assert "made-by-dockyard" in pruned
    assert daemon.dockyard("volume", "ls", "-q").stdout.split() == []
