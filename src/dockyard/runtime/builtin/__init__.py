"""The builtin OCI runtime: runs a standard bundle (``config.json`` + rootfs) like runc does.

Public face: the lifecycle functions (``create``, ``start``, ``state``, ``kill``, ``delete``,
``run``, ``exec_process``) and ``Builtin``, which binds them to a state root and fits ``runtime.protocol``'s
``OCIRuntime``. The command line is ``python -m dockyard.runtime.builtin``. Submodules are
imported on first use: ``import dockyard.runtime.builtin`` stays cheap (start-up is on the
hot path). See README.md for why the init is built the way it is.

Imports only the standard library, ``dockyard.errors``, ``dockyard._sys`` and
``runtime.protocol``; never ``service/``, ``network/``, ``image/`` or ``volume/``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dockyard.runtime.builtin.store import DEFAULT_ROOT

if TYPE_CHECKING:
    from dockyard.runtime.protocol import ContainerState

__all__ = [
    "DEFAULT_ROOT",
    "Builtin",
    "create",
    "delete",
    "exec_process",
    "kill",
    "run",
    "start",
    "state",
]


def create(
    container_id: str,
    bundle: str,
    *,
    root: str = DEFAULT_ROOT,
    pid_file: str | None = None,
    console_socket: str | None = None,
    place: Callable[[int], None] | None = None,
    on_pid: Callable[[int], None] | None = None,
) -> ContainerState:
    """See ``builtin.create.create``."""
    from dockyard.runtime.builtin.container_create import create as _create

    return _create(
        container_id,
        bundle,
        root=root,
        pid_file=pid_file,
        console_socket=console_socket,
        place=place,
        on_pid=on_pid,
    )


def start(container_id: str, *, root: str = DEFAULT_ROOT) -> None:
    """See ``builtin.start.start``."""
    from dockyard.runtime.builtin.container_start import start as _start

    _start(container_id, root=root)


def state(container_id: str, *, root: str = DEFAULT_ROOT) -> ContainerState:
    """The OCI state of *container_id*. Raises NotFound."""
    from dockyard.runtime.builtin.store import current

    return current(root, container_id)[1]


def kill(container_id: str, sig: int = 15, *, root: str = DEFAULT_ROOT) -> None:
    """See ``builtin.kill.kill``."""
    from dockyard.runtime.builtin.container_kill import kill as _kill

    _kill(container_id, sig, root=root)


def delete(container_id: str, *, root: str = DEFAULT_ROOT, force: bool = False) -> None:
    """See ``builtin.delete.delete``."""
    from dockyard.runtime.builtin.container_delete import delete as _delete

    _delete(container_id, root=root, force=force)


def run(
    container_id: str,
    bundle: str,
    *,
    root: str = DEFAULT_ROOT,
    pid_file: str | None = None,
    console_socket: str | None = None,
    place: Callable[[int], None] | None = None,
) -> int:
    """See ``builtin.run.run``."""
    from dockyard.runtime.builtin.container_run import run as _run

    return _run(
        container_id,
        bundle,
        root=root,
        pid_file=pid_file,
        console_socket=console_socket,
        place=place,
    )


def exec_process(
    container_id: str,
    process: dict[str, Any],
    *,
    root: str = DEFAULT_ROOT,
    console_socket: str | None = None,
    pid_file: str | None = None,
    place: Callable[[int], None] | None = None,
) -> int:
    """See ``builtin.container_exec.exec_process``."""
    from dockyard.runtime.builtin.container_exec import exec_process as _exec

    return _exec(
        container_id,
        process,
        root=root,
        console_socket=console_socket,
        pid_file=pid_file,
        place=place,
    )


class Builtin:
    """The builtin runtime bound to a state *root*; an ``OCIRuntime``.

    *place*, if given, is called with the pid of every new container's first init stage so
    a cgroup driver can move it into the container's cgroup before its namespaces exist.
    """

    def __init__(
        self, root: str = DEFAULT_ROOT, place: Callable[[str, int], None] | None = None
    ) -> None:
        self.root = root
        self._place = place

    def create(
        self,
        container_id: str,
        bundle: str,
        *,
        pid_file: str | None = None,
        console_socket: str | None = None,
    ) -> ContainerState:
        hook = self._place
        return create(
            container_id,
            bundle,
            root=self.root,
            pid_file=pid_file,
            console_socket=console_socket,
            place=None if hook is None else (lambda pid: hook(container_id, pid)),
        )

    def start(self, container_id: str) -> None:
        start(container_id, root=self.root)

    def state(self, container_id: str) -> ContainerState:
        return state(container_id, root=self.root)

    def kill(self, container_id: str, signal: int = 15) -> None:
        kill(container_id, signal, root=self.root)

    def delete(self, container_id: str, *, force: bool = False) -> None:
        delete(container_id, root=self.root, force=force)

    def exec_process(
        self,
        container_id: str,
        process: dict[str, Any],
        *,
        console_socket: str | None = None,
    ) -> int:
        hook = self._place
        return exec_process(
            container_id,
            process,
            root=self.root,
            console_socket=console_socket,
            place=None if hook is None else (lambda pid: hook(container_id, pid)),
        )
