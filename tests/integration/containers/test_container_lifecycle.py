"""The lifecycle a user drives — run, ps, inspect, logs, stop, start, wait, rm — passes the
same way with the builtin runtime and with runc; after ``rm`` nothing of it remains."""

from __future__ import annotations

from pathlib import Path

from _helpers.containers import Dockyard, leftovers


def test_detached_container_lifecycle_leaves_nothing_after_rm(any_runtime: Dockyard) -> None:
    d = any_runtime
    proc = d.container("-d", "--name", "web", "busybox", "sh", "-c",
                       "echo hello; echo oops >&2; exec sleep 60")  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    cid = proc.stdout.decode().strip()
    assert len(cid) == 64

    info = d.wait_for("web", lambda i: i["State"]["Running"])
    assert info["State"]["Status"] == "running"
    assert info["Name"] == "/web" and info["Id"] == cid
    assert info["HostConfig"]["Runtime"] == d.runtime
    pid = info["State"]["Pid"]
    # the host sees the container's init as an ordinary process (busybox sleep)
    assert Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:2] == [b"sleep", b"60"]

    ps = d.out("ps")
    assert cid[:12] in ps and "Up " in ps and "web" in ps
    assert d.out("ps", "-q").split() == [cid[:12]]
    assert d.out("ps", "--filter", "status=exited", "-q") == ""

    d.wait_for("web", lambda i: True)
    logs = d.run("logs", "web")
    assert logs.stdout == b"hello\n" and logs.stderr == b"oops\n"

    d.run("stop", "-t", "1", "web")
    info = d.inspect("web")
    assert info["State"]["Status"] == "exited" and info["State"]["ExitCode"] == 137
    assert "Exited (137)" in d.out("ps", "-a")
    assert d.out("logs", "web") == "hello\n"  # logs outlive the process

    d.run("start", "web")
    assert d.wait_for("web", lambda i: i["State"]["Running"])["State"]["Running"]
    d.run("kill", "-s", "TERM", "web")  # PID 1 ignores TERM without a handler: still running
    d.run("kill", "web")
    assert d.out("wait", "web").strip() == "137"

    d.run("rm", cid[:8])
    assert d.out("ps", "-aq") == ""
    assert leftovers(d, cid) == []


def test_rm_refuses_a_running_container_and_force_kills_it(any_runtime: Dockyard) -> None:
    d = any_runtime
    cid = d.container("-d", "busybox", "sleep", "60").stdout.decode().strip()
    proc = d.run("rm", cid, check=False)
    assert proc.returncode == 1
    assert b"You cannot remove a running container" in proc.stderr
    d.run("rm", "-f", cid)
    assert leftovers(d, cid) == []


def test_run_in_the_foreground_streams_output_and_exits_with_the_code(
    any_runtime: Dockyard,
) -> None:
    d = any_runtime
    proc = d.container("--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, b"out\n", b"err\n")
    assert d.out("ps", "-aq") == ""  # --rm removed it


def test_container_is_isolated(any_runtime: Dockyard) -> None:
    d = any_runtime
    proc = d.container("--rm", "-h", "box", "--network", "none", "busybox", "sh", "-c",
                       "echo $$; hostname; ls /sys/class/net; cat /proc/self/mountinfo")  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    pid, hostname, nets, mountinfo = proc.stdout.decode().split("\n", 3)
    assert pid == "1" and hostname == "box" and nets == "lo"
    # only its own mounts: the root is its overlay, and none of the host's paths is visible
    mounts = {line.split()[4]: line.split(" - ")[1].split()[0] for line in mountinfo.splitlines()}
    assert mounts["/"] == "overlay"
    assert not [m for m in mounts if m.startswith(("/tmp", "/work", "/var/lib", str(d.root)))]


def test_files_written_in_a_container_do_not_change_the_image(dockyard: Dockyard) -> None:
    d = dockyard
    proc = d.container("busybox", "sh", "-c", "echo x > /bin/new && rm /bin/ls && ls /bin/new")
    assert proc.returncode == 0, proc.stderr.decode()
    # the writable layer holds exactly the container's changes (mount points such as
    # /etc/hosts, /proc or /dev live in the init layer below it, as in Docker)
    cid = d.out("ps", "-alq", "--no-trunc").strip()
    upper = Path(d.inspect(cid)["GraphDriver"]["Data"]["UpperDir"])
    assert sorted(str(p.relative_to(upper)) for p in upper.rglob("*")) == [
        "bin", "bin/ls", "bin/new"
    ]  # fmt: skip
    fresh = d.container("--rm", "busybox", "sh", "-c", "ls /bin/new; ls /bin/ls")
    assert fresh.stdout == b"/bin/ls\n"  # the image's file is back, the new one absent
    assert b"/bin/new: No such file" in fresh.stderr


def test_wait_prints_the_exit_code(dockyard: Dockyard) -> None:
    d = dockyard
    cid = d.container("-d", "busybox", "sh", "-c", "sleep 0.3; exit 5").stdout.decode().strip()
    assert d.out("wait", cid) == "5\n"
    assert d.inspect(cid)["State"]["ExitCode"] == 5


def test_container_prune_removes_only_stopped_containers(dockyard: Dockyard) -> None:
    d = dockyard
    stopped = d.out("create", "busybox", "true").strip()
    running = d.container("-d", "busybox", "sleep", "60").stdout.decode().strip()
    out = d.out("container", "prune", "-f")
    assert out.startswith("Deleted Containers:\n" + stopped)
    assert d.out("ps", "-aq", "--no-trunc").split() == [running]
    assert leftovers(d, stopped) == []
