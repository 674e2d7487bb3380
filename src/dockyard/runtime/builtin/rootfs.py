"""The container's filesystem, made by its init: rootfs bind, the spec's mounts, /dev, pivot_root,
masked and read-only paths.

Runs inside the init after the mount namespace exists (see README.md). ``mount_flags`` is a
pure parser; the rest performs mounts through ``dockyard._sys``. Imports only the standard
library and ``dockyard._sys``; never the engine or another L3 package.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from dockyard._sys import mountapi as m
from dockyard._sys.pivot import pivot_root

__all__ = [
    "finish_rootfs",
    "mount_flags",
    "pivot",
    "prepare_rootfs",
    "resolve_in_root",
]

_SET = {
    "ro": m.MS_RDONLY, "nosuid": m.MS_NOSUID, "nodev": m.MS_NODEV, "noexec": m.MS_NOEXEC,
    "sync": m.MS_SYNCHRONOUS, "dirsync": m.MS_DIRSYNC, "remount": m.MS_REMOUNT,
    "mand": m.MS_MANDLOCK, "noatime": m.MS_NOATIME, "nodiratime": m.MS_NODIRATIME,
    "bind": m.MS_BIND, "rbind": m.MS_BIND | m.MS_REC, "relatime": m.MS_RELATIME,
    "strictatime": m.MS_STRICTATIME, "nosymfollow": m.MS_NOSYMFOLLOW,
}  # fmt: skip
_CLEAR = {
    "rw": m.MS_RDONLY, "suid": m.MS_NOSUID, "dev": m.MS_NODEV, "exec": m.MS_NOEXEC,
    "async": m.MS_SYNCHRONOUS, "nomand": m.MS_MANDLOCK, "atime": m.MS_NOATIME,
    "diratime": m.MS_NODIRATIME, "norelatime": m.MS_RELATIME, "nostrictatime": m.MS_STRICTATIME,
}  # fmt: skip
_PROPAGATION = {
    "private": m.MS_PRIVATE, "rprivate": m.MS_PRIVATE | m.MS_REC,
    "slave": m.MS_SLAVE, "rslave": m.MS_SLAVE | m.MS_REC,
    "shared": m.MS_SHARED, "rshared": m.MS_SHARED | m.MS_REC,
    "unbindable": m.MS_UNBINDABLE, "runbindable": m.MS_UNBINDABLE | m.MS_REC,
}  # fmt: skip
# Flags a bind mount only gets through a second, remounting call.
_REMOUNT_FLAGS = m.MS_RDONLY | m.MS_NOSUID | m.MS_NODEV | m.MS_NOEXEC | m.MS_NOATIME
_ST_KEEP = m.MS_NOSUID | m.MS_NODEV | m.MS_NOEXEC  # statvfs ST_* bits equal MS_* ones here
# Default devices every container gets (runc's set): name, major, minor.
_DEVICES = (("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8),
            ("urandom", 1, 9), ("tty", 5, 0))  # fmt: skip
_LINKS = (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
          ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"), ("ptmx", "pts/ptmx"))  # fmt: skip


def mount_flags(options: list[str]) -> tuple[int, int, str]:
    """Split OCI mount *options* into (flags, propagation flags, fs data string)."""
    flags = propagation = 0
    data: list[str] = []
    for opt in options:
        if opt in _SET:
            flags |= _SET[opt]
        elif opt in _CLEAR:
            flags &= ~_CLEAR[opt]
        elif opt in _PROPAGATION:
            propagation |= _PROPAGATION[opt]
        else:
            data.append(opt)
    return flags, propagation, ",".join(data)


def resolve_in_root(root: str, path: str) -> str:
    """*path* inside *root* with symlinks resolved as if *root* were ``/``, never escaping it.

    Raises OSError(ELOOP) after too many links.
    """
    parts = [p for p in path.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        try:
            target = os.readlink(candidate)
        except OSError:  # not a link, or not there yet
            resolved.append(part)
            continue
        links += 1
        if links > 40:
            raise OSError(40, f"too many symlinks under {root}: {path}")
        if target.startswith("/"):
            resolved = []
        parts = [p for p in target.split("/") if p not in ("", ".")] + parts
    return os.path.join(root, *resolved)


def _mountpoint(dest: str, source: str | None, kind: str) -> None:
    if kind == "bind" and source and not os.path.isdir(source):
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if not os.path.exists(dest):
            with open(dest, "a"):
                pass
    else:
        os.makedirs(dest, exist_ok=True)


def _cgroup_mounts() -> list[tuple[str, str, str]]:
    """The host's cgroup hierarchies: (mount point, fs type, super options)."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            fstype, _source, super_opts = right.split()[:3]
            point = left.split()[4]
            if fstype in ("cgroup", "cgroup2") and point.startswith("/sys/fs/cgroup"):
                found.append((point, fstype, super_opts))
    return found


