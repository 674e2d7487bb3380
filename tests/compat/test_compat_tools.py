"""Container tools through the daemon with the real docker CLI: ``exec`` (plain, stdin, tty,
detached, exit codes), compared with what ``dockyard`` does for the same container. Root."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from compat_daemon import Daemon

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="running containers needs root")


@pytest.fixture
def web(daemon: Daemon, busybox_tar: Path) -> str:
    daemon.docker("import", "--change", 'CMD ["sh"]', str(busybox_tar), "bb:1")
    daemon.docker("run", "-d", "--network", "none", "--name", "web", "bb:1", "sleep", "60")
    return "web"


def test_exec_output_exit_codes_stdin_and_detach(daemon: Daemon, web: str) -> None:
    out = daemon.docker(
        "exec",
        "-e",
        "X=1",
        "-w",
        "/tmp",
        web,
        "sh",
        "-c",
        "echo out $X $(pwd); echo err >&2; exit 3",
        check=False,
    )
    assert (out.returncode, out.stdout, out.stderr) == (3, "out 1 /tmp\n", "err\n"), out.stderr
    ours = daemon.dockyard(
        "exec",
        "-e",
        "X=1",
        "-w",
        "/tmp",
        web,
        "sh",
        "-c",
        "echo out $X $(pwd); echo err >&2; exit 3",
        check=False,
    )
    assert (ours.returncode, ours.stdout, ours.stderr) == (3, out.stdout, out.stderr)
    missing = daemon.docker("exec", web, "no-such-cmd", check=False)
    assert missing.returncode == 127 and "executable file not found" in missing.stderr
    piped = subprocess.run(
        ["docker", "exec", "-i", web, "cat"],
        input="fed in\n",
        env=daemon.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert piped.stdout == "fed in\n"
    daemon.docker("exec", "-d", web, "sh", "-c", "echo detached > /tmp/flag")
    seen = daemon.docker("exec", web, "sh", "-c", "sleep 0.3; cat /tmp/flag").stdout
    assert seen == "detached\n"
    ps = daemon.docker("exec", web, "ps", "-o", "pid,comm").stdout
    assert "1 sleep" in ps.replace("    ", " ").replace("  ", " ")  # same PID namespace


def test_exec_tty_is_a_terminal(daemon: Daemon, web: str) -> None:
    import pty
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:
        os.environ.clear()
        os.environ.update(daemon.env)
        os.execvp("docker", ["docker", "exec", "-it", web, "sh", "-c", "tty; exit 4"])
    out = b""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
    _, status = os.waitpid(pid, 0)
    assert b"/dev/pts/" in out
    assert os.waitstatus_to_exitcode(status) == 4


def test_top_diff_pause_rename(daemon: Daemon, web: str) -> None:
    top = daemon.docker("top", web).stdout.splitlines()
    assert top[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    host_pid = json.loads(daemon.docker("inspect", web).stdout)[0]["State"]["Pid"]
    assert [line.split()[1] for line in top[1:]] == [str(host_pid)]  # the host's PID
    assert daemon.docker("top", web, "-o", "pid,comm").stdout.split() == [
        "PID",
        "COMMAND",
        str(host_pid),
        "sleep",
    ]
    daemon.docker("exec", web, "sh", "-c", "echo new > /added; rm /bin/vi; echo x >> /etc/passwd")
    diff = daemon.docker("diff", web).stdout.splitlines()
    assert {"A /added", "D /bin/vi", "C /etc/passwd", "C /etc"} <= set(diff)
    assert daemon.dockyard("diff", web).stdout.splitlines() == diff
    daemon.docker("pause", web)
    assert "(Paused)" in daemon.docker("ps", "--format", "{{.Status}}").stdout
    state = json.loads(daemon.docker("inspect", web).stdout)[0]["State"]
    assert (state["Status"], state["Paused"]) == ("paused", True)
    daemon.docker("unpause", web)
    assert daemon.docker("exec", web, "echo", "thawed").stdout == "thawed\n"
    daemon.docker("rename", web, "renamed")
    assert daemon.docker("ps", "--format", "{{.Names}}").stdout.split() == ["renamed"]


def test_cp_both_ways_and_no_escape(daemon: Daemon, web: str, tmp_path: Path) -> None:
    daemon.docker(
        "exec",
        web,
        "sh",
        "-c",
        "mkdir -p /data/sub && echo a > /data/a && echo b > /data/sub/b && ln -s / /up",
    )
    daemon.docker("cp", f"{web}:/data", str(tmp_path / "out"))
    assert (tmp_path / "out" / "sub" / "b").read_text() == "b\n"
    daemon.docker("cp", f"{web}:/data/a", str(tmp_path))
    assert (tmp_path / "a").read_text() == "a\n"
    daemon.docker("cp", f"{web}:/up/etc/hostname", str(tmp_path / "hn"))  # the container's
    assert (tmp_path / "hn").read_text() != Path("/etc/hostname").read_text()
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "f").write_text("from host\n")
    daemon.docker("cp", str(tmp_path / "in"), f"{web}:/data/")
    daemon.docker("cp", str(tmp_path / "in" / "f"), f"{web}:/renamed")
    seen = daemon.docker("exec", web, "cat", "/data/in/f", "/renamed").stdout
    assert seen == "from host\nfrom host\n"
    daemon.docker("cp", str(tmp_path / "in" / "f"), f"{web}:/up/tmp/via-link")
    assert not Path("/tmp/via-link").exists()  # written inside the container, not the host
    assert daemon.docker("exec", web, "cat", "/tmp/via-link").stdout == "from host\n"
    missing = daemon.docker("cp", f"{web}:/nope", str(tmp_path), check=False)
    assert missing.returncode != 0 and "Could not find the file /nope" in missing.stderr
    ours = daemon.dockyard("cp", f"{web}:/data/in/f", "-").stdout
    assert "from host" in ours


def test_commit_then_run_and_export(daemon: Daemon, web: str) -> None:
    daemon.docker("exec", web, "sh", "-c", "echo kept > /kept; rm /bin/vi")
    image_id = daemon.docker(
        "commit", "-m", "msg", "-a", "me", "-c", "ENV FROM_COMMIT=yes", web, "committed:v1"
    ).stdout.strip()
    assert image_id.startswith("sha256:")
    out = daemon.docker(
        "run",
        "--rm",
        "--network",
        "none",
        "committed:v1",
        "sh",
        "-c",
        "cat /kept; echo $FROM_COMMIT; test -e /bin/vi || echo gone",
    ).stdout
    assert out == "kept\nyes\ngone\n"
    info = json.loads(daemon.docker("image", "inspect", "committed:v1").stdout)[0]
    assert info["Author"] == "me"
    names = subprocess.run(
        ["docker", "export", web], env=daemon.env, capture_output=True, timeout=60, check=True
    ).stdout
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(names)) as tar:
        members = tar.getnames()
    assert "kept" in [m.lstrip("./") for m in members]
    assert "bin/vi" not in [m.lstrip("./") for m in members]


def test_stats_no_stream(daemon: Daemon, web: str) -> None:
    out = daemon.docker("stats", "--no-stream", web).stdout.splitlines()
    assert out[0].split() == ["CONTAINER", "ID", "NAME", "CPU", "%", "MEM", "USAGE", "/", "LIMIT",
                              "MEM", "%", "NET", "I/O", "BLOCK", "I/O", "PIDS"]  # fmt: skip
    assert out[1].split()[1] == web and out[1].split()[-1] == "1"
    ours = daemon.dockyard("stats", "--no-stream", web).stdout.splitlines()
    assert ours[0].split() == out[0].split() and ours[1].split()[:2] == out[1].split()[:2]


def test_exec_inspect_through_the_sdk(daemon: Daemon, web: str) -> None:
    api = daemon.sdk().api
    exec_id = api.exec_create(web, ["sh", "-c", "echo $$; exit 6"])["Id"]
    before = api.exec_inspect(exec_id)
    assert (before["Running"], before["ExitCode"], before["ProcessConfig"]["entrypoint"]) == (
        False, None, "sh")  # fmt: skip
    out = api.exec_start(exec_id)
    after = api.exec_inspect(exec_id)
    assert (after["Running"], after["ExitCode"]) == (False, 6)
    assert after["Pid"] > 0 and out.strip() != b""  # the host pid; $$ is the container's
