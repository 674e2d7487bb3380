"""Runs a container's health probes, one at a time, inside the shim's poll loop.

The schedule and the status rules are ``health``'s pure functions; this module spawns the
probe argv (stdout and stderr merged, at most 4096 bytes kept), times it out by killing its
process group, and turns its exit into a ``ProbeResult``. The monitor reaps every child, so
the probe's wait status arrives through the monitor's ``exited`` map.

Imports only the standard library and sibling modules.
"""

from __future__ import annotations

import errno
import os
import signal
import time

from dockyard.runtime.shim.health import (
    HealthConfig,
    HealthState,
    ProbeResult,
    apply_result,
    next_probe_at,
    timeout_message,
)
from dockyard.runtime.shim.spawn import exit_code_of, spawn

__all__ = ["Prober"]

KEEP_OUTPUT = 4096


class Prober:
    """The health of one run of the container: its state and the probe in flight."""

    def __init__(self, cfg: HealthConfig, started: float, started_ns: int) -> None:
        self.cfg = cfg
        self.started = started
        self.started_ns = started_ns
        self.state = HealthState()
        self.last_end: float | None = None
        self.pid = 0
        self.fd = -1
        self.probe_start_ns = 0
        self.deadline = 0.0
        self.output = bytearray()

    def due(self) -> float:
        """When (monotonic) the prober next needs the loop: a deadline or the next probe."""
        return self.deadline if self.pid else next_probe_at(self.cfg, self.started, self.last_end)

    def tick(self, exited: dict[int, int], abandoned: set[int]) -> bool:
        """Start, finish or time out a probe; True when the health state changed."""
        now = time.monotonic()
        if not self.pid:
            if now < self.due():
                return False
            self.probe_start_ns = time.time_ns()
            try:
                child = spawn(self.cfg.test, merge_stderr=True)
            except OSError as exc:
                code = 127 if exc.errno == errno.ENOENT else 126
                return self._record(
                    ProbeResult(self.probe_start_ns, time.time_ns(), code, str(exc))
                )
            self.pid, self.fd = child.pid, next(iter(child.outputs))
            self.deadline = now + self.cfg.timeout
            self.output.clear()
            return False
        if self.pid in exited:
            self.read_output()
            status = exited.pop(self.pid)
            code = exit_code_of(status)
            self._close()
            text = self.output.decode("utf-8", "replace")
            return self._record(ProbeResult(self.probe_start_ns, time.time_ns(), code, text))
        if now >= self.deadline:
            self.kill(exited, abandoned)
            message = timeout_message(self.cfg.timeout)
            return self._record(ProbeResult(self.probe_start_ns, time.time_ns(), -1, message))
        return False

    def _record(self, result: ProbeResult) -> bool:
        self.last_end = time.monotonic()
        self.state = apply_result(self.state, self.cfg, result, self.started_ns)
        return True

    def read_output(self) -> None:
        """Take what the probe wrote (called when its fd is readable)."""
        if self.fd < 0:
            return
        try:
            data = os.read(self.fd, 65536)
        except (BlockingIOError, InterruptedError):
            return
        if not data:
            os.close(self.fd)
            self.fd = -1
            return
        room = KEEP_OUTPUT - len(self.output)
        if room > 0:
            self.output += data[:room]

    def kill(self, exited: dict[int, int], abandoned: set[int]) -> None:
        """Kill the probe in flight (its whole session); its late exit is then ignored."""
        if not self.pid:
            return
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if exited.pop(self.pid, None) is None:
            abandoned.add(self.pid)
        self._close()

    def _close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
        self.pid, self.fd = 0, -1
