"""What the shim does without a daemon: restart policies, health checks, and containers that
survive (and are cleaned up after) a CLI killed half-way through ``run -d``."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from _helpers.containers import DOCKYARD, Dockyard, leftovers


def test_restart_on_failure_retries_then_gives_up(dockyard: Dockyard) -> None:
    d = dockyard
    d.run("run", "-d", "--name", "flaky", "--restart", "on-failure:2", "busybox",
          "sh", "-c", "echo try; exit 1")  # fmt: skip
    info = d.wait_for("flaky", lambda i: i["State"]["Status"] == "exited", timeout=15)
    assert info["State"]["Status"] == "exited" and info["State"]["ExitCode"] == 1
    assert info["RestartCount"] == 2
    assert d.out("logs", "flaky") == "try\ntry\ntry\n"
    assert "Exited (1)" in d.out("ps", "-a", "--filter", "exited=1")


def test_health_check_shows_in_ps_and_inspect(dockyard: Dockyard) -> None:
    d = dockyard
    d.run("run", "-d", "--name", "good", "--health-cmd", "test -e /tmp/ok",
          "--health-interval", "300ms", "--health-retries", "1", "busybox",
          "sh", "-c", "touch /tmp/ok; sleep 60")  # fmt: skip
    d.run("run", "-d", "--name", "bad", "--health-cmd", "exit 1", "--health-interval", "300ms",
          "--health-retries", "1", "busybox", "sleep", "60")  # fmt: skip
    good = d.wait_for("good", lambda i: i["State"]["Health"]["Status"] != "starting", 20)
    bad = d.wait_for("bad", lambda i: i["State"]["Health"]["Status"] != "starting", 20)
    assert good["State"]["Health"]["Status"] == "healthy"
    assert bad["State"]["Health"]["Status"] == "unhealthy"
    assert bad["State"]["Health"]["Log"][-1]["ExitCode"] == 1
    ps = d.out("ps", "--format", "{{.Names}} {{.Status}}").splitlines()
    assert any(line.startswith("good Up") and line.endswith("(healthy)") for line in ps)
    assert any(line.startswith("bad Up") and line.endswith("(unhealthy)") for line in ps)
    assert d.out("ps", "-q", "--filter", "health=healthy").split() == [good["Id"][:12]]


@pytest.mark.parametrize("delay", [0.15, 0.35, 0.6])
def test_cli_killed_mid_start_leaves_a_state_ps_shows_and_rm_cleans(
    dockyard: Dockyard, delay: float
) -> None:
    d = dockyard
    cli = subprocess.Popen(
        [*DOCKYARD, "--root", str(d.root), "run", "-d", "--name", "half", "busybox", "sleep", "60"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    cli.send_signal(signal.SIGKILL)
    cli.wait()
    listed = d.out("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.State}}")
    if not listed:  # killed before the record was written: nothing to show, nothing to clean
        return
    cid, name, state = listed.split()
    assert name == "half" and state in ("created", "running")
    assert d.inspect("half")["State"]["Status"] == state
    d.run("rm", "-f", "half")
    assert d.out("ps", "-aq") == ""
    assert leftovers(d, cid) == []


def test_detached_rm_container_removes_itself_after_exit(dockyard: Dockyard) -> None:
    d = dockyard
    cid = d.out("run", "-d", "--rm", "busybox", "sh", "-c", "sleep 0.2").strip()
    deadline = time.monotonic() + 15
    while d.out("ps", "-aq") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert d.out("ps", "-aq") == ""
    while leftovers(d, cid) and time.monotonic() < deadline:  # the rm finishing up
        time.sleep(0.1)
    assert leftovers(d, cid) == []
