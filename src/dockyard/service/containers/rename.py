"""``rename``: give a container a new name (Docker's validation, uniqueness and event).

Imports only ``dockyard.errors`` and this package's ``names``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from dockyard import errors
from dockyard.service.containers import names

if TYPE_CHECKING:
    from dockyard.metadata.containers import ContainerRecord
    from dockyard.service.containers.service import ContainerService

__all__ = ["rename"]


def rename(svc: ContainerService, record: ContainerRecord, new_name: str) -> None:
    """Rename *record* to *new_name* (a leading ``/`` is dropped).

    Raises InvalidArgument (bad or same name), Conflict (name in use), NotFound.
    """
    new_name = new_name.lstrip("/")
    if not new_name:
        raise errors.InvalidArgument("Neither old nor new names may be empty")
    names.validate_name(new_name)
    if new_name == record.name:
        raise errors.InvalidArgument("Renaming a container with the same name as its current name")
    svc.records.rename(record.id, new_name)
    old = record.name
    svc.emit("rename", dataclasses.replace(record, name=new_name), {"oldName": f"/{old}"})
