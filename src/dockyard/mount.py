"""Mounts as data, and the one place that performs them.

A :class:`Mount` says what to mount (``type``, ``source``, ``options`` as in fstab) and where
(``target``, relative to the directory the caller mounts into; ``""`` is that directory
itself). Snapshotters return lists of them; the runtime and the image code perform them with
:func:`mount_all` or the :func:`mounted` context manager, and undo them with
:func:`unmount_all`.

Long overlay option strings. ``mount(2)`` takes at most one page (4096 bytes) of options, and
a deep layer chain (100+ lowerdirs with long paths) exceeds it. When the overlay options would
not fit (or a path holds a character overlay options cannot take: ``,`` ``\\``), each lowerdir,
the upperdir and the workdir are opened ``O_PATH`` and passed as ``/proc/self/fd/N`` (16
bytes each). That allows about 230 lowers, above overlay's own practical limits and Docker's
128 layers; beyond it ``mount_all`` raises InvalidArgument. No ``chdir``: safe in threads.

Runtime mounts (non-empty ``target``) are resolved inside the target directory without leaving
it: symlinks on the way are followed as if the directory were ``/`` (a container rootfs).

Imports only the standard library, ``dockyard.errors`` and ``dockyard._sys`` (layer L1).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dockyard import errors
from dockyard._sys import mountapi
from dockyard._sys.libc import as_error

__all__ = ["Mount", "active_mounts", "mount_all", "mounted", "unmount_all"]

_MAX_OPTIONS = 4000
_FLAGS = {
    "ro": (mountapi.MS_RDONLY, True),
    "rw": (mountapi.MS_RDONLY, False),
    "nosuid": (mountapi.MS_NOSUID, True),
    "suid": (mountapi.MS_NOSUID, False),
    "nodev": (mountapi.MS_NODEV, True),
    "dev": (mountapi.MS_NODEV, False),
    "noexec": (mountapi.MS_NOEXEC, True),
    "exec": (mountapi.MS_NOEXEC, False),
    "sync": (mountapi.MS_SYNCHRONOUS, True),
    "async": (mountapi.MS_SYNCHRONOUS, False),
    "dirsync": (mountapi.MS_DIRSYNC, True),
    "noatime": (mountapi.MS_NOATIME, True),
    "atime": (mountapi.MS_NOATIME, False),
    "nodiratime": (mountapi.MS_NODIRATIME, True),
    "diratime": (mountapi.MS_NODIRATIME, False),
    "relatime": (mountapi.MS_RELATIME, True),
    "norelatime": (mountapi.MS_RELATIME, False),
    "strictatime": (mountapi.MS_STRICTATIME, True),
    "bind": (mountapi.MS_BIND, True),
    "rbind": (mountapi.MS_BIND | mountapi.MS_REC, True),
}
_PROPAGATION = {
    "private": mountapi.MS_PRIVATE,
    "rprivate": mountapi.MS_PRIVATE | mountapi.MS_REC,
    "shared": mountapi.MS_SHARED,
    "rshared": mountapi.MS_SHARED | mountapi.MS_REC,
    "slave": mountapi.MS_SLAVE,
    "rslave": mountapi.MS_SLAVE | mountapi.MS_REC,
    "unbindable": mountapi.MS_UNBINDABLE,
    "runbindable": mountapi.MS_UNBINDABLE | mountapi.MS_REC,
}


@dataclass(frozen=True)
class Mount:
    """One mount to make: ``type`` (``overlay``, ``bind``, ``tmpfs``...), ``source``,
    fstab-style ``options`` and ``target`` relative to the mount root (``""`` = the root)."""

    type: str
    source: str
    options: tuple[str, ...] = ()
    target: str = ""


@dataclass(frozen=True)
class _Plan:
    flags: int
    clear: int
    propagation: int
    data: list[str]


def _plan(options: Iterable[str]) -> _Plan:
    flags = clear = propagation = 0
    data: list[str] = []
    for option in options:
        if option in _FLAGS:
            bit, on = _FLAGS[option]
            flags, clear = (flags | bit, clear & ~bit) if on else (flags & ~bit, clear | bit)
        elif option in _PROPAGATION:
            propagation |= _PROPAGATION[option]
        else:
            data.append(option)
    return _Plan(flags, clear, propagation, data)


def mount_all(mounts: Sequence[Mount], target_dir: Path) -> None:
    """Perform *mounts* in order below *target_dir*. On failure, the mounts made so far are
    undone and the error raised: InvalidArgument (bad options, target escapes), NotFound,
    PermissionDenied, Unavailable (filesystem type missing) or DockyardError."""
    try:
        for m in mounts:
            _mount_one(m, target_dir)
    except BaseException:
        unmount_all(target_dir)
        raise


def _mount_one(m: Mount, root: Path) -> None:
    target = _resolve_target(root, m.target, m.source if m.type == "bind" else None)
    plan = _plan(m.options)
    try:
        if m.type == "bind" or plan.flags & mountapi.MS_BIND:
            _bind(m, target, plan)
        elif m.type == "overlay":
            _overlay(m, target, plan)
        else:
            mountapi.mount(m.source, target, m.type, plan.flags, ",".join(plan.data) or None)
        if plan.propagation:
            mountapi.mount(None, target, None, plan.propagation)
    except OSError as exc:
        raise as_error(exc, f"mount {m.type} {m.source} on {target}") from exc


def _bind(m: Mount, target: Path, plan: _Plan) -> None:
    flags = mountapi.MS_BIND | (plan.flags & mountapi.MS_REC)
    mountapi.mount(m.source, target, None, flags)
    extra = plan.flags & ~(mountapi.MS_BIND | mountapi.MS_REC)
    if extra:  # bind ignores other flags at first: a remount applies ro, nosuid...
        mountapi.mount(None, target, None, mountapi.MS_BIND | mountapi.MS_REMOUNT | extra)


def _overlay(m: Mount, target: Path, plan: _Plan) -> None:
    data = ",".join(plan.data)
    if len(data) <= _MAX_OPTIONS and not _needs_fds(plan.data):
        mountapi.mount(m.source, target, "overlay", plan.flags, data)
        return
    with contextlib.ExitStack() as stack:
        rewritten = [_fd_option(option, stack) for option in plan.data]
        data = ",".join(rewritten)
        if len(data) > _MAX_OPTIONS:
            raise errors.InvalidArgument(
                f"overlay on {target}: {len(data)} bytes of options even with descriptor paths "
                "(too many layers)"
            )
        mountapi.mount(m.source, target, "overlay", plan.flags, data)


def _dirs_option(option: str) -> tuple[str, list[str]] | None:
    key, sep, value = option.partition("=")
    if not sep or key not in ("lowerdir", "upperdir", "workdir"):
        return None
    return key, value.split(":") if key == "lowerdir" else [value]


def _needs_fds(data: list[str]) -> bool:
    for option in data:
        parsed = _dirs_option(option)
        if parsed and any(set(path) & {",", "\\"} for path in parsed[1]):
            return True
    return False


def _fd_option(option: str, stack: contextlib.ExitStack) -> str:
    parsed = _dirs_option(option)
    if parsed is None:
        return option
    key, paths = parsed
    names = []
    for path in paths:
        try:
            fd = os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise as_error(exc, f"overlay {key} {path}") from exc
        stack.callback(os.close, fd)
        names.append(f"/proc/self/fd/{fd}")
    return f"{key}={':'.join(names)}"


def _resolve_target(root: Path, rel: str, source: str | None) -> Path:
    """*rel* inside *root*, following symlinks as if *root* were ``/``; creates the mount
    point (a file when binding a file). Raises InvalidArgument if it cannot stay inside."""
    if not rel.strip("/"):
        return root
    current = root
    pending = [p for p in rel.split("/") if p not in ("", ".")]
    hops = 0
    while pending:
        part = pending.pop(0)
        if part == "..":
            current = current.parent if current != root else root
            continue
        candidate = current / part
        if candidate.is_symlink():
            hops += 1
            if hops > 40:
                raise errors.InvalidArgument(f"mount target {rel}: too many symbolic links")
            link = os.readlink(candidate)
            if link.startswith("/"):
                current = root
            pending = [p for p in link.split("/") if p not in ("", ".")] + pending
            continue
        current = candidate
    if not current.exists():
        if source is not None and os.path.exists(source) and not os.path.isdir(source):
            current.parent.mkdir(parents=True, exist_ok=True)
            current.touch()
        else:
            current.mkdir(parents=True)
    return current


def active_mounts(under: Path) -> list[Path]:
    """Mount points at or below *under* in this mount namespace, deepest last."""
    prefix = os.path.abspath(under)
    found: list[Path] = []
    with open("/proc/self/mountinfo", "rb") as f:
        for line in f:
            point = _unescape(line.split()[4])
            if point == prefix or point.startswith(prefix.rstrip("/") + "/"):
                found.append(Path(point))
    return found


def _unescape(raw: bytes) -> str:
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i] == 0x5C and i + 3 < len(raw) and raw[i + 1 : i + 4].isdigit():
            out.append(int(raw[i + 1 : i + 4], 8))
            i += 4
        else:
            out.append(raw[i])
            i += 1
    return os.fsdecode(bytes(out))


def unmount_all(target_dir: Path) -> None:
    """Unmount everything at or below *target_dir*, deepest first; a mount that stays busy is
    detached (lazy unmount) as a last resort. Raises DockyardError if one cannot be removed."""
    for _ in range(100):  # stacked mounts on one point come off one per pass
        points = active_mounts(target_dir)
        if not points:
            return
        for point in reversed(points):
            try:
                mountapi.umount(point)
            except OSError as exc:
                if exc.errno == 22:  # EINVAL: already gone (a parent took it along)
                    continue
                try:
                    mountapi.umount(point, mountapi.MNT_DETACH)
                except OSError as exc2:
                    if exc2.errno != 22:
                        raise as_error(exc2, f"unmount {point}") from exc2
    raise errors.DockyardError(f"unmount {target_dir}: mounts keep coming back")


@contextlib.contextmanager
def mounted(mounts: Sequence[Mount], under: Path) -> Iterator[Path]:
    """Mount *mounts* on a fresh temporary directory below *under*, yield it, and always
    unmount and remove it. Raises what :func:`mount_all` raises."""
    import tempfile

    under.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix="mnt-", dir=under))
    try:
        mount_all(mounts, target)
        yield target
    finally:
        unmount_all(target)
        if not active_mounts(target):
            shutil.rmtree(target, ignore_errors=True)  # only mount points made by mount_all
