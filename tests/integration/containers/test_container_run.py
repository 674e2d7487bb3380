"""``run`` as Docker's users know it: exit codes, users, env, names, init, logs options."""

from __future__ import annotations

import json

import pytest

from _helpers.containers import Dockyard


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["busybox", "true"], 0, b""),
        (["busybox", "sh", "-c", "exit 3"], 3, b""),
        (["--memory", "1k", "busybox", "true"], 125, b"Minimum memory limit allowed is 6MB"),
        (["busybox", "/etc/passwd"], 126, b"/etc/passwd"),
        (["busybox", "nope"], 127, b'exec: "nope": executable file not found in $PATH'),
    ],
)
def test_run_exit_codes_are_dockers(
    any_runtime: Dockyard, args: list[str], code: int, message: bytes
) -> None:
    proc = any_runtime.container("--rm", *args)
    assert proc.returncode == code, proc.stderr.decode()
    assert message in proc.stderr


def test_missing_command_in_detached_run_is_an_error_and_shows_as_created(
    dockyard: Dockyard,
) -> None:
    proc = dockyard.container("-d", "--name", "bad", "busybox", "nope")
    assert proc.returncode == 127
    assert b"executable file not found in $PATH" in proc.stderr
    state = dockyard.inspect("bad")["State"]
    assert (state["Status"], state["ExitCode"]) == ("created", 127)
    assert "executable file not found" in state["Error"]


def test_user_env_workdir_and_entrypoint(dockyard: Dockyard) -> None:
    out = dockyard.run(
        "run", "--rm", "-u", "appuser", "-e", "A=1", "-w", "/tmp", "--entrypoint", "sh",
        "busybox", "-c", 'id; echo "$A $HOSTNAME"; pwd',
    ).stdout.decode().splitlines()  # fmt: skip
    assert out[0] == "uid=1000(appuser) gid=1000(appgroup) groups=2000(extra)"
    assert out[1].startswith("1 ") and len(out[1]) == 2 + 12  # HOSTNAME is the short id
    assert out[2] == "/tmp"
    unknown = dockyard.run("run", "--rm", "-u", "ghost", "busybox", "true", check=False)
    assert unknown.returncode == 125
    assert b"unable to find user ghost" in unknown.stderr


def test_names_are_unique_generated_and_validated(dockyard: Dockyard) -> None:
    d = dockyard
    cid = d.out("create", "--name", "web", "busybox", "true").strip()
    again = d.run("create", "--name", "web", "busybox", "true", check=False)
    assert again.returncode == 125
    assert (
        f'The container name "/web" is already in use by container "{cid}"'.encode() in again.stderr
    )
    bad = d.run("create", "--name", "-x", "busybox", "true", check=False)
    assert bad.returncode == 125 and b"Invalid container name (-x)" in bad.stderr
    d.run("create", "busybox", "true")
    names = d.out("ps", "-a", "--format", "{{.Names}} {{.Status}}").splitlines()
    assert "web Created" in names
    generated = [n.split()[0] for n in names if not n.startswith("web")]
    assert len(generated) == 1 and "_" in generated[0]
    # rmi refuses an image a container uses
    rmi = d.run("rmi", "busybox", check=False)
    assert rmi.returncode != 0 and b"is using its referenced image" in rmi.stderr


def test_logs_tail_timestamps_and_rotation(dockyard: Dockyard) -> None:
    d = dockyard
    d.container("--name", "chatty", "--log-opt", "max-size=2k", "--log-opt", "max-file=2",
                "busybox", "sh", "-c", "seq 1 1000")  # fmt: skip
    assert d.out("logs", "--tail", "2", "chatty") == "999\n1000\n"
    stamped = d.out("logs", "-t", "--tail", "1", "chatty")
    assert stamped.endswith(" 1000\n") and stamped[:4].isdigit() and "T" in stamped[:20]
    kept = d.out("logs", "chatty").split()
    assert kept[-1] == "1000" and len(kept) < 1000  # older lines rotated away, 2 files kept


def test_init_is_pid_1_and_reaps(dockyard: Dockyard) -> None:
    proc = dockyard.container("--rm", "--init", "busybox", "sh", "-c", "cat /proc/1/cmdline; echo")
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.split(b"\0")[0] == b"/sbin/docker-init"


def test_inspect_has_dockers_shape(dockyard: Dockyard) -> None:
    d = dockyard
    d.run("create", "--name", "shape", "-l", "k=v", "--memory", "64m", "busybox", "echo", "hi")
    info = d.inspect("shape")
    for key in ("Id", "Created", "Path", "Args", "State", "Image", "Name", "RestartCount",
                "Driver", "HostConfig", "GraphDriver", "Mounts", "Config", "NetworkSettings"):  # fmt: skip
        assert key in info
    assert (info["Path"], info["Args"]) == ("echo", ["hi"])
    assert info["State"]["Status"] == "created" and info["Config"]["Labels"] == {"k": "v"}
    assert info["HostConfig"]["Memory"] == 64 * 1024 * 1024
    assert info["GraphDriver"]["Data"]["UpperDir"]
    assert d.out("inspect", "-f", "{{.Name}} {{.State.Running}}", "shape") == "/shape false\n"
    assert json.loads(d.out("container", "ls", "-a", "--format", "{{json .Names}}")) == "shape"


def test_container_processes_start_with_no_signal_ignored_or_blocked(any_runtime: Dockyard) -> None:
    """As under Docker: a shell's `trap` and a daemon's SIGHUP reload behave as on a host (the
    engine's Python and the shim ignore some signals, and an ignored signal survives exec)."""
    status = ["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"]
    proc = any_runtime.container("--rm", "busybox", *status)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.split() == [b"SigBlk:", b"0" * 16, b"SigIgn:", b"0" * 16]
    any_runtime.container("-d", "--name", "sigs", "busybox", "sleep", "60")
    execd = any_runtime.run("exec", "sigs", *status)
    assert execd.stdout.split() == [b"SigBlk:", b"0" * 16, b"SigIgn:", b"0" * 16]
