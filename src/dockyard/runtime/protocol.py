"""The roles an OCI runtime plays, as small Protocols, and the state it reports.

Vocabulary (as in the OCI runtime spec): a *bundle* is a directory holding ``config.json`` and
the root filesystem; ``create`` sets a container up and leaves its init waiting (status
``created``); ``start`` lets the init exec the user's process (``running``); when that process
exits the container is ``stopped`` until ``delete`` removes what the runtime kept. ``kill``
signals the init. A consumer depends on the smallest role it needs (the engine's ``stop`` only
needs ``Killer`` and ``StateReader``). The builtin runtime and a runc/crun wrapper both fit.

Pure types only: imports nothing from Dockyard but the standard library.
"""

from __future__ import annotations

from typing import Literal, Protocol

__all__ = [
    "ContainerState",
    "Creator",
    "Deleter",
    "Executor",
    "Killer",
    "OCIRuntime",
    "Starter",
    "StateReader",
    "Status",
]

Status = Literal["creating", "created", "running", "stopped"]


class ContainerState:
    """The OCI state of one container (``runtime state <id>``).

    A plain class rather than a dataclass: this sits on the container start-up path, and
    ``dataclasses`` costs several milliseconds to import.
    """

    __slots__ = ("annotations", "bundle", "created", "id", "oci_version", "pid", "status")

    def __init__(
        self,
        id: str,
        status: Status,
        pid: int,
        bundle: str,
        annotations: dict[str, str] | None = None,
        created: str = "",
        oci_version: str = "1.0.2",
    ) -> None:
        self.id = id
        self.status: Status = status
        self.pid = pid
        self.bundle = bundle
        self.annotations = dict(annotations or {})
        self.created = created
        self.oci_version = oci_version

    def __repr__(self) -> str:
        return f"ContainerState(id={self.id!r}, status={self.status!r}, pid={self.pid})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ContainerState):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    __hash__ = None  # type: ignore[assignment]

    def to_oci(self) -> dict[str, object]:
        """The state as the OCI ``state`` JSON object."""
        return {
            "ociVersion": self.oci_version,
            "id": self.id,
            "status": self.status,
            "pid": self.pid if self.status != "stopped" else 0,
            "bundle": self.bundle,
            "annotations": dict(self.annotations),
            "created": self.created,
        }


class Creator(Protocol):
    def create(
        self,
        container_id: str,
        bundle: str,
        *,
        pid_file: str | None = None,
        console_socket: str | None = None,
    ) -> ContainerState:
        """Set the container up; its init waits for ``start``. Raises AlreadyExists, NotFound,
        InvalidArgument, or the category of the failing setup step."""
        ...


class Starter(Protocol):
    def start(self, container_id: str) -> None:
        """Let a created container's init exec the user's process. Raises NotFound,
        FailedPrecondition (not created)."""
        ...


class Killer(Protocol):
    def kill(self, container_id: str, signal: int = 15) -> None:
        """Send *signal* to the container's init. Raises NotFound, FailedPrecondition."""
        ...


class StateReader(Protocol):
    def state(self, container_id: str) -> ContainerState:
        """The container's current state. Raises NotFound."""
        ...


class Deleter(Protocol):
    def delete(self, container_id: str, *, force: bool = False) -> None:
        """Forget a stopped container (with *force*, kill it first). Raises NotFound,
        FailedPrecondition (still running without force)."""
        ...


class Executor(Protocol):
    def exec_process(
        self,
        container_id: str,
        process: dict[str, object],
        *,
        console_socket: str | None = None,
    ) -> int:
        """Run OCI *process* inside the container (``docker exec``); its host pid. Raises
        NotFound, FailedPrecondition (not running), InvalidArgument."""
        ...


class OCIRuntime(Creator, Starter, Killer, StateReader, Deleter, Executor, Protocol):
    """Every role: what the engine needs to run containers."""
