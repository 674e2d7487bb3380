"""``volume create/ls/inspect/rm/prune`` through the real command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from volume_cli_helpers import VolumeCli

pytestmark = pytest.mark.root


def test_create_ls_inspect_rm(cli: VolumeCli, data_root: Path) -> None:
    assert cli.out("volume", "create", "--label", "tier=db", "data").strip() == "data"
    assert cli.out("volume", "create", "--name", "logs").strip() == "logs"
    anon = cli.out("volume", "create").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", anon)

    lines = cli.out("volume", "ls").splitlines()
    assert lines[0].split() == ["DRIVER", "VOLUME", "NAME"]
    assert sorted(line.split()[1] for line in lines[1:]) == sorted([anon, "data", "logs"])
    assert cli.out("volume", "ls", "-q", "--filter", "label=tier=db").split() == ["data"]
    # "^dat": an anonymous volume's hex name can begin with "da" but never with "dat"
    assert cli.out("volume", "ls", "--format", "{{.Name}} {{.Labels}}", "-f", "name=^dat").strip() == "data tier=db"
    row = json.loads(cli.out("volume", "ls", "--format", "json", "-f", "name=logs"))
    assert row["Name"] == "logs" and row["Driver"] == "local" and row["Scope"] == "local"

    doc = cli.inspect("data")
    assert set(doc) == {"CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope"}
    assert doc["Mountpoint"] == str(data_root / "volumes" / "data" / "_data")
    assert doc["Labels"] == {"tier": "db"} and doc["Options"] is None
    assert Path(doc["Mountpoint"]).is_dir()
    # top-level inspect finds volumes too
    assert cli.out("inspect", "--format", "{{.Name}} {{.Driver}}", "data").strip() == "data local"
    assert cli.inspect(anon)["Labels"] == {"com.docker.volume.anonymous": ""}

    Path(doc["Mountpoint"], "file").write_text("x")
    assert cli.out("volume", "rm", "data", "logs").split() == ["data", "logs"]
    assert not (data_root / "volumes" / "data").exists()
    assert cli.out("volume", "ls", "-q").split() == [anon]


def test_errors_are_dockers(cli: VolumeCli) -> None:
    missing = cli.run("volume", "rm", "ghost", check=False)
    assert missing.returncode == 1
    assert "Error response from daemon: get ghost: no such volume" in missing.stderr
    forced = cli.run("volume", "rm", "-f", "ghost")
    assert forced.stdout.strip() == "ghost"

    bad = cli.run("volume", "create", "bad/name", check=False)
    assert bad.returncode == 125
    assert '"bad/name" includes invalid characters for a local volume name' in bad.stderr

    opt = cli.run("volume", "create", "--opt", "colour=red", "v1", check=False)
    assert opt.returncode == 125 and 'invalid option: "colour"' in opt.stderr

    gone = cli.run("volume", "inspect", "ghost", check=False)
    assert gone.returncode == 1 and "No such volume: ghost" in gone.stderr
    assert json.loads(gone.stdout) == []


def test_create_is_idempotent(cli: VolumeCli) -> None:
    cli.run("volume", "create", "--label", "a=1", "same")
    cli.run("volume", "create", "--label", "a=2", "same")
    assert cli.inspect("same")["Labels"] == {"a": "1"}


def test_prune_removes_anonymous_then_all_and_reports_space(cli: VolumeCli) -> None:
    anon = cli.out("volume", "create").strip()
    cli.run("volume", "create", "named")
    Path(cli.inspect(anon)["Mountpoint"], "blob").write_bytes(b"z" * 2000)

    declined = cli.run("volume", "prune", input=b"n\n")
    assert "anonymous local volumes" in declined.stdout
    assert anon in cli.out("volume", "ls", "-q")

    out = cli.out("volume", "prune", "-f")
    assert out.splitlines()[:2] == ["Deleted Volumes:", anon]
    assert out.strip().endswith("Total reclaimed space: 2kB")
    assert cli.out("volume", "ls", "-q").split() == ["named"]

    out = cli.out("volume", "prune", "-a", "-f")
    assert "named" in out.split()
    assert cli.out("volume", "ls", "-q") == ""
