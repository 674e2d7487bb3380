"""The builtin runtime's pure parts: mount options, path resolution inside a root, ids,
signals, seccomp actions, and the status read from a record."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard._sys import mountapi as m
from dockyard._sys.seccomp import action_value
from dockyard.errors import InvalidArgument
from dockyard.runtime.builtin import store
from dockyard.runtime.builtin.container_kill import parse_signal
from dockyard.runtime.builtin.process import find_executable
from dockyard.runtime.builtin.rootfs import mount_flags, resolve_in_root


def test_mount_flags_split_flags_propagation_and_data() -> None:
    flags, prop, data = mount_flags(["nosuid", "noexec", "ro", "rprivate", "mode=755", "size=1k"])
    assert flags == m.MS_NOSUID | m.MS_NOEXEC | m.MS_RDONLY
    assert prop == m.MS_PRIVATE | m.MS_REC
    assert data == "mode=755,size=1k"
    assert mount_flags(["ro", "rw", "rbind"])[0] == m.MS_BIND | m.MS_REC


def test_resolve_in_root_keeps_symlinks_inside(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "evil").symlink_to("/etc")
    (tmp_path / "up").symlink_to("../../../../tmp")
    assert resolve_in_root(str(tmp_path), "/evil/passwd") == str(tmp_path / "etc" / "passwd")
    assert resolve_in_root(str(tmp_path), "/up/x") == str(tmp_path / "tmp" / "x")
    assert resolve_in_root(str(tmp_path), "/../../a/./b") == str(tmp_path / "a" / "b")
    (tmp_path / "loop").symlink_to("loop")
    with pytest.raises(OSError):
        resolve_in_root(str(tmp_path), "/loop/x")


def test_container_ids_cannot_escape_the_root(tmp_path: Path) -> None:
    assert store.container_dir(tmp_path, "web-1.a_b") == str(tmp_path / "web-1.a_b")
    for bad in ("../x", "a/b", "", ".hidden"):
        with pytest.raises(InvalidArgument):
            store.container_dir(tmp_path, bad)


def test_status_is_read_from_the_world(tmp_path: Path) -> None:
    me = os.getpid()
    start = store.process_start_time(me)
    assert start is not None
    (tmp_path / "c").mkdir()
    record = store.Record(id="c", pid=me, start_time=start, bundle="/b", created="now")
    (tmp_path / "c" / store.FIFO).touch()
    assert store.status_of(tmp_path, record) == "created"
    (tmp_path / "c" / store.FIFO).unlink()
    assert store.status_of(tmp_path, record) == "running"
    record.start_time += 1  # the pid was reused by another process
    assert store.status_of(tmp_path, record) == "stopped"
    store.save(tmp_path, record)
    assert store.load(tmp_path, "c").pid == me
    with pytest.raises(Exception, match="No such container: d"):
        store.load(tmp_path, "d")


def test_parse_signal() -> None:
    assert parse_signal("KILL") == parse_signal("SIGKILL") == parse_signal("9") == 9
    with pytest.raises(InvalidArgument):
        parse_signal("SIGBOGUS")


def test_seccomp_action_values() -> None:
    assert action_value("SCMP_ACT_ALLOW", None) == 0x7FFF0000
    assert action_value("SCMP_ACT_ERRNO", None) == 0x00050000 | 1
    assert action_value("SCMP_ACT_ERRNO", 38) == 0x00050000 | 38
    with pytest.raises(ValueError):
        action_value("SCMP_ACT_TELEPORT", None)


def test_find_executable_uses_the_container_path(tmp_path: Path) -> None:
    tool = tmp_path / "tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    assert find_executable(["tool"], [f"PATH=/nonexistent:{tmp_path}"]) == str(tool)
    with pytest.raises(FileNotFoundError, match="nope"):
        find_executable(["nope"], [f"PATH={tmp_path}"])


def test_cgroup_hierarchies_are_named_by_controllers_only() -> None:
    from dockyard.runtime.builtin.rootfs import _hierarchy_options

    assert _hierarchy_options("cgroup", "rw,cpu,cpuacct") == "cpu,cpuacct"
    assert (
        _hierarchy_options("cgroup", "rw,xattr,release_agent=/lib/x,name=systemd") == "name=systemd"
    )
    assert _hierarchy_options("cgroup2", "rw,nsdelegate") is None


def test_exec_process_builds_on_the_containers_process() -> None:
    from dockyard.runtime.builtin.container_exec import process_for

    base = {"args": ["sleep", "9"], "env": ["PATH=/bin", "A=1"], "cwd": "/srv",
            "user": {"uid": 0, "gid": 0}, "capabilities": {"bounding": ["CAP_KILL"]},
            "terminal": False}  # fmt: skip
    proc = process_for(base, ["sh"], env=["A=2", "B=3"], user="1000:50", terminal=True)
    assert proc["args"] == ["sh"]
    assert proc["env"] == ["PATH=/bin", "A=2", "B=3"]
    assert proc["cwd"] == "/srv"
    assert proc["user"] == {"uid": 1000, "gid": 50}
    assert proc["capabilities"] == {"bounding": ["CAP_KILL"]}
    assert proc["terminal"] is True
    assert process_for(base, ["ls"], cwd="/tmp")["cwd"] == "/tmp"
    with pytest.raises(InvalidArgument):
        process_for(base, ["ls"], user="root")
