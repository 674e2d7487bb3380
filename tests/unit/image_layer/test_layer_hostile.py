"""Hostile layer tarballs: each is refused with a message naming the entry, and nothing is
written outside the destination directory."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

import pytest
from layer_tars import build_tar, entry

from dockyard import errors
from dockyard.image.layer import apply_layer


@pytest.fixture
def box(tmp_path: Path) -> tuple[Path, Path]:
    """``(dest, outside)``: an empty destination and a sibling directory holding a secret."""
    dest = tmp_path / "dest"
    outside = tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    (outside / "secret").write_text("keep me")
    return dest, outside


def _snapshot(path: Path) -> dict[str, bytes | str]:
    found: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, path)
            if os.path.islink(full):
                found[rel] = "-> " + os.readlink(full)
            elif os.path.isfile(full):
                with open(full, "rb") as f:
                    found[rel] = f.read()
            else:
                found[rel] = "dir"
    return found


def _refused(data: bytes, dest: Path, outside: Path, needle: str) -> str:
    before = _snapshot(outside.parent / "outside")
    with pytest.raises(errors.InvalidArgument) as info:
        apply_layer(io.BytesIO(data), dest)
    assert needle in str(info.value)
    assert _snapshot(outside) == before, "the layer wrote outside its destination"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["dest", "outside"]
    return str(info.value)


def test_dotdot_traversal_is_refused(box: tuple[Path, Path]) -> None:
    dest, outside = box
    msg = _refused(
        build_tar([entry("../outside/secret", data=b"pwned")]), dest, outside, "../outside/secret"
    )
    assert "'..'" in msg


def test_dotdot_in_the_middle_is_refused(box: tuple[Path, Path]) -> None:
    dest, outside = box
    data = build_tar([entry("a/", tarfile.DIRTYPE), entry("a/../../outside/x", data=b"x")])
    _refused(data, dest, outside, "a/../../outside/x")
    assert not (outside / "x").exists()


def test_absolute_name_is_refused(box: tuple[Path, Path]) -> None:
    dest, outside = box
    target = f"{outside}/planted"
    msg = _refused(build_tar([entry(target, data=b"x")]), dest, outside, target)
    assert "absolute" in msg
    assert not (outside / "planted").exists()


def test_write_through_symlink_to_root_is_refused(box: tuple[Path, Path]) -> None:
    dest, outside = box
    # evil -> / then evil/<outside>/planted: followed, it would land in outside/planted.
    name = "evil" + str(outside) + "/planted"
    data = build_tar([entry("evil", tarfile.SYMTYPE, linkname="/"), entry(name, data=b"x")])
    msg = _refused(data, dest, outside, name)
    assert "symbolic link" in msg
    assert not (outside / "planted").exists()


def test_write_through_relative_escaping_symlink_is_refused(box: tuple[Path, Path]) -> None:
    dest, outside = box
    data = build_tar(
        [
            entry("up", tarfile.SYMTYPE, linkname="../../.."),
            entry("up" + str(outside) + "/secret", data=b"overwritten"),
        ]
    )
    _refused(data, dest, outside, "symbolic link")
    assert (outside / "secret").read_text() == "keep me"


def test_write_through_symlink_inside_the_layer_is_refused_too(box: tuple[Path, Path]) -> None:
    dest, outside = box
    data = build_tar(
        [
            entry("real/", tarfile.DIRTYPE),
            entry("alias", tarfile.SYMTYPE, linkname="real"),
            entry("alias/file", data=b"x"),
        ]
    )
    _refused(data, dest, outside, "'alias' is a symbolic link")


def test_hard_link_to_absolute_path_is_refused(box: tuple[Path, Path]) -> None:
    dest, outside = box
    data = build_tar([entry("passwd", tarfile.LNKTYPE, linkname="/etc/passwd")])
    msg = _refused(data, dest, outside, "'passwd'")
    assert "/etc/passwd" in msg
    assert not (dest / "passwd").exists()


def test_hard_link_escaping_with_dotdot_is_refused(box: tuple[Path, Path]) -> None:
    dest, outside = box
    data = build_tar([entry("s", tarfile.LNKTYPE, linkname="../outside/secret")])
    _refused(data, dest, outside, "hard link target")
    assert os.stat(outside / "secret").st_nlink == 1


def test_hard_link_through_symlink_is_refused(box: tuple[Path, Path]) -> None:
    dest, outside = box
    data = build_tar(
        [
            entry("evil", tarfile.SYMTYPE, linkname=str(outside)),
            entry("s", tarfile.LNKTYPE, linkname="evil/secret"),
        ]
    )
    _refused(data, dest, outside, "symbolic link")
    assert os.stat(outside / "secret").st_nlink == 1


def test_hard_link_to_missing_target_is_refused(box: tuple[Path, Path]) -> None:
    dest, outside = box
    data = build_tar([entry("h", tarfile.LNKTYPE, linkname="nowhere/file")])
    _refused(data, dest, outside, "'h'")
    data = build_tar([entry("d/", tarfile.DIRTYPE), entry("h", tarfile.LNKTYPE, linkname="d/file")])
    msg = _refused(data, dest, outside, "is missing")
    assert "d/file" in msg


def test_hard_link_to_directory_is_refused(box: tuple[Path, Path]) -> None:
    dest, outside = box
    data = build_tar([entry("d/", tarfile.DIRTYPE), entry("h", tarfile.LNKTYPE, linkname="d")])
    _refused(data, dest, outside, "is a directory")


def test_hostile_gzip_layer_is_refused_as_well(box: tuple[Path, Path]) -> None:
    dest, outside = box
    _refused(gzip.compress(build_tar([entry("../escape", data=b"x")])), dest, outside, "../escape")


def test_entry_replacing_a_planted_symlink_does_not_follow_it(box: tuple[Path, Path]) -> None:
    dest, outside = box
    data = build_tar(
        [
            entry("f", tarfile.SYMTYPE, linkname=str(outside / "secret")),
            entry("f", data=b"layer content"),
            entry("d", tarfile.SYMTYPE, linkname=str(outside)),
            entry("d/", tarfile.DIRTYPE),
            entry("d/new", data=b"inside"),
        ]
    )
    apply_layer(io.BytesIO(data), dest)
    assert (outside / "secret").read_text() == "keep me"
    assert not (outside / "new").exists()
    assert (dest / "f").read_bytes() == b"layer content" and not (dest / "f").is_symlink()
    assert (dest / "d" / "new").read_bytes() == b"inside" and not (dest / "d").is_symlink()


def test_garbage_is_not_a_layer(tmp_path: Path) -> None:
    with pytest.raises(errors.InvalidArgument, match="not a valid tar"):
        apply_layer(io.BytesIO(b"this is not a tar archive" * 40), tmp_path)


def test_truncated_gzip_layer_is_refused(tmp_path: Path) -> None:
    blob = gzip.compress(build_tar([entry("big", data=os.urandom(200_000))]))
    with pytest.raises(errors.InvalidArgument):
        apply_layer(io.BytesIO(blob[: len(blob) // 2]), tmp_path)
