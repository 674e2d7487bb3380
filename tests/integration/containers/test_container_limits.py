"""cgroup limits a user sets on ``run`` hold: memory (OOM kill reported), pids, CPU."""

from __future__ import annotations

import time
from pathlib import Path

from _helpers.containers import CGROUP_BASE, Dockyard


def test_memory_limit_oom_kills_and_inspect_says_so(any_runtime: Dockyard) -> None:
    d = any_runtime
    proc = d.container("--name", "hog", "--memory", "16m", "--memory-swap", "16m", "busybox",
                       "sh", "-c", "tail /dev/zero")  # fmt: skip
    assert proc.returncode == 137
    state = d.inspect("hog")["State"]
    assert state["OOMKilled"] is True and state["ExitCode"] == 137


def test_pids_limit_stops_a_fork_bomb(dockyard: Dockyard) -> None:
    d = dockyard
    cid = d.out(
        "run", "-d", "--pids-limit", "8", "busybox", "sh", "-c",
        "bomb() { bomb | bomb & }; bomb; sleep 60",
    ).strip()  # fmt: skip
    time.sleep(1.0)
    v1 = CGROUP_BASE / "pids" / "dockyard" / cid / "pids.current"
    current = (v1 if v1.exists() else CGROUP_BASE / "dockyard" / cid / "pids.current").read_text()
    assert int(current) <= 8
    assert "fork" in d.run("logs", cid).stderr.decode().lower()  # "can't fork": refused
    d.run("rm", "-f", cid)


def _cpu_usage_ns(cid: str) -> int:
    for name in ("cpuacct", "cpu,cpuacct"):
        path = CGROUP_BASE / name / "dockyard" / cid / "cpuacct.usage"
        if path.exists():
            return int(path.read_text())
    path = CGROUP_BASE / "dockyard" / cid / "cpu.stat"  # cgroup v2
    usec = dict(line.split() for line in path.read_text().splitlines())["usage_usec"]
    return int(usec) * 1000


def test_cpus_caps_cpu_time(dockyard: Dockyard) -> None:
    d = dockyard
    cid = d.out("run", "-d", "--cpus", "0.5", "busybox", "sh", "-c", "while :; do :; done").strip()
    time.sleep(0.3)
    before, t0 = _cpu_usage_ns(cid), time.monotonic()
    time.sleep(1.0)
    used = (_cpu_usage_ns(cid) - before) / 1e9 / (time.monotonic() - t0)
    assert 0.05 < used < 0.65  # at most half a CPU (less on a busy host), never a whole one
    d.run("rm", "-f", cid)
    assert not Path(f"/sys/fs/cgroup/cpu/dockyard/{cid}").exists()
