"""``run`` and ``create``: Docker's flags → a create request (``Config``/``HostConfig``), then
start, attach and wait as ``docker run`` does.

Exit codes of ``run`` in the foreground: the container's own; 125 when the engine fails, 126
when the command cannot be executed, 127 when it is not found (Docker's). Kept light: this is
the hot path of ``dockyard run``, so nothing here imports rich or the registry client unless
an image must be pulled.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import Any

import click

from dockyard import errors
from dockyard.cli._context import engine

__all__ = ["build_request", "create_cmd", "parse_bytes", "parse_duration", "run_cmd"]

_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_DUR_NS = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
           "h": 3600 * 10**9}  # fmt: skip


def parse_bytes(value: str) -> int:
    """Docker's ``RAMInBytes``: ``512m``, ``1g``, ``1024``, ``-1``. Raises InvalidArgument."""
    text = value.strip().lower()
    if text == "-1":
        return -1
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?", text)
    if not m:
        raise errors.InvalidArgument(f"invalid size: '{value}'")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def parse_duration(value: str) -> int:
    """A Go duration (``30s``, ``1m30s``, ``500ms``) in nanoseconds. Raises InvalidArgument."""
    text = value.strip()
    if text == "0":
        return 0
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise errors.InvalidArgument(f'time: invalid duration "{value}"')
    return int(sum(float(n) * _DUR_NS[u] for n, u in parts))


