"""Volumes and binds of real containers through the CLI: a named volume outlives its
container, an empty one is filled from the image, ``-v``/``--mount``/``--volumes-from``/
``--read-only`` behave as Docker's, ``rm -v`` takes anonymous volumes with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from cnet_support import Dockyard

pytestmark = pytest.mark.root


def _volumes(dy: Dockyard) -> list[str]:
    return dy.out("volume", "ls", "-q").split()


def test_named_volume_survives_rm(dy: Dockyard) -> None:
    dy.run("run", "--name", "writer", "--network", "none", "-v", "data:/data", "busybox",
           "sh", "-c", "echo kept > /data/file")  # fmt: skip
    dy.run("rm", "-v", "writer")  # -v takes anonymous volumes only
    assert "data" in _volumes(dy)
    out = dy.out("run", "--rm", "--network", "none", "-v", "data:/data", "busybox",
                 "cat", "/data/file")  # fmt: skip
    assert out == "kept\n"
    dy.run("volume", "rm", "data")


def test_empty_named_volume_is_filled_from_the_image(dy: Dockyard) -> None:
    out = dy.out("run", "--rm", "--network", "none", "-v", "etc:/etc", "busybox",
                 "cat", "/etc/passwd")  # fmt: skip
    assert out.startswith("root:")
    dy.run("volume", "rm", "etc")


def test_anonymous_volume_volumes_from_and_rm_v(dy: Dockyard) -> None:
    dy.run("run", "-d", "--name", "owner", "--network", "none", "-v", "/shared", "busybox",
           "sh", "-c", "echo from-owner > /shared/x; exec sleep 60")  # fmt: skip
    mounts = dy.inspect("owner")["Mounts"]
    assert [m["Destination"] for m in mounts] == ["/shared"]
    anon = mounts[0]["Name"]
    assert anon in _volumes(dy)
    got = dy.run("run", "--rm", "--network", "none", "--volumes-from", "owner:ro", "busybox",
                 "sh", "-c", "cat /shared/x; echo no > /shared/y", check=False)  # fmt: skip
    assert got.stdout == "from-owner\n"
    assert "Read-only file system" in got.stderr
    in_use = dy.run("volume", "rm", anon, check=False)
    assert in_use.returncode != 0 and "in use" in in_use.stderr
    dy.run("rm", "-f", "-v", "owner")
    assert anon not in _volumes(dy)


def test_binds_and_read_only_rootfs(dy: Dockyard, tmp_path: Path) -> None:
    (tmp_path / "in.txt").write_text("from-host\n")
    script = "cat /src/in.txt && echo out > /out/o.txt && echo t > /tmp/t && touch /etc/nope"
    got = dy.run("run", "--rm", "--network", "none", "--read-only", "--tmpfs", "/tmp",
                 "--mount", f"type=bind,source={tmp_path},target=/src,readonly",
                 "-v", f"{tmp_path / 'out'}:/out", "busybox", "sh", "-c", script,
                 check=False)  # fmt: skip
    assert got.stdout == "from-host\n"
    assert (tmp_path / "out" / "o.txt").read_text() == "out\n"
    assert "Read-only file system" in got.stderr
    missing = dy.run("run", "--rm", "--mount", f"type=bind,source={tmp_path}/nope,target=/x",
                     "busybox", "true", check=False)  # fmt: skip
    assert missing.returncode == 125
    assert "bind source path does not exist" in missing.stderr
