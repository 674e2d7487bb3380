"""A container's live state, read from the files its shim keeps in the state directory.

Nothing about a running container is stored in SQLite: ``state.json`` (running / restarting
/ exited, pids, restart count), ``exit.json`` (last exit code, OOM kill, times, error) and
``health.json`` are written by the shim, which outlives every engine process. So ``ps -a``
tells the truth after the CLI that started a container died, or after a reboot (a shim that
is gone while its ``state.json`` says running reads as ``dead`` or ``exited``).

Reads the files itself (the shim's ``FILES`` names) rather than through ``shim.client``, whose
imports (subprocess, socket) would slow every ``ps``. Imports only the standard library,
``runtime.shim.config`` and ``runtime.launch`` (for a file name).

``ps`` reads every container's state on each call, so this process remembers what it read: the
names in each state dir and the parsed ``state.json`` / ``exit.json``, each kept with the
file's (or dir's) inode, device, size, mtime and ctime and used again only while a ``stat``
still gives the same. The CLI and the shims change these files behind a daemon's back (always
by rename, which gives a new inode and ctime), and an entry changed within ``RACY_NS`` of its
reading is never kept: a timestamp cannot tell apart two changes within one clock tick, so a
file is trusted only once it is older than any tick (the rule git uses for its index).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from dockyard.runtime.launch import START_FAILED
from dockyard.runtime.shim.config import FILES

__all__ = ["ZERO_TIME", "LiveState", "forget_others", "read_live_state"]

ZERO_TIME = "0001-01-01T00:00:00Z"
STARTING = "starting"  # a marker file: start() began and did not finish
PAUSED = "paused"  # pause.py's marker file
# A file (or dir) changed less than this before it was read is read again next time: well
# above a coarse clock tick (a jiffy) and a 1-second timestamp granularity.
RACY_NS = 2_000_000_000

_Stamp = tuple[int, int, int, int, int]
# path -> (stamp, value): state dir -> the names in it; state/exit file -> its parsed JSON
_names_cache: dict[str, tuple[_Stamp, frozenset[str]]] = {}
_json_cache: dict[str, tuple[_Stamp, dict[str, Any]]] = {}


@dataclass
class LiveState:
    """Docker's ``State`` of one container; ``status`` is one of created, running, paused,
    restarting, removing, exited, dead."""

    status: str = "created"
    pid: int = 0
    exit_code: int = 0
    oom_killed: bool = False
    error: str = ""
    started_at: str = ZERO_TIME
    finished_at: str = ZERO_TIME
    restart_count: int = 0
    health: dict[str, Any] | None = None
    shim_pid: int = 0
    ever_started: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        """Running, paused or restarting: a live shim holds the container."""
        return self.status in ("running", "paused", "restarting")

    def to_docker(self) -> dict[str, Any]:
        """The ``State`` object of ``docker inspect``."""
        out: dict[str, Any] = {
            "Status": self.status,
            "Running": self.status in ("running", "paused"),
            "Paused": self.status == "paused",
            "Restarting": self.status == "restarting",
            "OOMKilled": self.oom_killed,
            "Dead": self.status == "dead",
            "Pid": self.pid if self.status in ("running", "paused") else 0,
            "ExitCode": self.exit_code,
            "Error": self.error,
            "StartedAt": self.started_at,
            "FinishedAt": self.finished_at,
        }
        if self.health is not None:
            out["Health"] = self.health
        return out


def forget_others(state_dirs: Collection[str], slack: int = 64) -> None:
    """Drop what is kept for state dirs other than *state_dirs* (containers removed since),
    once the caches hold more than those need: a daemon listing containers for weeks does not
    grow with every container it ever saw."""
    keep = set(state_dirs)
    if len(_names_cache) + len(_json_cache) <= 3 * len(keep) + slack:
        return
    for d in [d for d in _names_cache if d not in keep]:
        del _names_cache[d]
    for path in [p for p in _json_cache if os.path.dirname(p) not in keep]:
        del _json_cache[path]


def _proc_read(path: str) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return os.read(fd, 4096)
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        return _proc_read(f"/proc/{pid}/stat").rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def _stamp(st: os.stat_result) -> _Stamp:
    return (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _settled(st: os.stat_result) -> bool:
    """Whether *st* is old enough to be trusted again on an equal stamp (see RACY_NS)."""
    return time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > RACY_NS


def _names(state_dir: str) -> frozenset[str]:
    """The names in *state_dir* (empty when it does not exist): one ``stat`` while it is
    unchanged (every file the shim or the engine adds, replaces or removes changes it)."""
    try:
        st = os.stat(state_dir)
    except (FileNotFoundError, NotADirectoryError):
        _names_cache.pop(state_dir, None)
        return frozenset()
    stamp = _stamp(st)
    hit = _names_cache.get(state_dir)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    try:
        names = frozenset(os.listdir(state_dir))
    except (FileNotFoundError, NotADirectoryError):
        return frozenset()
    if _settled(st):
        _names_cache[state_dir] = (stamp, names)
    else:
        _names_cache.pop(state_dir, None)
    return names


def _start_failed(state_dir: str, live: LiveState) -> None:
    try:
        with open(os.path.join(state_dir, START_FAILED), encoding="utf-8") as f:
            code, _, message = f.read().partition("\n")
    except OSError:
        return
    live.status = "created"
    live.started_at = ZERO_TIME
    if code.isdigit():
        live.exit_code = int(code)
        live.error = message


def _read(state_dir: str, key: str) -> dict[str, Any] | None:
    """The JSON of the shim's *key* file; None when missing. Raises OSError, ValueError."""
    try:
        with open(os.path.join(state_dir, FILES[key]), encoding="utf-8") as f:
            data: dict[str, Any] = json.load(f)
            return data
    except FileNotFoundError:
        return None


