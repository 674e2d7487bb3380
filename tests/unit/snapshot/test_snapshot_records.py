"""The overlay snapshotter's bookkeeping, without mounting: records, mounts as data, errors,
the batch-unpack rules, removal and crash cleanup. No root needed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dockyard import errors
from dockyard.metadata.db import Database
from dockyard.mount import Mount
from dockyard.snapshot.overlay import OverlaySnapshotter
from dockyard.snapshot.protocol import Kind


@pytest.fixture
def sn(tmp_path: Path) -> OverlaySnapshotter:
    return OverlaySnapshotter(tmp_path / "root", Database(tmp_path / "meta.db"))


def _options(mounts: list[Mount]) -> dict[str, str]:
    return dict(o.partition("=")[::2] for o in mounts[0].options)


def test_prepare_without_parent_is_a_writable_bind_of_its_dir(sn: OverlaySnapshotter) -> None:
    mounts = sn.prepare("k")
    assert mounts == [Mount("bind", str(sn.fs_dir("k")), ("rbind", "rw"))]
    assert sn.fs_dir("k").is_dir() and sn.upper_dir("k") == sn.fs_dir("k")
    assert sn.fs_dir("k").parent.parent == sn.root / "snapshots"
    assert sn.stat("k").kind is Kind.ACTIVE and sn.stat("k").parent is None


def test_prepare_on_a_chain_is_an_overlay_nearest_parent_first(sn: OverlaySnapshotter) -> None:
    sn.prepare("a")
    sn.commit("A", "a")
    sn.prepare("b", "A")
    sn.commit("B", "b")
    mounts = sn.prepare("c", "B", labels={"role": "container"})
    assert len(mounts) == 1 and mounts[0].type == "overlay"
    opts = _options(mounts)
    assert opts["lowerdir"] == f"{sn.fs_dir('B')}:{sn.fs_dir('A')}"
    assert opts["upperdir"] == str(sn.upper_dir("c"))
    assert Path(opts["workdir"]).is_dir()
    assert sn.mounts("c") == mounts
    info = sn.stat("c")
    assert (info.parent, dict(info.labels)) == ("B", {"role": "container"})


def test_views_are_read_only(sn: OverlaySnapshotter) -> None:
    sn.prepare("a")
    (sn.fs_dir("a") / "f").write_text("x")
    sn.commit("A", "a")
    one = sn.view("v1", "A")
    assert one == [Mount("bind", str(sn.fs_dir("A")), ("rbind", "ro"))]
    sn.prepare("b", "A")
    sn.commit("B", "b")
    two = sn.view("v2", "B")
    assert two[0].type == "overlay"
    assert "upperdir" not in _options(two)
    assert _options(two)["lowerdir"] == f"{sn.fs_dir('B')}:{sn.fs_dir('A')}"
    with pytest.raises(errors.FailedPrecondition):
        sn.commit("V", "v2")
    with pytest.raises(errors.FailedPrecondition):
        sn.upper_dir("v2")
    with pytest.raises(errors.FailedPrecondition):
        sn.prepare("child-of-view", "v2")


def test_commit_renames_the_key_and_keeps_the_directory(sn: OverlaySnapshotter) -> None:
    sn.prepare("k")
    (sn.fs_dir("k") / "file").write_bytes(b"12345")
    fs = sn.fs_dir("k")
    sn.commit("layer1", "k", labels={"diff": "sha256:x"})
    with pytest.raises(errors.NotFound):
        sn.stat("k")
    info = sn.stat("layer1")
    assert info.kind is Kind.COMMITTED and info.labels == {"diff": "sha256:x"}
    assert sn.fs_dir("layer1") == fs and (fs / "file").read_bytes() == b"12345"
    usage = sn.usage("layer1")
    assert usage.inodes == 1 and usage.size >= 5
    with pytest.raises(errors.FailedPrecondition):
        sn.mounts("layer1")
    with pytest.raises(errors.FailedPrecondition):
        sn.commit("again", "layer1")


def test_names_and_keys_are_unique(sn: OverlaySnapshotter) -> None:
    sn.prepare("k")
    with pytest.raises(errors.AlreadyExists):
        sn.prepare("k")
    sn.prepare("k2")
    with pytest.raises(errors.AlreadyExists):
        sn.commit("k", "k2")
    with pytest.raises(errors.NotFound):
        sn.prepare("x", "no-such-parent")
    with pytest.raises(errors.NotFound):
        sn.commit("n", "no-such-key")
    with pytest.raises(errors.InvalidArgument):
        sn.prepare("")


def test_batch_unpack_prepare_on_active_commit_in_order(sn: OverlaySnapshotter) -> None:
    keys = [f"extract-{i}" for i in range(3)]
    parent = None
    for key in keys:
        sn.prepare(key, parent)
        parent = key
    for i, key in enumerate(keys):
        (sn.fs_dir(key) / f"layer{i}").write_text(str(i))
    with pytest.raises(errors.FailedPrecondition, match="not committed"):
        sn.commit("chain-1", keys[1])
    for i, key in enumerate(keys):
        sn.commit(f"chain-{i}", key)
    assert sn.stat("chain-2").parent == "chain-1"
    assert sn.stat("chain-1").parent == "chain-0"
    top = sn.view("v", "chain-2")
    assert _options(top)["lowerdir"].split(":") == [str(sn.fs_dir(f"chain-{i}")) for i in (2, 1, 0)]


def test_remove_refuses_with_children_and_deletes_dirs(sn: OverlaySnapshotter) -> None:
    sn.prepare("a")
    sn.commit("A", "a")
    sn.prepare("b", "A")
    with pytest.raises(errors.Conflict, match="child"):
        sn.remove("A")
    b_dir = sn.fs_dir("b").parent
    sn.remove("b")
    assert not b_dir.exists()
    sn.remove("A")
    assert list(sn.walk()) == []
    assert os.listdir(sn.root / "snapshots") == []
    with pytest.raises(errors.NotFound):
        sn.remove("A")


def test_remove_copes_with_read_only_trees(sn: OverlaySnapshotter) -> None:
    sn.prepare("k")
    ro = sn.fs_dir("k") / "ro"
    ro.mkdir()
    (ro / "f").write_text("x")
    os.chmod(ro / "f", 0o400)
    os.chmod(ro, stat.S_IRUSR | stat.S_IXUSR)
    sn.remove("k")
    assert os.listdir(sn.root / "snapshots") == []


def test_walk_lists_everything_oldest_first(sn: OverlaySnapshotter) -> None:
    sn.prepare("a")
    sn.commit("A", "a")
    sn.prepare("b", "A")
    sn.view("v", "A")
    assert [(i.name, i.kind, i.parent) for i in sn.walk()] == [
        ("A", Kind.COMMITTED, None),
        ("b", Kind.ACTIVE, "A"),
        ("v", Kind.VIEW, "A"),
    ]


def test_records_survive_reopening(tmp_path: Path) -> None:
    first = OverlaySnapshotter(tmp_path / "root", Database(tmp_path / "meta.db"))
    first.prepare("a")
    first.commit("A", "a")
    again = OverlaySnapshotter(tmp_path / "root", Database(tmp_path / "meta.db"))
    assert again.stat("A").kind is Kind.COMMITTED
    assert again.fs_dir("A") == first.fs_dir("A")


def test_cleanup_removes_orphans_of_a_crash(sn: OverlaySnapshotter) -> None:
    sn.prepare("kept")
    base = sn.root / "snapshots"
    (base / "999" / "fs" / "junk").mkdir(parents=True)  # dir made, row never committed
    (base / "rm-7-deadbeef" / "fs").mkdir(parents=True)  # row deleted, dir removal interrupted
    sn.cleanup()
    assert sorted(os.listdir(base)) == [sn.fs_dir("kept").parent.name]
    assert sn.fs_dir("kept").is_dir()


def test_prepare_replaces_a_stale_dir_with_its_id(sn: OverlaySnapshotter) -> None:
    # A crashed transaction can leave <id>/ behind and SQLite hands the id out again.
    stale = sn.root / "snapshots" / "1" / "fs"
    stale.mkdir(parents=True)
    (stale / "left-over").write_text("old")
    sn.prepare("k")
    assert sn.fs_dir("k") == stale
    assert os.listdir(sn.fs_dir("k")) == []


def test_describe_gives_docker_graph_driver_data(sn: OverlaySnapshotter) -> None:
    sn.prepare("a")
    sn.commit("A", "a")
    assert "LowerDir" not in sn.describe("A")
    sn.prepare("b", "A")
    data = sn.describe("b")
    assert data["UpperDir"] == str(sn.upper_dir("b"))
    assert data["LowerDir"] == str(sn.fs_dir("A"))
    assert Path(data["WorkDir"]).is_dir()
    with pytest.raises(errors.NotFound):
        sn.describe("nope")
