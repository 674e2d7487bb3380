"""Bundles built from the host's busybox, and the runtimes under test (builtin, and runc when
installed), both driven through the same OCI runtime command line."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from oci_runtime_helpers import Runtime, build_rootfs

from dockyard.runtime.spec import ContainerSpec, generate

CGROUP_PARENT = "dockyard-test-oci-runtime"


def _cleanup_cgroups() -> None:
    base = Path("/sys/fs/cgroup")
    for top in [base, *(p for p in base.iterdir() if p.is_dir())]:
        parent = top / CGROUP_PARENT
        if parent.is_dir():
            for child in sorted(parent.glob("**/"), key=lambda p: len(str(p)), reverse=True):
                child.rmdir()


@pytest.fixture(scope="session")
def _cgroup_parent() -> Iterator[None]:
    yield
    _cleanup_cgroups()


@pytest.fixture(params=["builtin", "runc"])
def runtime(
    request: pytest.FixtureRequest, data_root: Path, _cgroup_parent: None
) -> Iterator[Runtime]:
    root = data_root / "state"
    if request.param == "builtin":
        rt = Runtime("builtin", [sys.executable, "-m", "dockyard.runtime.builtin"], root)
    else:
        runc = shutil.which("runc")
        if runc is None:
            pytest.skip("runc is not installed")
        rt = Runtime("runc", [runc], root)
    yield rt
    # A test that failed half-way must not leave its containers behind.
    if root.is_dir():
        for entry in root.iterdir():
            if not entry.name.startswith("."):
                rt.cmd("delete", "--force", entry.name)


@pytest.fixture
def make_bundle(data_root: Path) -> Callable[..., Path]:
    """make_bundle(name, "sh", "-c", "...", uid=1000) -> bundle dir with config.json, under
    the test's data root or *parent*."""

    def make(name: str, *args: str, parent: Path | None = None, **fields: Any) -> Path:
        bundle = (parent or data_root) / name
        build_rootfs(bundle / "rootfs")
        spec = ContainerSpec(
            args=args, hostname="box", cgroups_path=f"/{CGROUP_PARENT}/{data_root.name}-{name}"
        )
        spec = replace(spec, **fields)
        (bundle / "config.json").write_text(json.dumps(generate(spec), indent=1))
        return bundle

    return make
