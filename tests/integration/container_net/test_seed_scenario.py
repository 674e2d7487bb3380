"""The seed scenario of the networking issue, through the CLI: ``api`` and ``ui`` on a user
network, only ``ui`` published. The host reaches ``ui`` on 127.0.0.1, ``ui`` reaches ``api``
by name, nothing on the host leads to ``api``, and a container on another network reaches
neither."""

from __future__ import annotations

import pytest
from cnet_support import Dockyard, free_port, httpd, wait_http

pytestmark = pytest.mark.root

# HTTP from inside a container with busybox's nc (the host's static busybox's wget crashes:
# its libc's resolver needs NSS); BY_NAME resolves NAME with the network's DNS server first
FETCH = "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {host} 80"
BY_NAME = (
    "ip=$(nslookup {name} | sed -n 's/^Address: //p' | tail -n1); "
    '[ -n "$ip" ] && ' + FETCH.format(host='"$ip"')
)


def _fetch_from(dy: Dockyard, network: str, script: str) -> str:
    """What a one-shot container on *network* running *script* printed."""
    return dy.run("run", "--rm", "--network", network, "busybox", "sh", "-c", script,
                  check=False).stdout  # fmt: skip


def test_seed_scenario(dy: Dockyard) -> None:
    port = free_port()
    dy.run("network", "create", "--subnet", "10.213.71.0/24", "appnet")
    dy.run("network", "create", "--subnet", "10.213.72.0/24", "othernet")
    dy.run("run", "-d", "--name", "api", "--network", "appnet", *httpd("api-body"))
    dy.run("run", "-d", "--name", "ui", "--network", "appnet", "-p", f"{port}:80",
           *httpd("ui-body"))  # fmt: skip

    assert wait_http(port) == b"ui-body\n"

    # ui reaches api by its name, through the network's DNS (the static busybox's wget cannot
    # resolve names itself: its libc's resolver needs NSS, so nslookup asks the server)
    got = dy.run("exec", "ui", "sh", "-c", BY_NAME.format(name="api"), check=False)
    assert got.returncode == 0, got.stderr
    assert got.stdout.startswith("HTTP/1.1 200 OK") and got.stdout.endswith("\napi-body\n")

    # only ui is published: nothing on the host leads to api
    assert dy.out("port", "api").strip() == ""
    api_ports = dy.inspect("api")["NetworkSettings"]["Ports"]
    assert all(not bindings for bindings in api_ports.values())
    assert dy.out("port", "ui", "80").strip() == f"0.0.0.0:{port}"
    rows = {line.split()[-1]: line for line in dy.out("ps").splitlines()[1:]}
    assert f"0.0.0.0:{port}->80/tcp" in rows["ui"]
    assert "->" not in rows["api"]

    # a container on another network reaches neither, by address or by name
    api_ip = dy.inspect("api")["NetworkSettings"]["Networks"]["appnet"]["IPAddress"]
    ui_ip = dy.inspect("ui")["NetworkSettings"]["Networks"]["appnet"]["IPAddress"]
    assert api_ip and ui_ip
    for ip in (api_ip, ui_ip):
        assert "-body" not in _fetch_from(dy, "othernet", FETCH.format(host=ip)), ip
    assert "-body" not in _fetch_from(dy, "othernet", BY_NAME.format(name="api"))
    # ...while a one-shot container on appnet does (the checks above can fail)
    assert "api-body" in _fetch_from(dy, "appnet", FETCH.format(host=api_ip))
    assert "ui-body" in _fetch_from(dy, "appnet", BY_NAME.format(name="ui"))
