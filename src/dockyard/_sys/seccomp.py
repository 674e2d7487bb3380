"""Seccomp filters: compiled by libseccomp (``libseccomp.so.2`` via ctypes), loaded by prctl.

``compile_bpf(profile)`` turns the ``linux.seccomp`` section of an OCI runtime spec into a
classic BPF program (bytes); ``load_bpf(program)`` installs one on the calling thread. The two
are apart because compiling costs ~20 ms and loading microseconds: the runtime compiles once
per distinct profile (and caches the bytes), and the init only loads. Deciding *when* to load
(just before exec) is the runtime's business. libseccomp reports errors as negative errno
return values; they become ``OSError`` here. Imports only the standard library and
``dockyard._sys.libc`` (layer L1).
"""

from __future__ import annotations

import ctypes
import errno
import os
from typing import Any

__all__ = ["ACTIONS", "action_value", "compile_bpf", "load", "load_bpf"]

_ALLOW = 0x7FFF0000

#: OCI action names and their libseccomp values (ERRNO and TRACE take a 16-bit argument).
ACTIONS = {
    "SCMP_ACT_KILL": 0x00000000,
    "SCMP_ACT_KILL_THREAD": 0x00000000,
    "SCMP_ACT_KILL_PROCESS": 0x80000000,
    "SCMP_ACT_TRAP": 0x00030000,
    "SCMP_ACT_ERRNO": 0x00050000,
    "SCMP_ACT_TRACE": 0x7FF00000,
    "SCMP_ACT_LOG": 0x7FFC0000,
    "SCMP_ACT_ALLOW": _ALLOW,
}

_OPS = {
    "SCMP_CMP_NE": 1,
    "SCMP_CMP_LT": 2,
    "SCMP_CMP_LE": 3,
    "SCMP_CMP_EQ": 4,
    "SCMP_CMP_GE": 5,
    "SCMP_CMP_GT": 6,
    "SCMP_CMP_MASKED_EQ": 7,
}

_FLTATR_CTL_NNP = 3
_NR_SCMP_ERROR = -1


class _ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


_lib: Any = None


def _library() -> Any:
    global _lib
    if _lib is None:
        try:
            lib = ctypes.CDLL("libseccomp.so.2")
        except OSError as exc:
            raise OSError(errno.ENOSYS, f"libseccomp.so.2: {exc}") from exc
        vp, u32 = ctypes.c_void_p, ctypes.c_uint32
        lib.seccomp_init.argtypes, lib.seccomp_init.restype = [u32], vp
        lib.seccomp_release.argtypes = [vp]
        lib.seccomp_arch_add.argtypes = [vp, u32]
        lib.seccomp_arch_resolve_name.argtypes, lib.seccomp_arch_resolve_name.restype = (
            [ctypes.c_char_p],
            u32,
        )
        lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        lib.seccomp_rule_add_array.argtypes = [vp, u32, ctypes.c_int, ctypes.c_uint, vp]
        lib.seccomp_attr_set.argtypes = [vp, ctypes.c_int, u32]
        lib.seccomp_load.argtypes = [vp]
        lib.seccomp_export_bpf.argtypes = [vp, ctypes.c_int]
        _lib = lib
    return _lib


def _check(rc: int, what: str) -> None:
    if rc < 0:
        raise OSError(-rc, f"seccomp {what}: {os.strerror(-rc)}")


def action_value(name: str, errno_ret: int | None, default_errno: int = errno.EPERM) -> int:
    """The libseccomp value of OCI action *name*. Raises ValueError for an unknown action."""
    try:
        value = ACTIONS[name]
    except KeyError:
        raise ValueError(f"unsupported seccomp action {name}") from None
    if name in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"):
        value |= (default_errno if errno_ret is None else errno_ret) & 0xFFFF
    return value


def _rules(syscall: dict[str, Any]) -> list[list[_ArgCmp]]:
    """The argument comparisons of one OCI syscall entry, grouped into rules.

    Comparisons on distinct arguments are ANDed in one rule; several on the same argument
    make one rule each (ORed), as runc does.
    """
    cmps = [
        _ArgCmp(a["index"], _OPS[a["op"]], a.get("value", 0), a.get("valueTwo", 0))
        for a in syscall.get("args") or []
    ]
    if len({c.arg for c in cmps}) == len(cmps):
        return [cmps]
    return [[c] for c in cmps]


def compile_bpf(profile: dict[str, Any]) -> bytes:
    """The BPF program (an array of ``struct sock_filter``) for OCI ``linux.seccomp`` *profile*.

    Syscall names unknown to this architecture are skipped, as runc does. Raises OSError
    (ENOSYS when libseccomp is missing) and ValueError for an unknown action or operator.
    """
    lib = _library()
    default_errno = profile.get("defaultErrnoRet")
    default = action_value(profile["defaultAction"], default_errno)
    ctx = lib.seccomp_init(default)
    if not ctx:
        raise OSError(errno.EINVAL, "seccomp init: bad default action")
    try:
        _check(lib.seccomp_attr_set(ctx, _FLTATR_CTL_NNP, 0), "attr nnp")
        for arch in profile.get("architectures") or []:
            token = lib.seccomp_arch_resolve_name(arch.removeprefix("SCMP_ARCH_").lower().encode())
            if token:
                rc = lib.seccomp_arch_add(ctx, token)
                if rc != -errno.EEXIST:
                    _check(rc, f"arch {arch}")
        for entry in profile.get("syscalls") or []:
            action = action_value(entry["action"], entry.get("errnoRet"))
            if action == default:
                continue
            for name in entry.get("names") or []:
                nr = lib.seccomp_syscall_resolve_name(name.encode())
                if nr == _NR_SCMP_ERROR:
                    continue
                for cmps in _rules(entry):
                    array = (_ArgCmp * len(cmps))(*cmps) if cmps else None
                    rc = lib.seccomp_rule_add_array(ctx, action, nr, len(cmps), array)
                    _check(rc, f"rule {name}")
        fd = os.memfd_create("seccomp-bpf", os.MFD_CLOEXEC)
        try:
            _check(lib.seccomp_export_bpf(ctx, fd), "export")
            os.lseek(fd, 0, os.SEEK_SET)
            chunks = []
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)
    finally:
        lib.seccomp_release(ctx)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def load_bpf(program: bytes) -> None:
    """Install BPF *program* (from ``compile_bpf``) on the calling thread.

    Without no_new_privs this needs CAP_SYS_ADMIN. Raises OSError (EACCES without it,
    EINVAL for a malformed program).
    """
    from dockyard._sys import prctl

    if not program or len(program) % 8:
        raise OSError(errno.EINVAL, "seccomp: empty or malformed BPF program")
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    prctl.set_seccomp_filter(ctypes.addressof(fprog))


def load(profile: dict[str, Any]) -> None:
    """Compile *profile* and install it on the calling thread. Raises as both steps do."""
    load_bpf(compile_bpf(profile))
