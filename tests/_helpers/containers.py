"""The container tests' CLI runner and leak probe, shared by several test folders.

They live here, not in a conftest, because test modules import them by name and several
folders have a conftest.py: ``from conftest import`` would take whichever was loaded last.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

DOCKYARD = [sys.executable, "-m", "dockyard"]
CGROUP_BASE = Path("/sys/fs/cgroup")


class Dockyard:
    """Runs the real CLI against one data root, as a user would."""

    def __init__(self, root: Path, runtime: str = "builtin") -> None:
        self.root = root
        self.runtime = runtime

    def run(self, *args: str, input: bytes | None = None, check: bool = True,
            timeout: float = 120) -> subprocess.CompletedProcess[bytes]:  # fmt: skip
        proc = subprocess.run([*DOCKYARD, "--root", str(self.root), *args], input=input,
                              capture_output=True, timeout=timeout)  # fmt: skip
        if check and proc.returncode != 0:
            raise AssertionError(
                f"dockyard {' '.join(args)} exited {proc.returncode}: {proc.stderr.decode()}"
            )
        return proc

    def out(self, *args: str, input: bytes | None = None) -> str:
        return self.run(*args, input=input).stdout.decode()

    def container(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        """``run`` with this fixture's runtime: ``container("-d", "busybox", "sleep", "9")``."""
        return self.run("run", "--runtime", self.runtime, *args, check=False)

    def inspect(self, name: str) -> dict:
        return json.loads(self.out("inspect", name))[0]

    def wait_for(self, name: str, predicate: Callable[[dict], bool], timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            info = self.inspect(name)
            if predicate(info) or time.monotonic() > deadline:
                return info
            time.sleep(0.1)


def leftovers(d: Dockyard, cid: str) -> list[str]:
    """What a removed container left on the host: mounts, cgroups, processes, state."""
    found = []
    with open("/proc/self/mountinfo") as f:
        found += [line.split()[4] for line in f if cid in line]
    found += [str(p) for p in CGROUP_BASE.glob(f"*/dockyard/{cid}")]
    found += [str(p) for p in (d.root / "containers").glob(f"{cid}*")]
    found += [str(p) for p in (d.root / "run").glob(f"*/{cid}")]
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if cid.encode() in (proc / "cmdline").read_bytes():
                    found.append(f"process {proc.name}")
            except OSError:
                continue
    return found
