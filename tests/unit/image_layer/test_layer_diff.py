"""Making layer tars from upper dirs and trees: round trips, determinism, whiteouts back."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest
from layer_tars import build_tar, entry, opaque, whiteout

from dockyard import errors
from dockyard.image.diff import write_layer_from_upper, write_tree
from dockyard.image.layer import apply_layer

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (mknod, trusted xattrs)")


def _members(data: bytes) -> list[tuple[str, bytes, int, int, int, str, bytes]]:
    """(name, type, mode, uid, mtime, linkname, content) of every member, in order."""
    out = []
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for m in tar:
            f = tar.extractfile(m) if m.isreg() else None
            out.append(
                (
                    m.name.rstrip("/"),
                    m.type,
                    m.mode,
                    m.uid,
                    int(m.mtime),
                    m.linkname,
                    f.read() if f else b"",
                )
            )
    return out


def _tar_of_upper(upper: Path) -> tuple[str, bytes]:
    buf = io.BytesIO()
    digest = write_layer_from_upper(upper, buf)
    return digest, buf.getvalue()


# Owned by whoever runs the tests: without root, ownership cannot be applied.
ME = {"uid": os.getuid(), "gid": os.getgid()}
LAYER = [
    entry("bin/", tarfile.DIRTYPE, **ME),
    entry("bin/busybox", data=b"\x7fELF" * 100, mode=0o755, **ME),
    entry("bin/ls", tarfile.LNKTYPE, linkname="bin/busybox", mode=0o755, **ME),
    entry("bin/sh", tarfile.SYMTYPE, linkname="busybox", **ME),
    entry("etc/", tarfile.DIRTYPE, mode=0o750, **ME),
    entry("etc/passwd", data=b"root:x:0:0::/root:/bin/sh\n", mode=0o644, **ME),
    entry("tmp/", tarfile.DIRTYPE, mode=0o1777, **ME),
    entry("usr/bin/su", data=b"su", mode=0o4755, **ME),
]


def test_apply_then_diff_gives_an_equivalent_tar(tmp_path: Path) -> None:
    original = build_tar(LAYER)
    apply_layer(io.BytesIO(original), tmp_path)
    _digest, rebuilt = _tar_of_upper(tmp_path)
    want = {m[0]: m for m in _members(original)}
    got = {m[0]: m for m in _members(rebuilt)}
    # usr/bin/ had no entries of their own: they appear now, as Docker's diff shows them.
    assert set(got) == set(want) | {"usr", "usr/bin"}
    for name, member in want.items():
        assert got[name] == member, name


def test_the_same_tree_gives_the_same_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    apply_layer(io.BytesIO(build_tar(LAYER)), a)
    apply_layer(io.BytesIO(build_tar(list(reversed(LAYER[4:])) + LAYER[:4])), b)
    da, ta = _tar_of_upper(a)
    db, tb = _tar_of_upper(b)
    assert ta == tb and da == db
    (a / "etc/passwd").write_bytes(b"changed\n")
    assert _tar_of_upper(a)[0] != da


def test_diff_of_a_reapplied_diff_is_byte_identical(tmp_path: Path) -> None:
    (tmp_path / "1").mkdir()
    (tmp_path / "2").mkdir()
    apply_layer(io.BytesIO(build_tar(LAYER)), tmp_path / "1")
    digest, tar1 = _tar_of_upper(tmp_path / "1")
    applied = apply_layer(io.BytesIO(tar1), tmp_path / "2")
    assert applied.diff_id == digest
    assert _tar_of_upper(tmp_path / "2") == (digest, tar1)


def test_hard_links_stay_links_and_names_have_no_owner_strings(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"data")
    os.link(tmp_path / "f", tmp_path / "g")
    _, data = _tar_of_upper(tmp_path)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = {m.name: m for m in tar}
    assert members["f"].isreg() and members["g"].islnk() and members["g"].linkname == "f"
    assert all(m.uname == "" and m.gname == "" for m in members.values())


def test_write_tree_archives_a_whole_tree(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    apply_layer(io.BytesIO(build_tar(LAYER)), tree)
    out = io.BytesIO()
    digest = write_tree(tree, out)
    assert digest.startswith("sha256:")
    names = [m[0] for m in _members(out.getvalue())]
    assert names == sorted(names, key=lambda n: n.split("/"))
    assert "usr/bin/su" in names


def test_missing_directory_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(errors.NotFound):
        write_tree(tmp_path / "nope", io.BytesIO())


@root_only
def test_overlay_whiteouts_and_opaque_dirs_become_tar_whiteouts(tmp_path: Path) -> None:
    upper = tmp_path / "upper"
    upper.mkdir()
    (upper / "etc").mkdir()
    os.mknod(upper / "etc/motd", stat.S_IFCHR | 0o600, os.makedev(0, 0))
    (upper / "cache").mkdir()
    os.setxattr(upper / "cache", "trusted.overlay.opaque", b"y")
    (upper / "cache/new").write_bytes(b"n")
    _, data = _tar_of_upper(upper)
    names = [m[0] for m in _members(data)]
    assert names == ["cache", "cache/.wh..wh..opq", "cache/new", "etc", "etc/.wh.motd"]
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        cache = tar.getmember("cache")
    assert not any(k.startswith("SCHILY.xattr.trusted.overlay") for k in cache.pax_headers)
    # And back: applying that tar recreates the overlay form.
    again = tmp_path / "again"
    again.mkdir()
    apply_layer(io.BytesIO(data), again)
    assert os.lstat(again / "etc/motd").st_rdev == 0
    assert os.getxattr(again / "cache", "trusted.overlay.opaque") == b"y"


@root_only
def test_write_tree_keeps_device_nodes_as_devices(tmp_path: Path) -> None:
    os.mknod(tmp_path / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    out = io.BytesIO()
    write_tree(tmp_path, out)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        null = tar.getmember("null")
    assert null.ischr() and (null.devmajor, null.devminor) == (1, 3)


def test_round_trip_with_whiteouts_in_the_tar(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("whiteouts need root")
    original = build_tar([entry("a/", tarfile.DIRTYPE), whiteout("a/gone"), opaque("a")])
    apply_layer(io.BytesIO(original), tmp_path)
    _, data = _tar_of_upper(tmp_path)
    assert [m[0] for m in _members(data)] == ["a", "a/.wh..wh..opq", "a/.wh.gone"]
