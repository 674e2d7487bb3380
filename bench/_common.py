"""Shared bits of the benchmarks: timing, medians, and which engines are installed."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCKYARD = str(REPO / ".venv" / "bin" / "dockyard")


def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(cmd, check=True, capture_output=True, **kw)  # type: ignore[call-overload,no-any-return]


def timed(fn: Callable[[], object], repeat: int, setup: Callable[[], object] | None = None) -> float:
    """Median wall time of *fn* over *repeat* runs (each after *setup*, untimed)."""
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


def _podman_limits() -> None:
    """Podman's default ulimits must sit within this host's hard limits, or the runtime fails
    to start any container (exit 126): point it at a containers.conf that says so (and picks
    runc), unless the user chose one."""
    import os
    import resource
    import tempfile

    if "CONTAINERS_CONF" in os.environ:
        return
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    cap = lambda hard, want: want if hard == resource.RLIM_INFINITY else min(hard, want)  # noqa: E731
    conf = Path(tempfile.gettempdir()) / "dockyard-bench-containers.conf"
    conf.write_text(
        "[containers]\ndefault_ulimits = [\n"
        f'  "nofile={cap(nofile, 20000)}:{cap(nofile, 20000)}",\n'
        f'  "nproc={cap(nproc, 32768)}:{cap(nproc, 32768)}",\n]\n'
        # crun refuses hosts with cgroup v1 beside a v2 mount ("hybrid mode"); runc runs there.
        '[engine]\nruntime = "runc"\n'
    )
    os.environ["CONTAINERS_CONF"] = str(conf)


def podman_available() -> bool:
    if shutil.which("podman") is None:
        return False
    _podman_limits()
    return subprocess.run(["podman", "info"], capture_output=True).returncode == 0


def report(title: str, results: dict[str, float], baseline: str = "dockyard") -> None:
    print(f"\n{title}")
    base = results.get(baseline)
    for engine, seconds in results.items():
        ratio = f"  ({seconds / base:.2f}x dockyard)" if base and engine != baseline else ""
        print(f"  {engine:10s} median {seconds * 1000:9.1f} ms{ratio}")
    if base:
        for engine, seconds in results.items():
            if engine != baseline:
                print(f"  dockyard / {engine} = {base / seconds:.2f}")


def remove_default_network(root: Path) -> None:
    """A private data root's default bridge (and its nftables table) outlive its containers,
    like docker0: remove them through the engine, as the tests' ``data_root`` fixture does."""
    import sys

    if not (root / "network").exists():
        return
    from dockyard.service.engine import Engine
    from dockyard.service.settings import Settings

    manager = Engine(Settings.resolve(root)).networks.manager
    try:
        manager.prune_default()
    except Exception as exc:
        print(f"could not remove the default network of {root}: {exc}", file=sys.stderr)
    if Path("/sys/class/net", manager.default_bridge).exists():
        print(f"left behind: the bridge {manager.default_bridge}", file=sys.stderr)
