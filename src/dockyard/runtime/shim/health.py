"""Health checks as Docker runs them: when to probe, and what a result does to the status.

Pure functions over values; the shim does the I/O (running the probe, writing
``health.json``). The status starts as ``starting``; a passing probe makes it ``healthy`` and
resets the failing streak; a failing one adds to the streak (not while still ``starting``
within the start period) and ``retries`` failures in a row make it ``unhealthy``. The last five
results are kept, each with at most 4096 bytes of output.

Imports only the standard library.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

__all__ = [
    "HealthConfig",
    "HealthState",
    "ProbeResult",
    "apply_result",
    "next_probe_at",
    "timeout_message",
    "to_json",
]

KEEP = 5
MAX_OUTPUT = 4096


class HealthConfig(NamedTuple):
    """A ``HEALTHCHECK``: the probe argv and its timing in seconds."""

    test: list[str]
    interval: float = 30.0
    timeout: float = 30.0
    retries: int = 3
    start_period: float = 0.0
    start_interval: float = 5.0


class ProbeResult(NamedTuple):
    """One probe: wall-clock start/end (ns since the epoch), exit code (-1: timed out), output."""

    start_ns: int
    end_ns: int
    exit_code: int
    output: str


class HealthState(NamedTuple):
    """``State.Health`` of ``docker inspect``."""

    status: str = "starting"
    failing_streak: int = 0
    log: tuple[ProbeResult, ...] = ()


def in_start_period(cfg: HealthConfig, started_at: float, now: float) -> bool:
    return now < started_at + cfg.start_period


def next_probe_at(cfg: HealthConfig, started_at: float, last_end: float | None) -> float:
    """When (monotonic seconds) to run the next probe; the first comes an interval after start.

    While still in the start period, probes come every ``start_interval`` instead.
    """
    since = started_at if last_end is None else last_end
    gap = cfg.interval
    if cfg.start_period > 0 and in_start_period(cfg, started_at, since) and cfg.start_interval > 0:
        gap = cfg.start_interval
    return since + gap


def apply_result(
    state: HealthState, cfg: HealthConfig, result: ProbeResult, started_at_ns: int
) -> HealthState:
    """The state after *result*; failures within the start period do not count while starting."""
    output = result.output[:MAX_OUTPUT]
    log = (*state.log, result._replace(output=output))[-KEEP:]
    if result.exit_code == 0:
        return HealthState("healthy", 0, log)
    grace_ns = int(cfg.start_period * 1_000_000_000)
    if state.status == "starting" and result.start_ns - started_at_ns < grace_ns:
        return HealthState(state.status, state.failing_streak, log)
    streak = state.failing_streak + 1
    status = "unhealthy" if streak >= cfg.retries else state.status
    return HealthState(status, streak, log)


def timeout_message(seconds: float) -> str:
    """Docker's output for a probe that ran too long: ``Health check exceeded timeout (30s)``."""
    if seconds < 1:
        text = f"{round(seconds * 1000)}ms"
    elif seconds == int(seconds):
        text = f"{int(seconds)}s"
    else:
        text = f"{seconds:g}s"
    return f"Health check exceeded timeout ({text})"


def to_json(state: HealthState, fmt_time: Callable[[int], str]) -> dict[str, object]:
    """``State.Health`` as Docker's JSON, times rendered by *fmt_time* (ns → RFC3339Nano)."""
    return {
        "Status": state.status,
        "FailingStreak": state.failing_streak,
        "Log": [
            {
                "Start": fmt_time(r.start_ns),
                "End": fmt_time(r.end_ns),
                "ExitCode": r.exit_code,
                "Output": r.output,
            }
            for r in state.log
        ],
    }
