"""Which driver a host gets, from what is mounted under /sys/fs/cgroup."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard import errors
from dockyard.runtime.cgroups import V1Driver, V2Driver, detect, driver_for

from .fakefs import make_root


def test_unified_root_is_v2(tmp_path: Path) -> None:
    make_root(str(tmp_path))
    assert detect(str(tmp_path)) == "v2"
    assert isinstance(driver_for(root=str(tmp_path)), V2Driver)


def test_hybrid_host_with_empty_unified_is_v1(tmp_path: Path) -> None:
    for ctrl in ("memory", "cpu", "cpuacct", "pids", "freezer"):
        (tmp_path / ctrl).mkdir()
    make_root(str(tmp_path / "unified"), controllers=())
    assert detect(str(tmp_path)) == "v1"
    driver = driver_for(root=str(tmp_path), parent="dockyard-x")
    assert isinstance(driver, V1Driver)
    assert driver.dir("memory", "c1") == str(tmp_path / "memory" / "dockyard-x" / "c1")


def test_comounted_controllers_share_one_directory(tmp_path: Path) -> None:
    (tmp_path / "cpu,cpuacct").mkdir()
    (tmp_path / "cpu").symlink_to("cpu,cpuacct")
    (tmp_path / "cpuacct").symlink_to("cpu,cpuacct")
    (tmp_path / "memory").mkdir()
    driver = V1Driver(root=str(tmp_path))
    assert driver.dir("cpu", "c") == driver.dir("cpuacct", "c")
    with pytest.raises(errors.Unavailable, match="freezer"):
        driver.dir("freezer", "c")


def test_nothing_mounted_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(errors.Unavailable):
        detect(str(tmp_path))
    with pytest.raises(errors.InvalidArgument):
        driver_for("v3", root=str(tmp_path))
