"""The container process's identity, applied by the init just before exec: rlimits, sysctls,
capabilities, user and groups, no_new_privs, seccomp, and the executable's path.

Runs inside the init, after pivot_root (see README.md for the order and why). Imports only the
standard library and ``dockyard._sys``.
"""

from __future__ import annotations

import os
import resource
from typing import Any

from dockyard._sys import caps as capsys
from dockyard._sys import prctl

__all__ = [
    "apply_identity",
    "apply_rlimits",
    "apply_sysctl",
    "find_executable",
    "load_seccomp",
]

_RLIM_INFINITY_OCI = 2**64 - 1


def apply_rlimits(process: dict[str, Any]) -> None:
    """setrlimit for each OCI rlimit. Raises OSError, or ValueError for an unknown type."""
    for rl in process.get("rlimits") or []:
        kind = getattr(resource, rl["type"], None)
        if kind is None:
            raise ValueError(f"unknown rlimit {rl['type']}")

        def value(v: int) -> int:
            return resource.RLIM_INFINITY if v >= 2**63 else v

        resource.setrlimit(kind, (value(rl["soft"]), value(rl["hard"])))


def apply_sysctl(sysctl: dict[str, str]) -> None:
    """Write each ``net.ipv4.ip_forward``-style key under /proc/sys. Raises OSError."""
    for key, value in sysctl.items():
        with open("/proc/sys/" + key.replace(".", "/"), "w") as f:
            f.write(value)


def find_executable(args: list[str], env: list[str]) -> str:
    """The path exec will run: ``args[0]`` if it has a slash, else looked up in the
    container's PATH. Raises FileNotFoundError naming the command."""
    name = args[0]
    if "/" in name:
        if os.access(name, os.X_OK):
            return name
        raise FileNotFoundError(2, f"exec: {name}: no such file or not executable")
    path = next((e[5:] for e in env if e.startswith("PATH=")), "/usr/sbin:/usr/bin:/sbin:/bin")
    for directory in path.split(":"):
        candidate = os.path.join(directory or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError(2, f'exec: "{name}": executable file not found in $PATH')


def _last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except OSError:
        return len(capsys.CAP_NAMES) - 1


def _mask(names: list[str] | None, last: int) -> int:
    bits = 0
    for name in names or []:
        try:
            number = capsys.cap_number(name)
        except KeyError:
            continue  # unknown to us: runc warns and skips too
        if number <= last:
            bits |= 1 << number
    return bits


def apply_identity(process: dict[str, Any]) -> None:
    """Bounding set, groups, gid, uid, then effective/permitted/inheritable and ambient caps.

    The bounding set is cut while still root; keep-caps carries the permitted set across the
    uid change so capset can then set exactly what the spec asks. Raises OSError.
    """
    spec_caps = process.get("capabilities") or {}
    last = _last_cap()
    bounding = _mask(spec_caps.get("bounding"), last)
    for cap in range(last + 1):
        if not bounding & (1 << cap):
            prctl.capbset_drop(cap)
    user = process.get("user") or {}
    uid, gid = int(user.get("uid", 0)), int(user.get("gid", 0))
    prctl.set_keepcaps(True)
    os.setgroups([int(g) for g in user.get("additionalGids") or []])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    prctl.set_keepcaps(False)
    capsys.capset(
        capsys.CapSets(
            effective=_mask(spec_caps.get("effective"), last),
            permitted=_mask(spec_caps.get("permitted"), last),
            inheritable=_mask(spec_caps.get("inheritable"), last),
        )
    )
    ambient = _mask(spec_caps.get("ambient"), last)
    for cap in range(last + 1):
        if ambient & (1 << cap):
            prctl.ambient_raise(cap)
    if "umask" in user:
        os.umask(int(user["umask"]))


def reset_signals() -> None:
    """Every signal back to its default action and none blocked, as a container's process
    starts under Docker: an ignored signal survives exec, and whoever forked us (Python, which
    ignores SIGPIPE and SIGXFSZ; the shim, which ignores SIGHUP) may have ignored some."""
    import signal

    for sig in signal.valid_signals():
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):
            pass  # signals Python may not touch
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def load_seccomp(program: bytes) -> None:
    """Install the compiled seccomp *program* on this process. Raises OSError."""
    from dockyard._sys import seccomp

    seccomp.load_bpf(program)
