"""The ``volume`` commands through click's runner (no root): output as Docker prints it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dockyard.cli.main import cli


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, ["--root", str(tmp_path / "root"), "volume", *args], input=input)

    return invoke


def test_create_conflicting_names(run) -> None:  # type: ignore[no-untyped-def]
    result = run("create", "--name", "one1", "two2")
    assert result.exit_code != 0
    assert "conflicting options: either specify --name or provide positional arg" in str(result.exception)
    assert run("create", "--name", "same", "same").output == "same\n"


def test_ls_default_table_and_quiet(run) -> None:  # type: ignore[no-untyped-def]
    run("create", "bb")
    run("create", "aa")
    assert run("ls").output.splitlines() == ["DRIVER   VOLUME NAME", "local    aa", "local    bb"]
    assert run("ls", "-q").output == "aa\nbb\n"
    assert run("list", "--format", "{{.Name}}:{{.Mountpoint}}").output.splitlines()[0].endswith(
        "/root/volumes/aa/_data"
    )


def test_prune_asks_first(run) -> None:  # type: ignore[no-untyped-def]
    name = run("create").output.strip()
    result = run("prune", "-a", input="n\n")
    assert "WARNING! This will remove all local volumes not used by at least one container." in result.output
    assert run("ls", "-q").output.split() == [name]
    result = run("prune", input="y\n")
    assert f"Deleted Volumes:\n{name}\n" in result.output
    assert run("ls", "-q").output == ""


def test_rm_reports_each_failure_and_exits_1(run) -> None:  # type: ignore[no-untyped-def]
    run("create", "real")
    result = run("rm", "real", "ghost")
    assert result.exit_code == 1
    assert result.stdout == "real\n"
    assert "Error response from daemon: get ghost: no such volume" in result.stderr
