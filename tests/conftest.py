"""Fixtures shared by every test layer, and the session-wide leak check.

Each test that touches the engine gets its own data root under a temporary directory; the real
``/var/lib/dockyard`` is never used. When the session ends, ``_no_leaks`` fails the run if any
mount, cgroup, network link, nftables table or process of Dockyard's outlived the tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/_helpers


def _mounts() -> set[str]:
    with open("/proc/self/mountinfo") as f:
        targets = {line.split()[4] for line in f}
    return {t for t in targets if "dockyard" in t.lower() or "pytest-" in t}


def _cgroups() -> set[str]:
    found: set[str] = set()
    base = Path("/sys/fs/cgroup")
    if not base.is_dir():
        return found
    for top in [base, *[p for p in base.iterdir() if p.is_dir()]]:
        try:
            for child in top.iterdir():
                if child.is_dir() and "dockyard" in child.name.lower():
                    found.add(str(child))
        except OSError:
            continue
    return found


def _links() -> set[str]:
    names = set(os.listdir("/sys/class/net")) if os.path.isdir("/sys/class/net") else set()
    return {n for n in names if n.startswith(("dy-", "dy_", "dockyard"))}


def _nft_tables() -> set[str]:
    try:
        out = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return set()
    return {line for line in out.stdout.splitlines() if "dockyard" in line}


def _processes_naming(text: str) -> list[int]:
    """Pids (not this process) whose command line contains *text*."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


def _processes() -> set[str]:
    """Processes whose command line names a Dockyard test root or a Dockyard shim."""
    me = os.getpid()
    found: set[str] = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == me:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "dockyard-test-root" in cmd or "dockyard.runtime.shim" in cmd:
            found.add(f"{pid}: {cmd.strip()}")
    return found


def _host_state() -> dict[str, set[str]]:
    return {
        "mounts": _mounts(),
        "cgroups": _cgroups(),
        "links": _links(),
        "nftables": _nft_tables(),
        "processes": _processes(),
    }


@pytest.fixture(scope="session", autouse=True)
def _no_leaks() -> Iterator[None]:
    if os.geteuid() != 0:
        yield
        return
    before = _host_state()
    yield
    # The engine keeps a `dockyard` parent cgroup, as Docker keeps `docker`; the ones this
    # session made go when they are empty (a container cgroup left inside is still a leak).
    for path in sorted(_cgroups() - before["cgroups"], reverse=True):
        if Path(path).name == "dockyard":
            try:
                os.rmdir(path)
            except OSError:
                pass
    after = _host_state()
    leaked = {kind: sorted(after[kind] - before[kind]) for kind in after}
    leaked = {kind: items for kind, items in leaked.items() if items}
    if leaked:
        lines = [f"{kind}: {', '.join(items)}" for kind, items in leaked.items()]
        pytest.fail("the tests leaked host objects:\n" + "\n".join(lines), pytrace=False)


@pytest.fixture(autouse=True)
def _no_leaked_links() -> Iterator[None]:
    """Names the test that left a Dockyard link behind (the session check only says that one
    did); listing /sys/class/net costs microseconds, so every test is checked."""
    before = _links()
    yield
    left = sorted(_links() - before)
    # a released container's veths go with its network namespace, which the kernel tears
    # down in the background (network.manager.disconnect): give it a moment
    deadline = time.monotonic() + 3
    while left and time.monotonic() < deadline:
        time.sleep(0.02)
        left = sorted(_links() - before)
    if left:
        pytest.fail(f"the test left network links: {', '.join(left)}", pytrace=False)


def _remove_default_network(root: Path) -> None:
    """A data root's default bridge, like docker0, outlives its containers; when the test's
    root goes, it goes too (through the engine, so the firewall rules go with it)."""
    if not (root / "network").exists() or os.geteuid() != 0:
        return
    # `run -d --rm` removes its container from a background `dockyard rm -f` once it exits:
    # let those finish (they give the container's address back) before taking the bridge
    import time

    from dockyard.service.engine import Engine
    from dockyard.service.settings import Settings

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _processes_naming(str(root)):
        time.sleep(0.05)
    engine = Engine(Settings.resolve(root))
    try:
        engine.networks.manager.prune_default()
    except Exception as exc:  # a test that left containers on it fails on its own leak
        pytest.fail(f"could not remove the default network of {root}: {exc}", pytrace=False)


@pytest.fixture
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh, empty data root for one test (its path contains ``dockyard-test-root``)."""
    root = tmp_path_factory.mktemp("dockyard-test-root")
    yield root
    _remove_default_network(root)
    # A mount left under the root is this test's leak: clean it up (so the next test starts
    # clean) and fail the test that left it.
    with open("/proc/self/mountinfo") as f:
        stale = [line.split()[4] for line in f if line.split()[4].startswith(str(root))]
    for target in sorted(stale, key=len, reverse=True):
        subprocess.run(["umount", "-l", target], capture_output=True)
    assert not stale, f"the test left mounts under its data root: {stale}"
