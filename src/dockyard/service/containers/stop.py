"""``stop``, ``kill`` and ``restart``: signals to a container's init, through its shim's files.

Both mark the container stopped by the user (``stop-requested``), so the shim does not restart
it whatever its policy, as Docker does for a manual stop or kill.

Imports ``runtime.shim.client`` and sibling modules; never cli/ or api/.
"""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

from dockyard import errors
from dockyard.metadata.containers import ContainerRecord

if TYPE_CHECKING:
    from dockyard.service.containers.service import ContainerService

__all__ = ["kill", "parse_signal", "restart", "stop"]

DEFAULT_STOP_TIMEOUT = 10


def parse_signal(value: str | int) -> int:
    """``9``, ``KILL`` or ``SIGKILL`` → 9. Raises InvalidArgument (Docker's message)."""
    if isinstance(value, int):
        return value
    text = value.strip().upper()
    if text.isdigit():
        number = int(text)
        if 0 < number < 65:
            return number
    else:
        name = text if text.startswith("SIG") else "SIG" + text
        if hasattr(signal.Signals, name):
            return int(signal.Signals[name])
    raise errors.InvalidArgument(f"Invalid signal: {value}")


def stop(svc: ContainerService, record: ContainerRecord, timeout: int | None = None) -> None:
    """``docker stop``: the stop signal, then SIGKILL after *timeout* seconds (the
    container's ``StopTimeout``, else 10). A container that is not running is left as it is.
    Raises Unavailable (would not die).
    """
    from dockyard.runtime.shim import client

    live = svc.live(record)
    if not live.running:
        return
    sig = parse_signal(record.config.get("StopSignal") or "SIGTERM")
    if timeout is None:
        timeout = record.config.get("StopTimeout")
    wait = DEFAULT_STOP_TIMEOUT if timeout is None else int(timeout)
    svc.emit("kill", record, {"signal": str(sig)})
    if wait < 0:
        client.request_stop(svc.state_dir(record.id), sig)
        client.wait_exit(svc.state_dir(record.id), 365 * 86400)
    else:
        client.stop(svc.state_dir(record.id), sig, float(wait))
    from dockyard.service.containers import networking

    networking.release(svc, record)
    svc.emit_die(record)
    svc.emit("stop", record)


def kill(svc: ContainerService, record: ContainerRecord, sig: str | int = "KILL") -> None:
    """``docker kill``: send *sig* to the init. Raises InvalidArgument (signal), Conflict
    (not running: ``Cannot kill container: NAME: Container ID is not running``)."""
    from dockyard.runtime.shim import client

    number = parse_signal(sig)
    live = svc.live(record)
    if not live.running:
        raise errors.Conflict(
            f"Cannot kill container: {record.name}: Container {record.id} is not running"
        )
    try:
        client.request_stop(svc.state_dir(record.id), number)
    except errors.FailedPrecondition as exc:
        raise errors.Conflict(
            f"Cannot kill container: {record.name}: Container {record.id} is not running"
        ) from exc
    svc.emit("kill", record, {"signal": str(number)})


def restart(svc: ContainerService, record: ContainerRecord, timeout: int | None = None) -> None:
    """``docker restart``: stop (as ``stop``), then start. Raises what they raise."""
    from dockyard.service.containers.start import start

    stop(svc, record, timeout)
    start(svc, record)
    svc.emit("restart", record)
