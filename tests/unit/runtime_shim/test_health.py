"""Health-check scheduling and status follow Docker's rules."""

from __future__ import annotations

from dockyard.runtime.shim.health import (
    HealthConfig,
    HealthState,
    ProbeResult,
    apply_result,
    next_probe_at,
    timeout_message,
    to_json,
)

S = 1_000_000_000
CFG = HealthConfig(["true"], interval=30, timeout=5, retries=3, start_period=0)


def fail(at_s: float) -> ProbeResult:
    return ProbeResult(int(at_s * S), int(at_s * S) + 1, 1, "no")


def ok(at_s: float) -> ProbeResult:
    return ProbeResult(int(at_s * S), int(at_s * S) + 1, 0, "fine")


def test_first_probe_one_interval_after_start_then_interval_after_each() -> None:
    assert next_probe_at(CFG, started_at=100.0, last_end=None) == 130.0
    assert next_probe_at(CFG, started_at=100.0, last_end=131.0) == 161.0


def test_start_interval_applies_only_during_start_period() -> None:
    cfg = CFG._replace(start_period=60, start_interval=5)
    assert next_probe_at(cfg, 100.0, None) == 105.0
    assert next_probe_at(cfg, 100.0, 150.0) == 155.0
    assert next_probe_at(cfg, 100.0, 170.0) == 200.0


def test_retries_failures_in_a_row_make_it_unhealthy() -> None:
    state = HealthState()
    for i, expected in enumerate(["starting", "starting", "unhealthy"]):
        state = apply_result(state, CFG, fail(30 * (i + 1)), started_at_ns=0)
        assert state.status == expected
    assert state.failing_streak == 3


def test_a_pass_makes_it_healthy_and_resets_the_streak() -> None:
    state = apply_result(HealthState("unhealthy", 5), CFG, ok(10), 0)
    assert (state.status, state.failing_streak) == ("healthy", 0)
    state = apply_result(state, CFG, fail(20), 0)
    assert (state.status, state.failing_streak) == ("healthy", 1)


def test_failures_in_start_period_do_not_count_while_starting() -> None:
    cfg = CFG._replace(start_period=60)
    state = HealthState()
    for t in (10, 20, 30, 40):
        state = apply_result(state, cfg, fail(t), started_at_ns=0)
    assert (state.status, state.failing_streak) == ("starting", 0)
    state = apply_result(state, cfg, fail(70), 0)
    assert state.failing_streak == 1


def test_keeps_last_five_results_with_capped_output() -> None:
    state = HealthState()
    for t in range(8):
        state = apply_result(state, CFG, ProbeResult(t * S, t * S, 0, "x" * 5000), 0)
    assert [r.start_ns // S for r in state.log] == [3, 4, 5, 6, 7]
    assert all(len(r.output) == 4096 for r in state.log)


def test_docker_json_shape_and_timeout_text() -> None:
    state = apply_result(HealthState(), CFG, ProbeResult(S, 2 * S, -1, timeout_message(5)), 0)
    doc = to_json(state, lambda ns: f"t{ns // S}")
    assert doc == {
        "Status": "starting",
        "FailingStreak": 1,
        "Log": [
            {
                "Start": "t1",
                "End": "t2",
                "ExitCode": -1,
                "Output": "Health check exceeded timeout (5s)",
            }
        ],
    }
    assert timeout_message(0.5) == "Health check exceeded timeout (500ms)"
    assert timeout_message(1.5) == "Health check exceeded timeout (1.5s)"
