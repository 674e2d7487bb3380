"""``inspect`` of a container in Docker's JSON shape (``GET /containers/{id}/json``).

Imports only metadata and sibling modules; never cli/ or api/.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dockyard import errors
from dockyard.metadata.containers import ContainerRecord

if TYPE_CHECKING:
    from dockyard.service.containers.service import ContainerService

__all__ = ["inspect"]

_HOST_DEFAULTS: dict[str, Any] = {
    "Binds": None, "ContainerIDFile": "", "NetworkMode": "none", "PortBindings": {},
    "AutoRemove": False, "VolumeDriver": "", "VolumesFrom": None, "CapAdd": None,
    "CapDrop": None, "Dns": [], "DnsOptions": [], "DnsSearch": [], "ExtraHosts": None,
    "IpcMode": "private", "OomScoreAdj": 0, "PidMode": "", "Privileged": False,
    "PublishAllPorts": False, "ReadonlyRootfs": False, "SecurityOpt": None, "UTSMode": "",
    "ShmSize": 67108864, "Runtime": "builtin", "Memory": 0, "MemorySwap": 0,
    "MemoryReservation": 0, "NanoCpus": 0, "CpuShares": 0, "CpusetCpus": "", "PidsLimit": None,
    "Ulimits": None, "Init": None, "Tmpfs": None,
}  # fmt: skip
_CONFIG_DEFAULTS: dict[str, Any] = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
    "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": None,
    "Cmd": None, "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None,
    "OnBuild": None, "Labels": {},
}  # fmt: skip


def _network_settings(svc: ContainerService, record: ContainerRecord,
                      running: bool) -> dict[str, Any] | None:  # fmt: skip
    """The live ``NetworkSettings`` of a running container (``network connect`` included),
    else the ones it last started with."""
    if running:
        from dockyard.service.container_network import network_settings

        try:
            live = network_settings(svc.engine, record.id)
        except errors.DockyardError:
            live = {}
        if live.get("Networks"):
            return live
    stored: dict[str, Any] | None = record.extra.get("NetworkSettings")
    return stored


def inspect(svc: ContainerService, record: ContainerRecord) -> dict[str, Any]:
    """The container as ``docker inspect`` prints it."""
    live = svc.live(record)
    argv = list(record.config.get("Entrypoint") or []) + list(record.config.get("Cmd") or [])
    if record.host_config.get("Init"):
        argv = ["/sbin/docker-init", "--", *argv]
    snapshot: dict[str, str] = {}
    try:
        mounts = svc.engine.snapshotter.mounts(record.snapshot_key)
        for option in mounts[0].options:
            key, eq, value = option.partition("=")
            if eq and key in ("lowerdir", "upperdir", "workdir"):
                snapshot[{"lowerdir": "LowerDir", "upperdir": "UpperDir",
                          "workdir": "WorkDir"}[key]] = value  # fmt: skip
        snapshot["MergedDir"] = svc.state_dir(record.id) + "/rootfs"
    except Exception:  # a half-removed container still inspects
        pass
    sd = svc.state_dir(record.id)
    host = {**_HOST_DEFAULTS, **record.host_config}
    return {
        "Id": record.id,
        "Created": record.created,
        "Path": argv[0] if argv else "",
        "Args": argv[1:],
        "State": live.to_docker(),
        "Image": "sha256:" + record.image_id.removeprefix("sha256:"),
        "ResolvConfPath": f"{sd}/resolv.conf",
        "HostnamePath": f"{sd}/hostname",
        "HostsPath": f"{sd}/hosts",
        "LogPath": svc.log_path(record.id),
        "Name": "/" + record.name,
        "RestartCount": live.restart_count,
        "Driver": "overlay2",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": None,
        "HostConfig": host,
        "GraphDriver": {"Name": "overlay2", "Data": snapshot or None},
        "Mounts": list(record.extra.get("Mounts") or []),
        "Config": {**_CONFIG_DEFAULTS, **record.config},
        "NetworkSettings": _network_settings(svc, record, live.running)
        or {
            "Bridge": "",
            "SandboxID": "",
            "HairpinMode": False,
            "Ports": {},
            "SandboxKey": "",
            "Gateway": "",
            "IPAddress": "",
            "IPPrefixLen": 0,
            "MacAddress": "",
            "Networks": {},
        },
    }
