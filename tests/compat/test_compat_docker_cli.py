"""The real docker CLI (28.x) against the daemon, compared with what ``dockyard`` prints."""

from __future__ import annotations

import json
import subprocess
import tarfile
import time
from pathlib import Path

import pytest
from compat_daemon import Daemon

from _helpers.images import docker_archive, image


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    img = image([[("etc/", None), ("etc/hello", b"hi")], [("data", b"x" * 5000)]],
                tags=["busybox:latest", "example.com/app:1.0"])
    path = tmp_path / "images.tar"
    path.write_bytes(docker_archive([img]))
    return path


def _refs(rows: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(f"{r['Repository']}:{r['Tag']}", r["ID"]) for r in rows}


def test_version_and_info(daemon: Daemon) -> None:
    version = json.loads(daemon.docker("version", "--format", "{{json .}}").stdout)
    assert version["Client"]["ApiVersion"] == "1.50"  # negotiated: our newest
    assert version["Server"]["ApiVersion"] == "1.50"
    assert version["Server"]["MinAPIVersion"] == "1.24"
    info = daemon.docker("info")
    assert "Server Version: 0.1.0" in info.stdout
    assert f"Docker Root Dir: {daemon.root}" in info.stdout
    assert "ERROR" not in info.stdout + info.stderr and "errors pretty printing" not in info.stderr
    assert daemon.docker("ps").stdout.split() == ["CONTAINER", "ID", "IMAGE", "COMMAND",
                                                  "CREATED", "STATUS", "PORTS", "NAMES"]


def test_load_tag_inspect_rmi_match_the_dockyard_cli(daemon: Daemon, archive: Path) -> None:
    loaded = daemon.docker("load", "-i", str(archive)).stdout.splitlines()
    assert sorted(loaded) == ["Loaded image: busybox:latest", "Loaded image: example.com/app:1.0"]
    daemon.docker("tag", "busybox", "made-by-docker:v1")
    seen_by_docker = _refs(daemon.docker_json("images"))
    seen_by_dockyard = _refs([json.loads(line) for line in
                              daemon.dockyard("images", "--format", "json").stdout.splitlines()])
    assert seen_by_docker == seen_by_dockyard
    assert {ref for ref, _ in seen_by_docker} == {"busybox:latest", "example.com/app:1.0",
                                                  "made-by-docker:v1"}
    by_docker = json.loads(daemon.docker("image", "inspect", "made-by-docker:v1").stdout)[0]
    by_dockyard = json.loads(daemon.dockyard("inspect", "made-by-docker:v1").stdout)[0]
    assert by_docker["Id"] == by_dockyard["Id"]
    assert sorted(by_docker["RepoTags"]) == sorted(by_dockyard["RepoTags"])
    assert by_docker["RootFS"] == by_dockyard["RootFS"]
    out = daemon.docker("rmi", "made-by-docker:v1", "example.com/app:1.0").stdout.splitlines()
    assert out == ["Untagged: made-by-docker:v1", "Untagged: example.com/app:1.0"]
    gone = daemon.dockyard("inspect", "made-by-docker:v1", check=False)
    assert gone.returncode != 0 and "made-by-docker:v1" in gone.stderr


def test_errors_read_like_dockers(daemon: Daemon) -> None:
    rmi = daemon.docker("rmi", "nosuch", check=False)
    assert rmi.returncode == 1
    # (dockerd adds the default tag, "nosuch:latest"; the engine names what the user typed)
    assert rmi.stderr.startswith("Error response from daemon: No such image: nosuch")
    inspect = daemon.docker("image", "inspect", "nosuch", check=False)
    assert inspect.returncode == 1 and "No such image: nosuch" in inspect.stderr


def test_save_then_load_round_trip(daemon: Daemon, archive: Path, tmp_path: Path) -> None:
    daemon.docker("load", "-i", str(archive))
    before = daemon.docker("image", "inspect", "--format", "{{.Id}}", "busybox").stdout.strip()
    saved = tmp_path / "saved.tar"
    daemon.docker("save", "-o", str(saved), "busybox")
    with tarfile.open(saved) as tar:
        names = tar.getnames()
    assert "manifest.json" in names and "index.json" in names
    daemon.docker("rmi", "busybox", "example.com/app:1.0")
    assert daemon.docker("images", "-q").stdout.strip() == ""
    assert daemon.docker("load", "-i", str(saved)).stdout.strip() == "Loaded image: busybox:latest"
    after = daemon.docker("image", "inspect", "--format", "{{.Id}}", "busybox").stdout.strip()
    assert after == before
    # the dockyard CLI reads the same archive to the same image id
    piped = subprocess.run(["docker", "save", "busybox"], env=daemon.env, capture_output=True,
                           timeout=60, check=True).stdout
    assert piped[:512] and tarfile.is_tarfile(saved)
    assert daemon.dockyard("inspect", "--format", "{{.Id}}", "busybox").stdout.strip() == after


