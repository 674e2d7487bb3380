"""``RUN --mount=`` specs as BuildKit reads them."""

from __future__ import annotations

import pytest

from dockyard import errors
from dockyard.build.steps_run import parse_mount


def test_cache_mount_with_id_mode_and_owner() -> None:
    m = parse_mount("type=cache,target=/root/.cache,id=pip,mode=0700,uid=10,gid=20")
    assert (m.type, m.target, m.id, m.mode, m.uid, m.gid) == (
        "cache",
        "/root/.cache",
        "pip",
        0o700,
        10,
        20,
    )
    assert not m.readonly


def test_bind_mounts_are_read_only_unless_rw() -> None:
    assert parse_mount("type=bind,source=src,target=/src").readonly
    assert not parse_mount("type=bind,target=/src,rw").readonly
    assert parse_mount("target=/x,from=build,src=/out").from_ == "build"  # bind is the default


def test_secret_target_defaults_under_run_secrets() -> None:
    m = parse_mount("type=secret,id=npmrc,required")
    assert m.target == "/run/secrets/npmrc" and m.required


def test_tmpfs_size_units() -> None:
    assert parse_mount("type=tmpfs,target=/t,size=64m").size == 64 << 20


@pytest.mark.parametrize("spec", ["type=nfs,target=/x", "type=cache", "type=cache,target=/c,uid=x"])
def test_bad_specs_are_refused(spec: str) -> None:
    with pytest.raises(errors.InvalidArgument):
        parse_mount(spec)