_CGROUP_FLAGS = frozenset(
    ["rw", "ro", "xattr", "noprefix", "clone_children", "cpuset_v2_mode", "nsdelegate",
     "memory_recursiveprot", "memory_localevents", "memory_hugetlb_accounting", "favordynmods"]
)  # fmt: skip


def _hierarchy_options(fstype: str, super_opts: str) -> str | None:
    """What names a host cgroup hierarchy when mounting it again: its controllers and name=.

    Flags and ``release_agent=`` are left out: the kernel keeps the existing superblock's, and
    refuses some of them from inside a cgroup or user namespace.
    """
    if fstype == "cgroup2":
        return None
    keep = [o for o in super_opts.split(",")
            if o.startswith("name=") or ("=" not in o and o not in _CGROUP_FLAGS)]  # fmt: skip
    return ",".join(keep) or None


def _mount_cgroup(dest: str, flags: int) -> None:
    """/sys/fs/cgroup in the container: cgroup2 as is, or v1's hierarchies under a tmpfs."""
    hierarchies = _cgroup_mounts()
    if any(point == "/sys/fs/cgroup" for point, _t, _o in hierarchies):
        m.mount("cgroup2", dest, "cgroup2", flags)
        return
    m.mount("tmpfs", dest, "tmpfs", (flags & ~m.MS_RDONLY), "mode=755")
    for point, fstype, super_opts in hierarchies:
        sub = os.path.join(dest, os.path.relpath(point, "/sys/fs/cgroup"))
        os.makedirs(sub, exist_ok=True)
        opts = _hierarchy_options(fstype, super_opts)
        try:
            m.mount("cgroup", sub, fstype, flags, opts)
        except PermissionError:  # v1 hierarchies cannot be mounted in a user namespace
            m.mount(point, sub, None, m.MS_BIND | m.MS_REC)
            m.mount(None, sub, None, m.MS_BIND | m.MS_REMOUNT | (flags & _REMOUNT_FLAGS))
    if flags & m.MS_RDONLY:
        m.mount(None, dest, None, m.MS_REMOUNT | flags)


def _mount_one(rootfs: str, spec: dict[str, Any]) -> None:
    kind = spec.get("type") or "bind"
    flags, propagation, data = mount_flags(list(spec.get("options") or []))
    if kind == "bind":
        flags |= m.MS_BIND
    source = spec.get("source")
    if flags & m.MS_BIND and source and not os.path.isabs(source):
        raise OSError(22, f"bind mount source must be absolute: {source}")
    dest = resolve_in_root(rootfs, spec["destination"])
    _mountpoint(dest, source if flags & m.MS_BIND else None, "bind" if flags & m.MS_BIND else kind)
    if kind == "cgroup":
        _mount_cgroup(dest, flags)
    elif flags & m.MS_BIND:
        m.mount(source, dest, None, flags & (m.MS_BIND | m.MS_REC))
        if flags & _REMOUNT_FLAGS:
            m.mount(None, dest, None, m.MS_BIND | m.MS_REMOUNT | (flags & _REMOUNT_FLAGS))
    else:
        try:
            m.mount(source, dest, kind, flags, data or None)
        except PermissionError:
            if kind not in ("sysfs", "mqueue"):
                raise
            # Not allowed here (host network or ipc namespace under a user namespace): bind
            # the host's instead, as runc does.
            host = "/sys" if kind == "sysfs" else "/dev/mqueue"
            m.mount(host, dest, None, m.MS_BIND | m.MS_REC)
            m.mount(None, dest, None, m.MS_BIND | m.MS_REMOUNT | (flags & _REMOUNT_FLAGS))
    if propagation:
        m.mount(None, dest, None, propagation)


