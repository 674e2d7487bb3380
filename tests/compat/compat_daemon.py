"""A Dockyard daemon on a temporary socket, and the tools that talk to it.

Each test gets its own data root and daemon (``python -m dockyard --root ROOT daemon -H
unix://ROOT/d.sock``), a private ``DOCKER_CONFIG``, and ``DOCKER_HOST`` pointing at that
socket: a Docker daemon that may run on this host is never contacted. ``dockyard`` runs the
CLI against the same root, to compare what both tools see.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from _helpers.daemon import answers_ping

DOCKER = shutil.which("docker")
DOCKYARD = [sys.executable, "-m", "dockyard"]
START_TIMEOUT_S = 20


@dataclass
class Daemon:
    """A running daemon; ``env`` is its clients' environment (DOCKER_HOST, DOCKER_CONFIG)."""

    root: Path
    sock: Path
    proc: subprocess.Popen[bytes]
    env: dict[str, str]

    @property
    def own_config(self) -> Path:
        """The daemon's own DOCKER_CONFIG directory (its clients use another)."""
        return self.root.parent / f"{self.root.name}-daemon-config"

    @property
    def host(self) -> str:
        return f"unix://{self.sock}"

    def docker(self, *args: str, check: bool = True, timeout: float = 120,
               input: str | None = None) -> subprocess.CompletedProcess[str]:
        assert DOCKER is not None
        proc = subprocess.run([DOCKER, *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, input=input)
        if check and proc.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
        return proc

    def dockyard(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([*DOCKYARD, "--root", str(self.root), *args], env=self.env,
                              capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"dockyard {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
        return proc

    def docker_json(self, *args: str) -> list[Any]:
        out = self.docker(*args, "--format", "{{json .}}").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def sdk(self) -> Any:
        docker_sdk = pytest.importorskip("docker")
        return docker_sdk.DockerClient(base_url=self.host, version="auto", timeout=60)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_daemon(root: Path, env: dict[str, str]) -> Daemon:
    sock = root / "d.sock"
    log = open(root.parent / f"{root.name}-daemon.log", "wb")  # noqa: SIM115 (kept for the run)
    # the daemon's own DOCKER_CONFIG, apart from its clients': it must act on their credentials
    daemon_config = root.parent / f"{root.name}-daemon-config"
    daemon_config.mkdir(exist_ok=True)
    proc = subprocess.Popen([*DOCKYARD, "--root", str(root), "daemon", "-H", f"unix://{sock}"],
                            stdout=log, stderr=subprocess.STDOUT,
                            env={**env, "DOCKER_CONFIG": str(daemon_config)})
    log.close()
    daemon = Daemon(root, sock, proc, {**env, "DOCKER_HOST": f"unix://{sock}"})
    deadline = time.monotonic() + START_TIMEOUT_S
    while not answers_ping(sock):
        if proc.poll() is not None or time.monotonic() > deadline:
            daemon.stop()
            raise RuntimeError("the daemon did not start:\n" +
                               (root.parent / f"{root.name}-daemon.log").read_text())
        time.sleep(0.05)
    return daemon


@dataclass
class Registry:
    """Debian's ``docker-registry`` (distribution) on 127.0.0.1, open (no auth)."""

    host: str
    proc: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_registry(tmp: Path, htpasswd: str = "") -> Registry:
    """An open registry, or one with basic auth when *htpasswd* (``user:bcrypt``) is given."""
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.skip("docker-registry is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp / "registry.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {tmp / 'storage'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: dockyard-compat\n"
    )
    if htpasswd:
        (tmp / "htpasswd").write_text(htpasswd)
        with open(config, "a") as f:
            f.write(f"auth:\n  htpasswd:\n    realm: compat\n    path: {tmp / 'htpasswd'}\n")
    proc = subprocess.Popen([binary, "serve", str(config)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    registry = Registry(f"127.0.0.1:{port}", proc)
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return registry
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                registry.stop()
                raise RuntimeError("docker-registry did not start") from None
            time.sleep(0.02)
