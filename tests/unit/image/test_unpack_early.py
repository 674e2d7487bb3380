"""Layers applied as soon as their blobs are stored (``Unpacker.early``), then taken in chain
order by ``unpack``: the snapshots end up as a plain unpack makes them, and a failure at any
point leaves no snapshot behind. Real content store and overlay snapshotter, no mounts, no
root needed."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from _helpers.images import layer_tar
from dockyard import errors
from dockyard.content.store import ContentStore
from dockyard.image import unpack
from dockyard.image.unpack import LayerBlob, Unpacker
from dockyard.metadata.db import Database
from dockyard.oci.digest import chain_ids
from dockyard.snapshot.overlay import OverlaySnapshotter
from dockyard.snapshot.protocol import Kind


class Stack:
    def __init__(self, tmp_path: Path, n: int = 3) -> None:
        self.content = ContentStore(tmp_path / "content")
        self.snapshotter = OverlaySnapshotter(tmp_path / "root", Database(tmp_path / "meta.db"))
        self.locks = tmp_path / "locks"
        self.tars = [layer_tar([(f"f{i}", f"layer {i}".encode() * 100)]) for i in range(n)]
        self.digests = [self.content.put_bytes(t) for t in self.tars]
        self.blobs = [LayerBlob(d, "") for d in self.digests]
        self.diff_ids = list(self.digests)  # uncompressed: the blob digest is the diff id
        self.chain = chain_ids(self.diff_ids)

    def unpacker(self) -> Unpacker:
        return Unpacker(self.content, self.snapshotter, self.locks)

    def snapshots(self) -> list[tuple[str, str | None, Kind]]:
        return [(i.name, i.parent, i.kind) for i in self.snapshotter.walk()]


@pytest.fixture(autouse=True)
def _early_for_small_blobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unpack, "_EARLY_MIN_BYTES", 0)


def test_early_layers_are_committed_in_chain_order(tmp_path: Path) -> None:
    s = Stack(tmp_path)
    with s.unpacker() as unpacker:
        for digest in reversed(s.digests):  # blobs land in any order
            unpacker.early(digest)
        assert all(kind is Kind.ACTIVE and parent is None for _, parent, kind in s.snapshots())
        sizes = unpacker.unpack(s.blobs, s.diff_ids)
    assert set(sizes) == set(s.chain)
    parents = [None, *s.chain[:-1]]
    assert sorted(s.snapshots()) == sorted(
        (c, p, Kind.COMMITTED) for c, p in zip(s.chain, parents, strict=True)
    )
    for i, name in enumerate(s.chain):
        assert (s.snapshotter.fs_dir(name) / f"f{i}").read_bytes() == f"layer {i}".encode() * 100


def test_some_layers_early_and_others_not(tmp_path: Path) -> None:
    s = Stack(tmp_path, 4)
    with s.unpacker() as unpacker:
        unpacker.early(s.digests[2])
        unpacker.early(s.digests[0])
        unpacker.unpack(s.blobs, s.diff_ids)
    assert {name for name, _, _ in s.snapshots()} == set(s.chain)
    assert s.snapshotter.stat(s.chain[3]).parent == s.chain[2]


def test_an_early_layer_no_image_takes_is_removed_on_close(tmp_path: Path) -> None:
    s = Stack(tmp_path)
    extra = s.content.put_bytes(layer_tar([("other", b"x")]))
    not_a_layer = s.content.put_bytes(b'{"a": "config"}')
    with s.unpacker() as unpacker:
        unpacker.early(extra)
        unpacker.early(not_a_layer)
        unpacker.early(s.digests[0])
        unpacker.unpack(s.blobs[:1], s.diff_ids[:1])
    assert s.snapshots() == [(s.chain[0], None, Kind.COMMITTED)]
    assert len(list((tmp_path / "root" / "snapshots").iterdir())) == 1


@pytest.mark.parametrize("wrong", [0, 1, 2])
def test_a_layer_with_the_wrong_diff_id_leaves_no_snapshot(tmp_path: Path, wrong: int) -> None:
    s = Stack(tmp_path)
    diff_ids = list(s.diff_ids)
    diff_ids[wrong] = "sha256:" + "0" * 64
    with s.unpacker() as unpacker:
        for digest in s.digests:
            unpacker.early(digest)
        with pytest.raises(errors.DigestMismatch, match="diff id"):
            unpacker.unpack(s.blobs, diff_ids)
    assert s.snapshots() == []
    assert list((tmp_path / "root" / "snapshots").iterdir()) == []


def test_a_hostile_early_layer_fails_its_image_and_leaves_nothing(tmp_path: Path) -> None:
    s = Stack(tmp_path)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("../escape")
        tar.addfile(info, io.BytesIO(b""))
    hostile = s.content.put_bytes(buf.getvalue())
    blobs = [s.blobs[0], LayerBlob(hostile, "")]
    with s.unpacker() as unpacker:
        unpacker.early(hostile)
        with pytest.raises(errors.InvalidArgument, match="escape"):
            unpacker.unpack(blobs, [s.diff_ids[0], hostile])
    assert s.snapshots() == []


def test_layers_already_unpacked_are_kept_and_early_duplicates_dropped(tmp_path: Path) -> None:
    s = Stack(tmp_path)
    with s.unpacker() as unpacker:
        unpacker.unpack(s.blobs[:2], s.diff_ids[:2])
    with s.unpacker() as unpacker:
        for digest in s.digests:
            unpacker.early(digest)
        sizes = unpacker.unpack(s.blobs, s.diff_ids)
    assert list(sizes) == [s.chain[2]]
    assert {name for name, _, _ in s.snapshots()} == set(s.chain)


def test_rebase_only_moves_an_active_snapshot_without_children(tmp_path: Path) -> None:
    sn = OverlaySnapshotter(tmp_path / "root", Database(tmp_path / "meta.db"))
    sn.prepare("base")
    sn.commit("BASE", "base")
    sn.prepare("layer")
    sn.rebase("layer", "BASE")
    assert sn.stat("layer").parent == "BASE"
    with pytest.raises(errors.FailedPrecondition):
        sn.rebase("BASE", None)  # committed
    sn.prepare("child", "layer")
    with pytest.raises(errors.FailedPrecondition):
        sn.rebase("layer", None)  # has a child
    with pytest.raises(errors.FailedPrecondition):
        sn.rebase("child", "child")
    with pytest.raises(errors.NotFound):
        sn.rebase("child", "nope")
    sn.rebase("child", None)
    assert sn.stat("child").parent is None


def test_a_snapshot_directory_a_crash_left_half_made_is_cleaned_up(tmp_path: Path) -> None:
    sn = OverlaySnapshotter(tmp_path / "root", Database(tmp_path / "meta.db"))
    sn.prepare("kept")
    half = tmp_path / "root" / "snapshots" / "new-7-0123abcd"
    (half / "fs").mkdir(parents=True)
    sn.cleanup()
    assert sorted(p.name for p in (tmp_path / "root" / "snapshots").iterdir()) == ["1"]
    assert sn.fs_dir("kept").is_dir()
