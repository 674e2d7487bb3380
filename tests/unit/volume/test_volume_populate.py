"""Filling an empty volume from the image: what is copied, and when it is not."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from dockyard.volume import populate, source_in_rootfs


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    src = tmp_path / "rootfs" / "var" / "lib" / "app"
    (src / "sub").mkdir(parents=True)
    (src / "data.txt").write_text("hello")
    os.chmod(src / "data.txt", 0o640)
    os.link(src / "data.txt", src / "sub" / "hard.txt")
    (src / "abs-link").symlink_to("/etc/passwd")
    (src / "sub" / "exe").write_bytes(b"#!/bin/sh\n")
    os.chmod(src / "sub" / "exe", 0o4755)
    os.mkfifo(src / "fifo")
    os.utime(src / "data.txt", (1_600_000_000, 1_600_000_000))
    os.chmod(src, 0o750)
    return src


def _volume(tmp_path: Path) -> Path:
    data = tmp_path / "volumes" / "v1" / "_data"
    data.mkdir(parents=True)
    return data


def test_copies_contents_modes_links_and_times(tmp_path: Path, image_dir: Path) -> None:
    vol = _volume(tmp_path)
    assert populate(vol, image_dir) is True
    assert (vol / "data.txt").read_text() == "hello"
    assert (vol / "data.txt").stat().st_mode & 0o7777 == 0o640
    assert (vol / "data.txt").stat().st_mtime == 1_600_000_000
    assert (vol / "sub" / "exe").stat().st_mode & 0o7777 == 0o4755
    assert os.readlink(vol / "abs-link") == "/etc/passwd"  # copied as a link, not followed
    assert (vol / "data.txt").stat().st_ino == (vol / "sub" / "hard.txt").stat().st_ino
    assert (vol / "fifo").is_fifo()
    assert vol.stat().st_mode & 0o777 == 0o750  # the root takes the image directory's mode
    st = (image_dir / "data.txt").stat()
    assert ((vol / "data.txt").stat().st_uid, (vol / "data.txt").stat().st_gid) == (st.st_uid, st.st_gid)


def test_extended_attributes_are_copied(tmp_path: Path, image_dir: Path) -> None:
    try:
        os.setxattr(image_dir / "data.txt", "user.origin", b"image")
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EPERM):
            pytest.skip("no user xattrs on this filesystem")
        raise
    vol = _volume(tmp_path)
    populate(vol, image_dir)
    assert os.getxattr(vol / "data.txt", "user.origin") == b"image"


def test_a_non_empty_volume_is_left_alone(tmp_path: Path, image_dir: Path) -> None:
    vol = _volume(tmp_path)
    (vol / "mine").write_text("keep")
    assert populate(vol, image_dir) is False
    assert sorted(os.listdir(vol)) == ["mine"]


def test_populated_once_even_when_emptied_later(tmp_path: Path, image_dir: Path) -> None:
    vol = _volume(tmp_path)
    assert populate(vol, image_dir)
    for entry in vol.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            import shutil

            shutil.rmtree(entry)
        else:
            entry.unlink()
    assert populate(vol, image_dir) is False
    assert list(vol.iterdir()) == []
    assert (vol.parent / "populated").exists()


def test_without_marker_an_emptied_volume_is_refilled(tmp_path: Path, image_dir: Path) -> None:
    vol = _volume(tmp_path)
    assert populate(vol, image_dir, mark=False)
    assert not (vol.parent / "populated").exists()


def test_nothing_in_the_image_means_nothing_copied_and_no_marker(tmp_path: Path) -> None:
    vol = _volume(tmp_path)
    assert populate(vol, None) is False
    assert not (vol.parent / "populated").exists()


def test_source_is_found_with_the_rootfs_as_root(tmp_path: Path, image_dir: Path) -> None:
    rootfs = tmp_path / "rootfs"
    (rootfs / "srv").symlink_to("/var/lib")  # absolute link: relative to the rootfs
    (rootfs / "up").symlink_to("../../../../..")  # cannot climb above the rootfs
    assert source_in_rootfs(rootfs, "/srv/app") == image_dir
    assert source_in_rootfs(rootfs, "/up/var/lib/app") == image_dir
    assert source_in_rootfs(rootfs, "/missing") is None
    assert source_in_rootfs(rootfs, "/var/lib/app/data.txt") is None  # not a directory