def _size(text: str) -> float:
    units = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * units[unit]
    raise AssertionError(text)


def test_system_df_agrees_with_dockyard(daemon: Daemon, archive: Path) -> None:
    daemon.docker("load", "-i", str(archive))
    docker_rows = {r["Type"]: r for r in daemon.docker_json("system", "df")}
    dockyard_rows = {r["Type"]: r for r in
                     (json.loads(line) for line in
                      daemon.dockyard("system", "df", "--format", "json").stdout.splitlines())}
    assert docker_rows["Images"]["TotalCount"] == dockyard_rows["Images"]["TotalCount"] == "1"
    ours, theirs = _size(docker_rows["Images"]["Size"]), _size(dockyard_rows["Images"]["Size"])
    assert ours > 0 and abs(ours - theirs) / ours < 0.01  # same bytes, Docker prints 4 digits


def test_events_show_a_tag_made_by_the_dockyard_cli(daemon: Daemon, archive: Path) -> None:
    daemon.docker("load", "-i", str(archive))
    since = f"{time.time():.3f}"
    # live: a stream opened before the change sees it (the daemon polls the shared log)
    live = subprocess.Popen(["docker", "events", "--filter", "event=tag", "--format",
                             "{{json .}}"], env=daemon.env, stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        daemon.dockyard("tag", "busybox", "tagged-by-dockyard:1")
        assert live.stdout is not None
        event = json.loads(live.stdout.readline())
    finally:
        live.terminate()
        live.wait(timeout=10)
    assert event["Actor"]["Attributes"]["name"] == "tagged-by-dockyard:1"
    # replayed: --since/--until end the stream by themselves
    until = f"{time.time() + 1:.3f}"
    rows = daemon.docker_json("events", "--since", since, "--until", until)
    assert [(r["Type"], r["Action"], r["Actor"]["Attributes"]["name"]) for r in rows] == [
        ("image", "tag", "tagged-by-dockyard:1")]


def test_daemon_shuts_down_cleanly_on_sigterm(daemon: Daemon) -> None:
    pidfile = daemon.root / "run" / "dockyard.pid"
    assert pidfile.read_text().strip() == str(daemon.proc.pid)
    assert oct(daemon.sock.stat().st_mode & 0o777) == "0o660"
    assert daemon.stop() == 0
    assert not daemon.sock.exists() and not pidfile.exists()


def test_import_history_and_prune(daemon: Daemon, tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs.tar"
    with tarfile.open(rootfs, "w") as tar:
        (tmp_path / "tool").write_text("#!/bin/sh\necho hi\n")
        tar.add(tmp_path / "tool", arcname="bin/tool")
    image_id = daemon.docker("import", "--change", "CMD [\"/bin/tool\"]", "--message", "by hand",
                             str(rootfs), "imported:v1").stdout.strip()
    assert image_id.startswith("sha256:")
    assert daemon.dockyard("inspect", "--format", "{{.Id}}", "imported:v1").stdout.strip() == image_id
    config = json.loads(daemon.docker("image", "inspect", "--format", "{{json .Config}}",
                                      "imported:v1").stdout)
    assert config["Cmd"] == ["/bin/tool"]
    history = daemon.docker_json("history", "imported:v1")
    assert [h["Comment"] for h in history] == ["by hand"]
    # an import without a name is dangling: prune removes it and keeps the named one
    other = tmp_path / "other.tar"
    with tarfile.open(other, "w") as tar:
        tar.add(tmp_path / "tool", arcname="bin/other")
    lone = daemon.docker("import", str(other)).stdout.strip()
    pruned = daemon.docker("image", "prune", "-f").stdout
    assert f"deleted: {lone}" in pruned and image_id not in pruned
    assert daemon.docker("images", "-qa", "--no-trunc").stdout.split() == [image_id]
