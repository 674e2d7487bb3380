"""Volumes as containers see them, with the builtin runtime: data outlives a container, an
empty volume starts with the image's files, a tmpfs volume is fresh at each use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from _helpers.images import busybox_rootfs
from dockyard.runtime.spec import ContainerSpec, generate
from dockyard.service.engine import Engine
from dockyard.service.settings import Settings
from dockyard.volume import MountSpec, combine, parse_mount, parse_tmpfs, parse_volume

pytestmark = pytest.mark.root


@pytest.fixture
def engine(data_root: Path) -> Engine:
    return Engine(Settings.resolve(data_root))


@pytest.fixture
def rootfs(data_root: Path) -> Path:
    root = busybox_rootfs(data_root / "image-rootfs")
    (root / "etc" / "app").mkdir()
    (root / "etc" / "app" / "app.conf").write_text("from-image\n")
    return root


def _run(engine: Engine, data_root: Path, rootfs: Path, cid: str, script: str,
         specs: list[MountSpec]) -> str:
    attached = engine.volumes.attach(specs, cid, rootfs)
    try:
        bundle = data_root / f"bundle-{cid}"
        bundle.mkdir()
        (bundle / "rootfs").symlink_to(rootfs)
        config = generate(ContainerSpec(args=("sh", "-c", script),
                                        mounts=tuple(a.oci for a in attached)))  # fmt: skip
        (bundle / "config.json").write_text(json.dumps(config))
        argv = [sys.executable, "-m", "dockyard.runtime.builtin", "--root",
                str(data_root / "state"), "run", "--bundle", str(bundle), cid]  # fmt: skip
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        assert out.returncode == 0, out.stderr
        return out.stdout
    finally:
        engine.volumes.detach([a.spec for a in attached], cid)


def test_named_volume_data_outlives_the_container(engine: Engine, data_root: Path, rootfs: Path) -> None:
    _run(engine, data_root, rootfs, "writer", "echo kept > /data/note", [parse_volume("notes:/data")])
    out = _run(engine, data_root, rootfs, "reader", "cat /data/note", [parse_volume("notes:/data:ro")])
    assert out == "kept\n"
    assert engine.volumes.in_use_by("notes") == []


def test_empty_volume_starts_with_the_image_files_once(engine: Engine, data_root: Path, rootfs: Path) -> None:
    specs = combine(volumes=[parse_volume("conf:/etc/app")])
    out = _run(engine, data_root, rootfs, "c1", "cat /etc/app/app.conf; echo mine > /etc/app/app.conf",
               specs)  # fmt: skip
    assert out == "from-image\n"
    out = _run(engine, data_root, rootfs, "c2", "cat /etc/app/app.conf", specs)
    assert out == "mine\n"  # the volume's data, not copied again
    nocopy = _run(engine, data_root, rootfs, "c3", "ls /etc/app | wc -l",
                  [parse_mount("type=volume,src=bare,dst=/etc/app,volume-nocopy")])  # fmt: skip
    assert nocopy.strip() == "0"


def test_tmpfs_volume_and_tmpfs_mount_are_fresh_each_time(engine: Engine, data_root: Path, rootfs: Path) -> None:
    engine.volumes.create("scratch", options={"type": "tmpfs", "device": "tmpfs", "o": "size=1m"})
    specs = [parse_volume("scratch:/scratch"), parse_tmpfs("/run/t:size=64k")]
    script = "ls /scratch | wc -l; touch /scratch/x /run/t/y; grep -E ' /(scratch|run/t) ' /proc/mounts"
    first = _run(engine, data_root, rootfs, "t1", script, specs).splitlines()
    assert first[0].strip() == "0"
    assert any(" /run/t tmpfs " in line and "size=64k" in line for line in first[1:])
    assert any(" /scratch tmpfs " in line for line in first[1:])
    second = _run(engine, data_root, rootfs, "t2", script, specs).splitlines()
    assert second[0].strip() == "0"  # the tmpfs volume was unmounted after t1
