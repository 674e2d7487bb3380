"""What a process run by an OCI runtime sees of itself; the same tests for builtin and runc."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from oci_runtime_helpers import Runtime

pytestmark = pytest.mark.root

DOCKER_CAPS = "00000000a80425fb"


def _status(out: str, key: str) -> str:
    return next(line.split()[1] for line in out.splitlines() if line.startswith(key + ":"))


def test_process_is_pid1_with_own_hostname_and_only_loopback(
    runtime: Runtime, make_bundle: Callable[..., Path]
) -> None:
    bundle = make_bundle("iso", "sh", "-c", "echo $$; hostname; ls /sys/class/net")
    out = runtime.run(bundle, "iso")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "box", "lo"]


def test_capabilities_are_dockers_default_set_and_seccomp_is_on(
    runtime: Runtime, make_bundle: Callable[..., Path]
) -> None:
    bundle = make_bundle("caps", "cat", "/proc/self/status")
    out = runtime.run(bundle, "caps")
    assert out.returncode == 0, out.stderr
    for key in ("CapEff", "CapPrm", "CapBnd"):
        assert _status(out.stdout, key) == DOCKER_CAPS, key
    assert _status(out.stdout, "NoNewPrivs") == "0"
    assert _status(out.stdout, "Seccomp") == "2"


def test_seccomp_denies_what_docker_denies(
    runtime: Runtime, make_bundle: Callable[..., Path]
) -> None:
    # With CAP_SYS_ADMIN, Docker's profile allows mount; a profile that denies it wins over
    # the capability, so the filter (not the capability set) is what refused it.
    bundle = make_bundle(
        "sec", "sh", "-c", "mount -t tmpfs t /tmp && echo mounted", cap_add=("SYS_ADMIN",)
    )
    out = runtime.run(bundle, "sec")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "mounted"
    denied = make_bundle("sec2", "sh", "-c", "mount -t tmpfs t /tmp", cap_add=("SYS_ADMIN",),
                         seccomp={"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                             {"names": ["mount"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]})  # fmt: skip
    out = runtime.run(denied, "sec2")
    assert out.returncode != 0
    assert "Operation not permitted" in out.stderr or "permission" in out.stderr.lower()


def test_masked_and_readonly_paths(runtime: Runtime, make_bundle: Callable[..., Path]) -> None:
    assert Path("/proc/timer_list").read_bytes(), "the host's file must not be empty"
    script = (
        "echo size=$(cat /proc/timer_list | wc -c); "
        "touch /sys/x 2>/dev/null || echo sys-ro; "
        "echo x > /proc/sys/kernel/hostname 2>/dev/null || echo procsys-ro; "
        "ls /sys/firmware | wc -l"
    )
    out = runtime.run(make_bundle("mask", "sh", "-c", script), "mask")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["size=0", "sys-ro", "procsys-ro", "0"]


def test_user_applies_and_drops_capabilities(
    runtime: Runtime, make_bundle: Callable[..., Path]
) -> None:
    bundle = make_bundle(
        "user", "sh", "-c", "id -u; id -G; grep CapEff /proc/self/status",
        uid=1000, gid=1000, additional_gids=(10, 20),
    )  # fmt: skip
    out = runtime.run(bundle, "user")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "1000"
    assert sorted(lines[1].split()) == ["10", "1000", "20"]
    assert lines[2].split()[1] == "0000000000000000"


def test_exit_code_propagates(runtime: Runtime, make_bundle: Callable[..., Path]) -> None:
    out = runtime.run(make_bundle("exit", "sh", "-c", "exit 3"), "exit")
    assert out.returncode == 3


def test_env_cwd_and_readonly_rootfs(runtime: Runtime, make_bundle: Callable[..., Path]) -> None:
    bundle = make_bundle(
        "env", "sh", "-c", "echo $GREETING; pwd; touch /x 2>/dev/null || echo rootfs-ro",
        env=("PATH=/bin", "GREETING=hello"), cwd="/tmp", rootfs_readonly=True,
    )  # fmt: skip
    out = runtime.run(bundle, "env")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["hello", "/tmp", "rootfs-ro"]


def test_missing_command_fails_at_create(
    runtime: Runtime, make_bundle: Callable[..., Path]
) -> None:
    out = runtime.run(make_bundle("nocmd", "no-such-command"), "nocmd")
    assert out.returncode != 0
    assert "no-such-command" in out.stderr


def test_no_new_privileges_with_seccomp_loaded_last(
    runtime: Runtime, make_bundle: Callable[..., Path]
) -> None:
    bundle = make_bundle("nnp", "cat", "/proc/self/status", no_new_privileges=True, uid=1000)
    out = runtime.run(bundle, "nnp")
    assert out.returncode == 0, out.stderr
    assert _status(out.stdout, "NoNewPrivs") == "1"
    assert _status(out.stdout, "Seccomp") == "2"
    assert _status(out.stdout, "Uid") == "1000"


def test_user_namespace_maps_root_to_an_unprivileged_host_uid(
    runtime: Runtime, make_bundle: Callable[..., Path]
) -> None:
    # The mapped root is an unprivileged host user: it must be able to reach the bundle, and
    # pytest keeps its temporary directories 0700.
    parent = Path(tempfile.mkdtemp(prefix="dockyard-test-root-userns-", dir="/tmp"))
    try:
        parent.chmod(0o711)
        bundle = make_bundle(
            "userns", "sh", "-c", "id -u; cat /proc/self/uid_map; echo $$", parent=parent,
            user_namespace=True, uid_mappings=((0, 100000, 65536),),
            gid_mappings=((0, 100000, 65536),),
        )  # fmt: skip
        out = runtime.run(bundle, "userns")
    finally:
        shutil.rmtree(parent)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "0"
    assert lines[1].split() == ["0", "100000", "65536"]
    assert lines[2] == "1"


def test_cgroup_filesystem_is_visible_and_read_only(
    runtime: Runtime, make_bundle: Callable[..., Path]
) -> None:
    v2 = Path("/sys/fs/cgroup/cgroup.controllers").exists()
    target = "/sys/fs/cgroup/x" if v2 else "/sys/fs/cgroup/pids/x"
    script = f"ls /sys/fs/cgroup; mkdir {target} 2>/dev/null || echo cgroup-ro"
    out = runtime.run(make_bundle("cg", "sh", "-c", script), "cg")
    assert out.returncode == 0, out.stderr
    seen = set(out.stdout.split())
    assert "cgroup-ro" in seen
    assert ("cgroup.controllers" in seen) if v2 else ({"memory", "pids"} <= seen)


def test_rlimits_sysctl_and_oom_score_adj(
    runtime: Runtime, make_bundle: Callable[..., Path]
) -> None:
    host_forward = Path("/proc/sys/net/ipv4/ip_forward").read_text()
    flipped = "0" if host_forward.strip() == "1" else "1"
    bundle = make_bundle(
        "limits", "sh", "-c",
        "ulimit -n; cat /proc/sys/net/ipv4/ip_forward; cat /proc/self/oom_score_adj",
        rlimits=(("RLIMIT_NOFILE", 1024, 2048),), sysctl={"net.ipv4.ip_forward": flipped},
        oom_score_adj=500,
    )  # fmt: skip
    out = runtime.run(bundle, "limits")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1024", flipped, "500"]
    assert Path("/proc/sys/net/ipv4/ip_forward").read_text() == host_forward
