"""Volumes with options are mounted while used and unmounted after; populate keeps owners."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard.service.engine import Engine
from dockyard.service.settings import Settings
from dockyard.volume import parse_mount, parse_volume
from dockyard.volume.populate import populate

pytestmark = pytest.mark.root


def _mounted(path: str) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line.split()[8] for line in f if line.split()[4] == path]


@pytest.fixture
def engine(data_root: Path) -> Engine:
    return Engine(Settings.resolve(data_root))


def test_tmpfs_volume_is_mounted_while_used_and_empty_again_after(engine: Engine) -> None:
    spec = parse_mount("type=volume,src=scratch,dst=/scratch,volume-opt=type=tmpfs,"
                       "volume-opt=device=tmpfs,volume-opt=o=size=1m")
    [first] = engine.volumes.attach([spec], "c1")
    [second] = engine.volumes.attach([spec], "c2")
    mountpoint = first.host_source
    assert _mounted(mountpoint) == ["tmpfs"]  # mounted once, shared
    assert second.host_source == mountpoint
    Path(mountpoint, "f").write_text("temp")
    assert engine.volumes.inspect("scratch")["Options"] == {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}

    engine.volumes.detach([first.spec], "c1")
    assert _mounted(mountpoint) == ["tmpfs"]  # c2 still uses it
    engine.volumes.detach([second.spec], "c2")
    assert _mounted(mountpoint) == []
    assert os.listdir(mountpoint) == []

    engine.volumes.remove("scratch")
    assert not Path(mountpoint).exists()


def test_tmpfs_size_option_reaches_the_kernel(engine: Engine) -> None:
    spec = parse_mount("type=volume,src=small,dst=/s,volume-opt=type=tmpfs,"
                       "volume-opt=device=tmpfs,volume-opt=o=size=64k")
    [att] = engine.volumes.attach([spec], "c1")
    try:
        with pytest.raises(OSError):  # ENOSPC past 64 kB
            Path(att.host_source, "big").write_bytes(b"x" * 200_000)
    finally:
        engine.volumes.detach([att.spec], "c1")
    assert _mounted(att.host_source) == []


def test_bind_device_volume_shows_the_host_directory(engine: Engine, tmp_path: Path) -> None:
    host = tmp_path / "export"
    host.mkdir()
    (host / "shared.txt").write_text("from host")
    engine.volumes.create("exported", options={"type": "none", "o": "bind", "device": str(host)})
    [att] = engine.volumes.attach([parse_volume("exported:/e")], "c1")
    assert Path(att.host_source, "shared.txt").read_text() == "from host"
    engine.volumes.detach([att.spec], "c1")
    assert not Path(att.host_source, "shared.txt").exists()
    engine.volumes.remove("exported")
    assert (host / "shared.txt").read_text() == "from host"  # rm never touches the device


def test_removing_a_mounted_volume_unmounts_it(engine: Engine) -> None:
    spec = parse_volume("tmpv:/t")
    engine.volumes.create("tmpv", options={"type": "tmpfs", "device": "tmpfs"})
    [att] = engine.volumes.attach([spec], "c1")
    engine.volumes.records.remove_ref("tmpv", "c1")  # a container record lost its hold
    engine.volumes.remove("tmpv")
    assert _mounted(att.host_source) == []


def test_populate_preserves_ownership_and_trusted_xattrs(tmp_path: Path) -> None:
    src = tmp_path / "image" / "app"
    src.mkdir(parents=True)
    (src / "owned").write_text("x")
    os.chown(src / "owned", 1234, 5678)
    (src / "link").symlink_to("owned")
    os.chown(src / "link", 42, 43, follow_symlinks=False)
    os.chown(src, 1000, 1000)
    os.setxattr(src / "owned", "trusted.dockyard", b"1")
    vol = tmp_path / "volumes" / "v" / "_data"
    vol.mkdir(parents=True)
    assert populate(vol, src)
    st = os.lstat(vol / "owned")
    assert (st.st_uid, st.st_gid) == (1234, 5678)
    lst = os.lstat(vol / "link")
    assert (lst.st_uid, lst.st_gid) == (42, 43)
    assert (vol.stat().st_uid, vol.stat().st_gid) == (1000, 1000)
    assert os.getxattr(vol / "owned", "trusted.dockyard") == b"1"
