"""``cp``: files in and out of a container's filesystem as tar streams (``docker cp``, the
Engine API's ``/containers/{id}/archive``).

The container's root is ``/proc/<pid>/root`` while it runs (so its own mounts are seen) or
its snapshot mounted for the moment (under the container's lock) when it does not. Paths are
resolved one component at a time with every symlink read and re-rooted at the container's
root (``resolve_in_root``), so no link, absolute or ``..``, leads out of the container; files
are extracted with ``O_NOFOLLOW`` and an existing link at the target is replaced, never
written through. Imports only the standard library, ``dockyard.errors`` and ``dockyard.mount``.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from dockyard import errors

if TYPE_CHECKING:
    from dockyard.metadata.containers import ContainerRecord
    from dockyard.service.containers.service import ContainerService

__all__ = ["archive", "container_root", "extract", "go_mode", "resolve_in_root", "stat_path"]

MAX_LINKS = 40
# Go's os.FileMode type bits (the docker client reads X-Docker-Container-Path-Stat's "mode")
_GO_DIR, _GO_LINK, _GO_DEVICE, _GO_PIPE, _GO_SOCKET, _GO_CHAR = (
    1 << 31, 1 << 27, 1 << 26, 1 << 25, 1 << 24, 1 << 21)  # fmt: skip


def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p not in ("", ".")]


def resolve_in_root(root: str, path: str, *, follow_last: bool = False) -> str:
    """The host path of container *path* below *root*, every symlink (but the last
    component's unless *follow_last*) resolved as if *root* were ``/``.

    Raises InvalidArgument (a symlink loop).
    """
    todo, hops = _parts(path), 0
    done: list[str] = []
    while todo:
        name = todo.pop(0)
        if name == "..":
            if done:
                done.pop()
            continue
        host = os.path.join(root, *done, name)
        if (todo or follow_last) and os.path.islink(host):
            hops += 1
            if hops > MAX_LINKS:
                raise errors.InvalidArgument(f"{path}: too many levels of symbolic links")
            target = os.readlink(host)
            if target.startswith("/"):
                done = []
            todo = _parts(target) + todo
            continue
        done.append(name)
    return os.path.join(root, *done) if done else root


def go_mode(mode: int) -> int:
    """Go's ``os.FileMode`` of a ``st_mode`` (permission bits plus Go's type bits)."""
    out = stat.S_IMODE(mode) & 0o777
    kind = stat.S_IFMT(mode)
    out |= {stat.S_IFDIR: _GO_DIR, stat.S_IFLNK: _GO_LINK, stat.S_IFIFO: _GO_PIPE,
            stat.S_IFSOCK: _GO_SOCKET, stat.S_IFBLK: _GO_DEVICE,
            stat.S_IFCHR: _GO_DEVICE | _GO_CHAR}.get(kind, 0)  # fmt: skip
    return out


@contextlib.contextmanager
def container_root(svc: ContainerService, record: ContainerRecord) -> Iterator[str]:
    """The host path of *record*'s root filesystem while the block runs. Raises NotFound
    (no snapshot), and what mounting raises."""
    live = svc.live(record)
    if live.running and live.pid:
        yield f"/proc/{live.pid}/root"
        return
    from dockyard.mount import mounted

    with svc.locked(record.id):
        mounts = svc.engine.snapshotter.mounts(record.snapshot_key)
        with mounted(mounts, Path(svc.state_dir(record.id))) as target:
            yield str(target)


def _missing(path: str, record: ContainerRecord) -> errors.NotFound:
    return errors.NotFound(f"Could not find the file {path} in container {record.name}")


def _stat(host: str, path: str) -> dict[str, Any]:
    st = os.lstat(host)
    link = os.readlink(host) if stat.S_ISLNK(st.st_mode) else ""
    name = os.path.basename(path.rstrip("/")) or "/"
    return {"name": name, "size": st.st_size, "mode": go_mode(st.st_mode),
            "mtime": _rfc3339(st.st_mtime), "linkTarget": link}  # fmt: skip


def _rfc3339(t: float) -> str:
    import datetime

    return datetime.datetime.fromtimestamp(t, datetime.UTC).isoformat().replace("+00:00", "Z")


def stat_path(svc: ContainerService, record: ContainerRecord, path: str) -> dict[str, Any]:
    """Docker's path stat (name, size, mode as Go's FileMode, mtime, linkTarget) of
    container *path*. Raises NotFound."""
    with container_root(svc, record) as root:
        host = resolve_in_root(root, path)
        try:
            return _stat(host, path)
        except OSError as exc:
            raise _missing(path, record) from exc


def archive(
    svc: ContainerService, record: ContainerRecord, path: str, out: IO[bytes]
) -> dict[str, Any]:
    """Write a tar of container *path* to *out*, rooted at its base name (``.`` for a path
    ending in ``/.``: the directory's contents); its stat. Symlinks are stored, not
    followed. Raises NotFound."""
    with container_root(svc, record) as root:
        host = resolve_in_root(root, path)
        try:
            info = _stat(host, path)
        except OSError as exc:
            raise _missing(path, record) from exc
        if path.endswith("/.") or path == ".":
            name = "."
        else:
            name = info["name"] if info["name"] != "/" else "."
        with tarfile.open(fileobj=out, mode="w|") as tar:
            tar.add(host, arcname=name, recursive=True)
        return info


def _member_parts(name: str) -> list[str]:
    return [p for p in _parts(name) if p != ".."]


def _make_dirs(root: str, rel: list[str]) -> str:
    """Create the directories of *rel* below *root* safely; the host path of the last."""
    host = root
    for i in range(len(rel)):
        host = resolve_in_root(root, "/".join(rel[: i + 1]), follow_last=True)
        if not os.path.isdir(host):
            if os.path.lexists(host):
                os.unlink(host)
            os.mkdir(host, 0o755)
    return host


def _extract_member(tar: tarfile.TarFile, m: tarfile.TarInfo, root: str, dest: list[str]) -> None:
    parts = dest + _member_parts(m.name)
    if not parts or parts == dest:
        if m.isdir():
            return
        raise errors.InvalidArgument(f"tar entry {m.name!r} has no name")
    parent = _make_dirs(root, parts[:-1])
    host = os.path.join(parent, parts[-1])
    if m.isdir():
        if os.path.lexists(host) and not os.path.isdir(host):
            os.unlink(host)
        if not os.path.lexists(host):
            os.mkdir(host, 0o755)
    else:
        if os.path.isdir(host) and not os.path.islink(host):
            raise errors.Conflict(f"cannot overwrite directory {'/'.join(parts)} with a file")
        if os.path.lexists(host):
            os.unlink(host)
        if m.issym():
            os.symlink(m.linkname, host)
        elif m.islnk():
            other = resolve_in_root(root, "/".join(dest + _member_parts(m.linkname)))
            os.link(other, host, follow_symlinks=False)
        elif m.isfile():
            src = tar.extractfile(m)
            fd = os.open(host, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as f:
                while src is not None and (chunk := src.read(1 << 20)):
                    f.write(chunk)
        elif m.isfifo():
            os.mkfifo(host, 0o600)
        elif m.ischr() or m.isblk():
            kind = stat.S_IFCHR if m.ischr() else stat.S_IFBLK
            os.mknod(host, kind | 0o600, os.makedev(m.devmajor, m.devminor))
        else:
            return
    os.chown(host, m.uid, m.gid, follow_symlinks=False)
    if not m.issym():
        os.chmod(host, m.mode & 0o7777)
    os.utime(host, (m.mtime, m.mtime), follow_symlinks=False)


def extract(svc: ContainerService, record: ContainerRecord, path: str, src: IO[bytes]) -> None:
    """Extract the tar stream *src* into container directory *path* (``PUT archive``).

    Raises NotFound (no such path), InvalidArgument (not a directory, bad tar), Conflict.
    """
    with container_root(svc, record) as root:
        host = resolve_in_root(root, path, follow_last=True)
        if not os.path.lexists(host):
            raise _missing(path, record)
        if not os.path.isdir(host):
            raise errors.InvalidArgument(f"extraction point is not a directory: {path}")
        dest = _parts(os.path.relpath(host, root)) if host != root else []
        try:
            with tarfile.open(fileobj=src, mode="r|*") as tar:
                for member in tar:
                    _extract_member(tar, member, root, dest)
        except tarfile.TarError as exc:
            raise errors.InvalidArgument(f"copy into {record.name}: bad tar: {exc}") from exc
        except OSError as exc:
            raise errors.InvalidArgument(f"copy into {record.name}:{path}: {exc}") from exc