def _read_cached(state_dir: str, key: str) -> dict[str, Any] | None:
    """``_read``, parsed once per version of the file (the caller must not change the dict).
    Raises OSError, ValueError."""
    path = os.path.join(state_dir, FILES[key])
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        _json_cache.pop(path, None)
        return None
    try:
        st = os.fstat(fd)
        stamp = _stamp(st)
        hit = _json_cache.get(path)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        chunks = []
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        data: dict[str, Any] = json.loads(b"".join(chunks))
    finally:
        os.close(fd)
    if _settled(st) and isinstance(data, dict):
        _json_cache[path] = (stamp, data)
    else:
        _json_cache.pop(path, None)
    return data


def _shim_alive(pid: int) -> bool:
    """The shim's liveness as ``shim.client.shim_alive`` decides it (its command line)."""
    try:
        return b"dockyard.runtime.shim" in _proc_read(f"/proc/{pid}/cmdline")
    except OSError:
        return False


def read_live_state(state_dir: str, *, check_pid: bool = True) -> LiveState:
    """The live state of the container whose shim works in *state_dir* (never raises).

    With *check_pid* false, ``pid`` is the init's pid as the shim recorded it, not checked
    against ``/proc`` (``ps`` shows no pid and skips that read).
    """
    live = LiveState()
    names = _names(state_dir)
    try:
        state = _read_cached(state_dir, "state") if FILES["state"] in names else None
        last = _read_cached(state_dir, "exit") if FILES["exit"] in names else None
        health = _read(state_dir, "health") if FILES["health"] in names else None
    except (OSError, ValueError):
        live.status = "dead"
        return live
    if last is not None:
        live.exit_code = int(last.get("exit_code", 0))
        live.oom_killed = bool(last.get("oom_killed"))
        live.error = str(last.get("error") or "")
        live.finished_at = str(last.get("finished_at") or ZERO_TIME)
        live.started_at = str(last.get("started_at") or ZERO_TIME)
        live.restart_count = int(last.get("restart_count") or 0)
        live.ever_started = True
    live.health = health
    if state is None:
        return live
    live.ever_started = True
    live.shim_pid = int(state.get("shim_pid") or 0)
    live.restart_count = int(state.get("restart_count") or live.restart_count)
    if state.get("started_at"):
        live.started_at = str(state["started_at"])
    status = state.get("status")
    if status == "exited":
        live.status = "exited"
        if START_FAILED in names:
            _start_failed(state_dir, live)
        return live
    if not live.shim_pid or not _shim_alive(live.shim_pid):
        live.status = "exited" if last is not None else "dead"
        return live
    if status == "restarting":
        live.status = "restarting"
        return live
    live.status = "running"
    live.pid = int(state.get("pid") or 0)
    if check_pid and live.pid and not _pid_alive(live.pid):
        live.pid = 0
    if PAUSED in names:
        live.status = "paused"
    return live
