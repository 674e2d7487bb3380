"""Containers through the daemon: ``docker run -d``, ps, logs, stop, wait, inspect, rm, prune,
compared with what ``dockyard`` shows for the same containers. Runs real containers: root."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from compat_daemon import Daemon

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="running containers needs root")


@pytest.fixture
def busybox(daemon: Daemon, busybox_tar: Path) -> str:
    daemon.docker("import", "--change", 'CMD ["sh"]', str(busybox_tar), "bb:1")
    return "bb:1"


def test_run_detached_then_ps_logs_stop_wait_rm(daemon: Daemon, busybox: str) -> None:
    cid = daemon.docker("run", "-d", "--name", "web", busybox, "sh", "-c",
                        "echo to-out; echo to-err >&2; exec sleep 30").stdout.strip()
    assert len(cid) == 64
    ps = daemon.docker_json("ps")
    assert [(p["ID"], p["Names"], p["Image"]) for p in ps] == [(cid[:12], "web", busybox)]
    assert daemon.dockyard("ps", "-q").stdout.split() == [cid[:12]]
    deadline = time.monotonic() + 10
    while "to-err" not in (logs := daemon.docker("logs", "web")).stderr:
        assert time.monotonic() < deadline, logs
        time.sleep(0.1)
    assert logs.stdout == "to-out\n" and logs.stderr == "to-err\n"  # the streams stay apart
    ours = daemon.dockyard("logs", "web")
    assert (ours.stdout, ours.stderr) == (logs.stdout, logs.stderr)
    assert daemon.docker("stop", "-t", "1", "web").stdout.strip() == "web"
    assert daemon.docker("wait", "web").stdout.strip() == "137"  # sleep ignores TERM: killed
    state = json.loads(daemon.docker("inspect", "web").stdout)[0]["State"]
    assert (state["Status"], state["ExitCode"], state["Running"]) == ("exited", 137, False)
    assert json.loads(daemon.dockyard("inspect", "web").stdout)[0]["State"] == state
    assert daemon.docker("ps", "-q").stdout.strip() == ""
    assert daemon.docker("ps", "-aq").stdout.split() == [cid[:12]]
    assert daemon.docker("rm", "web").stdout.strip() == "web"
    assert daemon.dockyard("ps", "-aq").stdout.strip() == ""


def test_wait_reports_the_exit_code_and_logs_follow(daemon: Daemon, busybox: str) -> None:
    daemon.docker("run", "-d", "--name", "counter", busybox, "sh", "-c",
                  "for i in 1 2 3; do echo line$i; sleep 0.2; done; exit 7")
    follow = subprocess.run(["docker", "logs", "-f", "counter"], env=daemon.env,
                            capture_output=True, text=True, timeout=30)
    assert follow.stdout == "line1\nline2\nline3\n"  # -f ends when the container does
    assert daemon.docker("wait", "counter").stdout.strip() == "7"
    stamped = daemon.docker("logs", "-t", "--tail", "1", "counter").stdout
    assert stamped.endswith(" line3\n") and stamped[:4].isdigit()


def test_errors_and_refusals(daemon: Daemon, busybox: str) -> None:
    missing = daemon.docker("stop", "nosuch", check=False)
    assert missing.returncode == 1 and "No such container: nosuch" in missing.stderr
    daemon.docker("run", "-d", "--name", "busy", busybox, "sleep", "30")
    running = daemon.docker("rm", "busy", check=False)
    assert running.returncode == 1 and "Stop the container before attempting removal" in running.stderr
    in_use = daemon.docker("rmi", busybox, check=False)
    assert in_use.returncode == 1 and "conflict" in in_use.stderr
    taken = daemon.docker("create", "--name", "busy", busybox, check=False)
    assert taken.returncode != 0 and "busy" in taken.stderr
    assert daemon.docker("rm", "-f", "busy").stdout.strip() == "busy"
    daemon.docker("create", "--name", "idle", busybox)
    pruned = daemon.docker("container", "prune", "-f").stdout
    assert "Deleted Containers:" in pruned
    assert daemon.docker("ps", "-aq").stdout.strip() == ""


def test_docker_run_attached(daemon: Daemon, busybox: str) -> None:
    """``docker run`` without ``-d``: attach before start, output while it runs, exit code."""
    run = daemon.docker("run", "--name", "once", busybox, "sh", "-c",
                        "echo to-out; echo to-err >&2; exit 4", check=False)
    assert (run.returncode, run.stdout, run.stderr) == (4, "to-out\n", "to-err\n")
    big = daemon.docker("run", busybox, "seq", "1", "20000").stdout.split()
    assert big == [str(i) for i in range(1, 20001)]  # all of it, in order
    tty = daemon.docker("run", "-t", busybox, "sh", "-c", "tty; echo done")
    assert tty.stdout.splitlines()[0].startswith("/dev/pts/")
    assert tty.stdout.splitlines()[-1] == "done"
    assert daemon.docker("run", "--rm", "--name", "temp", busybox, "echo", "bye").stdout == "bye\n"
    deadline = time.monotonic() + 10
    while "temp" in daemon.docker("ps", "-a", "--format", "{{.Names}}").stdout:
        assert time.monotonic() < deadline, "--rm left the container"
        time.sleep(0.1)
    missing = daemon.docker("run", busybox, "/no/such/command", check=False)
    assert missing.returncode == 127 and "/no/such/command" in missing.stderr


def test_docker_run_with_stdin(daemon: Daemon, busybox: str) -> None:
    run = subprocess.run(["docker", "run", "-i", busybox, "sh", "-c", "cat; echo after-eof"],
                         env=daemon.env, input="hello\n", capture_output=True, text=True,
                         timeout=30)
    assert run.stdout == "hello\nafter-eof\n"


def test_daemon_stops_promptly_with_streams_open_and_containers_live_on(
        daemon: Daemon, busybox: str) -> None:
    daemon.docker("run", "-d", "--name", "quiet", busybox, "sleep", "60")
    clients = [subprocess.Popen(["docker", *args], env=daemon.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
               for args in (["run", "--name", "attached", busybox, "sleep", "60"],
                            ["logs", "-f", "quiet"], ["wait", "quiet"], ["events"])]
    try:
        deadline = time.monotonic() + 10
        while "attached" not in daemon.dockyard("ps", "--format", "{{.Names}}").stdout:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        started = time.monotonic()
        assert daemon.stop() == 0
        assert time.monotonic() - started < 5
        assert not daemon.sock.exists()
        for client in clients:
            client.wait(timeout=10)  # each client sees its stream end
    finally:
        for client in clients:
            client.kill()
    running = daemon.dockyard("ps", "--format", "{{.Names}}").stdout.split()
    assert sorted(running) == ["attached", "quiet"]  # containers outlive the daemon
