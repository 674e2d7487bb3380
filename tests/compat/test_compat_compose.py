"""``docker-compose`` 1.29 (Debian's package, docker-py underneath) against the daemon: a
two-service app (``api`` built from a Dockerfile, ``ui`` from busybox) brought ``up -d``,
listed with ``ps``, read with ``logs`` and taken ``down -v`` leaving nothing behind. Root:
containers run, networks are bridges named for this test alone."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from compat_daemon import Daemon
from test_compat_networks import remove_networks

COMPOSE = shutil.which("docker-compose")

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="containers and networks need root"),
    pytest.mark.skipif(COMPOSE is None, reason="docker-compose is not installed"),
]

API_DOCKERFILE = "FROM busybox\nLABEL role=api\n"


@pytest.fixture
def d(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch,
      busybox_tar: Path) -> Iterator[Daemon]:
    """The test's daemon (own nftables table and bridge) with busybox:latest imported."""
    monkeypatch.setenv("DOCKYARD_NFT_TABLE", f"dockyard-o{os.getpid()}")
    monkeypatch.setenv("DOCKYARD_DEFAULT_BRIDGE", f"dockyard0o{os.getpid() % 100000}")
    daemon: Daemon = request.getfixturevalue("daemon")
    daemon.docker("import", "--change", 'CMD ["sh"]', str(busybox_tar), "busybox:latest")
    yield daemon
    daemon.stop()
    remove_networks(daemon.root)


def _project(tmp_path: Path, compose_yml: str) -> Path:
    project = tmp_path / "shop"
    (project / "api").mkdir(parents=True)
    (project / "api" / "Dockerfile").write_text(API_DOCKERFILE)
    (project / "docker-compose.yml").write_text(compose_yml)
    return project


def compose(d: Daemon, project: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    assert COMPOSE is not None
    proc = subprocess.run([COMPOSE, "--ansi", "never", "-p", "shop", *args], cwd=project, env=d.env,
                          capture_output=True, text=True, timeout=180)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker-compose {' '.join(args)} exited {proc.returncode}:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


def _wait_logs(d: Daemon, project: Path, *wanted: str) -> str:
    deadline = time.monotonic() + 15
    while True:
        logs = compose(d, project, "logs", "--no-color").stdout
        if all(w in logs for w in wanted) or time.monotonic() > deadline:
            return logs
        time.sleep(0.2)


def _networks(d: Daemon) -> list[str]:
    return sorted(d.docker("network", "ls", "--format", "{{.Name}}").stdout.split())


def _nothing_left(d: Daemon, down: str) -> None:
    assert d.docker("ps", "-aq").stdout.strip() == "", down
    assert d.docker("volume", "ls", "-q").stdout.strip() == "", down
    assert [n for n in _networks(d) if n.startswith("shop")] == [], down


def test_up_ps_logs_down_without_networks(d: Daemon, tmp_path: Path) -> None:
    """The lifecycle every compose user runs: build, volume, two services, ps, logs, down -v."""
    project = _project(tmp_path, """\
version: "3.8"
services:
  api:
    build: ./api
    command: ["sh", "-c", "echo api up; exec sleep 60"]
    network_mode: none
    volumes: ["data:/data"]
  ui:
    image: busybox:latest
    command: ["sh", "-c", "echo ui up; exec sleep 60"]
    network_mode: none
    depends_on: [api]
volumes:
  data: {}
""")
    up = compose(d, project, "up", "-d")
    assert 'Creating volume "shop_data" with default driver' in up.stderr
    assert "Successfully tagged shop_api:latest" in up.stdout + up.stderr
    ps = compose(d, project, "ps").stdout.splitlines()
    rows = {line.split()[0]: line for line in ps[2:] if line.strip()}
    assert sorted(rows) == ["shop_api_1", "shop_ui_1"]
    assert all(" Up " in row or row.rstrip().endswith("Up") for row in rows.values()), ps
    ids = compose(d, project, "ps", "-q").stdout.split()
    assert sorted(ids) == sorted(d.docker("ps", "-q", "--no-trunc").stdout.split())
    labels = d.docker("inspect", "--format", '{{index .Config.Labels "com.docker.compose.service"}}',
                      "shop_api_1").stdout.strip()
    assert labels == "api"
    assert d.docker("image", "inspect", "--format", "{{.Config.Labels.role}}",
                    "shop_api").stdout.strip() == "api"
    logs = _wait_logs(d, project, "api up", "ui up")
    assert "api_1  | api up" in logs and "ui_1   | ui up" in logs
    assert d.docker("volume", "ls", "-q").stdout.split() == ["shop_data"]
    down = compose(d, project, "down", "-v", "-t", "1")
    assert "Removing volume shop_data" in down.stderr
    _nothing_left(d, down.stderr)
    assert d.docker("images", "-q", "shop_api").stdout.strip()  # down keeps built images


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_two_services_on_a_network_with_a_port_and_a_volume(d: Daemon, tmp_path: Path) -> None:
    port = _free_port()
    project = _project(tmp_path, f"""\
version: "3.8"
services:
  api:
    build: ./api
    command: ["sh", "-c", "mkdir -p /www; echo from-api > /www/index.html;
              echo stored > /data/mark; echo api up; exec httpd -f -p 80 -h /www"]
    networks: [backend]
    volumes: ["data:/data"]
  ui:
    image: busybox:latest
    command: ["sh", "-c", "mkdir -p /www; echo from-ui > /www/index.html;
              echo ui up; exec httpd -f -p 8080 -h /www"]
    ports: ["127.0.0.1:{port}:8080"]
    networks: [backend]
    depends_on: [api]
volumes:
  data: {{}}
networks:
  backend:
    ipam:
      config: [{{subnet: "10.231.9.0/24"}}]
""")
    up = compose(d, project, "up", "-d", check=False)
    try:
        assert up.returncode == 0, up.stderr
        assert 'Creating network "shop_backend" with the default driver' in up.stderr
        logs = _wait_logs(d, project, "api up", "ui up")
        assert "api_1  | api up" in logs and "ui_1   | ui up" in logs
        ps = compose(d, project, "ps").stdout
        assert f"127.0.0.1:{port}->8080/tcp" in ps
        # the ui reaches the api by its service name on the project's network
        fetched = d.docker("exec", "shop_ui_1", "wget", "-q", "-O", "-", "http://api/")
        assert fetched.stdout == "from-api\n"
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:  # published
            conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
            reply = b""
            while chunk := conn.recv(4096):
                reply += chunk
        assert reply.startswith(b"HTTP/1.") and reply.endswith(b"from-ui\n")
        # the api wrote into the named volume
        assert d.docker("exec", "shop_api_1", "cat", "/data/mark").stdout == "stored\n"
    finally:
        down = compose(d, project, "down", "-v", "-t", "1", check=False)
    assert down.returncode == 0, down.stderr
    assert "Removing network shop_backend" in down.stderr
    _nothing_left(d, down.stderr)
