"""``create``: validate a Docker create request, make the record and the writable layer.

The request is Docker's own shape (``Config`` and ``HostConfig`` dicts, as the Engine API's
``POST /containers/create`` body), so the CLI and the API daemon share one code path. The
stored ``Config`` is the effective one (image defaults merged, as ``docker inspect`` shows).

Imports metadata, runtime (cgroup resources, log options) and sibling modules; never cli/ or
api/.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dockyard import errors
from dockyard.metadata.containers import ContainerRecord
from dockyard.service.containers import bundle, names, runtimes

if TYPE_CHECKING:
    from dockyard.service.containers.service import ContainerService

__all__ = ["CreateResult", "create"]

_POLICIES = ("no", "always", "unless-stopped", "on-failure")


@dataclass
class CreateResult:
    """What ``create`` made: the new id, its name, and Docker-style warnings."""

    id: str
    name: str
    warnings: list[str] = field(default_factory=list)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _validate_host(host: dict[str, Any]) -> None:
    from dockyard.runtime.cgroups.resources import validate
    from dockyard.runtime.logs import parse_log_opts

    validate(resources_of(host))
    policy = host.get("RestartPolicy") or {}
    name = policy.get("Name") or "no"
    if name not in _POLICIES:
        raise errors.InvalidArgument(f"invalid restart policy '{name}'")
    if policy.get("MaximumRetryCount") and name != "on-failure":
        raise errors.InvalidArgument(
            f"maximum retry count cannot be used with restart policy '{name}'"
        )
    if host.get("AutoRemove") and name != "no":
        raise errors.InvalidArgument("Conflicting options: --restart and --rm")
    log = host.get("LogConfig") or {}
    if (log.get("Type") or "json-file") != "json-file":
        raise errors.InvalidArgument(f"logging driver {log.get('Type')} is not supported")
    parse_log_opts(dict(log.get("Config") or {}))
    bundle.validate_security_opt(list(host.get("SecurityOpt") or []))


# Docker's init layer: the mount points and files the runtime binds over, so they are not
# in the container's own diff (``docker diff``/``commit`` never see them).
_INIT_DIRS = ("dev", "dev/pts", "dev/shm", "proc", "sys", "etc")
_INIT_FILES = ("dev/console", "etc/hostname", "etc/hosts", "etc/resolv.conf", ".dockerenv")


def init_name(container_id: str) -> str:
    """The committed snapshot holding *container_id*'s init layer."""
    return f"{container_id}-init"


def init_layer(snapshotter: Any, container_id: str, parent: str | None) -> None:
    """Make and commit the init layer of *container_id* on *parent*. Raises what the
    snapshotter raises (the half-made snapshot is removed)."""
    key = f"{container_id}-init-prepare"
    snapshotter.prepare(key, parent=parent)
    try:
        root = snapshotter.fs_dir(key)
        for d in _INIT_DIRS:
            os.makedirs(os.path.join(root, d), mode=0o755, exist_ok=True)
        for f in _INIT_FILES:
            with open(os.path.join(root, f), "a"):
                pass
        os.symlink("/proc/mounts", os.path.join(root, "etc", "mtab"))
        snapshotter.commit(init_name(container_id), key)
    except BaseException:
        snapshotter.remove(key)
        raise


def _validate_network(svc: ContainerService, mode: str) -> None:
    """Docker's create-time check: a user network named by ``--network`` exists. Raises
    NotFound (``network NAME not found``), InvalidArgument (``container:`` without a name)."""
    if mode in ("", "default", "bridge", "none", "host"):
        return  # nothing to look up: keep the network stack's imports off this path
    from dockyard.service.container_network import parse_network_mode

    kind, name = parse_network_mode(mode)
    if kind != "bridge" or name == "bridge":
        return
    try:
        svc.engine.networks.get(name)
    except errors.NotFound as exc:
        raise errors.NotFound(f"network {name} not found") from exc


