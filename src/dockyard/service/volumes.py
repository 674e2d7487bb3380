"""The volume service: create, list, inspect, remove and prune volumes, and attach the mounts
a container asks for (binds resolved, volumes made, mounted and filled from the image).

The container service installs ``users`` (volume name → ids of the containers that use it,
running or not) so ``rm`` and ``prune`` spare volumes in use, and calls :meth:`attach` before
it writes a container's OCI config and :meth:`detach` when the container stops. ``system df``
reads :meth:`usage`. Typed arguments in, data out; rendering is the shells'.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockyard import errors
from dockyard.volume import bindsource, filters, plan
from dockyard.volume.local import LocalDriver
from dockyard.volume.model import (
    ANONYMOUS_LABEL,
    BIND,
    VOLUME,
    MountSpec,
    VolumeRecord,
    generate_name,
    validate_name,
)
from dockyard.volume.populate import populate, source_in_rootfs
from dockyard.volume.protocol import VolumeDriver, VolumeRecords
from dockyard.volume.records import SqliteVolumeRecords

if TYPE_CHECKING:
    from dockyard.service.engine import Engine

__all__ = ["AttachedMount", "VolumeService", "VolumeUsage"]


@dataclass(frozen=True)
class VolumeUsage:
    """The ``Local Volumes`` row of ``system df``: counts and bytes."""

    count: int
    active: int
    size: int
    reclaimable: int


@dataclass(frozen=True)
class AttachedMount:
    """A container's mount made ready: *spec* (an anonymous volume now carries its generated
    name as ``source``), the host path to bind, and the OCI mount entry."""

    spec: MountSpec
    host_source: str
    oci: dict[str, Any]


class VolumeService:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.records: VolumeRecords = SqliteVolumeRecords(engine.db)
        self.driver: VolumeDriver = LocalDriver(engine.settings.root / "volumes")
        # Who uses a volume (container ids); the container service installs its own.
        self.users: Callable[[str], list[str]] = lambda name: []

    # -- records ----------------------------------------------------------------------------
    def create(self, name: str = "", driver: str = "local", labels: Mapping[str, str] | None = None,
               options: Mapping[str, str] | None = None, anonymous: bool = False) -> VolumeRecord:
        """Create a volume, or return the existing one of that name (as Docker does).

        Raises InvalidArgument (bad name or options), NotFound (a driver other than local).
        """
        if driver not in ("", "local"):
            raise errors.NotFound(
                f'create {name}: error looking up volume plugin {driver}: plugin "{driver}" not found'
            )
        anonymous = anonymous or not name
        name = name or generate_name()
        validate_name(name)
        existing = self.records.find(name)
        if existing is not None:
            return existing
        opts = dict(options or {})
        self.driver.validate_options(opts)
        all_labels = dict(labels or {})
        if anonymous:
            all_labels.setdefault(ANONYMOUS_LABEL, "")
        mountpoint = self.driver.create(name)
        created = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        record = VolumeRecord(name=name, mountpoint=str(mountpoint), created=created,
                              labels=all_labels, options=opts, anonymous=anonymous)  # fmt: skip
        stored, created_now = self.records.add(record)
        if created_now:
            self._engine.events.emit("volume", "create", name, {"driver": stored.driver})
        return stored

    def get(self, name: str) -> VolumeRecord:
        """Raises NotFound (``get NAME: no such volume``)."""
        return self.records.get(name)

    def inspect(self, name: str) -> dict[str, Any]:
        """Docker's ``volume inspect`` document. Raises NotFound."""
        return self.records.get(name).to_json()

    def in_use_by(self, name: str) -> list[str]:
        """Containers using *name*: the container service's answer and live mounts."""
        found = list(self.users(name))
        for ref in self.records.refs(name):
            if ref not in found:
                found.append(ref)
        return found

    def list_volumes(self, filter_args: Sequence[str] = ()) -> list[VolumeRecord]:
        """Volumes by name, filtered (``dangling=``, ``driver=``, ``label=``, ``name=``).
        Raises InvalidArgument for a bad filter."""
        parsed = filters.parse_filters(filter_args, filters.LS_FILTERS)
        return [r for r in self.records.all()
                if filters.matches(r, parsed, lambda n: bool(self.in_use_by(n)))]  # fmt: skip

    def remove(self, name: str, force: bool = False) -> None:
        """Remove a volume. Raises NotFound (unless *force*), Conflict (``remove NAME: volume
        is in use - [ID]``) or DockyardError when its directory cannot be removed (with
        *force* the record goes anyway)."""
        record = self.records.find(name)
        if record is None:
            if force:
                return
            raise errors.NotFound(f"get {name}: no such volume")
        users = self.in_use_by(name)
        if users:
            raise errors.Conflict(f"remove {name}: volume is in use - [{' '.join(users)}]")
        try:
            self.driver.remove(name)
        except errors.DockyardError:
            if not force:
                raise
        if self.records.delete(name):
            self._engine.events.emit("volume", "destroy", name, {"driver": record.driver})

    def prune(self, all_volumes: bool = False, filter_args: Sequence[str] = ()) -> tuple[list[str], int]:
        """Remove unused volumes: anonymous ones, or all with *all_volumes* (Docker 23+).
        Returns (names removed, bytes reclaimed). Raises InvalidArgument for a bad filter."""
        parsed = filters.parse_filters(filter_args, filters.PRUNE_FILTERS)
        if any(v.lower() in ("true", "1") for v in parsed.pop("all", [])):
            all_volumes = True
        removed: list[str] = []
        reclaimed = 0
        for record in self.records.all():
            if not all_volumes and ANONYMOUS_LABEL not in record.labels:
                continue
            if not filters.matches(record, parsed, lambda n: False) or self.in_use_by(record.name):
                continue
            size = self.driver.size(record.name)
            try:
                self.remove(record.name)
            except errors.DockyardError:
                continue  # taken into use meanwhile, or not removable: Docker skips it too
            removed.append(record.name)
            reclaimed += size
        return removed, reclaimed

    def size(self, name: str) -> int:
        """Bytes volume *name* holds. Raises NotFound."""
        return self.driver.size(self.records.get(name).name)

    def usage(self) -> VolumeUsage:
        """``system df``'s Local Volumes row: (count, active, size, reclaimable)."""
        count = active = size = reclaimable = 0
        for record in self.records.all():
            bytes_ = self.driver.size(record.name)
            count += 1
            size += bytes_
            if self.in_use_by(record.name):
                active += 1
            else:
                reclaimable += bytes_
        return VolumeUsage(count, active, size, reclaimable)

    # -- containers -------------------------------------------------------------------------
    def attach(self, specs: Sequence[MountSpec], container_id: str,
               rootfs: Path | None = None) -> list[AttachedMount]:
        """Make *specs* ready for container *container_id*: bind sources resolved (created
        for ``-v``), volumes created when missing (anonymous ones named), mounted when they
        have options, and filled from *rootfs* (the container's image root) when empty and
        not ``nocopy``. On failure what was attached is detached again.

        Raises what ``bindsource.resolve`` and :meth:`create` raise, and the driver's mount
        errors.
        """
        done: list[AttachedMount] = []
        try:
            for spec in specs:
                done.append(self._attach_one(spec, container_id, rootfs))
        except BaseException:
            self.detach([a.spec for a in done], container_id)
            raise
        return done

    def _attach_one(self, spec: MountSpec, container_id: str, rootfs: Path | None) -> AttachedMount:
        if spec.type == BIND:
            source = bindsource.resolve(spec)
            return AttachedMount(spec, source, plan.oci_mount(spec, source))
        if spec.type != VOLUME:
            return AttachedMount(spec, "", plan.oci_mount(spec))
        record = self.create(spec.source, spec.volume_driver, spec.volume_labels,
                             spec.volume_opts, anonymous=spec.anonymous)  # fmt: skip
        spec = dataclasses.replace(spec, source=record.name)
        self.records.add_ref(record.name, container_id)
        self._engine.events.emit("volume", "mount", record.name, {
            "container": container_id, "destination": spec.target, "driver": record.driver,
            "propagation": spec.propagation, "read/write": "false" if spec.readonly else "true"})
        try:
            mountpoint = str(self.driver.mount(record))
            attached = AttachedMount(spec, mountpoint, plan.oci_mount(spec, mountpoint))
            if rootfs is not None:
                self.fill([attached], rootfs)
        except BaseException:
            self._release(record.name, container_id)
            raise
        return attached

    def fill(self, attached: Sequence[AttachedMount], rootfs: Path) -> list[str]:
        """Fill each empty, never-filled volume of *attached* (unless ``nocopy``) with what
        the image root *rootfs* holds at its target; return the names of those filled. For a
        caller that mounts the container's rootfs only after :meth:`attach`.
        Raises DockyardError when a copy fails."""
        filled = []
        for a in attached:
            if a.spec.type != VOLUME or a.spec.nocopy:
                continue
            record = self.records.get(a.spec.source)
            mark = not self.driver.mounts(record)  # a tmpfs volume is empty at every mount
            if populate(Path(a.host_source), source_in_rootfs(rootfs, a.spec.target), mark=mark):
                filled.append(record.name)
        return filled

    def detach(self, specs: Sequence[MountSpec], container_id: str) -> None:
        """Drop *container_id*'s hold on the volumes of *specs*; a volume with options is
        unmounted when its last user is gone."""
        for spec in specs:
            if spec.type == VOLUME and spec.source:
                self._release(spec.source, container_id)

    def detach_all(self, container_id: str) -> None:
        """Drop every hold *container_id* has (its record is gone, or it died unseen)."""
        for name in self.records.names_for_ref(container_id):
            self._release(name, container_id)

    def _release(self, name: str, container_id: str) -> None:
        if container_id in self.records.refs(name):
            self._engine.events.emit("volume", "unmount", name,
                                     {"container": container_id, "driver": "local"})
        if self.records.remove_ref(name, container_id) == 0:
            record = self.records.find(name)
            if record is not None:
                self.driver.unmount(record)

    def remove_anonymous(self, specs: Sequence[MountSpec]) -> list[str]:
        """``rm -v``: remove the anonymous volumes among *specs* that nothing else uses
        (call after the container is gone from ``users``); return the names removed."""
        removed = []
        for spec in specs:
            record = self.records.find(spec.source) if spec.type == VOLUME and spec.source else None
            if record is None or not record.anonymous:
                continue
            try:
                self.remove(record.name)
            except errors.Conflict:
                continue
            removed.append(record.name)
        return removed
