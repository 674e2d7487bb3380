"""Checks a bundle's config must pass before the builtin runtime forks anything.

Pure functions over the parsed ``config.json``: each refusal here is a container that would
otherwise touch the host (a hostname or sysctl written without a namespace of its own) or
fail half-way in the init. Imports only the standard library and ``dockyard.errors``.
"""

from __future__ import annotations

from typing import Any

from dockyard import errors

__all__ = ["validate"]

_IPC_SYSCTLS = frozenset(
    ["kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall",
     "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"]
)  # fmt: skip


def _sysctl_namespace(key: str) -> str | None:
    """The namespace that makes sysctl *key* private to the container, if any."""
    if key.startswith("net."):
        return "network"
    if key in _IPC_SYSCTLS or key.startswith("fs.mqueue."):
        return "ipc"
    return None


def validate(config: dict[str, Any], where: str = "config.json") -> None:
    """Refuse a config the builtin runtime cannot run safely.

    Raises InvalidArgument naming *where* and the problem: no command; no new mount
    namespace; a hostname without a UTS namespace; a sysctl without the namespace that
    scopes it, or one no namespace scopes; a new user namespace without id mappings; an
    unknown namespace type.
    """
    process = config.get("process") or {}
    if not process.get("args"):
        raise errors.InvalidArgument(f"{where}: process.args is empty")
    linux = config.get("linux") or {}
    entries = linux.get("namespaces") or []
    kinds = set()
    for entry in entries:
        kind = entry.get("type")
        if kind not in ("pid", "network", "ipc", "uts", "mount", "cgroup", "user"):
            raise errors.InvalidArgument(f"{where}: unknown namespace type {kind!r}")
        kinds.add(kind)
    if not any(e["type"] == "mount" and not e.get("path") for e in entries):
        raise errors.InvalidArgument(f"{where}: the builtin runtime needs a new mount namespace")
    if config.get("hostname") and "uts" not in kinds:
        raise errors.InvalidArgument(f"{where}: a hostname needs a UTS namespace")
    for key in linux.get("sysctl") or {}:
        scope = _sysctl_namespace(key)
        if scope is None:
            raise errors.InvalidArgument(f"{where}: sysctl {key} is not namespaced")
        if scope not in kinds:
            raise errors.InvalidArgument(f"{where}: sysctl {key} needs a {scope} namespace")
    if any(e["type"] == "user" and not e.get("path") for e in entries) and not (
        linux.get("uidMappings") and linux.get("gidMappings")
    ):
        raise errors.InvalidArgument(f"{where}: a new user namespace needs uid and gid mappings")
