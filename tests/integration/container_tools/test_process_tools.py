"""``top`` (host PIDs), ``pause``/``unpause`` (the freezer really stops the processes),
``rename``."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from _helpers.containers import Dockyard

pytestmark = [pytest.mark.root, pytest.mark.skipif(os.geteuid() != 0, reason="needs root")]


def test_top_lists_host_pids(dy: Dockyard, box: str) -> None:
    pid = dy.inspect(box)["State"]["Pid"]
    lines = dy.out("top", box).splitlines()
    assert lines[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert [(line.split()[1], line.split()[-2:]) for line in lines[1:]] == [
        (str(pid), ["sleep", "60"])
    ]
    assert dy.out("top", box, "-o", "pid,comm").split() == ["PID", "COMMAND", str(pid), "sleep"]


def test_pause_freezes_and_unpause_resumes(dy: Dockyard) -> None:
    dy.container("-d", "--network", "none", "--name", "ticker", "busybox", "sh", "-c",
                 "while true; do date +%s%N >> /ticks; sleep 0.05; done")  # fmt: skip
    time.sleep(0.3)
    dy.run("pause", "ticker")
    info = dy.inspect("ticker")["State"]
    assert (info["Status"], info["Paused"], info["Running"]) == ("paused", True, True)
    assert "(Paused)" in dy.out("ps", "--format", "{{.Status}}")
    # `cp` reads the files of a paused container (through /proc/PID/root)
    before = dy.run("cp", "ticker:/ticks", "-").stdout
    time.sleep(0.4)
    assert dy.run("cp", "ticker:/ticks", "-").stdout == before  # nothing ran
    again = dy.run("pause", "ticker", check=False)
    assert again.returncode == 1 and b"already paused" in again.stderr
    dy.run("unpause", "ticker")
    time.sleep(0.4)
    assert dy.run("cp", "ticker:/ticks", "-").stdout != before
    assert dy.inspect("ticker")["State"]["Status"] == "running"
    refused = dy.run("unpause", "ticker", check=False)
    assert refused.returncode == 1 and b"is not paused" in refused.stderr


def test_rename(dy: Dockyard, box: str) -> None:
    dy.container("--network", "none", "--name", "other", "busybox", "true")
    dy.run("rename", box, "renamed")
    assert dy.out("ps", "--format", "{{.Names}}").split() == ["renamed"]
    assert dy.inspect("renamed")["Name"] == "/renamed"
    taken = dy.run("rename", "renamed", "other", check=False)
    assert taken.returncode != 0 and b"is already in use" in taken.stderr


def test_stats_no_stream_and_update(dy: Dockyard) -> None:
    dy.container("-d", "--network", "none", "--name", "busy", "-m", "64m", "busybox", "sh", "-c",
                 "while :; do :; done")  # fmt: skip
    out = dy.out("stats", "--no-stream", "busy").splitlines()
    assert out[0].split() == ["CONTAINER", "ID", "NAME", "CPU", "%", "MEM", "USAGE", "/",
                              "LIMIT", "MEM", "%", "NET", "I/O", "BLOCK", "I/O", "PIDS"]  # fmt: skip
    row = out[1].split()
    assert row[1] == "busy" and float(row[2].rstrip("%")) > 5  # a busy loop shows up
    assert row[5] == "64MiB" and row[-1] == "1"
    dy.run("update", "-m", "96m", "--pids-limit", "20", "busy")
    cid = dy.inspect("busy")["Id"]
    mem = Path(f"/sys/fs/cgroup/memory/dockyard/{cid}/memory.limit_in_bytes").read_text()
    assert int(mem) == 96 * 1024 * 1024
    host = dy.inspect("busy")["HostConfig"]
    assert (host["Memory"], host["PidsLimit"]) == (96 * 1024 * 1024, 20)


def test_attach_streams_output_and_exit_code(dy: Dockyard) -> None:
    dy.container("-d", "--network", "none", "--name", "late", "busybox", "sh", "-c",
                 "sleep 1; echo out; echo err >&2; exit 3")  # fmt: skip
    proc = dy.run("attach", "late", check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, b"out\n", b"err\n")
    refused = dy.run("attach", "late", check=False)
    assert refused.returncode != 0 and b"start it first" in refused.stderr
