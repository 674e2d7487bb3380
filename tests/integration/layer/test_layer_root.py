"""Layer application as root: ownership, file capabilities, devices, and parallel unpacking."""

from __future__ import annotations

import io
import os
import stat
import struct
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import zstandard
from layer_tars import build_tar, entry

from dockyard.image.diff import write_layer_from_upper, write_tree
from dockyard.image.layer import apply_layer

pytestmark = pytest.mark.root

# VFS_CAP_REVISION_2 with CAP_NET_RAW (13) permitted and effective: what `setcap cap_net_raw+ep`
# writes for ping.
CAP_NET_RAW = struct.pack("<IIIII", 0x02000001, 1 << 13, 0, 0, 0)


def test_file_capabilities_survive_the_chown(tmp_path: Path) -> None:
    tar = build_tar(
        [
            entry(
                "bin/ping",
                data=b"\x7fELF",
                mode=0o755,
                uid=0,
                gid=0,
                xattrs={"security.capability": CAP_NET_RAW},
            ),
            entry(
                "home/app/tool",
                data=b"x",
                uid=1000,
                gid=1000,
                mode=0o750,
                xattrs={"security.capability": CAP_NET_RAW},
            ),
        ]
    )
    apply_layer(io.BytesIO(tar), tmp_path)
    assert os.getxattr(tmp_path / "bin/ping", "security.capability") == CAP_NET_RAW
    tool = os.stat(tmp_path / "home/app/tool")
    assert (tool.st_uid, tool.st_gid, stat.S_IMODE(tool.st_mode)) == (1000, 1000, 0o750)
    assert os.getxattr(tmp_path / "home/app/tool", "security.capability") == CAP_NET_RAW
    out = io.BytesIO()
    write_layer_from_upper(tmp_path, out)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as t:
        ping = t.getmember("bin/ping")
    assert (
        ping.pax_headers["SCHILY.xattr.security.capability"].encode("utf-8", "surrogateescape")
        == CAP_NET_RAW
    )


def test_applied_device_node_works(tmp_path: Path) -> None:
    tar = build_tar(
        [
            entry("dev/", tarfile.DIRTYPE),
            entry("dev/zero", tarfile.CHRTYPE, mode=0o666, dev=(1, 5)),
            entry("dev/tty0", tarfile.CHRTYPE, mode=0o620, dev=(4, 0), gid=5),
        ]
    )
    apply_layer(io.BytesIO(tar), tmp_path)
    with open(tmp_path / "dev/zero", "rb") as f:
        assert f.read(8) == b"\0" * 8
    tty = os.lstat(tmp_path / "dev/tty0")
    assert stat.S_ISCHR(tty.st_mode) and tty.st_rdev == os.makedev(4, 0) and tty.st_gid == 5


def test_layers_apply_in_parallel_threads(tmp_path: Path) -> None:
    layers = []
    for n in range(4):
        files = [entry(f"layer{n}/", tarfile.DIRTYPE, uid=n)]
        files += [
            entry(f"layer{n}/d{i % 7}/f{i}", data=os.urandom(2000), uid=n, mode=0o640)
            for i in range(300)
        ]
        layers.append(zstandard.ZstdCompressor().compress(build_tar(files)))
    dests = [tmp_path / str(n) for n in range(4)]
    for d in dests:
        d.mkdir()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: apply_layer(io.BytesIO(layers[i]), dests[i]), range(4)))
    assert len({r.diff_id for r in results}) == 4
    for n, d in enumerate(dests):
        found = [p for p in (d / f"layer{n}").rglob("f*")]
        assert len(found) == 300
        assert all(p.stat().st_uid == n for p in found)
        assert os.listdir(d) == [f"layer{n}"]


def test_a_many_file_layer_applies_about_as_fast_as_gnu_tar(tmp_path: Path) -> None:
    import subprocess
    import time

    files = [entry(f"usr/share/d{i % 50}/file{i}", data=b"x" * 4096) for i in range(1000)]
    files.append(entry("usr/lib/big.so", data=os.urandom(16 << 20)))
    (tmp_path / "layer.tar").write_bytes(build_tar(files))
    (tmp_path / "by-tar").mkdir()
    (tmp_path / "by-us").mkdir()
    start = time.monotonic()
    subprocess.run(
        ["tar", "-xf", str(tmp_path / "layer.tar"), "-C", str(tmp_path / "by-tar")], check=True
    )
    tar_elapsed = time.monotonic() - start
    start = time.monotonic()
    with open(tmp_path / "layer.tar", "rb") as f:
        applied = apply_layer(f, tmp_path / "by-us")
    elapsed = time.monotonic() - start
    assert applied.size == 1000 * 4096 + (16 << 20)
    assert elapsed < 3 * tar_elapsed + 2, f"{elapsed:.1f}s here, GNU tar took {tar_elapsed:.1f}s"


def test_write_tree_does_not_descend_into_mounts(tmp_path: Path) -> None:
    from dockyard._sys import mountapi

    (tmp_path / "proc").mkdir()
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/hostname").write_text("box")
    mountapi.mount("tmpfs", tmp_path / "proc", "tmpfs", 0, "size=1m")
    try:
        (tmp_path / "proc/on-the-mount").write_text("not exported")
        out = io.BytesIO()
        write_tree(tmp_path, out)
    finally:
        mountapi.umount(tmp_path / "proc")
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as t:
        names = t.getnames()
    assert names == ["etc", "etc/hostname", "proc"]
