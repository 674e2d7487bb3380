"""``delete``: forget a stopped container (``force`` kills it first).

The container's mounts live only in its mount namespace, so they vanish with its last
process; what is left to remove is the state directory. Killing the init of a PID namespace
kills every process in it. Imports only the standard library, ``dockyard.errors`` and this
package.
"""

from __future__ import annotations

import os
import shutil
import signal
import time

from dockyard import errors
from dockyard.runtime.builtin import store as st

__all__ = ["delete"]


def delete(container_id: str, *, root: str = st.DEFAULT_ROOT, force: bool = False) -> None:
    """Delete *container_id*'s state; with *force*, SIGKILL a live init and wait for it.

    Raises NotFound, FailedPrecondition (still running without *force*, or unkillable).
    """
    record, state = st.current(root, container_id)
    if state.status != "stopped":
        if not force:
            raise errors.FailedPrecondition(
                f"container {container_id} is {state.status}: stop it first or force the delete"
            )
        try:
            os.kill(record.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 10
        while st.process_start_time(record.pid) == record.start_time:
            if time.monotonic() > deadline:
                raise errors.FailedPrecondition(f"container {container_id}: init will not die")
            time.sleep(0.005)
    shutil.rmtree(st.container_dir(root, container_id), ignore_errors=True)
