"""A container's volumes and binds: planned at create, attached at start, dropped at rm.

``plan`` (create) turns ``HostConfig.Binds`` (``-v``), ``HostConfig.Mounts`` (``--mount``
strings, or the Engine API's dicts), ``HostConfig.VolumesFrom`` and the image's ``VOLUME``s
into ``MountSpec``s kept in the record (``extra["MountSpecs"]``), so Docker's errors come
before anything is made. ``prepare`` (start) attaches them (binds resolved, volumes made,
anonymous ones named and remembered so a restart reuses them), fills empty volumes from the
image, and returns the OCI mounts; inspect's ``Mounts`` is written then. ``release`` (rm)
drops the holds and, for ``rm -v``, the anonymous volumes. ``--tmpfs`` stays with the bundle.

Imports ``dockyard.volume`` (pure parsers), ``_sys.mountapi`` and sibling modules; never cli/
or api/.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockyard import errors

if TYPE_CHECKING:
    from dockyard.metadata.containers import ContainerRecord
    from dockyard.service.containers.service import ContainerService
    from dockyard.service.engine import Engine
    from dockyard.volume import MountSpec

__all__ = ["install_users_hook", "plan", "prepare", "release"]

SPECS = "MountSpecs"


def install_users_hook(engine: Engine) -> None:
    """Let the volume service know which containers use a volume (for ``volume rm``/prune)."""
    engine.volumes.users = volume_users(engine)


def volume_users(engine: Engine) -> Callable[[str], list[str]]:
    """``name -> [container ids]`` over the container records' planned mounts."""

    def users(name: str) -> list[str]:
        out = []
        for record in engine.containers.records.all():
            for data in record.extra.get(SPECS) or []:
                if data.get("type") == "volume" and data.get("source") == name:
                    out.append(record.id)
                    break
        return out

    return users


def _mount_text(item: Any) -> str:
    """``--mount`` text of an Engine API ``Mounts`` entry (or the text itself)."""
    if isinstance(item, str):
        return item
    parts = [f"type={item.get('Type') or 'volume'}", f"target={item.get('Target') or ''}"]
    if item.get("Source"):
        parts.append(f"source={item['Source']}")
    if item.get("ReadOnly"):
        parts.append("readonly")
    return ",".join(parts)


def plan(svc: ContainerService, config: dict[str, Any],
         host: dict[str, Any]) -> list[dict[str, Any]]:  # fmt: skip
    """The container's mounts as stored specs (``MountSpec.to_dict``).

    Raises InvalidArgument (Docker's parse errors, duplicate mount point), NotFound (a
    ``--volumes-from`` container).
    """
    from dockyard.volume import (
        MountSpec,
        combine,
        inherit,
        parse_mount,
        parse_volume,
        parse_volumes_from,
    )  # fmt: skip

    inherited: list[MountSpec] = []
    for raw in host.get("VolumesFrom") or []:
        ref, mode = parse_volumes_from(raw)
        parent = svc.resolve(ref)
        specs = [MountSpec.from_dict(d) for d in parent.extra.get(SPECS) or []]
        inherited += inherit(specs, mode)
    binds = [parse_volume(v) for v in host.get("Binds") or []]
    mounts = [parse_mount(_mount_text(m)) for m in host.get("Mounts") or []]
    image_volumes = list((config.get("Volumes") or {}).keys())
    if not (inherited or binds or mounts or image_volumes):
        return []
    combined = combine(volumes_from=inherited, volumes=binds, mounts=mounts,
                       image_volumes=image_volumes)  # fmt: skip
    return [s.to_dict() for s in combined]


def _image_root(sd: str, dirs: list[str]) -> tuple[Path, bool]:
    """A read-only view of the image's root (its layers, top first) for filling volumes;
    True when it is a mount to undo."""
    from dockyard._sys.mountapi import MS_RDONLY, mount

    if len(dirs) == 1:
        return Path(dirs[0]), False
    target = os.path.join(sd, "volume-fill")
    os.makedirs(target, exist_ok=True)
    try:
        mount("overlay", target, "overlay", MS_RDONLY, "lowerdir=" + ":".join(dirs))
    except OSError as exc:
        raise errors.FailedPrecondition(f"cannot read the image to fill volumes: {exc}") from exc
    return Path(target), True


def prepare(
    svc: ContainerService, record: ContainerRecord, dirs: list[str]
) -> list[dict[str, Any]]:
    """Attach *record*'s mounts; the OCI mount entries. *dirs* are the root filesystem's
    layers, top first (to fill empty volumes from). Raises what ``VolumeService.attach``
    raises (nothing stays attached then)."""
    stored = record.extra.get(SPECS) or []
    if not stored:
        return []
    from dockyard._sys.mountapi import umount
    from dockyard.volume import MountSpec, inspect_entry

    engine = svc.engine
    install_users_hook(engine)
    specs = [MountSpec.from_dict(d) for d in stored]
    attached = engine.volumes.attach(specs, record.id)
    try:
        if any(a.spec.type == "volume" and not a.spec.nocopy for a in attached) and dirs:
            root, mounted = _image_root(svc.state_dir(record.id), dirs)
            try:
                engine.volumes.fill(attached, root)
            finally:
                if mounted:
                    umount(str(root), 2)
                    os.rmdir(str(root))
    except BaseException:
        engine.volumes.detach([a.spec for a in attached], record.id)
        raise
    extra = dict(record.extra)
    extra[SPECS] = [a.spec.to_dict() for a in attached]  # anonymous volumes now named
    extra["Mounts"] = [inspect_entry(a.spec, a.host_source) for a in attached]
    svc.records.update_extra(record.id, extra)
    record.extra = extra
    return [a.oci for a in attached]


def release(svc: ContainerService, record: ContainerRecord) -> list[MountSpec]:
    """Drop every hold of *record* on volumes; its specs (for :func:`remove_anonymous`)."""
    from dockyard.volume import MountSpec

    specs = [MountSpec.from_dict(d) for d in record.extra.get(SPECS) or []]
    try:
        svc.engine.volumes.detach_all(record.id)
    except errors.DockyardError:
        pass
    return specs


def remove_anonymous(svc: ContainerService, specs: list[MountSpec]) -> list[str]:
    """``rm -v``: the anonymous volumes of *specs* nobody else uses, removed (call once the
    container's record is gone)."""
    install_users_hook(svc.engine)
    return list(svc.engine.volumes.remove_anonymous(specs))
