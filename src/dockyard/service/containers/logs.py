"""``logs``: a container's json-file log, as Docker's ``docker logs`` reads it.

The shim writes the log; this reads it, after the container exited too (until ``rm``).

Imports ``runtime.logs`` and sibling modules; never cli/ or api/.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from dockyard.metadata.containers import ContainerRecord

if TYPE_CHECKING:
    from dockyard.runtime.logs import LogEntry
    from dockyard.service.containers.service import ContainerService

__all__ = ["logs"]


def logs(
    svc: ContainerService,
    record: ContainerRecord,
    *,
    follow: bool = False,
    tail: int | None = None,
    since: str | None = None,
    until: str | None = None,
) -> Iterator[LogEntry]:
    """The log entries of *record*, oldest first; with *follow*, new ones until it stops.
    *since*/*until* take Docker's forms (RFC 3339, unix seconds, or a duration like ``10m``).

    Raises InvalidArgument (bad time).
    """
    from dockyard.runtime.logs import parse_time, read_logs

    path = svc.log_path(record.id)
    since_ns = parse_time(since) if since else None
    until_ns = parse_time(until) if until else None
    if not os.path.exists(path):
        return iter(())

    def stopped() -> bool:
        return not svc.live(record).running

    return read_logs(path, tail=tail, since_ns=since_ns, until_ns=until_ns, follow=follow,
                     stopped=stopped)  # fmt: skip
