"""Fixtures of the container tool tests: the ``containers`` suite's CLI driver and busybox
image (reused, not copied), and a running container to work on."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from _helpers.containers import Dockyard
from integration.containers import conftest as _containers
from integration.containers.conftest import _make

busybox_tar = _containers.busybox_tar
_cgroup_parent = _containers._cgroup_parent


@pytest.fixture(params=["builtin", "runc"])
def dy(
    request: pytest.FixtureRequest, data_root: Path, busybox_tar: Path, _cgroup_parent: None
) -> Iterator[Dockyard]:
    """The CLI once per runtime (runc skipped when not installed), busybox imported."""
    if request.param != "builtin" and shutil.which(request.param) is None:
        pytest.skip(f"{request.param} is not installed")
    yield from _make(data_root, busybox_tar, request.param)


@pytest.fixture
def box(dy: Dockyard) -> str:
    """A running container named ``box`` (``sleep 60``)."""
    proc = dy.container("-d", "--network", "none", "--name", "box", "busybox", "sleep", "60")
    assert proc.returncode == 0, proc.stderr.decode()
    return "box"
