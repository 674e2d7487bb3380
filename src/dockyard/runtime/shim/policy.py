"""Restart policies as Docker defines them, as pure functions the shim calls on each exit.

``no`` never restarts; ``always`` and ``unless-stopped`` restart unless the user stopped the
container (they differ only when the engine itself starts up, which is not the shim's call);
``on-failure[:N]`` restarts on a non-zero exit, at most N times. Delays follow Docker's
restart manager: 100 ms doubling up to a minute, back to 100 ms after 10 s of uptime.

Imports only the standard library and ``dockyard.errors``.
"""

from __future__ import annotations

from typing import NamedTuple

from dockyard import errors

__all__ = ["RestartPolicy", "next_backoff", "parse_restart_policy", "should_restart"]

BACKOFF_START = 0.1
BACKOFF_MAX = 60.0
RESET_AFTER = 10.0
NAMES = ("no", "always", "unless-stopped", "on-failure")


class RestartPolicy(NamedTuple):
    """A parsed ``--restart`` value; *max_retries* 0 means unbounded (on-failure only)."""

    name: str = "no"
    max_retries: int = 0

    def __str__(self) -> str:
        if self.name == "on-failure" and self.max_retries:
            return f"on-failure:{self.max_retries}"
        return self.name


def parse_restart_policy(text: str | None) -> RestartPolicy:
    """``"on-failure:3"`` → RestartPolicy("on-failure", 3). Raises InvalidArgument."""
    if not text:
        return RestartPolicy()
    name, sep, count = text.partition(":")
    if name not in NAMES:
        raise errors.InvalidArgument(f"invalid restart policy '{text}'")
    if not sep:
        return RestartPolicy(name)
    if name != "on-failure":
        raise errors.InvalidArgument(
            f"invalid restart policy '{text}': maximum retry count can only be used with 'on-failure'"
        )
    if not count.isdigit():
        raise errors.InvalidArgument(f"invalid restart policy '{text}': bad maximum retry count")
    return RestartPolicy(name, int(count))


def should_restart(
    policy: RestartPolicy,
    exit_code: int,
    restart_count: int,
    stop_requested: bool,
    start_failed: bool = False,
) -> bool:
    """Whether to start the container again after it exited with *exit_code*.

    *restart_count* is how many restarts already happened; a container the user stopped, or
    whose command could not even be started, is never restarted.
    """
    if stop_requested or start_failed or policy.name == "no":
        return False
    if policy.name in ("always", "unless-stopped"):
        return True
    if exit_code == 0:
        return False
    return policy.max_retries == 0 or restart_count < policy.max_retries


def next_backoff(previous: float, uptime: float) -> float:
    """Seconds to wait before the next restart, given the last delay and how long it ran."""
    if uptime >= RESET_AFTER or previous <= 0:
        return BACKOFF_START
    return min(previous * 2, BACKOFF_MAX)
