"""Helpers of the container networking tests (a uniquely named module, so the tests can import
it whatever other ``conftest`` modules the session loaded): the CLI with this session's host
object names, HTTP probes, free ports."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

DOCKYARD = [sys.executable, "-m", "dockyard"]
TABLE = f"dockyard-cn{os.getpid()}"
BRIDGE = f"dockyard0c{os.getpid() % 100000}"


class Dockyard:
    """Runs the real CLI against one data root, with this session's host object names."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {**os.environ, "DOCKYARD_NFT_TABLE": TABLE, "DOCKYARD_DEFAULT_BRIDGE": BRIDGE}

    def run(self, *args: str, check: bool = True,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:  # fmt: skip
        proc = subprocess.run([*DOCKYARD, "--root", str(self.root), *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout)  # fmt: skip
        if check and proc.returncode != 0:
            raise AssertionError(f"dockyard {' '.join(args)} exited {proc.returncode}: "
                                 f"{proc.stderr}")  # fmt: skip
        return proc

    def out(self, *args: str) -> str:
        return self.run(*args).stdout

    def inspect(self, name: str) -> dict:  # type: ignore[type-arg]
        return json.loads(self.out("inspect", name))[0]  # type: ignore[no-any-return]

    def state(self) -> dict:  # type: ignore[type-arg]
        """The network service's saved state (networks, endpoints, published ports)."""
        path = self.root / "network" / "network.json"
        return json.loads(path.read_text()) if path.exists() else {}  # type: ignore[no-any-return]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(port: int, timeout: float = 10) -> bytes:
    """The body ``http://127.0.0.1:PORT/`` answers, retried until the server is up."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as resp:
                return resp.read()  # type: ignore[no-any-return]
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def httpd(tag: str) -> list[str]:
    """busybox httpd serving *tag* on port 80, in the foreground."""
    script = f"mkdir -p /www && echo {tag} > /www/index.html && exec httpd -f -p 80 -h /www"
    return ["busybox", "sh", "-c", script]
