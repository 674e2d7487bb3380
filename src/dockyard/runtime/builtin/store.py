"""Where the builtin runtime keeps a container's state, and how its status is derived.

``<root>/<id>/state.json`` records what ``create`` learned (init pid and its start time,
bundle, annotations); ``<root>/<id>/exec.fifo`` exists from ``create`` until ``start``.
The status is never stored: it is read from the world (a live init with the fifo present is
``created``, without it ``running``; a dead or zombie init is ``stopped``), as runc does.
Allowed transitions: start needs ``created``; kill needs ``created`` or ``running``; delete
needs ``stopped`` unless forced.

Imports only the standard library, ``dockyard.errors`` and ``runtime.protocol``.
"""

from __future__ import annotations

import json
import os

from dockyard import errors
from dockyard.runtime.protocol import ContainerState, Status

__all__ = [
    "DEFAULT_ROOT",
    "Record",
    "container_dir",
    "current",
    "load",
    "process_start_time",
    "save",
]

DEFAULT_ROOT = "/run/dockyard/builtin"
STATE_FILE = "state.json"
FIFO = "exec.fifo"
_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.+-")


class Record:
    """What ``state.json`` holds."""

    __slots__ = ("annotations", "bundle", "created", "id", "pid", "start_time")

    def __init__(
        self,
        id: str,
        pid: int,
        start_time: int,
        bundle: str,
        created: str,
        annotations: dict[str, str] | None = None,
    ) -> None:
        self.id = id
        self.pid = pid
        self.start_time = start_time
        self.bundle = bundle
        self.created = created
        self.annotations = dict(annotations or {})

    def to_json(self) -> str:
        return json.dumps({k: getattr(self, k) for k in self.__slots__})


def container_dir(root: str | os.PathLike[str], container_id: str) -> str:
    """The state directory of *container_id*. Raises InvalidArgument for a malformed id."""
    ok = (
        0 < len(container_id) <= 128
        and container_id[0].isascii()
        and container_id[0].isalnum()
        and set(container_id) <= _ID_CHARS
    )
    if not ok:
        raise errors.InvalidArgument(f"invalid container id: {container_id!r}")
    return os.path.join(root, container_id)


def save(root: str | os.PathLike[str], record: Record) -> None:
    """Write *record* atomically (temp file + rename)."""
    path = os.path.join(container_dir(root, record.id), STATE_FILE)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(record.to_json())
    os.replace(tmp, path)


def load(root: str | os.PathLike[str], container_id: str) -> Record:
    """The record of *container_id*. Raises NotFound when there is none."""
    path = os.path.join(container_dir(root, container_id), STATE_FILE)
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        raise errors.NotFound(f"No such container: {container_id}") from None
    except (OSError, ValueError) as exc:
        raise errors.FailedPrecondition(f"container {container_id}: bad state: {exc}") from exc
    return Record(**data)


def process_start_time(pid: int) -> int | None:
    """The start time (clock ticks since boot) of a live, non-zombie *pid*, else None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    fields = raw[raw.rindex(b")") + 2 :].split()
    if fields[0] in (b"Z", b"X"):
        return None
    return int(fields[19])


def status_of(root: str | os.PathLike[str], record: Record) -> Status:
    """The status of the container *record* describes, read from /proc and the fifo."""
    if process_start_time(record.pid) != record.start_time:
        return "stopped"
    if os.path.exists(os.path.join(container_dir(root, record.id), FIFO)):
        return "created"
    return "running"


def current(root: str | os.PathLike[str], container_id: str) -> tuple[Record, ContainerState]:
    """The record and the OCI state of *container_id*. Raises NotFound."""
    record = load(root, container_id)
    state = ContainerState(
        id=record.id,
        status=status_of(root, record),
        pid=record.pid,
        bundle=record.bundle,
        annotations=record.annotations,
        created=record.created,
    )
    return record, state