def _read_kv_file(path: str, what: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as exc:
        raise errors.InvalidArgument(f"open {path}: {exc.strerror}") from exc
    out = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if what == "env" and "=" not in line:
            value = os.environ.get(line)
            if value is None:
                continue
            line = f"{line}={value}"
        out.append(line)
    return out


def _env(entries: list[str]) -> list[str]:
    out = []
    for e in entries:
        if "=" not in e:
            if e in os.environ:
                out.append(f"{e}={os.environ[e]}")
            continue
        out.append(e)
    return out


def _labels(entries: list[str]) -> dict[str, str]:
    out = {}
    for e in entries:
        key, _, value = e.partition("=")
        out[key] = value
    return out


def _restart(value: str) -> dict[str, Any]:
    name, _, count = value.partition(":")
    if count and not count.isdigit():
        raise errors.InvalidArgument(f"invalid restart policy '{value}'")
    return {"Name": name or "no", "MaximumRetryCount": int(count or 0)}


def _ulimit(value: str) -> dict[str, Any]:
    name, eq, limits = value.partition("=")
    soft, _, hard = limits.partition(":")
    try:
        soft_i = int(soft)
        hard_i = int(hard or soft)
    except ValueError:
        raise errors.InvalidArgument(f"invalid ulimit argument: {value}") from None
    if not eq:
        raise errors.InvalidArgument(f"invalid ulimit argument: {value}")
    return {"Name": name, "Soft": soft_i, "Hard": hard_i}


def _security_opt(value: str) -> str:
    """``seccomp=FILE`` → ``seccomp=<the profile's JSON>`` (Docker's CLI reads the file)."""
    for prefix in ("seccomp=", "seccomp:"):
        if value.startswith(prefix) and value[len(prefix) :] != "unconfined":
            path = value[len(prefix) :]
            try:
                with open(path, encoding="utf-8") as f:
                    return f"seccomp={f.read()}"
            except OSError as exc:
                raise errors.InvalidArgument(
                    f"opening seccomp profile ({path}) failed: {exc.strerror}"
                ) from exc
    return value


def build_request(opts: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Docker's ``Config`` and ``HostConfig`` for the parsed flags of ``run``/``create``.

    Raises InvalidArgument for malformed values (sizes, durations, ulimits, files).
    """
    env: list[str] = []
    for path in opts["env_file"]:
        env += _read_kv_file(path, "env")
    env += _env(list(opts["env"]))
    labels: dict[str, str] = {}
    for path in opts["label_file"]:
        labels.update(_labels(_read_kv_file(path, "label")))
    labels.update(_labels(list(opts["label"])))
    interactive, tty = opts["interactive"], opts["tty"]
    detach = opts.get("detach", False)
    config: dict[str, Any] = {
        "Image": opts["image"],
        "Cmd": list(opts["command"]) or None,
        "Env": env,
        "Labels": labels,
        "Tty": tty,
        "OpenStdin": interactive,
        "StdinOnce": interactive and not detach,
        "AttachStdin": interactive and not detach,
        "AttachStdout": not detach,
        "AttachStderr": not detach,
    }
    if opts["entrypoint"] is not None:
        config["Entrypoint"] = [opts["entrypoint"]] if opts["entrypoint"] else []
    if opts["workdir"]:
        config["WorkingDir"] = opts["workdir"]
    if opts["user"]:
        config["User"] = opts["user"]
    if opts["hostname"]:
        config["Hostname"] = opts["hostname"]
    if opts["stop_signal"]:
        config["StopSignal"] = opts["stop_signal"]
    if opts["stop_timeout"] is not None:
        config["StopTimeout"] = opts["stop_timeout"]
    health: dict[str, Any] = {}
    if opts["health_cmd"]:
        health["Test"] = ["CMD-SHELL", opts["health_cmd"]]
    for flag, key in (("health_interval", "Interval"), ("health_timeout", "Timeout"),
                      ("health_start_period", "StartPeriod")):  # fmt: skip
        if opts[flag]:
            health[key] = parse_duration(opts[flag])
    if opts["health_retries"] is not None:
        health["Retries"] = opts["health_retries"]
    if opts["no_healthcheck"]:
        if health:
            raise errors.InvalidArgument("--no-healthcheck conflicts with --health-* options")
        health = {"Test": ["NONE"]}
    if health:
        config["Healthcheck"] = health
    log_opts = {}
    for entry in opts["log_opt"]:
        key, _, value = entry.partition("=")
        log_opts[key] = value
    host: dict[str, Any] = {
        "AutoRemove": opts["rm"],
        "RestartPolicy": _restart(opts["restart"] or "no"),
        "LogConfig": {"Type": "json-file", "Config": log_opts},
        "CapAdd": list(opts["cap_add"]) or None,
        "CapDrop": list(opts["cap_drop"]) or None,
        "Privileged": opts["privileged"],
        "ReadonlyRootfs": opts["read_only"],
        "SecurityOpt": [_security_opt(o) for o in opts["security_opt"]] or None,
        "Ulimits": [_ulimit(u) for u in opts["ulimit"]] or None,
        "Init": True if opts["init"] else None,
        "Runtime": opts["runtime"] or "builtin",
    }
    if opts["tmpfs"]:
        host["Tmpfs"] = {t.partition(":")[0]: t.partition(":")[2] for t in opts["tmpfs"]}
    for flag, key in (("memory", "Memory"), ("memory_swap", "MemorySwap"),
                      ("memory_reservation", "MemoryReservation")):  # fmt: skip
        if opts[flag]:
            host[key] = parse_bytes(opts[flag])
    if opts["cpus"]:
        try:
            host["NanoCpus"] = int(float(opts["cpus"]) * 1e9)
        except ValueError:
            raise errors.InvalidArgument(f"invalid argument {opts['cpus']!r} for --cpus") from None
    if opts["cpu_shares"]:
        host["CpuShares"] = opts["cpu_shares"]
    if opts["cpuset_cpus"]:
        host["CpusetCpus"] = opts["cpuset_cpus"]
    if opts["pids_limit"] is not None:
        host["PidsLimit"] = opts["pids_limit"]
    _network_request(opts, config, host)
    if opts["volume"]:
        host["Binds"] = list(opts["volume"])
    if opts["mount"]:
        host["Mounts"] = list(opts["mount"])
    if opts["volumes_from"]:
        host["VolumesFrom"] = list(opts["volumes_from"])
    return config, host


def _network_request(opts: dict[str, Any], config: dict[str, Any], host: dict[str, Any]) -> None:
    """The network flags into ``Config``/``HostConfig`` (Docker's keys) and the request's
    ``NetworkingConfig`` (aliases, ``--ip``), carried in ``Config``. Raises InvalidArgument."""
    network = opts["network"] or "bridge"
    host["NetworkMode"] = network
    exposed: dict[str, Any] = {}
    for raw in opts["expose"]:
        port, _, proto = raw.partition("/")
        first, _, last = port.partition("-")
        try:
            for n in range(int(first), int(last or first) + 1):
                exposed[f"{n}/{proto or 'tcp'}"] = {}
        except ValueError:
            raise errors.InvalidArgument(f"invalid range format for --expose: {raw}") from None
    bindings: dict[str, list[dict[str, str]]] = {}
    if opts["publish"]:
        from dockyard.network import parse_port_specs
    for req in parse_port_specs(opts["publish"]) if opts["publish"] else ():
        key = f"{req.container_port}/{req.proto}"
        exposed[key] = {}
        if req.random:
            port = ""
        elif req.host_start == req.host_end:
            port = str(req.host_start)
        else:
            port = f"{req.host_start}-{req.host_end}"
        bindings.setdefault(key, []).append({"HostIp": req.host_ip, "HostPort": port})
    if exposed:
        config["ExposedPorts"] = exposed
    if bindings:
        host["PortBindings"] = bindings
    if opts["publish_all"]:
        host["PublishAllPorts"] = True
    for flag, key in (("dns", "Dns"), ("dns_search", "DnsSearch"),
                      ("dns_option", "DnsOptions"), ("add_host", "ExtraHosts")):  # fmt: skip
        if opts[flag]:
            host[key] = list(opts[flag])
    if opts["domainname"]:
        config["Domainname"] = opts["domainname"]
    if opts["mac_address"]:
        config["MacAddress"] = opts["mac_address"]
    if opts["network_alias"] or opts["ip"]:
        endpoint: dict[str, Any] = {"Aliases": list(opts["network_alias"]) or None}
        if opts["ip"]:
            endpoint["IPAMConfig"] = {"IPv4Address": opts["ip"]}
        config["NetworkingConfig"] = {"EndpointsConfig": {network: endpoint}}


_OPTIONS: list[Callable[[Any], Any]] = [
    click.option("--name", help="Assign a name to the container"),
    click.option("-e", "--env", multiple=True, help="Set environment variables"),
    click.option("--env-file", multiple=True, help="Read in a file of environment variables"),
    click.option("-w", "--workdir", help="Working directory inside the container"),
    click.option("-u", "--user", help="Username or UID (format: <name|uid>[:<group|gid>])"),
    click.option("--entrypoint", help="Overwrite the default ENTRYPOINT of the image"),
    click.option("-h", "--hostname", help="Container host name"),
    click.option("-l", "--label", multiple=True, help="Set meta data on a container"),
    click.option("--label-file", multiple=True, help="Read in a line delimited file of labels"),
    click.option("-i", "--interactive", is_flag=True, help="Keep STDIN open even if not attached"),
    click.option("-t", "--tty", is_flag=True, help="Allocate a pseudo-TTY"),
    click.option("--rm", is_flag=True, help="Automatically remove the container when it exits"),
    click.option("--init", is_flag=True, help="Run an init inside the container"),
    click.option("--restart", help="Restart policy to apply when a container exits"),
    click.option("--stop-signal", help="Signal to stop the container"),
    click.option("--stop-timeout", type=int, help="Timeout (in seconds) to stop a container"),
    click.option("--read-only", is_flag=True, help="Mount the container's root filesystem as read only"),
    click.option("--tmpfs", multiple=True, help="Mount a tmpfs directory"),
    click.option("-m", "--memory", help="Memory limit"),
    click.option("--memory-swap", help="Swap limit equal to memory plus swap: '-1' to enable unlimited swap"),
    click.option("--memory-reservation", help="Memory soft limit"),
    click.option("--cpus", help="Number of CPUs"),
    click.option("-c", "--cpu-shares", type=int, help="CPU shares (relative weight)"),
    click.option("--cpuset-cpus", help="CPUs in which to allow execution (0-3, 0,1)"),
    click.option("--pids-limit", type=int, help="Tune container pids limit (set -1 for unlimited)"),
    click.option("--cap-add", multiple=True, help="Add Linux capabilities"),
    click.option("--cap-drop", multiple=True, help="Drop Linux capabilities"),
    click.option("--privileged", is_flag=True, help="Give extended privileges to this container"),
    click.option("--security-opt", multiple=True, help="Security Options"),
    click.option("--ulimit", multiple=True, help="Ulimit options"),
    click.option("--pull", type=click.Choice(["always", "missing", "never"]), default="missing",
                 help='Pull image before running ("always"|"missing"|"never")'),
    click.option("--health-cmd", help="Command to run to check health"),
    click.option("--health-interval", help="Time between running the check (ms|s|m|h)"),
    click.option("--health-timeout", help="Maximum time to allow one check to run (ms|s|m|h)"),
    click.option("--health-retries", type=int, help="Consecutive failures needed to report unhealthy"),
    click.option("--health-start-period", help="Start period for the container to initialize"),
    click.option("--no-healthcheck", is_flag=True, help="Disable any container-specified HEALTHCHECK"),
    click.option("--log-opt", multiple=True, help="Log driver options"),
    click.option("--log-driver", help="Logging driver for the container (json-file only)"),
    click.option("--runtime", help="Runtime to use for this container (builtin, runc, crun)"),
    click.option("--network", "--net", help="Connect a container to a network"),
    click.option("--network-alias", multiple=True, help="Add network-scoped alias for the container"),
    click.option("--ip", help="IPv4 address (e.g., 172.30.100.104)"),
    click.option("-p", "--publish", multiple=True, help="Publish a container's port(s) to the host"),
    click.option("-P", "--publish-all", is_flag=True, help="Publish all exposed ports to random ports"),
    click.option("--expose", multiple=True, help="Expose a port or a range of ports"),
    click.option("--dns", multiple=True, help="Set custom DNS servers"),
    click.option("--dns-search", multiple=True, help="Set custom DNS search domains"),
    click.option("--dns-option", multiple=True, help="Set DNS options"),
    click.option("--add-host", multiple=True, help="Add a custom host-to-IP mapping (host:ip)"),
    click.option("--domainname", help="Container NIS domain name"),
    click.option("--mac-address", help="Container MAC address (e.g., 92:d0:c6:0a:29:33)"),
    click.option("-v", "--volume", multiple=True, help="Bind mount a volume"),
    click.option("--mount", multiple=True, help="Attach a filesystem mount to the container"),
    click.option("--volumes-from", multiple=True, help="Mount volumes from the specified container(s)"),
]  # fmt: skip


_CTX = {"allow_interspersed_args": False, "help_option_names": ["--help"]}


def container_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate *func* with every flag ``run`` and ``create`` share."""
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


def _ensure_image(name: str, pull: str) -> None:
    import importlib

    eng = engine()
    try:
        ensure = importlib.import_module("dockyard.service.image_ensure").ensure_image
    except (ImportError, AttributeError):
        ensure = None
    if ensure is not None:
        ensure(eng, name, pull=pull,
               on_missing=lambda message: click.echo(message, err=True))  # fmt: skip
        return
    if not eng.images.exists(name):
        raise errors.NotFound(f"No such image: {name}")


def _create(opts: dict[str, Any]) -> str:
    if opts.get("log_driver") not in (None, "json-file"):
        raise errors.InvalidArgument(f"logging driver {opts['log_driver']} is not supported")
    _ensure_image(opts["image"], opts["pull"])
    config, host = build_request(opts)
    return engine().containers.create(config, host, opts["name"]).id


@click.command("create", context_settings=_CTX)
@container_options
@click.argument("image")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def create_cmd(**opts: Any) -> None:
    """Create a new container."""
    opts["detach"] = True
    click.echo(_create(opts))


@click.command("run", context_settings=_CTX)
@click.option(
    "-d", "--detach", is_flag=True, help="Run container in background and print container ID"
)
@container_options
@click.argument("image")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
def run_cmd(**opts: Any) -> None:
    """Run a command in a new container."""
    if opts["detach"] and opts["rm"] and opts["restart"] not in (None, "no"):
        raise errors.InvalidArgument("Conflicting options: --restart and --rm")
    eng = engine()
    eng.warm_shims()  # the shim's interpreter loads on the other core while we create
    try:
        cid = _create(opts)
        svc = eng.containers
        if opts["detach"]:
            try:
                svc.start(cid)
            except errors.DockyardError:
                if opts["rm"]:
                    svc.remove(cid, force=True)
                raise
            click.echo(cid)
            return
        code = attach_and_wait(
            cid, tty=opts["tty"], stdin=opts["interactive"], auto_remove=opts["rm"]
        )
    finally:
        eng.close()
    sys.exit(code)


def attach_and_wait(cid: str, *, tty: bool, stdin: bool, auto_remove: bool) -> int:
    """Start *cid* attached, stream it, wait for it; its exit code (Docker's for failures)."""
    from dockyard.cli._attach import follow
    from dockyard.cli._tty import terminal_size
    from dockyard.runtime.launch import START_FAILED
    from dockyard.runtime.shim import client
    from dockyard.service.containers.start import rootfs_dirs, start_failure

    svc = engine().containers
    record = svc.resolve(cid)
    sd = svc.state_dir(cid)
    try:
        size = (terminal_size(0) or terminal_size(1)) if tty else None
        svc.start(cid, attach=True, winsize=size)
        svc.engine.close()  # the shim is forked: a warm zygote has done its work
        sock = client.connect_attach(sd)
    except errors.DockyardError:
        if auto_remove:
            svc.remove(cid, force=True)
        raise

    ended = follow(svc, record, sock, tty=tty, stdin=stdin, proxy_signals=True)
    if not ended:
        click.echo("", err=True)
        return 0
    code = svc.wait(cid)
    if os.path.exists(os.path.join(sd, START_FAILED)):
        failure = start_failure(sd, svc.log_path(cid), rootfs_dirs(svc, record))
        click.echo(f"Error: {failure}", err=True)
        code = failure.exit_code
    if auto_remove:
        svc.remove(record.id, force=True)
    return code
