"""``cp`` both ways (running and stopped containers, never out of the container through a
symlink), ``diff``, ``commit`` then ``run`` of the new image, and ``export``."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from _helpers.containers import Dockyard

pytestmark = [pytest.mark.root, pytest.mark.skipif(os.geteuid() != 0, reason="needs root")]


def test_cp_out_and_in_with_docker_semantics(dy: Dockyard, box: str, tmp_path: Path) -> None:
    dy.run("exec", box, "sh", "-c", "mkdir -p /d/sub && echo a > /d/a && echo b > /d/sub/b"
           " && ln -s /etc/passwd /d/link")  # fmt: skip
    dy.run("cp", f"{box}:/d", str(tmp_path / "copy"))  # new name: the dir itself
    assert (tmp_path / "copy" / "sub" / "b").read_text() == "b\n"
    assert os.readlink(tmp_path / "copy" / "link") == "/etc/passwd"  # the link, not followed
    (tmp_path / "into").mkdir()
    dy.run("cp", f"{box}:/d", str(tmp_path / "into"))  # existing dir: copied under it
    dy.run("cp", f"{box}:/d/.", str(tmp_path / "into"))  # "/.": the contents
    assert sorted(os.listdir(tmp_path / "into")) == ["a", "d", "link", "sub"]
    with tarfile.open(fileobj=io.BytesIO(dy.run("cp", f"{box}:/d/a", "-").stdout)) as tar:
        assert tar.getnames() == ["a"]
    src = tmp_path / "src"
    (src / "x").mkdir(parents=True)
    (src / "x" / "f").write_text("host\n")
    dy.run("cp", str(src), f"{box}:/d/")
    dy.run("cp", str(src / "x" / "f"), f"{box}:/renamed")
    tar_in = io.BytesIO()
    with tarfile.open(fileobj=tar_in, mode="w") as tar:
        info = tarfile.TarInfo("piped")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"hi\n"))
    dy.run("cp", "-", f"{box}:/tmp", input=tar_in.getvalue())
    seen = dy.out(
        "exec", box, "sh", "-c", "cat /d/src/x/f /renamed /tmp/piped; stat -c %u /renamed"
    )
    assert seen == "host\nhost\nhi\n0\n"
    missing = dy.run("cp", f"{box}:/nope", str(tmp_path), check=False)
    assert missing.returncode != 0 and b"Could not find the file /nope" in missing.stderr


def test_cp_never_follows_links_out_of_the_container(
    dy: Dockyard, box: str, tmp_path: Path
) -> None:
    dy.run("exec", box, "sh", "-c", "ln -s / /up && ln -s ../../../../../tmp /rel")
    victim = tmp_path / "host-victim"
    dy.run("cp", f"{box}:/up/etc/hostname", str(tmp_path / "hn"))
    assert (tmp_path / "hn").read_text().strip() == dy.inspect(box)["Id"][:12]
    (tmp_path / "payload").write_text("x\n")
    refused = dy.run("cp", str(tmp_path / "payload"), f"{box}:/up{victim}", check=False)
    assert refused.returncode != 0 and b"Could not find the file" in refused.stderr
    dy.run("cp", str(tmp_path / "payload"), f"{box}:/rel/escaped")
    assert not victim.exists() and not Path("/tmp/escaped").exists()
    assert dy.out("exec", box, "cat", "/tmp/escaped") == "x\n"  # landed inside instead


def test_cp_with_a_stopped_container(dy: Dockyard, tmp_path: Path) -> None:
    dy.container("--network", "none", "--name", "done", "busybox", "sh", "-c", "echo made > /made")
    dy.run("cp", "done:/made", str(tmp_path / "made"))
    assert (tmp_path / "made").read_text() == "made\n"
    (tmp_path / "back").write_text("back\n")
    dy.run("cp", str(tmp_path / "back"), "done:/back")
    dy.run("start", "done")
    assert dy.out("diff", "done").splitlines() == ["A /back", "A /made"]
    with open("/proc/self/mountinfo") as f:
        mine = [line for line in f if str(dy.root) in line and "/mnt-" in line]
    assert mine == []  # the snapshot was mounted only for the copy


def test_diff_commit_run_and_export(dy: Dockyard, box: str) -> None:
    dy.run("exec", box, "sh", "-c", "echo new > /added; rm /bin/vi; echo x >> /etc/passwd;"
           " mkdir -p /tmp/dir")  # fmt: skip
    assert dy.out("diff", box).splitlines() == [
        "A /added", "C /bin", "D /bin/vi", "C /etc", "C /etc/passwd", "C /tmp", "A /tmp/dir",
    ]  # fmt: skip
    image_id = dy.out("commit", "-m", "note", "-a", "me", "-c", "ENV COMMITTED=1", box,
                      "snap:v1").strip()  # fmt: skip
    assert image_id.startswith("sha256:")
    out = dy.container("--rm", "--network", "none", "snap:v1", "sh", "-c",
                       "cat /added; echo $COMMITTED; test -e /bin/vi || echo no-vi")  # fmt: skip
    assert out.stdout == b"new\n1\nno-vi\n", out.stderr
    history = dy.out("history", "--no-trunc", "snap:v1")
    assert "note" in history or "sleep 60" in history
    base = dy.out(
        "run", "--rm", "--network", "none", "busybox", "sh", "-c", "test -e /added || echo clean"
    )
    assert base == "clean\n"  # the image the container ran is unchanged
    with tarfile.open(fileobj=io.BytesIO(dy.run("export", box).stdout)) as tar:
        names = {n.lstrip("./") for n in tar.getnames()}
    assert "added" in names and "bin/vi" not in names and "bin/sh" in names
