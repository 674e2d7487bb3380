"""The ``network`` commands through click's runner over a pretend host: Docker's output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dockyard.cli.main import cli
from dockyard.service.engine import Engine
from dockyard.service.settings import Settings


@pytest.fixture
def run(tmp_path: Path, host):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, ["--root", str(tmp_path / "root"), *args], input=input)

    return invoke


def test_ls_lists_bridge_host_none_like_docker(run, host) -> None:  # type: ignore[no-untyped-def]
    lines = run("network", "ls").output.splitlines()
    assert lines[0].split() == ["NETWORK", "ID", "NAME", "DRIVER", "SCOPE"]
    assert [line.split()[1:] for line in lines[1:]] == [
        ["bridge", "bridge", "local"], ["host", "host", "local"], ["none", "null", "local"],
    ]  # fmt: skip
    assert all(len(line.split()[0]) == 12 for line in lines[1:])
    assert "dockyard0-unit" in host.links  # the default bridge exists once listed


def test_create_inspect_ls_rm(run, host) -> None:  # type: ignore[no-untyped-def]
    out = run("network", "create", "--subnet", "10.77.0.0/24", "--label", "team=a", "web")
    assert out.exit_code == 0, out.output
    net_id = out.output.strip()
    assert len(net_id) == 64
    doc = json.loads(run("network", "inspect", "web").output)[0]
    assert doc["Id"] == net_id and doc["Driver"] == "bridge" and doc["Scope"] == "local"
    assert doc["IPAM"] == {"Driver": "default", "Options": {},
                           "Config": [{"Subnet": "10.77.0.0/24", "Gateway": "10.77.0.1"}]}  # fmt: skip
    assert doc["Labels"] == {"team": "a"} and doc["Containers"] == {} and not doc["Internal"]
    assert run("inspect", "--format", "{{.Name}} {{.Driver}}", net_id[:12]).output == "web bridge\n"
    assert run("network", "ls", "-q", "--filter", "label=team=a").output == net_id[:12] + "\n"
    assert (
        run("network", "ls", "--filter", "type=custom", "--format", "{{.Name}}").output == "web\n"
    )
    assert run("network", "rm", "web").output == "web\n"
    assert run("network", "ls", "--format", "{{.Name}}").output == "bridge\nhost\nnone\n"
    assert [b for b in host.links if b.startswith("dockyard-")] == []


def test_errors_as_docker(run) -> None:  # type: ignore[no-untyped-def]
    missing = run("network", "rm", "nope")
    assert missing.exit_code == 1
    assert "network nope not found" in missing.output
    assert run("network", "rm", "-f", "nope").exit_code == 0
    builtin = run("network", "rm", "bridge")
    assert builtin.exit_code == 1
    assert "bridge is a pre-defined network and cannot be removed" in builtin.output
    inspect = run("network", "inspect", "nope")
    assert inspect.exit_code == 1 and "No such network: nope" in inspect.output
    bad = run("network", "create", "-d", "overlay", "x")
    assert bad.exit_code != 0 and 'plugin "overlay" not found' in str(bad.exception)
    run("network", "create", "dup")
    again = run("network", "create", "dup")
    assert again.exit_code != 0 and "already exists" in str(again.exception)


def test_prune_asks_then_removes_unused(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("network", "create", "a1")
    run("network", "create", "b1")
    engine = Engine(Settings.resolve(tmp_path / "root"))
    engine.networks.connect("b1", "c" * 64, "busy", "/proc/self/ns/net")
    assert run("network", "prune", input="n\n").output.endswith("[y/N]: n\n")
    assert "a1" in run("network", "ls").output
    assert run("network", "prune", "-f").output == "Deleted Networks:\na1\n\n"
    names = run("network", "ls", "--format", "{{.Name}}").output.split()
    assert names == ["b1", "bridge", "host", "none"]
    actions = [(e.action, e.attributes["name"]) for e in engine.events.since()]
    assert actions == [("create", "a1"), ("create", "b1"), ("connect", "b1"), ("destroy", "a1")]


def test_inspect_lists_connected_containers(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("network", "create", "--subnet", "10.78.0.0/24", "app")
    engine = Engine(Settings.resolve(tmp_path / "root"))
    engine.networks.connect("app", "d" * 64, "api", "/proc/self/ns/net", aliases=["backend"])
    doc = json.loads(run("network", "inspect", "app").output)[0]
    entry = doc["Containers"]["d" * 64]
    assert entry["Name"] == "api" and entry["IPv4Address"] == "10.78.0.2/24"
    assert len(entry["EndpointID"]) == 64 and entry["MacAddress"].startswith("02:42:")
    assert run("network", "rm", "app").exit_code == 1  # in use
    run("network", "create", "idle")
    dangling = run("network", "ls", "--filter", "dangling=true", "--format", "{{.Name}}")
    assert dangling.output == "idle\n"  # neither the busy one nor the predefined ones


def test_prune_until_and_label(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("network", "create", "--label", "keep=yes", "kept")
    run("network", "create", "fresh")
    assert run("network", "prune", "-f", "--filter", "until=1h").output == ""  # all too new
    assert run("network", "prune", "-f", "--filter", "label=keep=yes", "--filter",
               "until=2100-01-01T00:00:00Z").output == "Deleted Networks:\nkept\n\n"  # fmt: skip
    bad = run("network", "prune", "-f", "--filter", "until=soon")
    assert bad.exit_code != 0 and "invalid filter 'until=soon'" in str(bad.exception)
    assert run("network", "ls", "--format", "{{.Name}}").output.split() == [
        "bridge",
        "fresh",
        "host",
        "none",
    ]
