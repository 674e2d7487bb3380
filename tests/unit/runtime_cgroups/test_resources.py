"""Docker's resource flags become the cgroup files runc/crun would write."""

from __future__ import annotations

import pytest

from dockyard import errors
from dockyard.runtime.cgroups import Resources
from dockyard.runtime.cgroups.resources import shares_to_weight, swap_total, v1_files, v2_files

MIB = 1024 * 1024


@pytest.mark.parametrize(
    ("shares", "weight"),
    [(2, 1), (1024, 39), (262144, 10000), (512, 20), (100000, 3815), (1, 1), (10**7, 10000)],
)
def test_shares_convert_to_weight_like_runc(shares: int, weight: int) -> None:
    assert shares_to_weight(shares) == weight


def test_memory_without_swap_flag_gets_twice_the_memory_as_docker_does() -> None:
    assert swap_total(Resources(memory=100 * MIB)) == 200 * MIB
    assert swap_total(Resources(memory=100 * MIB, memory_swap=-1)) == -1
    assert swap_total(Resources(memory=100 * MIB, memory_swap=300 * MIB)) == 300 * MIB
    assert swap_total(Resources()) is None


def test_v1_files_for_typical_run_flags() -> None:
    res = Resources(memory=64 * MIB, cpus=1.5, cpu_shares=512, cpuset_cpus="0", pids_limit=100)
    assert v1_files(res) == [
        ("memory", "memory.limit_in_bytes", str(64 * MIB)),
        ("memory", "memory.memsw.limit_in_bytes", str(128 * MIB)),
        ("cpu", "cpu.cfs_period_us", "100000"),
        ("cpu", "cpu.cfs_quota_us", "150000"),
        ("cpu", "cpu.shares", "512"),
        ("cpuset", "cpuset.cpus", "0"),
        ("pids", "pids.max", "100"),
    ]


def test_v2_files_hold_swap_alone_and_weight_and_cpu_max() -> None:
    res = Resources(
        memory=64 * MIB,
        memory_swap=96 * MIB,
        memory_reservation=32 * MIB,
        cpus=0.5,
        cpu_shares=1024,
        pids_limit=0,
    )
    assert v2_files(res) == [
        ("memory.max", str(64 * MIB)),
        ("memory.swap.max", str(32 * MIB)),
        ("memory.low", str(32 * MIB)),
        ("cpu.max", "50000 100000"),
        ("cpu.weight", "39"),
        ("pids.max", "max"),
    ]


def test_unlimited_values() -> None:
    assert v2_files(Resources(memory=64 * MIB, memory_swap=-1)) == [
        ("memory.max", str(64 * MIB)),
        ("memory.swap.max", "max"),
    ]
    assert v2_files(Resources(cpus=0)) == [("cpu.max", "max 100000")]
    assert v1_files(Resources(cpus=0)) == [
        ("cpu", "cpu.cfs_period_us", "100000"),
        ("cpu", "cpu.cfs_quota_us", "-1"),
    ]


@pytest.mark.parametrize(
    ("res", "message"),
    [
        (Resources(memory=1024), "Minimum memory limit allowed is 6MB"),
        (Resources(memory_swap=100 * MIB), "always set the Memory limit"),
        (Resources(memory=100 * MIB, memory_swap=50 * MIB), "larger than memory limit"),
    ],
)
def test_docker_rejects_inconsistent_memory_flags(res: Resources, message: str) -> None:
    with pytest.raises(errors.InvalidArgument, match=message):
        v1_files(res)
    with pytest.raises(errors.InvalidArgument, match=message):
        v2_files(res)
