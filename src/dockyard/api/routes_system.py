"""``/_ping``, ``/version``, ``/info`` and ``/system/df``: who the daemon is and what it holds.

The shapes are the ones docker CLI 28 reads (``docker version``, ``docker info``,
``docker system df``); fields Dockyard has no notion of get Docker's zero values.
"""

from __future__ import annotations

import os
import platform
import threading
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from dockyard import __version__
from dockyard.api import versions
from dockyard.api._work import call, engine, json_response
from dockyard.service.engine import Engine

__all__ = ["routes"]

routes = web.RouteTableDef()

_PING_HEADERS = {
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Pragma": "no-cache",
    "Content-Type": "text/plain; charset=utf-8",
    # "1": the classic builder (POST /build); the docker CLI then never tries BuildKit's
    # gRPC session, which Dockyard does not speak.
    "Builder-Version": "1",
    "Swarm": "inactive",
}


@routes.get("/_ping")  # aiohttp answers HEAD too, with the same headers and no body
async def ping(request: web.Request) -> web.Response:
    return web.Response(body=b"OK", headers=_PING_HEADERS)


def _arch() -> str:
    from dockyard.oci.platform import host

    return host().architecture


def version_info() -> dict[str, Any]:
    """The ``/version`` document."""
    details = {
        "ApiVersion": versions.MAX_API_VERSION,
        "Arch": _arch(),
        "BuildTime": "",
        "Experimental": "false",
        "GitCommit": "",
        "GoVersion": f"python{platform.python_version()}",
        "KernelVersion": platform.release(),
        "MinAPIVersion": versions.MIN_API_VERSION,
        "Os": "linux",
    }
    return {
        "Platform": {"Name": "Dockyard Engine"},
        "Components": [{"Name": "Engine", "Version": __version__, "Details": details}],
        "Version": __version__,
        **{k: v for k, v in details.items() if k != "Experimental"},
    }


@routes.get("/version")
async def version(request: web.Request) -> web.Response:
    return json_response(version_info())


def _os_release() -> tuple[str, str]:
    name, version_id = "Linux", ""
    try:
        with open("/etc/os-release") as f:
            for line in f:
                key, _, value = line.strip().partition("=")
                if key == "PRETTY_NAME":
                    name = value.strip('"')
                elif key == "VERSION_ID":
                    version_id = value.strip('"')
    except OSError:
        pass
    return name, version_id


def system_info(eng: Engine, listeners: int = 0) -> dict[str, Any]:
    """The ``/info`` document. Runs in the pool (it reads the database and /proc)."""
    os_name, os_version = _os_release()
    cgroup2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    states = [row.get("State") for row in eng.containers.list(all=True)]
    running, paused = states.count("running"), states.count("paused")
    return {
        "ID": "",
        "Containers": len(states),
        "ContainersRunning": running,
        "ContainersPaused": paused,
        "ContainersStopped": len(states) - running - paused,
        "Images": len(eng.image_records.all()),
        "Driver": "overlay2",
        "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"],
                         ["Using metacopy", "false"], ["Native Overlay Diff", "true"],
                         ["userxattr", "false"]],
        "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "none"],
                    "Authorization": None, "Log": ["json-file"]},
        "MemoryLimit": True, "SwapLimit": True, "KernelMemoryTCP": False, "CpuCfsPeriod": True,
        "CpuCfsQuota": True, "CPUShares": True, "CPUSet": True, "PidsLimit": True,
        "IPv4Forwarding": True, "Debug": False, "OomKillDisable": False,
        "NFd": len(os.listdir("/proc/self/fd")),
        "NGoroutines": threading.active_count(),
        "SystemTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "LoggingDriver": "json-file",
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": "2" if cgroup2 else "1",
        "NEventsListener": listeners,
        "KernelVersion": platform.release(),
        "OperatingSystem": os_name,
        "OSVersion": os_version,
        "OSType": "linux",
        "Architecture": platform.machine(),
        "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": {
            "InsecureRegistryCIDRs": ["::1/128", "127.0.0.0/8"],
            "IndexConfigs": {"docker.io": {"Name": "docker.io", "Mirrors": [], "Secure": True,
                                           "Official": True}},
            "Mirrors": [],
        },
        "NCPU": os.cpu_count() or 1,
        "MemTotal": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
        "GenericResources": None,
        "DockerRootDir": str(eng.settings.root),
        "HttpProxy": os.environ.get("HTTP_PROXY", ""),
        "HttpsProxy": os.environ.get("HTTPS_PROXY", ""),
        "NoProxy": os.environ.get("NO_PROXY", ""),
        "Name": platform.node(),
        "Labels": [],
        "ExperimentalBuild": False,
        "ServerVersion": __version__,
        "Runtimes": {"runc": {"path": "runc"}},
        "DefaultRuntime": "runc",
        "Swarm": {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive",
                  "ControlAvailable": False, "Error": "", "RemoteManagers": None},
        "LiveRestoreEnabled": True,  # containers outlive the daemon
        "Isolation": "",
        "InitBinary": "",
        "ContainerdCommit": {"ID": ""},
        "RuncCommit": {"ID": ""},
        "InitCommit": {"ID": ""},
        "SecurityOptions": ["name=seccomp,profile=builtin"],
        "CDISpecDirs": [],
        "Warnings": None,
    }


@routes.get("/info")
async def info(request: web.Request) -> web.Response:
    from dockyard.api.routes_events import listener_count

    doc = await call(request, system_info, engine(request), listener_count(request.app))
    return json_response(doc)


def disk_usage_doc(eng: Engine) -> dict[str, Any]:
    """``/system/df``: ``LayersSize`` is what ``dockyard system df`` reports for images."""
    from dockyard.api.routes_images import image_summaries
    from dockyard.service.system import disk_usage

    rows = {row.kind: row for row in disk_usage(eng)}
    return {
        "LayersSize": rows["Images"].size,
        "Images": image_summaries(eng, all_images=True, filters={}, api_version=versions.MAX_API_VERSION),
        "Containers": eng.containers.list(all=True),
        "Volumes": [_volume_usage(eng, v.name, v.to_json()) for v in eng.volumes.list_volumes()],
        "BuildCache": [],
    }


def _volume_usage(eng: Engine, name: str, doc: dict[str, Any]) -> dict[str, Any]:
    doc["UsageData"] = {"Size": eng.volumes.size(name), "RefCount": len(eng.volumes.in_use_by(name))}
    return doc


@routes.get("/system/df")
async def system_df(request: web.Request) -> web.Response:
    return json_response(await call(request, disk_usage_doc, engine(request)))
