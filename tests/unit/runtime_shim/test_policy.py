"""Restart policies decide like Docker's, with Docker's back-off."""

from __future__ import annotations

import pytest

from dockyard import errors
from dockyard.runtime.shim.policy import (
    RestartPolicy,
    next_backoff,
    parse_restart_policy,
    should_restart,
)


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("", RestartPolicy("no")),
        ("no", RestartPolicy("no")),
        ("always", RestartPolicy("always")),
        ("unless-stopped", RestartPolicy("unless-stopped")),
        ("on-failure", RestartPolicy("on-failure", 0)),
        ("on-failure:2", RestartPolicy("on-failure", 2)),
    ],
)
def test_parse(text: str, policy: RestartPolicy) -> None:
    assert parse_restart_policy(text) == policy
    assert str(policy) == (text or "no")


@pytest.mark.parametrize("text", ["sometimes", "always:3", "on-failure:x", "on-failure:-1"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(errors.InvalidArgument, match="restart policy"):
        parse_restart_policy(text)


def test_on_failure_two_means_three_runs_in_all() -> None:
    policy = parse_restart_policy("on-failure:2")
    runs, restarts = 1, 0
    while should_restart(policy, exit_code=3, restart_count=restarts, stop_requested=False):
        restarts += 1
        runs += 1
    assert runs == 3


def test_on_failure_does_not_restart_success_or_unbounded_keeps_going() -> None:
    assert not should_restart(RestartPolicy("on-failure"), 0, 0, False)
    assert should_restart(RestartPolicy("on-failure"), 1, 1000, False)


@pytest.mark.parametrize("name", ["always", "unless-stopped"])
def test_always_restarts_even_on_success_but_not_after_a_user_stop(name: str) -> None:
    policy = RestartPolicy(name)
    assert should_restart(policy, 0, 50, stop_requested=False)
    assert not should_restart(policy, 137, 0, stop_requested=True)


def test_no_never_and_a_failed_start_never() -> None:
    assert not should_restart(RestartPolicy("no"), 1, 0, False)
    assert not should_restart(RestartPolicy("always"), 127, 0, False, start_failed=True)


def test_backoff_doubles_caps_and_resets_after_ten_seconds_up() -> None:
    delays = []
    delay = 0.0
    for _ in range(12):
        delay = next_backoff(delay, uptime=0.5)
        delays.append(delay)
    assert delays[:4] == [0.1, 0.2, 0.4, 0.8]
    assert delays[-1] == 60.0
    assert next_backoff(60.0, uptime=10.0) == 0.1
