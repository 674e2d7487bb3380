"""``run``/``create`` flags become Docker's Config and HostConfig exactly as Docker's CLI
makes them: sizes, durations, restart policies, ulimits, env and label files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest

from dockyard import errors
from dockyard.cli.run import build_request, create_cmd, parse_bytes, parse_duration


@pytest.mark.parametrize(
    ("text", "value"),
    [("1024", 1024), ("512m", 512 * 1024**2), ("1g", 1024**3), ("1.5k", 1536), ("-1", -1),
     ("64MB", 64 * 1024**2)],
)  # fmt: skip
def test_sizes(text: str, value: int) -> None:
    assert parse_bytes(text) == value


@pytest.mark.parametrize(
    ("text", "ns"), [("30s", 30 * 10**9), ("1m30s", 90 * 10**9), ("500ms", 5 * 10**8), ("0", 0)]
)
def test_durations(text: str, ns: int) -> None:
    assert parse_duration(text) == ns


def test_bad_size_and_duration_are_refused() -> None:
    with pytest.raises(errors.InvalidArgument):
        parse_bytes("lots")
    with pytest.raises(errors.InvalidArgument, match="invalid duration"):
        parse_duration("10 seconds")


def _opts(args: list[str]) -> dict[str, Any]:
    ctx = create_cmd.make_context("create", args)
    return dict(ctx.params)


def test_flags_make_dockers_request(tmp_path: Path) -> None:
    env_file = tmp_path / "env"
    env_file.write_text("# comment\nFROM_FILE=1\nA=file\n")
    labels = tmp_path / "labels"
    labels.write_text("team=core\n")
    opts = _opts([
        "--name", "web", "-e", "A=flag", "--env-file", str(env_file), "-l", "x=y",
        "--label-file", str(labels), "-it", "--restart", "on-failure:3", "--memory", "64m",
        "--memory-swap", "-1", "--cpus", "0.5", "--pids-limit", "50", "--ulimit", "nofile=10:20",
        "--health-cmd", "true", "--health-interval", "2s", "--log-opt", "max-size=1m",
        "--tmpfs", "/run:size=1m", "--init", "--entrypoint", "", "busybox", "sh", "-c", "x",
    ])  # fmt: skip
    config, host = build_request(opts)
    assert config["Image"] == "busybox" and config["Cmd"] == ["sh", "-c", "x"]
    assert config["Entrypoint"] == []
    assert config["Env"] == ["FROM_FILE=1", "A=file", "A=flag"]  # the flag comes last, wins
    assert config["Labels"] == {"team": "core", "x": "y"}
    assert config["Tty"] and config["OpenStdin"]
    assert config["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 2 * 10**9}
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert (host["Memory"], host["MemorySwap"], host["NanoCpus"]) == (64 * 1024**2, -1, 5 * 10**8)
    assert host["PidsLimit"] == 50 and host["Init"] is True
    assert host["Ulimits"] == [{"Name": "nofile", "Soft": 10, "Hard": 20}]
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "1m"}}
    assert host["Tmpfs"] == {"/run": "size=1m"}


def test_command_flags_after_the_image_belong_to_the_command() -> None:
    opts = _opts(["busybox", "ls", "-l", "-h", "--name", "x"])
    assert opts["command"] == ("ls", "-l", "-h", "--name", "x") and opts["name"] is None


def test_no_healthcheck_conflicts_with_health_flags() -> None:
    with pytest.raises(errors.InvalidArgument):
        build_request(_opts(["--no-healthcheck", "--health-cmd", "true", "busybox"]))
    with pytest.raises(click.BadParameter):
        _opts(["--pull", "sometimes", "busybox"])
