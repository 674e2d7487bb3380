"""The overlay snapshotter against the conformance suite, plus what is particular to it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from snapshotter_conformance import SnapshotterConformance

from dockyard.metadata.db import Database
from dockyard.mount import active_mounts, mounted
from dockyard.snapshot.overlay import OverlaySnapshotter

pytestmark = pytest.mark.root


@pytest.fixture
def overlay(data_root: Path) -> OverlaySnapshotter:
    return OverlaySnapshotter(data_root / "snapshots", Database(data_root / "meta.db"))


@pytest.fixture
def mount_dir(data_root: Path) -> Path:
    return data_root / "mnt"


class TestOverlaySnapshotter(SnapshotterConformance):
    @pytest.fixture
    def snapshotter(self, overlay: OverlaySnapshotter) -> OverlaySnapshotter:
        return overlay


def test_remove_clears_immutable_and_append_only_files(overlay: OverlaySnapshotter) -> None:
    overlay.prepare("c")
    upper = overlay.upper_dir("c")
    (upper / "locked").write_text("x")
    (upper / "dir").mkdir()
    (upper / "dir" / "log").write_text("y")
    subprocess.run(["chattr", "+i", str(upper / "locked")], check=True)
    subprocess.run(["chattr", "+a", str(upper / "dir" / "log")], check=True)
    subprocess.run(["chattr", "+i", str(upper / "dir")], check=True)
    overlay.remove("c")
    assert not upper.exists()


def test_long_overlay_options_use_descriptor_paths(
    overlay: OverlaySnapshotter, data_root: Path
) -> None:
    parent = None
    for i in range(60):
        overlay.prepare(f"k{i}", parent)
        (overlay.fs_dir(f"k{i}") / f"f{i}").write_text("x")
        overlay.commit(f"n{i}", f"k{i}")
        parent = f"n{i}"
    mounts = overlay.view("v", parent)
    assert len(",".join(mounts[0].options)) > 4000
    with mounted(mounts, data_root / "mnt") as root:
        assert len(list(root.iterdir())) == 60
    assert active_mounts(data_root) == []
