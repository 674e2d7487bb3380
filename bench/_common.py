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


def podman_available() -> bool:
    if shutil.which("podman") is None:
        return False
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
