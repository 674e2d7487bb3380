"""The daemon's plumbing: listen addresses, stale sockets and pid files, registry auth headers."""

from __future__ import annotations

import base64
import json
import os
import socket
from pathlib import Path

import pytest

from dockyard import errors
from dockyard.api import server
from dockyard.api.routes_registry import decode_auth
from dockyard.registry.credentials import Credentials
from dockyard.service.settings import Settings


def test_listen_addresses() -> None:
    assert server.parse_host("unix:///run/x.sock") == server.Listen(path=Path("/run/x.sock"))
    assert server.parse_host("tcp://127.0.0.1:2375") == server.Listen(host="127.0.0.1", port=2375)
    for bad in ("/run/x.sock", "unix://relative", "tcp://127.0.0.1", "fd://", "ssh://host"):
        with pytest.raises(errors.InvalidArgument):
            server.parse_host(bad)


def test_default_socket_follows_the_root(tmp_path: Path) -> None:
    assert server.default_host(Settings()) == "unix:///run/dockyard/dockyard.sock"
    other = Settings.resolve(tmp_path / "root")
    assert server.default_host(other) == f"unix://{tmp_path}/root/run/dockyard.sock"


def test_a_stale_socket_is_replaced_and_a_live_one_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.sock"
    with socket.socket(socket.AF_UNIX) as live:
        live.bind(str(path))
        live.listen()
        with pytest.raises(errors.FailedPrecondition, match="already listening"):
            server._claim_socket(path)
    assert path.exists()  # closed, but the file stays: a crashed daemon's leftover
    server._claim_socket(path)
    assert not path.exists()


def test_pid_file_of_a_live_daemon_is_refused(tmp_path: Path) -> None:
    pidfile = tmp_path / "run" / "dockyard.pid"
    pidfile.parent.mkdir()
    pidfile.write_text("999999999\n")  # no such process: stale
    server._claim_pidfile(pidfile)
    assert pidfile.read_text() == f"{os.getpid()}\n"
    pidfile.write_text(f"{os.getppid()}\n")
    with pytest.raises(errors.FailedPrecondition, match="running"):
        server._claim_pidfile(pidfile)


def _header(doc: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")


def test_registry_auth_header() -> None:
    store = decode_auth(_header({"username": "alice", "password": "pw",
                                 "serveraddress": "127.0.0.1:5000"}))
    assert store.get("127.0.0.1:5000") == Credentials("alice", "pw")
    assert store.get("other.example.com") is None  # only for the registry it names
    token = decode_auth(_header({"identitytoken": "tok"}))
    assert token.get("anywhere") == Credentials("<token>", "tok")
    assert decode_auth(None).get("docker.io") is None
    assert decode_auth(_header({})).get("docker.io") is None  # docker sends "e30" ({}) anonymously
    with pytest.raises(errors.InvalidArgument):
        decode_auth("%%%not-base64")
