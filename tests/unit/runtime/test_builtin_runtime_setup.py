"""The builtin runtime's set-up decisions, checked without root: config validation, seccomp
compilation and its cache, and the mounts the init makes (recorded, not performed)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from dockyard._sys import mountapi as m
from dockyard._sys import seccomp
from dockyard.errors import InvalidArgument
from dockyard.runtime.builtin import rootfs
from dockyard.runtime.builtin.seccomp_cache import CACHE_DIR, program_for
from dockyard.runtime.builtin.validate import validate
from dockyard.runtime.spec import ContainerSpec, capabilities, default_seccomp, generate


def _config(**fields: Any) -> dict[str, Any]:
    return generate(ContainerSpec(args=("sh",), **fields))


def test_generated_configs_validate() -> None:
    validate(_config(hostname="web", sysctl={"net.ipv4.ip_forward": "1", "kernel.shmmax": "1"}))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"namespaces": ("pid", "network", "ipc", "mount")}, "hostname needs a UTS"),
        ({"namespaces": ("pid", "uts", "mount"), "sysctl": {"net.core.somaxconn": "1"}},
         "needs a network namespace"),
        ({"sysctl": {"kernel.panic": "1"}}, "not namespaced"),
        ({"namespaces": ("pid", "uts", "network")}, "mount namespace"),
        ({"namespace_paths": {"mount": "/proc/1/ns/mnt"}}, "mount namespace"),
    ],
)  # fmt: skip
def test_configs_that_would_touch_the_host_are_refused(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        validate(_config(hostname="web", **fields))


def test_empty_command_and_unmapped_user_namespace_are_refused() -> None:
    config = _config()
    config["process"]["args"] = []
    with pytest.raises(InvalidArgument, match="args"):
        validate(config)
    config = _config()
    config["linux"]["namespaces"].append({"type": "user"})
    with pytest.raises(InvalidArgument, match="mappings"):
        validate(config)


def test_docker_profile_compiles_to_bpf_and_is_cached(tmp_path: Path) -> None:
    profile = default_seccomp(capabilities(), os.uname().machine)
    program = seccomp.compile_bpf(profile)
    assert len(program) > 100 * 8 and len(program) % 8 == 0  # struct sock_filter is 8 bytes
    assert program_for(str(tmp_path), profile) == program
    cached = list((tmp_path / CACHE_DIR).iterdir())
    assert len(cached) == 1
    cached[0].write_bytes(b"\0" * 8)  # the cache is what create hands the init
    assert program_for(str(tmp_path), profile) == b"\0" * 8
    other = default_seccomp(capabilities(cap_add=("SYS_ADMIN",)), os.uname().machine)
    assert program_for(str(tmp_path), other) != b"\0" * 8


def test_bad_seccomp_profile_is_invalid_argument(tmp_path: Path) -> None:
    bad = {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "NOPE"}]}
    with pytest.raises(InvalidArgument, match="NOPE"):
        program_for(str(tmp_path), bad)


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str | None, str, str | None, int, str | None]] = []

    def mount(self, source: Any, target: Any, fstype: Any = None, flags: int = 0, data: Any = None):  # type: ignore[no-untyped-def]
        self.calls.append((source, os.fspath(target), fstype, flags, data))

    def at(self, target: str) -> list[tuple[str | None, str, str | None, int, str | None]]:
        return [c for c in self.calls if c[1] == target]


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> _Recorder:
    rec = _Recorder()
    monkeypatch.setattr(rootfs.m, "mount", rec.mount)
    monkeypatch.setattr(rootfs.os, "mknod", _no_mknod)
    return rec


def _no_mknod(*_args: Any) -> None:
    raise PermissionError(1, "mknod")


def test_rootfs_mounts_follow_the_spec(tmp_path: Path, recorder: _Recorder) -> None:
    root = str(tmp_path / "rootfs")
    (tmp_path / "rootfs" / "etc").mkdir(parents=True)
    (tmp_path / "rootfs" / "link").symlink_to("/etc")
    (tmp_path / "data").mkdir()
    config = _config(mounts=({"destination": "/link/data", "type": "bind",
                              "source": str(tmp_path / "data"), "options": ["rbind", "ro"]},))  # fmt: skip
    rootfs.prepare_rootfs(config, root)
    first, second = recorder.calls[:2]
    assert first == (None, "/", None, m.MS_PRIVATE | m.MS_REC, None)
    assert second == (root, root, None, m.MS_BIND | m.MS_REC, None)
    pts = recorder.at(f"{root}/dev/pts")
    assert pts == [("devpts", f"{root}/dev/pts", "devpts", m.MS_NOSUID | m.MS_NOEXEC,
                    "newinstance,ptmxmode=0666,mode=0620,gid=5")]  # fmt: skip
    # A symlink in the image is followed inside the rootfs, never to the host's /etc.
    bind = recorder.at(f"{root}/etc/data")
    assert bind[0] == (str(tmp_path / "data"), f"{root}/etc/data", None, m.MS_BIND | m.MS_REC, None)
    assert bind[1][3] == m.MS_BIND | m.MS_REMOUNT | m.MS_RDONLY
    # Without mknod (as in a user namespace), devices are bound from the host.
    assert recorder.at(f"{root}/dev/null") == [
        ("/dev/null", f"{root}/dev/null", None, m.MS_BIND, None)
    ]
    assert os.readlink(f"{root}/dev/ptmx") == "pts/ptmx"
    assert os.readlink(f"{root}/dev/fd") == "/proc/self/fd"


def test_masked_and_readonly_paths_are_mounted_over(tmp_path: Path, recorder: _Recorder) -> None:
    (tmp_path / "file").write_text("secret")
    (tmp_path / "dir").mkdir()
    config = {"linux": {"maskedPaths": [str(tmp_path / "file"), str(tmp_path / "dir"),
                                        str(tmp_path / "absent")],
                        "readonlyPaths": [str(tmp_path / "dir")]}}  # fmt: skip
    rootfs.finish_rootfs(config)
    assert recorder.at(str(tmp_path / "file")) == [
        ("/dev/null", str(tmp_path / "file"), None, m.MS_BIND, None)
    ]
    dir_calls = recorder.at(str(tmp_path / "dir"))
    assert dir_calls[0][3] == m.MS_BIND | m.MS_REC  # read-only: bind on itself...
    assert dir_calls[1][3] & (m.MS_REMOUNT | m.MS_RDONLY) == m.MS_REMOUNT | m.MS_RDONLY
    assert dir_calls[2] == ("tmpfs", str(tmp_path / "dir"), "tmpfs", m.MS_RDONLY, None)
    assert recorder.at(str(tmp_path / "absent")) == []


def test_create_waits_for_the_init_pid_when_ready_overtakes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a busy host the init's "ready" can reach create before its parent stage's "pid":
    create must still return the init's pid (0 left the init waiting on its fifo forever)."""
    import time

    from dockyard.runtime.builtin import channel, container_create, init

    def racy_stage1(ctx: init.Context) -> None:
        channel.send(ctx.sync_w, {"stage1": os.getpid(), "userns": False})
        os.read(ctx.go_r, 1)
        channel.send(ctx.sync_w, {"ready": True})  # the init, first
        time.sleep(0.2)
        channel.send(ctx.sync_w, {"pid": 4242})  # then the stage that forked it
        os._exit(0)

    monkeypatch.setattr(init, "stage1", racy_stage1)
    monkeypatch.setattr(channel, "threads", lambda: 1)  # pytest may run threads of its own
    monkeypatch.setattr(init, "preload", lambda config: None)
    fifo = tmp_path / "exec.fifo"
    fifo.touch()
    pid = container_create._spawn("c1", {"linux": {}}, str(tmp_path), str(fifo), None, None, None)
    assert pid == 4242
