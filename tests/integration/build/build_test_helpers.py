"""Helpers for build tests: the real CLI on one data root, and reading plain progress."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DOCKYARD = [sys.executable, "-m", "dockyard"]
BASE = "busybox:test"


class Builder:
    """Runs ``dockyard`` against one data root; ``build`` returns (exit code, output)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def run(
        self, *args: str, input: bytes | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[bytes]:
        proc = subprocess.run(
            [*DOCKYARD, "--root", str(self.root), *args],
            input=input,
            capture_output=True,
            timeout=300,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"dockyard {' '.join(args)} exited {proc.returncode}: {proc.stderr.decode()}"
            )
        return proc

    def build(
        self, context: Path | str, *args: str, input: bytes | None = None, check: bool = True
    ) -> tuple[int, str]:
        proc = self.run("build", "--progress=plain", *args, str(context), input=input, check=check)
        return proc.returncode, proc.stderr.decode()

    def image_id(self, name: str) -> str:
        return self.run("inspect", "--format", "{{.Id}}", name).stdout.decode().strip()


def steps(output: str) -> dict[str, str]:
    """``{step text: CACHED|DONE|ERROR}`` from plain progress output."""
    names: dict[str, str] = {}
    status: dict[str, str] = {}
    for line in output.splitlines():
        if not line.startswith("#"):
            continue
        vertex, _, rest = line.partition(" ")
        if rest.startswith("["):
            names[vertex] = rest.split("] ", 1)[1]
        elif rest in ("CACHED",) or rest.startswith(("DONE", "ERROR")):
            status[names[vertex]] = rest.split()[0].rstrip(":")
    return status