def _make_devices(rootfs: str, devices: list[dict[str, Any]]) -> None:
    dev = resolve_in_root(rootfs, "/dev")
    os.makedirs(dev, exist_ok=True)
    wanted = [(f"/dev/{n}", "c", ma, mi, 0o666, 0, 0) for n, ma, mi in _DEVICES]
    wanted += [
        (d["path"], d.get("type", "c"), d["major"], d["minor"], d.get("fileMode", 0o666),
         d.get("uid", 0), d.get("gid", 0))
        for d in devices
    ]  # fmt: skip
    for path, kind, major, minor, mode, uid, gid in wanted:
        target = resolve_in_root(rootfs, path)
        if os.path.lexists(target):
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        ftype = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}[kind]
        try:
            os.mknod(target, ftype | mode, os.makedev(major, minor))
            os.chown(target, uid, gid)
        except PermissionError:  # no mknod in a user namespace: bind the host's node
            with open(target, "a"):
                pass
            m.mount(path, target, None, m.MS_BIND)
    for name, target in _LINKS:
        link = os.path.join(dev, name)
        if not os.path.lexists(link):
            os.symlink(target, link)


def prepare_rootfs(config: dict[str, Any], rootfs: str) -> None:
    """Before pivot_root: private propagation, the rootfs bound on itself, the spec's mounts,
    the default devices and /dev links. Raises OSError naming the failing step."""
    linux = config.get("linux") or {}
    prop = _PROPAGATION.get(linux.get("rootfsPropagation") or "rprivate", m.MS_PRIVATE | m.MS_REC)
    m.mount(None, "/", None, prop)
    m.mount(rootfs, rootfs, None, m.MS_BIND | m.MS_REC)
    for spec in config.get("mounts") or []:
        _mount_one(rootfs, spec)
    _make_devices(rootfs, list(linux.get("devices") or []))


def pivot(rootfs: str) -> None:
    """Make *rootfs* the root and detach the old one. Raises OSError."""
    os.chdir(rootfs)
    pivot_root(".", ".")
    m.mount(None, ".", None, m.MS_SLAVE | m.MS_REC)
    m.umount(".", m.MNT_DETACH)
    os.chdir("/")


def _readonly(path: str) -> None:
    m.mount(path, path, None, m.MS_BIND | m.MS_REC)
    keep = os.statvfs(path).f_flag & _ST_KEEP
    m.mount(None, path, None, m.MS_BIND | m.MS_REMOUNT | m.MS_RDONLY | m.MS_REC | keep)


def finish_rootfs(config: dict[str, Any]) -> None:
    """After pivot_root: read-only and masked paths, then a read-only root if asked.

    Paths that do not exist are skipped. Raises OSError.
    """
    linux = config.get("linux") or {}
    for path in linux.get("readonlyPaths") or []:
        if os.path.exists(path):
            _readonly(path)
    for path in linux.get("maskedPaths") or []:
        if os.path.isdir(path):
            m.mount("tmpfs", path, "tmpfs", m.MS_RDONLY)
        elif os.path.exists(path):
            m.mount("/dev/null", path, None, m.MS_BIND)
    if (config.get("root") or {}).get("readonly"):
        keep = os.statvfs("/").f_flag & _ST_KEEP
        m.mount(None, "/", None, m.MS_BIND | m.MS_REMOUNT | m.MS_RDONLY | keep)