def resources_of(host: dict[str, Any]) -> Any:
    """``cgroups.Resources`` for a ``HostConfig`` (None for what is not set)."""
    from dockyard.runtime.cgroups.protocol import Resources

    nano = host.get("NanoCpus") or 0
    return Resources(
        memory=host.get("Memory") or None,
        memory_swap=host.get("MemorySwap") or None,
        memory_reservation=host.get("MemoryReservation") or None,
        cpus=nano / 1e9 if nano else None,
        cpu_shares=host.get("CpuShares") or None,
        cpuset_cpus=host.get("CpusetCpus") or None,
        pids_limit=host.get("PidsLimit") or None,
    )


def create(
    svc: ContainerService,
    config: dict[str, Any],
    host_config: dict[str, Any] | None = None,
    name: str | None = None,
) -> CreateResult:
    """Create a container from Docker's ``Config``/``HostConfig``; it is left ``created``.

    Raises NotFound (image), InvalidArgument (bad name, flags or no command), Conflict (name
    in use), Unavailable (runtime not installed).
    """
    engine = svc.engine
    host = dict(host_config or {})
    image_name = config.get("Image") or ""
    if not image_name:
        raise errors.InvalidArgument("No image specified")
    image = engine.images.resolve(image_name)
    image_config = engine.images.config(image).get("config") or {}
    merged = bundle.merge_image_config(dict(config), image_config)
    merged["Image"] = image_name
    bundle.command_of(merged)
    _validate_host(host)
    host.setdefault("Runtime", "builtin")
    host["Runtime"] = host["Runtime"] or "builtin"
    runtimes.runtime_base(host["Runtime"], engine.settings.exec_root)
    host.setdefault("LogConfig", {"Type": "json-file", "Config": {}})
    host.setdefault("RestartPolicy", {"Name": "no", "MaximumRetryCount": 0})
    if host.get("NetworkMode") in (None, "", "default"):
        host["NetworkMode"] = "bridge"
    # the request's NetworkingConfig (aliases, --ip) rides in Config or HostConfig
    networking_config = merged.pop("NetworkingConfig", None) or host.pop("NetworkingConfig", None)
    from dockyard.service.containers import volumes_setup

    mount_specs = volumes_setup.plan(svc, merged, host)
    _validate_network(svc, host["NetworkMode"])
    records = svc.records
    chosen = names.validate_name(name) if name else names.generate_name(records.names())
    cid = names.new_id()
    merged["Hostname"] = merged.get("Hostname") or cid[:12]
    if merged.get("Healthcheck") and host.get("NoHealthcheck"):
        merged["Healthcheck"] = {"Test": ["NONE"]}
    record = ContainerRecord(
        id=cid, name=chosen, image_id=image.id, image=image_name, created=_now(),
        config=merged, host_config=host, snapshot_key=cid, runtime=host["Runtime"],
        extra={k: v for k, v in (("NetworkingConfig", networking_config),
                                  (volumes_setup.SPECS, mount_specs)) if v},
    )  # fmt: skip
    if name and records.by_name(chosen) is not None:
        records.put(record)  # raises Docker's Conflict before any work is done
    init_layer(engine.snapshotter, cid, image.top_chain_id)
    try:
        engine.snapshotter.prepare(cid, parent=init_name(cid))
    except BaseException:
        engine.snapshotter.remove(init_name(cid))
        raise
    try:
        for attempt in range(3):
            try:
                records.put(record)
                break
            except errors.Conflict:
                if name or attempt == 2:
                    raise
                record.name = names.generate_name(records.names())  # another process took it
    except BaseException:
        engine.snapshotter.remove(cid)
        engine.snapshotter.remove(init_name(cid))
        raise
    os.makedirs(svc.state_dir(cid), mode=0o711, exist_ok=True)
    svc.emit("create", record)
    return CreateResult(cid, record.name)
