"""Pure translation of Docker resource flags into cgroup v1 and v2 interface files.

``v1_files`` and ``v2_files`` return, in the order they must be written, the files and values a
driver writes; no I/O here, so every rule (Docker's memory-swap semantics, CPU quota, the
shares→weight formula runc and crun use) is unit-tested directly.

Imports only the standard library, ``dockyard.errors`` and the sibling protocol module.
"""

from __future__ import annotations

from dockyard import errors
from dockyard.runtime.cgroups.protocol import Resources

__all__ = [
    "CPU_PERIOD_US",
    "cpu_quota_us",
    "shares_to_weight",
    "swap_total",
    "v1_files",
    "v2_files",
    "validate",
]

CPU_PERIOD_US = 100_000
UNLIMITED_V1 = -1


def validate(res: Resources) -> None:
    """Reject limits Docker rejects. Raises InvalidArgument naming the flag."""
    if res.memory is not None and res.memory < 6 * 1024 * 1024 and res.memory > 0:
        raise errors.InvalidArgument("Minimum memory limit allowed is 6MB")
    if res.memory_swap is not None and res.memory_swap not in (-1, 0):
        if res.memory is None or res.memory <= 0:
            raise errors.InvalidArgument(
                "You should always set the Memory limit when using Memoryswap limit"
            )
        if res.memory_swap < res.memory:
            raise errors.InvalidArgument(
                "Minimum memoryswap limit should be larger than memory limit"
            )
    if res.memory_reservation is not None and res.memory_reservation < 0:
        raise errors.InvalidArgument("Invalid memory reservation: must be positive")
    if res.cpus is not None and res.cpus < 0:
        raise errors.InvalidArgument(f"Range of CPUs is from 0.01 to host CPUs: {res.cpus}")
    if res.cpu_shares is not None and res.cpu_shares < 0:
        raise errors.InvalidArgument(f"Invalid CPU shares: {res.cpu_shares}")


def swap_total(res: Resources) -> int | None:
    """The memory+swap limit Docker applies: -1 unlimited, default twice the memory limit."""
    if res.memory is None or res.memory <= 0:
        return -1 if res.memory_swap == -1 else None
    if res.memory_swap is None or res.memory_swap == 0:
        return res.memory * 2
    return res.memory_swap


def cpu_quota_us(cpus: float) -> int:
    """CFS quota for a fraction of CPUs over the default 100 ms period; 0 CPUs is unlimited."""
    if cpus <= 0:
        return UNLIMITED_V1
    return max(1000, round(cpus * CPU_PERIOD_US))


def shares_to_weight(shares: int) -> int:
    """v1 cpu.shares (2..262144) to v2 cpu.weight (1..10000), as runc and crun convert them."""
    if shares <= 0:
        return 100
    shares = min(max(shares, 2), 262144)
    return 1 + ((shares - 2) * 9999) // 262142


def _pids_value(limit: int) -> str:
    return "max" if limit <= 0 else str(limit)


def v1_files(res: Resources) -> list[tuple[str, str, str]]:
    """``(controller, file, value)`` to write on v1, memory before memory+swap."""
    validate(res)
    out: list[tuple[str, str, str]] = []
    if res.memory is not None:
        out.append(("memory", "memory.limit_in_bytes", str(res.memory if res.memory > 0 else -1)))
    swap = swap_total(res)
    if swap is not None:
        out.append(("memory", "memory.memsw.limit_in_bytes", str(swap)))
    if res.memory_reservation is not None:
        value = res.memory_reservation if res.memory_reservation > 0 else -1
        out.append(("memory", "memory.soft_limit_in_bytes", str(value)))
    if res.cpus is not None:
        out.append(("cpu", "cpu.cfs_period_us", str(CPU_PERIOD_US)))
        out.append(("cpu", "cpu.cfs_quota_us", str(cpu_quota_us(res.cpus))))
    if res.cpu_shares is not None and res.cpu_shares > 0:
        out.append(("cpu", "cpu.shares", str(res.cpu_shares)))
    if res.cpuset_cpus is not None:
        out.append(("cpuset", "cpuset.cpus", res.cpuset_cpus))
    if res.pids_limit is not None:
        out.append(("pids", "pids.max", _pids_value(res.pids_limit)))
    return out


def v2_files(res: Resources) -> list[tuple[str, str]]:
    """``(file, value)`` to write on v2; memory.swap.max holds swap alone (total - memory)."""
    validate(res)
    out: list[tuple[str, str]] = []
    if res.memory is not None:
        out.append(("memory.max", str(res.memory) if res.memory > 0 else "max"))
    swap = swap_total(res)
    if swap is not None:
        if swap == -1 or res.memory is None or res.memory <= 0:
            out.append(("memory.swap.max", "max"))
        else:
            out.append(("memory.swap.max", str(swap - res.memory)))
    if res.memory_reservation is not None:
        value = res.memory_reservation
        out.append(("memory.low", str(value) if value > 0 else "0"))
    if res.cpus is not None:
        quota = cpu_quota_us(res.cpus)
        out.append(("cpu.max", f"{'max' if quota < 0 else quota} {CPU_PERIOD_US}"))
    if res.cpu_shares is not None and res.cpu_shares > 0:
        out.append(("cpu.weight", str(shares_to_weight(res.cpu_shares))))
    if res.cpuset_cpus is not None:
        out.append(("cpuset.cpus", res.cpuset_cpus))
    if res.pids_limit is not None:
        out.append(("pids.max", _pids_value(res.pids_limit)))
    return out
