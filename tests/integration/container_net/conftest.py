"""Containers on networks, for real: the CLI against a fresh data root with a busybox image,
host objects (nftables table, default bridge) named for this session so they never touch a
real Dockyard's. After each test every container, user network and the default bridge go."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cnet_support import BRIDGE, TABLE, Dockyard

from _helpers.images import busybox_rootfs, tar_dir

CGROUP_BASE = Path("/sys/fs/cgroup")


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = busybox_rootfs(tmp_path_factory.mktemp("netrootfs") / "rootfs")
    path = root.parent / "busybox.tar"
    path.write_bytes(tar_dir(root))
    return path


@pytest.fixture
def dy(data_root: Path, busybox_tar: Path) -> Iterator[Dockyard]:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    existed = set(CGROUP_BASE.glob("*/dockyard"))
    d = Dockyard(data_root)
    d.run("import", str(busybox_tar), "busybox")
    yield d
    ids = d.out("ps", "-aq", "--no-trunc").split()
    if ids:
        d.run("rm", "-f", *ids, check=False)
    _remove_networks(d)
    for parent in CGROUP_BASE.glob("*/dockyard"):
        if parent not in existed:
            try:
                parent.rmdir()
            except OSError:
                pass


def _remove_networks(d: Dockyard) -> None:
    import signal

    from dockyard.service.engine import Engine
    from dockyard.service.settings import Settings

    old = {k: os.environ.get(k) for k in ("DOCKYARD_NFT_TABLE", "DOCKYARD_DEFAULT_BRIDGE")}
    os.environ.update({"DOCKYARD_NFT_TABLE": TABLE, "DOCKYARD_DEFAULT_BRIDGE": BRIDGE})
    try:
        engine = Engine(Settings.resolve(d.root))
        manager = engine.networks.manager
        for net in manager.list_networks():
            if not net.default:
                manager.remove_network(net.id)
        manager.prune_default()
        deadline = time.monotonic() + 5
        while engine.networks.dns_helper_pid() and time.monotonic() < deadline:
            time.sleep(0.05)
        pid = engine.networks.dns_helper_pid()
        if pid:
            os.kill(pid, signal.SIGTERM)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
