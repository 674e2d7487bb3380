"""``stats``: Docker's ``/containers/{id}/stats`` document of a container (memory, CPU,
pids from its cgroup; network from its network namespace's ``/proc/PID/net/dev``; block
I/O from the v1 blkio controller), and the CPU percentage ``docker stats`` shows.

Reads only files (cgroup, /proc); the parsing is pure. Imports only the standard library,
``dockyard.errors`` and the cgroup drivers.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

from dockyard import errors

if TYPE_CHECKING:
    from dockyard.metadata.containers import ContainerRecord
    from dockyard.service.containers.service import ContainerService

__all__ = ["cpu_percent", "parse_blkio", "parse_net_dev", "sample"]

_ZERO = "0001-01-01T00:00:00Z"


def parse_net_dev(text: str) -> dict[str, dict[str, int]]:
    """``/proc/net/dev`` → Docker's ``networks`` (every interface but ``lo``)."""
    out: dict[str, dict[str, int]] = {}
    for line in text.splitlines()[2:]:
        name, _, rest = line.partition(":")
        name, v = name.strip(), [int(x) for x in rest.split()]
        if name == "lo" or len(v) < 16:
            continue
        out[name] = {"rx_bytes": v[0], "rx_packets": v[1], "rx_errors": v[2], "rx_dropped": v[3],
                     "tx_bytes": v[8], "tx_packets": v[9], "tx_errors": v[10],
                     "tx_dropped": v[11]}  # fmt: skip
    return out


def parse_blkio(text: str) -> list[dict[str, Any]]:
    """v1 ``blkio.throttle.io_service_bytes`` → Docker's ``io_service_bytes_recursive``."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and ":" in parts[0]:
            major, minor = parts[0].split(":")
            out.append({"major": int(major), "minor": int(minor), "op": parts[1],
                        "value": int(parts[2])})  # fmt: skip
    return out


def cpu_percent(doc: dict[str, Any]) -> float:
    """``docker stats``' CPU %: container CPU time over system CPU time since the previous
    sample, times the CPUs."""
    cur, pre = doc.get("cpu_stats") or {}, doc.get("precpu_stats") or {}
    cpu_delta = (cur.get("cpu_usage") or {}).get("total_usage", 0) - (
        (pre.get("cpu_usage") or {}).get("total_usage", 0))  # fmt: skip
    sys_delta = cur.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
    if cpu_delta <= 0 or sys_delta <= 0 or not pre.get("system_cpu_usage"):
        return 0.0
    return cpu_delta / sys_delta * (cur.get("online_cpus") or os.cpu_count() or 1) * 100.0


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _system_cpu_ns() -> int:
    first = _read("/proc/stat").splitlines()[:1]
    ticks = sum(int(x) for x in first[0].split()[1:8]) if first else 0
    return ticks * (1_000_000_000 // os.sysconf("SC_CLK_TCK"))


def _cpu_stats(driver: Any, cid: str) -> dict[str, Any]:
    s = driver.stats(cid)
    return {"cpu_usage": {"total_usage": s.cpu_usage_ns, "usage_in_kernelmode": 0,
                          "usage_in_usermode": 0},
            "system_cpu_usage": _system_cpu_ns(), "online_cpus": os.cpu_count() or 1,
            "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}  # fmt: skip


def _now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e9):09d}Z"


def sample(
    svc: ContainerService, record: ContainerRecord, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One stats document of *record*; ``precpu_stats`` from *previous* (else empty, as
    Docker's one-shot). A container that is not running gives zeroed stats, as Docker."""
    from dockyard.runtime.cgroups import driver_for

    live = svc.live(record)
    doc: dict[str, Any] = {
        "name": f"/{record.name}", "id": record.id, "read": _now(),
        "preread": previous["read"] if previous else _ZERO,
        "pids_stats": {}, "blkio_stats": {"io_service_bytes_recursive": None},
        "num_procs": 0, "storage_stats": {}, "cpu_stats": {"cpu_usage": {"total_usage": 0},
        "throttling_data": {}}, "memory_stats": {},
        "precpu_stats": previous["cpu_stats"] if previous else {"cpu_usage": {"total_usage": 0},
                                                                 "throttling_data": {}},
    }  # fmt: skip
    if not live.running:
        return doc
    driver = driver_for()
    try:
        s = driver.stats(record.id)
        doc["cpu_stats"] = _cpu_stats(driver, record.id)
    except errors.NotFound:
        return doc
    limit = s.memory_limit
    if limit is None:
        limit = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    doc["memory_stats"] = {"usage": s.memory_usage, "limit": limit, "stats": {}}
    pids_limit = (record.host_config.get("PidsLimit") or 0) if record.host_config else 0
    doc["pids_stats"] = {
        "current": s.pids_current,
        **({"limit": pids_limit} if pids_limit > 0 else {}),
    }
    blkio = _read(f"/sys/fs/cgroup/blkio/dockyard/{record.id}/blkio.throttle.io_service_bytes")
    doc["blkio_stats"] = {"io_service_bytes_recursive": parse_blkio(blkio) or None}
    if live.pid:
        doc["networks"] = parse_net_dev(_read(f"/proc/{live.pid}/net/dev"))
    return doc
