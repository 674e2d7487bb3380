"""``start``: from a record to a running container watched by its shim.

Order: volumes and binds attached (``volumes_setup``), the network namespace made and
attached (``networking``: veth, address, published ports), the files the container binds
(hostname, hosts, resolv.conf as the network setup wrote them), ``config.json`` from
``Config``/``HostConfig`` (``bundle.build_spec``, joining that namespace and adding the
volume mounts), the cgroup with its limits, then the shim,
whose launcher mounts the writable snapshot, runs the runtime's ``create`` and detaches the
mount (see ``runtimes``). A ``starting`` marker is left while this runs, so a start killed
half-way reads as ``created`` and ``rm -f`` can clean it. A start that fails gives the
network back at once.

Imports runtime (spec, shim client, cgroups, logs) and sibling modules; never cli/ or api/,
and never forks (the API daemon is threaded).
"""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING, Any

from dockyard import errors
from dockyard.metadata.containers import ContainerRecord
from dockyard.service.containers import bundle, networking, runtimes, volumes_setup
from dockyard.service.containers.state import STARTING

if TYPE_CHECKING:
    from dockyard.runtime.shim.client import ShimInfo
    from dockyard.service.containers.service import ContainerService

__all__ = ["StartError", "start", "start_failure"]

TINI = ("/usr/bin/tini-static", "/usr/bin/docker-init", "/usr/libexec/docker/docker-init")


