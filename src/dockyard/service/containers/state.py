"""A container's live state, read from the files its shim keeps in the state directory.

Nothing about a running container is stored in SQLite: ``state.json`` (running / restarting
/ exited, pids, restart count), ``exit.json`` (last exit code, OOM kill, times, error) and
``health.json`` are written by the shim, which outlives every engine process. So ``ps -a``
tells the truth after the CLI that started a container died, or after a reboot (a shim that
is gone while its ``state.json`` says running reads as ``dead`` or ``exited``).

Reads the files itself (the shim's ``FILES`` names) rather than through ``shim.client``, whose
imports (subprocess, socket) would slow every ``ps``. Imports only the standard library and
``runtime.shim.config``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from dockyard.runtime.shim.config import FILES

__all__ = ["ZERO_TIME", "LiveState", "read_live_state"]

ZERO_TIME = "0001-01-01T00:00:00Z"
STARTING = "starting"  # a marker file: start() began and did not finish
START_FAILED = "start-failed"  # the runtime's create failed: "code\nmessage" once explained


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


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


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
    try:
        with open(os.path.join(state_dir, FILES[key]), encoding="utf-8") as f:
            data: dict[str, Any] = json.load(f)
            return data
    except FileNotFoundError:
        return None


def _shim_alive(pid: int) -> bool:
    """The shim's liveness as ``shim.client.shim_alive`` decides it (its command line)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"dockyard.runtime.shim" in f.read()
    except OSError:
        return False


def read_live_state(state_dir: str) -> LiveState:
    """The live state of the container whose shim works in *state_dir* (never raises)."""
    live = LiveState()
    try:
        state = _read(state_dir, "state")
        last = _read(state_dir, "exit")
        health = _read(state_dir, "health")
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
    if live.pid and not _pid_alive(live.pid):
        live.pid = 0
    if os.path.exists(os.path.join(state_dir, "paused")):
        live.status = "paused"
    return live
