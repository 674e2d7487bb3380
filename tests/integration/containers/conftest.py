"""Containers for real: the CLI against a fresh data root with a busybox image, run by the
builtin runtime or runc. Every container a test makes is removed with ``rm -f`` after it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from _helpers.containers import CGROUP_BASE, DOCKYARD, Dockyard, leftovers  # noqa: F401 (re-exported)
from _helpers.images import busybox_rootfs, tar_dir


@pytest.fixture(scope="session")
def busybox_tar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = busybox_rootfs(tmp_path_factory.mktemp("rootfs") / "rootfs")
    (root / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nappuser:x:1000:1000::/home/app:/bin/sh\n"
    )
    (root / "etc" / "group").write_text("root:x:0:\nappgroup:x:1000:\nextra:x:2000:appuser\n")
    path = root.parent / "busybox.tar"
    path.write_bytes(tar_dir(root))
    return path


@pytest.fixture(scope="session")
def _cgroup_parent() -> Iterator[None]:
    """Remove the ``dockyard`` cgroup parents these tests created (empty by then)."""
    existed = {p for p in CGROUP_BASE.glob("*/dockyard")}
    yield
    for parent in CGROUP_BASE.glob("*/dockyard"):
        if parent not in existed:
            try:
                parent.rmdir()
            except OSError:
                pass


def _make(data_root: Path, busybox_tar: Path, runtime: str) -> Iterator[Dockyard]:
    d = Dockyard(data_root, runtime)
    d.run("import", str(busybox_tar), "busybox")
    yield d
    ids = d.out("ps", "-aq", "--no-trunc").split()
    if ids:
        d.run("rm", "-f", *ids, check=False)


@pytest.fixture
def dockyard(data_root: Path, busybox_tar: Path, _cgroup_parent: None) -> Iterator[Dockyard]:
    """The CLI with the builtin runtime and a ``busybox`` image."""
    yield from _make(data_root, busybox_tar, "builtin")


@pytest.fixture(params=["builtin", "runc"])
def any_runtime(
    request: pytest.FixtureRequest, data_root: Path, busybox_tar: Path, _cgroup_parent: None
) -> Iterator[Dockyard]:
    """The CLI once per runtime (runc skipped when it is not installed)."""
    if request.param != "builtin" and shutil.which(request.param) is None:
        pytest.skip(f"{request.param} is not installed")
    yield from _make(data_root, busybox_tar, request.param)


