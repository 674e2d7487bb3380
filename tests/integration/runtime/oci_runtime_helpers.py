"""Helpers for the OCI runtime conformance tests: a runtime's command line, busybox rootfs
building, and host checks. Shared by builtin and runc."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

APPLETS = ["sh", "ls", "cat", "hostname", "id", "ps", "mount", "sleep", "true", "false", "echo",
           "grep", "wc", "touch", "mkdir", "tty"]  # fmt: skip


class Runtime:
    """One OCI runtime's command line, with its state root."""

    def __init__(self, name: str, argv: list[str], root: Path) -> None:
        self.name = name
        self.argv = [*argv, "--root", str(root)]
        self.root = root

    def cmd(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("timeout", 30)
        return subprocess.run([*self.argv, *args], text=True, check=False, **kwargs)

    def run(self, bundle: Path, cid: str) -> subprocess.CompletedProcess[str]:
        return self.cmd("run", "--bundle", str(bundle), cid)

    def create(self, bundle: Path, cid: str, *extra: str) -> tuple[int, str]:
        """``create``, detached: the container's stdio must not be a pipe we wait on."""
        log = self.root.parent / f"create-{cid}.log"
        with open(log, "w+") as err:
            out = subprocess.run(
                [*self.argv, "create", "--bundle", str(bundle), *extra, cid],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, timeout=30,
                check=False,
            )  # fmt: skip
        return out.returncode, log.read_text()

    def state(self, cid: str) -> dict[str, Any]:
        out = self.cmd("state", cid)
        assert out.returncode == 0, out.stderr
        return dict(json.loads(out.stdout))

    def wait_status(self, cid: str, status: str, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while self.state(cid)["status"] != status:
            assert time.monotonic() < deadline, f"{cid} never became {status}"
            time.sleep(0.02)


def build_rootfs(rootfs: Path) -> None:
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy("/bin/busybox", rootfs / "bin" / "busybox")
    for applet in APPLETS:
        (rootfs / "bin" / applet).symlink_to("busybox")
    (rootfs / "etc").mkdir()
    (rootfs / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n"
    )
    (rootfs / "etc" / "group").write_text("root:x:0:\nuser:x:1000:\n")
    for d in ("proc", "sys", "dev", "tmp"):
        (rootfs / d).mkdir()


def host_mounts_under(path: Path) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(str(path))]


def alive(pid: int) -> bool:
    """True while *pid* runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False
