"""The pure parts of the container tools: ``ps`` filtering (top), change lists (diff),
safe path resolution and Go file modes (cp), the committed config, users for exec."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from dockyard import errors
from dockyard.cli.container_tools import _split_ref
from dockyard.service.containers.changes import layer_changes
from dockyard.service.containers.commit import new_image_config
from dockyard.service.containers.copy import go_mode, resolve_in_root
from dockyard.service.containers.exec import ExecInstance, exit_code_for, resolve_user
from dockyard.service.containers.top import filter_ps

PS = """UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 05:00 ?        00:00:01 /sbin/init
root        4242    4200  0 05:01 ?        00:00:00 sleep 60 --and args
"""


def test_filter_ps_keeps_the_container_rows_and_the_whole_command() -> None:
    out = filter_ps(PS, {4242})
    assert out["Titles"] == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert out["Processes"] == [
        ["root", "4242", "4200", "0", "05:01", "?", "00:00:00", "sleep 60 --and args"]
    ]
    with pytest.raises(errors.InvalidArgument, match="PID"):
        filter_ps("USER COMMAND\nroot init\n", {1})


def test_layer_changes_added_and_changed(tmp_path: Path) -> None:
    lower, upper = tmp_path / "lower", tmp_path / "upper"
    (lower / "etc").mkdir(parents=True)
    (lower / "etc" / "passwd").write_text("root\n")
    (upper / "etc").mkdir(parents=True)
    (upper / "etc" / "passwd").write_text("root\nme\n")
    (upper / "new" / "deep").mkdir(parents=True)
    assert layer_changes(str(upper), [str(lower)]) == [
        ("C", "/etc"), ("C", "/etc/passwd"), ("A", "/new"), ("A", "/new/deep"),
    ]  # fmt: skip


@pytest.mark.skipif(os.geteuid() != 0, reason="a whiteout is a 0/0 character device")
def test_layer_changes_whiteout_is_deleted(tmp_path: Path) -> None:
    (tmp_path / "lower" / "bin").mkdir(parents=True)
    (tmp_path / "lower" / "bin" / "vi").write_text("")
    (tmp_path / "upper" / "bin").mkdir(parents=True)
    os.mknod(tmp_path / "upper" / "bin" / "vi", stat.S_IFCHR | 0o600, 0)
    assert layer_changes(str(tmp_path / "upper"), [str(tmp_path / "lower")]) == [
        ("C", "/bin"), ("D", "/bin/vi")]  # fmt: skip


def test_resolve_in_root_keeps_links_inside(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "up").symlink_to("/")
    (root / "rel").symlink_to("../../../../etc")
    (root / "loop").symlink_to("loop")
    r = str(root)
    assert resolve_in_root(r, "/up/etc/passwd") == f"{r}/etc/passwd"
    assert resolve_in_root(r, "/rel/x") == f"{r}/etc/x"
    assert resolve_in_root(r, "/../../etc") == f"{r}/etc"
    assert resolve_in_root(r, "/up") == f"{r}/up"  # the last component is not followed
    assert resolve_in_root(r, "/up", follow_last=True) == r
    with pytest.raises(errors.InvalidArgument, match="symbolic links"):
        resolve_in_root(r, "/loop/x")


def test_go_mode_has_gos_type_bits() -> None:
    assert go_mode(stat.S_IFDIR | 0o755) == (1 << 31) | 0o755
    assert go_mode(stat.S_IFLNK | 0o777) == (1 << 27) | 0o777
    assert go_mode(stat.S_IFREG | 0o644) == 0o644


def test_new_image_config_carries_the_container_config_and_changes() -> None:
    base: dict[str, Any] = {"config": {"Cmd": ["sh"], "Env": ["PATH=/bin"]}, "rootfs": {"type": "layers",
            "diff_ids": ["sha256:a"]}, "history": [{"created": "x"}]}  # fmt: skip
    doc = new_image_config(base, {"Cmd": ["sleep", "1"], "Hostname": "abc", "Env": ["A=1"]},
                           ["ENV B=2"], "sha256:b", created="now", author="me",
                           comment="note")  # fmt: skip
    assert doc["config"]["Cmd"] == ["sleep", "1"] and "Hostname" not in doc["config"]
    assert "B=2" in doc["config"]["Env"] and "A=1" in doc["config"]["Env"]
    assert doc["rootfs"]["diff_ids"] == ["sha256:a", "sha256:b"]
    assert doc["history"][-1] == {"created": "now", "author": "me", "comment": "note"}
    assert base["rootfs"]["diff_ids"] == ["sha256:a"]  # not changed in place
    with pytest.raises(errors.InvalidArgument):
        new_image_config(base, {}, ["FROM x"], "sha256:b", created="now")


def test_resolve_user_reads_the_containers_files(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("app:x:1000:1001::/home:/bin/sh\n")
    (tmp_path / "etc" / "group").write_text("staff:x:50:\n")
    assert resolve_user(str(tmp_path), "app") == "1000:1001"
    assert resolve_user(str(tmp_path), "app:staff") == "1000:50"
    assert resolve_user(str(tmp_path), "7:8") == "7:8"
    with pytest.raises(errors.InvalidArgument, match="unable to find user nobody"):
        resolve_user(str(tmp_path), "nobody")


def test_exec_exit_codes_and_inspect_shape() -> None:
    assert exit_code_for(errors.NotFound("x")) == 127
    assert exit_code_for(errors.PermissionDenied("x")) == 126
    inst = ExecInstance("c" * 64, {"Cmd": ["sh", "-c", "true"], "Tty": True, "AttachStdin": True})
    doc = inst.inspect()
    assert (doc["ID"], doc["ContainerID"], doc["Running"], doc["ExitCode"]) == (
        inst.id, "c" * 64, False, None)  # fmt: skip
    assert doc["ProcessConfig"] == {"tty": True, "entrypoint": "sh", "arguments": ["-c", "true"],
                                    "privileged": False, "user": ""}  # fmt: skip


def test_cp_argument_split() -> None:
    assert _split_ref("web:/etc/hosts") == ("web", "/etc/hosts")
    assert _split_ref("web:") == ("web", "/")
    assert _split_ref("./a:b") == (None, "./a:b")
    assert _split_ref("/abs/path") == (None, "/abs/path")
    assert _split_ref("-") == (None, "-")
