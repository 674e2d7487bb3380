"""Applying well-formed layers: what lands on disk, metadata, whiteouts, diff ids."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
from pathlib import Path

import pytest
import zstandard
from layer_tars import MTIME, build_tar, entry, opaque, whiteout

from dockyard import errors
from dockyard.image.compression import Compression
from dockyard.image.layer import apply_layer

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (mknod, trusted xattrs)")


def _apply(data: bytes, dest: Path):  # type: ignore[no-untyped-def]
    return apply_layer(io.BytesIO(data), dest)


def test_files_dirs_links_and_diff_id(tmp_path: Path) -> None:
    data = build_tar(
        [
            entry("./etc/", tarfile.DIRTYPE),
            entry("./etc/hostname", data=b"box\n"),
            entry("./etc/alias", tarfile.LNKTYPE, linkname="./etc/hostname"),
            entry("./bin/", tarfile.DIRTYPE),
            entry("./bin/sh", tarfile.SYMTYPE, linkname="/bin/busybox"),
            entry("./run/fifo", tarfile.FIFOTYPE, mode=0o600),
            entry("./empty", data=b""),
        ]
    )
    applied = _apply(data, tmp_path)
    assert applied.diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
    assert applied.tar_size == len(data)
    assert applied.size == 4
    assert applied.compression is Compression.NONE
    assert (tmp_path / "etc/hostname").read_bytes() == b"box\n"
    assert os.stat(tmp_path / "etc/alias").st_ino == os.stat(tmp_path / "etc/hostname").st_ino
    assert os.readlink(tmp_path / "bin/sh") == "/bin/busybox"
    assert stat.S_ISFIFO(os.lstat(tmp_path / "run/fifo").st_mode)
    assert (tmp_path / "empty").read_bytes() == b""


def test_modes_and_mtimes_are_preserved(tmp_path: Path) -> None:
    data = build_tar(
        [
            entry("tmp/", tarfile.DIRTYPE, mode=0o1777, mtime=1_500_000_000),
            entry("tmp/x", data=b"x", mtime=1_400_000_000),
            entry("usr/bin/su", data=b"#!", mode=0o4755),
            entry("usr/bin/wall", data=b"#!", mode=0o2755),
            entry("secret", data=b"s", mode=0o400),
            entry("lnk", tarfile.SYMTYPE, linkname="secret", mtime=1_300_000_000),
        ]
    )
    _apply(data, tmp_path)
    assert stat.S_IMODE(os.stat(tmp_path / "tmp").st_mode) == 0o1777
    # A directory's mtime survives the files written into it afterwards.
    assert os.stat(tmp_path / "tmp").st_mtime == 1_500_000_000
    assert os.stat(tmp_path / "tmp/x").st_mtime == 1_400_000_000
    assert stat.S_IMODE(os.stat(tmp_path / "usr/bin/su").st_mode) == 0o4755
    assert stat.S_IMODE(os.stat(tmp_path / "usr/bin/wall").st_mode) == 0o2755
    assert stat.S_IMODE(os.stat(tmp_path / "secret").st_mode) == 0o400
    assert os.lstat(tmp_path / "lnk").st_mtime == 1_300_000_000
    assert os.stat(tmp_path / "usr/bin/su").st_mtime == MTIME


def test_read_only_directories_still_receive_their_contents(tmp_path: Path) -> None:
    data = build_tar([entry("ro/", tarfile.DIRTYPE, mode=0o555), entry("ro/f", data=b"in")])
    _apply(data, tmp_path)
    assert (tmp_path / "ro/f").read_bytes() == b"in"
    assert stat.S_IMODE(os.stat(tmp_path / "ro").st_mode) == 0o555
    os.chmod(tmp_path / "ro", 0o755)


def test_user_xattrs_are_applied(tmp_path: Path) -> None:
    value = b"\x00\xffbinary"
    data = build_tar([entry("f", data=b"x", xattrs={"user.dockyard.test": value})])
    _apply(data, tmp_path)
    try:
        assert os.getxattr(tmp_path / "f", "user.dockyard.test") == value
    except OSError as exc:  # pragma: no cover - filesystem without user xattrs
        pytest.skip(f"no user xattrs here: {exc}")


def test_overlay_xattrs_in_the_tar_are_ignored(tmp_path: Path) -> None:
    data = build_tar([entry("d/", tarfile.DIRTYPE, xattrs={"trusted.overlay.opaque": b"y"})])
    _apply(data, tmp_path)
    with pytest.raises(OSError):
        os.getxattr(tmp_path / "d", "trusted.overlay.opaque")


@root_only
def test_ownership_is_applied_as_root(tmp_path: Path) -> None:
    data = build_tar(
        [
            entry("home/", tarfile.DIRTYPE, uid=1000, gid=1000),
            entry("home/f", data=b"x", uid=1234, gid=5678, mode=0o4750),
            entry("home/l", tarfile.SYMTYPE, linkname="f", uid=42, gid=43),
        ]
    )
    _apply(data, tmp_path)
    st = os.stat(tmp_path / "home/f")
    assert (st.st_uid, st.st_gid) == (1234, 5678)
    assert stat.S_IMODE(st.st_mode) == 0o4750, "chown must not clear setuid"
    assert os.lstat(tmp_path / "home/l").st_uid == 42
    assert os.stat(tmp_path / "home").st_uid == 1000


def test_later_entry_replaces_earlier_one(tmp_path: Path) -> None:
    data = build_tar(
        [
            entry("a", data=b"file first"),
            entry("a/", tarfile.DIRTYPE),
            entry("a/inner", data=b"now a dir"),
            entry("b/", tarfile.DIRTYPE),
            entry("b/old", data=b"x"),
            entry("b", data=b"dir replaced by file"),
            entry("c", data=b"file"),
            entry("c/under", data=b"parent was a file"),
            entry("d/", tarfile.DIRTYPE, mode=0o700),
            entry("d/keep", data=b"kept"),
            entry("d/", tarfile.DIRTYPE, mode=0o750),
        ]
    )
    _apply(data, tmp_path)
    assert (tmp_path / "a/inner").read_bytes() == b"now a dir"
    assert (tmp_path / "b").read_bytes() == b"dir replaced by file"
    assert (tmp_path / "c/under").read_bytes() == b"parent was a file"
    assert (tmp_path / "d/keep").read_bytes() == b"kept"
    assert stat.S_IMODE(os.stat(tmp_path / "d").st_mode) == 0o750


def test_missing_parent_directories_are_created(tmp_path: Path) -> None:
    _apply(build_tar([entry("deep/er/file", data=b"x")]), tmp_path)
    assert (tmp_path / "deep/er/file").read_bytes() == b"x"
    assert stat.S_IMODE(os.stat(tmp_path / "deep/er").st_mode) == 0o755


def test_root_entry_does_not_change_destination(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    _apply(build_tar([entry("./", tarfile.DIRTYPE, mode=0o700), entry("f", data=b"x")]), tmp_path)
    assert stat.S_IMODE(os.stat(tmp_path).st_mode) == 0o755


@pytest.mark.parametrize("compress", ["gzip", "zstd"])
def test_compressed_layers_give_the_plain_diff_id(tmp_path: Path, compress: str) -> None:
    data = build_tar([entry("d/", tarfile.DIRTYPE), entry("d/f", data=os.urandom(300_000))])
    blob = gzip.compress(data) if compress == "gzip" else zstandard.ZstdCompressor().compress(data)
    (tmp_path / "plain").mkdir()
    (tmp_path / "packed").mkdir()
    plain = _apply(data, tmp_path / "plain")
    packed = _apply(blob, tmp_path / "packed")
    assert packed.diff_id == plain.diff_id
    assert packed.compression.value == compress
    assert (tmp_path / "packed/d/f").read_bytes() == (tmp_path / "plain/d/f").read_bytes()


def test_trailing_padding_counts_in_the_diff_id(tmp_path: Path) -> None:
    data = build_tar([entry("f", data=b"x")]) + b"\0" * 10240
    assert _apply(data, tmp_path).diff_id == "sha256:" + hashlib.sha256(data).hexdigest()


def test_missing_destination_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(errors.NotFound):
        _apply(build_tar([entry("f")]), tmp_path / "nope")


@root_only
def test_whiteouts_become_overlay_whiteouts(tmp_path: Path) -> None:
    data = build_tar(
        [
            entry("etc/", tarfile.DIRTYPE),
            whiteout("etc/motd"),
            entry("var/cache/", tarfile.DIRTYPE),
            opaque("var/cache"),
            entry("var/cache/new", data=b"n"),
            entry("usr/.wh..wh.plnk", data=b""),
        ]
    )
    _apply(data, tmp_path)
    st = os.lstat(tmp_path / "etc/motd")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(0, 0)
    assert not (tmp_path / "etc/.wh.motd").exists()
    assert os.getxattr(tmp_path / "var/cache", "trusted.overlay.opaque") == b"y"
    assert not os.path.lexists(tmp_path / "var/cache/.wh..wh..opq")
    assert (tmp_path / "var/cache/new").read_bytes() == b"n"
    assert os.listdir(tmp_path / "usr") == []


@root_only
def test_device_nodes_are_created_as_root(tmp_path: Path) -> None:
    data = build_tar(
        [
            entry("dev/null", tarfile.CHRTYPE, mode=0o666, dev=(1, 3)),
            entry("dev/loop9", tarfile.BLKTYPE, mode=0o660, dev=(7, 9), gid=6),
        ]
    )
    _apply(data, tmp_path)
    null = os.lstat(tmp_path / "dev/null")
    assert stat.S_ISCHR(null.st_mode) and null.st_rdev == os.makedev(1, 3)
    assert stat.S_IMODE(null.st_mode) == 0o666
    loop = os.lstat(tmp_path / "dev/loop9")
    assert stat.S_ISBLK(loop.st_mode) and loop.st_rdev == os.makedev(7, 9) and loop.st_gid == 6


def test_invalid_whiteout_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(errors.InvalidArgument, match="whiteout"):
        _apply(build_tar([entry("d/.wh..")]), tmp_path)


def test_plain_extraction_keeps_whiteout_names_as_files(tmp_path: Path) -> None:
    data = build_tar([whiteout("etc/motd"), opaque("var")])
    apply_layer(io.BytesIO(data), tmp_path, convert_whiteouts=False)
    assert (tmp_path / "etc/.wh.motd").is_file()
    assert (tmp_path / "var/.wh..wh..opq").is_file()
    assert not os.path.lexists(tmp_path / "etc/motd")


def test_overlong_name_is_invalid_argument(tmp_path: Path) -> None:
    with pytest.raises(errors.InvalidArgument, match="x" * 20):
        _apply(build_tar([entry("x" * 300, data=b"x")]), tmp_path)


@pytest.mark.parametrize("blob", [b"\0" * 1024, b"", gzip.compress(b"\0" * 1024)])
def test_empty_layers_apply_to_nothing(tmp_path: Path, blob: bytes) -> None:
    applied = _apply(blob, tmp_path)
    assert (
        applied.diff_id
        == "sha256:"
        + hashlib.sha256(gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob).hexdigest()
    )
    assert applied.size == 0
    assert os.listdir(tmp_path) == []


def test_docker_empty_layer_has_the_well_known_diff_id(tmp_path: Path) -> None:
    applied = _apply(b"\0" * 1024, tmp_path)
    assert (
        applied.diff_id == "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
    )


def test_entries_after_a_replaced_directory_land_in_the_new_one(tmp_path: Path) -> None:
    data = build_tar(
        [
            entry("a/", tarfile.DIRTYPE),
            entry("a/b/", tarfile.DIRTYPE),
            entry("a/b/x", data=b"x"),
            entry("a", data=b"now a file"),
            entry("a/b/y", data=b"y"),
        ]
    )
    _apply(data, tmp_path)
    assert sorted(os.listdir(tmp_path / "a/b")) == ["y"]
