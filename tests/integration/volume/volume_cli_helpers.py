"""The real CLI against one data root, for the volume tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DOCKYARD = [sys.executable, "-m", "dockyard"]


class VolumeCli:
    """Runs ``python -m dockyard --root DATA_ROOT ...`` as a user would."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def run(self, *args: str, check: bool = True, input: bytes | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([*DOCKYARD, "--root", str(self.root), *args], capture_output=True,
                              text=True, timeout=120, input=input.decode() if input else None)
        if check and proc.returncode != 0:
            raise AssertionError(f"dockyard {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
        return proc

    def out(self, *args: str) -> str:
        return self.run(*args).stdout

    def inspect(self, name: str) -> dict:
        return json.loads(self.out("volume", "inspect", name))[0]
