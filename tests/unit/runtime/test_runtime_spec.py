"""OCI config generation: Docker's defaults and how the options change them."""

from __future__ import annotations

import json

import pytest

from dockyard.errors import InvalidArgument
from dockyard.runtime.spec import (
    DEFAULT_CAPS,
    ContainerSpec,
    bind_mount,
    capabilities,
    default_seccomp,
    generate,
)


def _spec(**fields: object) -> dict:
    return generate(ContainerSpec(args=("sh",), **fields))  # type: ignore[arg-type]


def _by_dest(config: dict) -> dict[str, dict]:
    return {m["destination"]: m for m in config["mounts"]}


def test_default_config_is_json_with_dockers_process_settings() -> None:
    config = json.loads(json.dumps(_spec(hostname="web", uid=1000, gid=1000, additional_gids=(5,))))
    assert config["ociVersion"].startswith("1.")
    assert config["hostname"] == "web"
    assert config["process"]["user"] == {"uid": 1000, "gid": 1000, "additionalGids": [5]}
    assert config["process"]["cwd"] == "/"
    assert config["process"]["env"][0].startswith("PATH=")
    assert config["root"] == {"path": "rootfs", "readonly": False}
    caps = config["process"]["capabilities"]
    assert caps["bounding"] == caps["effective"] == caps["permitted"]
    assert set(caps["bounding"]) == set(DEFAULT_CAPS)
    assert "inheritable" not in caps and "ambient" not in caps


def test_dockers_fourteen_default_capabilities() -> None:
    assert sorted(capabilities()) == sorted(
        "CAP_" + c
        for c in ["CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"]
    )  # fmt: skip


def test_cap_add_drop_and_privileged() -> None:
    caps = capabilities(cap_add=("sys_admin",), cap_drop=("CAP_NET_RAW", "mknod"))
    assert "CAP_SYS_ADMIN" in caps
    assert "CAP_NET_RAW" not in caps and "CAP_MKNOD" not in caps
    assert capabilities(cap_drop=("ALL",), cap_add=("CHOWN",)) == ["CAP_CHOWN"]
    assert len(capabilities(privileged=True)) > 40
    assert "CAP_SYS_ADMIN" in capabilities(cap_add=("ALL",))
    with pytest.raises(InvalidArgument, match="CAP_BOGUS"):
        capabilities(cap_add=("CAP_BOGUS",))


def test_default_namespaces_and_joining_one() -> None:
    ns = _spec()["linux"]["namespaces"]
    assert {n["type"] for n in ns} == {"pid", "network", "ipc", "uts", "mount", "cgroup"}
    assert all("path" not in n for n in ns)
    joined = _spec(namespace_paths={"net": "/proc/42/ns/net"})["linux"]["namespaces"]
    assert {"type": "network", "path": "/proc/42/ns/net"} in joined
    assert [n["type"] for n in joined].count("network") == 1


def test_user_namespace_needs_and_emits_mappings() -> None:
    with pytest.raises(InvalidArgument):
        _spec(user_namespace=True)
    linux = _spec(user_namespace=True, uid_mappings=((0, 100000, 65536),),
                  gid_mappings=((0, 100000, 65536),))["linux"]  # fmt: skip
    assert {"type": "user"} in linux["namespaces"]
    assert linux["uidMappings"] == [{"containerID": 0, "hostID": 100000, "size": 65536}]


def test_default_mounts_match_docker() -> None:
    mounts = _by_dest(_spec(shm_size=128 * 1024 * 1024))
    assert set(mounts) == {"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys",
                           "/sys/fs/cgroup"}  # fmt: skip
    pts = mounts["/dev/pts"]["options"]
    assert {"newinstance", "ptmxmode=0666", "mode=0620", "gid=5"} <= set(pts)
    assert "size=131072k" in mounts["/dev/shm"]["options"]
    assert "ro" in mounts["/sys"]["options"] and "ro" in mounts["/sys/fs/cgroup"]["options"]
    assert "ro" not in _by_dest(_spec(privileged=True))["/sys"]["options"]


def test_user_mount_replaces_the_default_at_its_destination() -> None:
    config = _spec(mounts=(bind_mount("/srv/shm", "/dev/shm", readonly=True),))
    shm = [m for m in config["mounts"] if m["destination"] == "/dev/shm"]
    assert shm == [{"destination": "/dev/shm", "type": "bind", "source": "/srv/shm",
                    "options": ["rbind", "rprivate", "ro"]}]  # fmt: skip


def test_masked_and_readonly_paths_unless_privileged() -> None:
    linux = _spec()["linux"]
    assert "/proc/kcore" in linux["maskedPaths"] and "/sys/firmware" in linux["maskedPaths"]
    assert "/proc/sys" in linux["readonlyPaths"]
    privileged = _spec(privileged=True)["linux"]
    assert privileged["maskedPaths"] == [] and privileged["readonlyPaths"] == []
    assert "seccomp" not in privileged


def test_seccomp_default_profile_depends_on_capabilities() -> None:
    profile = _spec(arch="x86_64")["linux"]["seccomp"]
    assert profile["defaultAction"] == "SCMP_ACT_ERRNO"
    assert "SCMP_ARCH_X86_64" in profile["architectures"]
    allowed = {n for s in profile["syscalls"] if s["action"] == "SCMP_ACT_ALLOW" and "args" not in s
               for n in s["names"]}  # fmt: skip
    assert {"read", "write", "execve", "chroot", "arch_prctl"} <= allowed
    assert not {"mount", "unshare", "ptrace" if False else "reboot", "kexec_load"} & allowed
    clone3 = [s for s in profile["syscalls"] if s["names"] == ["clone3"]]
    assert clone3 == [{"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]
    admin = default_seccomp(capabilities(cap_add=("SYS_ADMIN",)), "x86_64")
    admin_allowed = {n for s in admin["syscalls"] if "args" not in s for n in s["names"]}
    assert {"mount", "unshare", "clone", "clone3"} <= admin_allowed
    assert _spec(seccomp="unconfined")["linux"].get("seccomp") is None


def test_other_linux_settings() -> None:
    config = _spec(cgroups_path="/dockyard/abc", sysctl={"net.ipv4.ip_forward": "1"},
                   oom_score_adj=500, rlimits=(("RLIMIT_NOFILE", 1024, 2048),),
                   no_new_privileges=True, annotations={"a": "b"})  # fmt: skip
    assert config["linux"]["cgroupsPath"] == "/dockyard/abc"
    assert config["linux"]["sysctl"] == {"net.ipv4.ip_forward": "1"}
    assert config["process"]["oomScoreAdj"] == 500
    assert config["process"]["rlimits"] == [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 2048}]
    assert config["process"]["noNewPrivileges"] is True
    assert config["annotations"] == {"a": "b"}


def test_bad_input_is_invalid_argument() -> None:
    with pytest.raises(InvalidArgument, match="no command"):
        generate(ContainerSpec(args=()))
    with pytest.raises(InvalidArgument, match="namespace"):
        _spec(namespaces=("pid", "time-travel"))
    with pytest.raises(InvalidArgument, match="seccomp"):
        _spec(seccomp="strict")