class StartError(errors.FailedPrecondition):
    """The container's process could not be started; ``exit_code`` is Docker's 125/126/127."""

    def __init__(self, message: str, exit_code: int = 125) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _read_image_file(lowers: list[str], rel: str) -> str:
    for layer in lowers:
        try:
            with open(os.path.join(layer, rel), encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            continue
    return ""


def _layers(mount_options: tuple[str, ...]) -> list[str]:
    """Directories of the root filesystem, top first, from a snapshot mount's options."""
    upper = [o[9:] for o in mount_options if o.startswith("upperdir=")]
    lower = [o[9:] for o in mount_options if o.startswith("lowerdir=")]
    return upper + (lower[0].split(":") if lower else [])


def _user(config: dict[str, Any], dirs: list[str]) -> tuple[int, int, tuple[int, ...]]:
    user = config.get("User") or "0"
    name, _, grp = user.partition(":")
    if name.isdigit() and (not grp or grp.isdigit()) and name != "0":
        return int(name), int(grp or 0), (int(grp or 0),)
    return bundle.resolve_user(user, _read_image_file(dirs, "etc/passwd"),
                               _read_image_file(dirs, "etc/group"))  # fmt: skip


def _init_binary() -> str | None:
    return next((p for p in TINI if os.path.exists(p)), None)


def start_failure(
    state_dir: str, log_path: str, rootfs_dirs: list[str] | None = None
) -> StartError:
    """Why a start failed, from the runtime's last words in the log: 127 for a missing
    command, 126 for one that cannot be executed, 125 otherwise. *rootfs_dirs* (top layer
    first) tell a path that exists but cannot be executed from a missing one when the
    runtime's message does not."""
    message = "the OCI runtime failed to create the container"
    try:
        with open(log_path, "rb") as f:
            f.seek(max(0, os.path.getsize(log_path) - 8192))
            lines = f.read().splitlines()
        for raw in reversed(lines):
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            if entry.get("stream") == "stderr" and entry.get("log", "").strip():
                message = entry["log"].strip()
                break
    except OSError:
        pass
    logged = re.search(r'level=error msg="(.*)"', message)  # runc's logrus line
    if logged:
        message = logged.group(1).replace('\\"', '"')
    message = re.sub(r"^(dockyard-runtime|runc|crun):\s*", "", message)
    lowered = message.lower()
    path = re.search(r"exec: \"?(/[^\":]+)\"?: no such file or not executable", message)
    if (
        path
        and rootfs_dirs
        and any(os.path.lexists(os.path.join(d, path.group(1).lstrip("/"))) for d in rootfs_dirs)
    ):
        lowered = "permission denied"
    if "executable file not found" in lowered or "no such file" in lowered:
        code = 127
    elif "permission denied" in lowered or "exec format error" in lowered:
        code = 126
    else:
        code = 125
    error = StartError(
        f"failed to create task for container: OCI runtime create failed: {message}", code
    )
    try:  # remembered for ps/inspect: Docker shows such a container as Created, with the code
        with open(os.path.join(state_dir, runtimes.START_FAILED), "w", encoding="utf-8") as f:
            f.write(f"{code}\n{error.message}")
    except OSError:
        pass
    return error


def rootfs_dirs(svc: ContainerService, record: ContainerRecord) -> list[str]:
    """The directories of *record*'s root filesystem, top layer first ([] if unknown)."""
    try:
        mounts = svc.engine.snapshotter.mounts(record.snapshot_key)
    except errors.DockyardError:
        return []
    return _layers(mounts[0].options) if mounts[0].type == "overlay" else [mounts[0].source]


def prepare_bundle(svc: ContainerService, record: ContainerRecord) -> list[Any]:
    """Write the bundle (config.json, binds) into the state dir; the rootfs mounts.

    Raises InvalidArgument (config), NotFound (snapshot gone).
    """
    from dockyard.runtime.spec import generate

    sd = svc.state_dir(record.id)
    os.makedirs(os.path.join(sd, "rootfs"), exist_ok=True)
    mounts = svc.engine.snapshotter.mounts(record.snapshot_key)
    config, host = record.config, record.host_config
    dirs = rootfs_dirs(svc, record)
    volume_mounts = volumes_setup.prepare(svc, record, dirs)
    net, netns = networking.prepare(svc, record)
    hostname = net.hostname or config.get("Hostname") or record.id[:12]
    _write(os.path.join(sd, "hostname"), hostname + "\n")
    _write(os.path.join(sd, "hosts"), net.hosts or bundle.hosts_file(hostname))
    _write(os.path.join(sd, "resolv.conf"), net.resolv_conf)
    spec = bundle.build_spec(
        config, host, state_dir=sd, user=_user(config, dirs),
        home=bundle.home_of(config.get("User") or "", _read_image_file(dirs, "etc/passwd")),
        init_binary=_init_binary() if host.get("Init") else None,
        cgroups_path=None if record.runtime == "builtin" else f"/dockyard/{record.id}",
        namespace_paths={"network": netns} if netns else None,
        extra_mounts=volume_mounts, hostname=hostname, host_network=net.mode == "host",
    )  # fmt: skip
    with open(os.path.join(sd, "config.json"), "w", encoding="utf-8") as f:
        json.dump(generate(spec), f)
    return list(mounts)


def _restart_text(host: dict[str, Any]) -> str:
    policy = host.get("RestartPolicy") or {}
    name = policy.get("Name") or "no"
    count = policy.get("MaximumRetryCount") or 0
    return f"{name}:{count}" if name == "on-failure" and count else name


def _auto_remove(svc: ContainerService, container_id: str, delete: list[str]) -> list[str]:
    """*delete*, then ``dockyard rm -f ID`` in the background: ``run -d --rm`` without a
    daemon. The shim runs this after the final exit (``--rm`` excludes restart policies);
    the ``rm`` waits on the container's lock and for the shim to finish."""
    import shlex
    import sys

    from dockyard.service.settings import Settings

    settings = svc.engine.settings
    root = [] if settings == Settings() else ["--root", str(settings.root)]
    remove = [sys.executable, "-m", "dockyard", *root, "rm", "-f", container_id]
    script = (
        f"{shlex.join(delete)}; rc=$?; "
        f"(setsid {shlex.join(remove)} </dev/null >/dev/null 2>&1 &); exit $rc"
    )
    return ["/bin/sh", "-c", script]


def shim_config(
    svc: ContainerService,
    record: ContainerRecord,
    mounts: list[Any],
    attach: bool,
    winsize: tuple[int, int] | None = None,
) -> Any:
    """The ``ShimConfig`` that runs *record* with its runtime (see ``runtimes``)."""
    from dockyard.runtime.cgroups import detect
    from dockyard.runtime.logs import parse_log_opts
    from dockyard.runtime.shim.config import CgroupRef, LogConfig, ShimConfig

    sd = svc.state_dir(record.id)
    config, host = record.config, record.host_config
    base = runtimes.runtime_base(record.runtime, svc.engine.settings.exec_root)
    tty = bool(config.get("Tty"))
    create = ["create", "--bundle", sd, "--pid-file", os.path.join(sd, "init.pid")]
    if tty:
        create += ["--console-socket", "console.sock"]
    start_command, delete_command = runtimes.start_delete_commands(base, record.id)
    if host.get("AutoRemove") and not attach:
        delete_command = _auto_remove(svc, record.id, delete_command)
    # runc and crun join linux.cgroupsPath themselves; the builtin runtime leaves it to us
    cgroup_dirs = _cgroup_dirs(record.id) if record.runtime == "builtin" else []
    command, env = runtimes.launcher(
        mounts, base, [*create, record.id], record.id, cgroup_dirs
    )
    max_size, max_file = parse_log_opts(dict((host.get("LogConfig") or {}).get("Config") or {}))
    return ShimConfig(
        command=command,
        id=record.id,
        env=env,
        pid_file=os.path.join(sd, "init.pid"),
        start_command=start_command,
        delete_command=delete_command,
        cwd=sd,
        tty=tty,
        console_socket="console.sock" if tty else None,
        winsize=winsize if tty else None,
        open_stdin=bool(config.get("OpenStdin")),
        stdin_once=bool(config.get("StdinOnce")),
        wait_attach=attach,
        restart=_restart_text(host),
        log=LogConfig(svc.log_path(record.id), max_size, max_file),
        cgroup=CgroupRef(record.id, detect()),
        healthcheck=bundle.healthcheck_of(config, [*base, "exec", record.id]),
    )


def _cgroup_dirs(container_id: str) -> list[str]:
    """The container's cgroup directory in each hierarchy (one on v2)."""
    from dockyard.runtime.cgroups import driver_for

    driver = driver_for()
    mounts = getattr(driver, "mounts", None)  # v1: controller -> hierarchy root
    if mounts is not None:
        return [
            os.path.join(base, "dockyard", container_id) for base in dict.fromkeys(mounts.values())
        ]
    return [os.path.join(getattr(driver, "root", "/sys/fs/cgroup"), "dockyard", container_id)]


def _cgroup(svc: ContainerService, record: ContainerRecord) -> None:
    from dockyard.runtime.cgroups import driver_for
    from dockyard.service.containers.create import resources_of

    driver = driver_for()
    resources = resources_of(record.host_config)
    try:
        driver.create(record.id, resources)
    except errors.AlreadyExists:
        driver.update(record.id, resources)


def start(
    svc: ContainerService,
    record: ContainerRecord,
    *,
    attach: bool = False,
    winsize: tuple[int, int] | None = None,
) -> ShimInfo | None:
    """Start *record*; None if it was running already. With *attach* the shim holds the
    process until a client connects to its attach socket (``run`` without ``-d``);
    *winsize* (rows, cols) is the tty's first size.

    Raises StartError (exit_code 125/126/127 as Docker), InvalidArgument, NotFound.
    """
    from dockyard.runtime.shim.client import start_shim

    live = svc.live(record)
    if live.running:
        return None
    sd = svc.state_dir(record.id)
    marker = os.path.join(sd, STARTING)
    os.makedirs(sd, exist_ok=True)
    _write(marker, str(os.getpid()))
    for stale in (runtimes.START_FAILED, "init.pid"):
        try:
            os.unlink(os.path.join(sd, stale))
        except FileNotFoundError:
            pass
    try:
        mounts = prepare_bundle(svc, record)
        _cgroup(svc, record)
        cfg = shim_config(svc, record, mounts, attach, winsize)
    except BaseException:
        networking.release(svc, record)
        os.unlink(marker)
        raise
    try:
        info = start_shim(sd, cfg, zygote=svc.engine.shim_zygote)
    except errors.FailedPrecondition as exc:
        networking.release(svc, record)
        os.unlink(marker)
        raise start_failure(sd, svc.log_path(record.id), rootfs_dirs(svc, record)) from exc
    except errors.DockyardError:  # no shim reported back: nothing holds the network
        networking.release(svc, record)
        os.unlink(marker)
        raise
    os.unlink(marker)
    svc.emit("start", record)
    return info
