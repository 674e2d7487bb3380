"""The conformance suite every Snapshotter implementation runs, with real mounts (root).

Subclass :class:`SnapshotterConformance` in a ``Test…`` class and provide two fixtures:
``snapshotter`` (a fresh implementation under ``data_root``) and ``mount_dir`` (where the
tests mount things). Only the protocol, ``dockyard.mount`` and the layer tools are used, so a
second implementation runs the very same tests.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import tarfile
from pathlib import Path

import pytest
from layer_tars import build_tar, entry, opaque, whiteout

from dockyard import errors
from dockyard._sys import mountapi
from dockyard.image.diff import write_layer_from_upper
from dockyard.image.layer import apply_layer
from dockyard.mount import active_mounts, mounted
from dockyard.snapshot.protocol import Kind, Snapshotter


def _listing(root: Path) -> dict[str, str]:
    """Relative path → file content (or ``<dir>``), the way a container sees the tree."""
    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            found[os.path.relpath(os.path.join(dirpath, name), root)] = "<dir>"
        for name in filenames:
            path = os.path.join(dirpath, name)
            with open(path) as f:
                found[os.path.relpath(path, root)] = f.read()
    return found


LAYER1 = [
    entry("etc/", tarfile.DIRTYPE),
    entry("etc/passwd", data=b"root"),
    entry("etc/motd", data=b"hello"),
    entry("var/cache/", tarfile.DIRTYPE),
    entry("var/cache/a", data=b"a"),
    entry("var/cache/b", data=b"b"),
    entry("keep", data=b"k"),
]
LAYER2 = [entry("etc/", tarfile.DIRTYPE), whiteout("etc/motd"), entry("etc/hostname", data=b"box")]
LAYER3 = [
    entry("var/cache/", tarfile.DIRTYPE),
    opaque("var/cache"),
    entry("var/cache/c", data=b"c"),
]


class SnapshotterConformance:
    """Behaviour every snapshotter must show; see ``snapshot/protocol.py``."""

    def add_layer(self, sn: Snapshotter, name: str, parent: str | None, tar: bytes) -> None:
        key = f"extract-{name}"
        sn.prepare(key, parent)
        apply_layer(io.BytesIO(tar), sn.fs_dir(key))
        sn.commit(name, key)

    def chain(self, sn: Snapshotter) -> None:
        self.add_layer(sn, "L1", None, build_tar(LAYER1))
        self.add_layer(sn, "L2", "L1", build_tar(LAYER2))
        self.add_layer(sn, "L3", "L2", build_tar(LAYER3))

    def test_active_without_parent_is_writable(
        self, snapshotter: Snapshotter, mount_dir: Path
    ) -> None:
        mounts = snapshotter.prepare("rw")
        with mounted(mounts, mount_dir) as root:
            (root / "written").write_text("through the mount")
        assert (snapshotter.upper_dir("rw") / "written").read_text() == "through the mount"
        assert active_mounts(mount_dir) == []

    def test_union_of_three_layers_applies_deletions_and_opaque_dirs(
        self, snapshotter: Snapshotter, mount_dir: Path
    ) -> None:
        self.chain(snapshotter)
        with mounted(snapshotter.view("top", "L3"), mount_dir) as root:
            assert _listing(root) == {
                "etc": "<dir>",
                "etc/passwd": "root",
                "etc/hostname": "box",
                "var": "<dir>",
                "var/cache": "<dir>",
                "var/cache/c": "c",
                "keep": "k",
            }
            with pytest.raises(OSError) as info:
                (root / "new").write_text("x")
            assert info.value.errno == errno.EROFS
        with mounted(snapshotter.view("middle", "L2"), mount_dir) as root:
            assert sorted(os.listdir(root / "var/cache")) == ["a", "b"]
            assert not (root / "etc/motd").exists()
        with mounted(snapshotter.view("bottom", "L1"), mount_dir) as root:
            assert (root / "etc/motd").read_text() == "hello"
            with pytest.raises(OSError):
                (root / "etc/motd").write_text("changed")
        assert active_mounts(mount_dir) == []

    def test_container_changes_become_a_layer(
        self, snapshotter: Snapshotter, mount_dir: Path
    ) -> None:
        self.chain(snapshotter)
        with mounted(snapshotter.prepare("container", "L3"), mount_dir) as root:
            (root / "etc/passwd").unlink()
            (root / "etc/hostname").write_text("renamed")
            for child in (root / "var/cache").iterdir():
                child.unlink()
            (root / "var/cache").rmdir()
            (root / "var/cache").mkdir()
            (root / "var/cache/fresh").write_text("f")
            expected = _listing(root)
        buf = io.BytesIO()
        write_layer_from_upper(snapshotter.upper_dir("container"), buf)
        with tarfile.open(fileobj=io.BytesIO(buf.getvalue())) as tar:
            names = set(tar.getnames())
        assert {
            "etc/.wh.passwd",
            "etc/hostname",
            "var/cache/.wh..wh..opq",
            "var/cache/fresh",
        } <= names
        # The diff, applied as a new layer on the same parent, shows what the container saw.
        self.add_layer(snapshotter, "L4", "L3", buf.getvalue())
        with mounted(snapshotter.view("check", "L4"), mount_dir) as root:
            assert _listing(root) == expected

    def test_deep_chain_mounts(self, snapshotter: Snapshotter, mount_dir: Path) -> None:
        parent = None
        keys = [f"extract-{i}" for i in range(150)]
        for key in keys:  # prepared on active parents, as a batch unpack does
            snapshotter.prepare(key, parent)
            (snapshotter.fs_dir(key) / f"f{keys.index(key):03}").write_text(key)
            parent = key
        for i, key in enumerate(keys):
            snapshotter.commit(f"layer-{i}", key)
        with mounted(snapshotter.view("deep-view", "layer-149"), mount_dir) as root:
            assert sorted(os.listdir(root)) == [f"f{i:03}" for i in range(150)]
        with mounted(snapshotter.prepare("deep-rw", "layer-149"), mount_dir) as root:
            (root / "f000").write_text("changed on top")
            assert (root / "f149").read_text() == "extract-149"
        assert (snapshotter.upper_dir("deep-rw") / "f000").read_text() == "changed on top"

    def test_remove_deletes_and_refuses_what_is_in_use(
        self, snapshotter: Snapshotter, mount_dir: Path
    ) -> None:
        self.add_layer(snapshotter, "base", None, build_tar(LAYER1))
        snapshotter.prepare("work", "base")
        with pytest.raises(errors.Conflict):
            snapshotter.remove("base")
        upper = snapshotter.upper_dir("work")
        (upper / "sub").mkdir()
        mountapi.mount("tmpfs", upper / "sub", "tmpfs", 0, "size=1m")
        try:
            (upper / "sub" / "precious").write_text("on the tmpfs")
            with pytest.raises(errors.Conflict, match="mounted"):
                snapshotter.remove("work")
            assert (upper / "sub" / "precious").read_text() == "on the tmpfs"
        finally:
            mountapi.umount(upper / "sub")
        snapshotter.remove("work")
        assert not upper.exists()
        snapshotter.remove("base")
        assert [i.name for i in snapshotter.walk()] == []

    def test_device_nodes_survive_in_a_layer(
        self, snapshotter: Snapshotter, mount_dir: Path
    ) -> None:
        tar = build_tar([entry("dev/null", tarfile.CHRTYPE, mode=0o666, dev=(1, 3))])
        self.add_layer(snapshotter, "devs", None, tar)
        with mounted(snapshotter.prepare("c", "devs"), mount_dir) as root:
            st = os.lstat(root / "dev/null")
            assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)

    def test_stat_and_usage(self, snapshotter: Snapshotter) -> None:
        self.add_layer(snapshotter, "one", None, build_tar([entry("f", data=b"x" * 10_000)]))
        info = snapshotter.stat("one")
        assert (info.kind, info.name, info.parent) == (Kind.COMMITTED, "one", None)
        usage = snapshotter.usage("one")
        assert usage.inodes == 1 and usage.size >= 10_000
        with pytest.raises(errors.NotFound):
            snapshotter.stat("two")
