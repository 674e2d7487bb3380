"""Resolving bind sources on the host: real paths, Docker's missing-source rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard import errors
from dockyard.volume import parse_mount, parse_volume, resolve_bind_source


def test_symlinks_in_the_source_are_resolved(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    (tmp_path / "hop").symlink_to("link")
    spec = parse_mount(f"type=bind,src={tmp_path}/hop,dst=/x")
    assert resolve_bind_source(spec) == str(real)


def test_mount_requires_an_existing_source(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(errors.InvalidArgument) as exc:
        resolve_bind_source(parse_mount(f"type=bind,src={missing},dst=/x"))
    assert str(exc.value) == (
        f'invalid mount config for type "bind": bind source path does not exist: {missing}'
    )
    assert not missing.exists()


def test_dangling_symlink_source_does_not_exist_for_mount(tmp_path: Path) -> None:
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    with pytest.raises(errors.InvalidArgument, match="bind source path does not exist"):
        resolve_bind_source(parse_mount(f"type=bind,src={tmp_path}/dangling,dst=/x"))


def test_v_creates_a_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "a" / "b"
    assert resolve_bind_source(parse_volume(f"{missing}:/x")) == str(missing)
    assert missing.is_dir()
    assert oct(missing.stat().st_mode & 0o777) == oct(0o755 & ~_umask())


def test_v_cannot_create_below_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(errors.InvalidArgument, match="error while creating mount source path"):
        resolve_bind_source(parse_volume(f"{tmp_path}/file/sub:/x"))


def test_a_file_can_be_bound(tmp_path: Path) -> None:
    f = tmp_path / "conf"
    f.write_text("x")
    assert resolve_bind_source(parse_mount(f"type=bind,src={f},dst=/etc/conf")) == str(f)


def test_only_binds_are_resolved() -> None:
    with pytest.raises(errors.InvalidArgument, match="not a bind mount"):
        resolve_bind_source(parse_volume("vol:/x"))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
