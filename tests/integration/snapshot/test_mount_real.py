"""``dockyard.mount`` performing mounts for real (root): bind, read-only remount, tmpfs with
targets, nested unmounting, rollback on failure, and no leftovers."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from dockyard import errors
from dockyard.mount import Mount, active_mounts, mount_all, mounted, unmount_all

pytestmark = pytest.mark.root


def test_bind_ro_and_tmpfs_targets(data_root: Path) -> None:
    src = data_root / "src"
    src.mkdir()
    (src / "file").write_text("from the host")
    mounts = [
        Mount("tmpfs", "tmpfs", ("nosuid", "nodev", "size=4m", "mode=755")),
        Mount("bind", str(src), ("rbind", "ro"), target="data"),
        Mount("tmpfs", "tmpfs", ("size=1m",), target="/data2/../scratch"),
    ]
    with mounted(mounts, data_root / "mnt") as root:
        assert (root / "data/file").read_text() == "from the host"
        with pytest.raises(OSError) as info:
            (root / "data/new").write_text("x")
        assert info.value.errno == errno.EROFS
        (root / "scratch/ok").write_text("writable")
        assert len(active_mounts(root)) == 3
        mount_dir = root
    assert not mount_dir.exists()
    assert active_mounts(data_root) == []
    assert not (src / "new").exists()


def test_failed_mount_rolls_back_the_earlier_ones(data_root: Path) -> None:
    target = data_root / "t"
    target.mkdir()
    mounts = [
        Mount("tmpfs", "tmpfs", ("size=1m",)),
        Mount("no-such-filesystem-type", "none", (), target="x"),
    ]
    with pytest.raises(errors.DockyardError):
        mount_all(mounts, target)
    assert active_mounts(data_root) == []


def test_unmount_all_takes_nested_and_stacked_mounts(data_root: Path) -> None:
    target = data_root / "t"
    target.mkdir()
    mount_all([Mount("tmpfs", "tmpfs", ("size=1m",))], target)
    mount_all([Mount("tmpfs", "tmpfs", ("size=1m",), target="a/b")], target)
    mount_all([Mount("tmpfs", "tmpfs", ("size=1m",))], target)  # stacked on top
    busy = os.open(target, os.O_RDONLY | os.O_DIRECTORY)  # keeps the top one busy
    try:
        unmount_all(target)
    finally:
        os.close(busy)
    assert active_mounts(data_root) == []


def test_bind_of_a_file(data_root: Path) -> None:
    src = data_root / "hosts"
    src.write_text("127.0.0.1 localhost\n")
    base = data_root / "rootfs"
    base.mkdir()
    with mounted(
        [
            Mount("bind", str(base), ("rbind",)),
            Mount("bind", str(src), ("bind", "ro"), target="etc/hosts"),
        ],
        data_root / "mnt",
    ) as root:
        assert (root / "etc/hosts").read_text() == "127.0.0.1 localhost\n"
    assert active_mounts(data_root) == []
