"""Mounts as data (``dockyard.mount``): option parsing and where runtime mounts land. No root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard import errors
from dockyard._sys import mountapi
from dockyard.mount import Mount, _plan, _resolve_target, _unescape


def test_mount_is_hashable_data() -> None:
    m = Mount("tmpfs", "tmpfs", ("nosuid", "size=64m"), "tmp")
    assert m == Mount("tmpfs", "tmpfs", ("nosuid", "size=64m"), "tmp")
    assert {m: 1}[m] == 1
    assert Mount("bind", "/x").target == ""


def test_options_split_into_flags_propagation_and_data() -> None:
    plan = _plan(["rbind", "ro", "nosuid", "rprivate", "mode=755", "size=1m"])
    assert plan.flags & mountapi.MS_RDONLY and plan.flags & mountapi.MS_NOSUID
    assert plan.flags & mountapi.MS_BIND and plan.flags & mountapi.MS_REC
    assert plan.propagation == mountapi.MS_PRIVATE | mountapi.MS_REC
    assert plan.data == ["mode=755", "size=1m"]
    assert not _plan(["ro", "rw"]).flags & mountapi.MS_RDONLY


def test_target_is_created_inside_the_root(tmp_path: Path) -> None:
    assert _resolve_target(tmp_path, "", None) == tmp_path
    got = _resolve_target(tmp_path, "/proc/sys", None)
    assert got == tmp_path / "proc/sys" and got.is_dir()


def test_target_symlinks_are_followed_as_if_root_were_slash(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    root = tmp_path / "rootfs"
    outside.mkdir()
    root.mkdir()
    os.symlink("/", root / "abs")
    os.symlink("../../..", root / "rel")
    os.symlink(str(outside), root / "host")
    assert _resolve_target(root, "abs/etc", None) == root / "etc"
    assert _resolve_target(root, "rel/var", None) == root / "var"
    assert _resolve_target(root, "../../x", None) == root / "x"
    assert _resolve_target(root, "host/y", None) == root / str(outside).lstrip("/") / "y"
    assert os.listdir(outside) == []


def test_symlink_loops_are_refused(tmp_path: Path) -> None:
    os.symlink("b", tmp_path / "a")
    os.symlink("a", tmp_path / "b")
    with pytest.raises(errors.InvalidArgument, match="symbolic links"):
        _resolve_target(tmp_path, "a/x", None)


def test_bind_of_a_file_gets_a_file_mount_point(tmp_path: Path) -> None:
    src = tmp_path / "resolv.conf"
    src.write_text("nameserver 127.0.0.1\n")
    root = tmp_path / "rootfs"
    root.mkdir()
    got = _resolve_target(root, "etc/resolv.conf", str(src))
    assert got.is_file() and got == root / "etc/resolv.conf"


def test_mountinfo_escapes_are_decoded() -> None:
    assert _unescape(rb"/tmp/a\040b\011c\134d") == "/tmp/a b\tc\\d"
