"""``kill``: send a signal to a container's init.

Imports only the standard library, ``dockyard.errors`` and this package.
"""

from __future__ import annotations

import os
import signal as signals

from dockyard import errors
from dockyard.runtime.builtin import store as st

__all__ = ["kill", "parse_signal"]


def parse_signal(text: str) -> int:
    """``KILL``, ``SIGKILL`` or ``9`` as a signal number. Raises InvalidArgument."""
    if text.isdigit():
        return int(text)
    name = text.upper()
    name = name if name.startswith("SIG") else "SIG" + name
    try:
        return int(signals.Signals[name])
    except KeyError:
        raise errors.InvalidArgument(f"unknown signal: {text}") from None


def kill(container_id: str, sig: int = signals.SIGTERM, *, root: str = st.DEFAULT_ROOT) -> None:
    """Send *sig* to the init of *container_id*.

    Raises NotFound, FailedPrecondition (the container is stopped).
    """
    record, state = st.current(root, container_id)
    if state.status not in ("created", "running"):
        raise errors.FailedPrecondition(f"container {container_id} is not running")
    try:
        os.kill(record.pid, sig)
    except ProcessLookupError:
        raise errors.FailedPrecondition(f"container {container_id} is not running") from None
