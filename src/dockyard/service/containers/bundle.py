"""Docker's container configuration → what the runtime runs: pure rules, no I/O.

``merge_image_config`` applies Docker's create-time rules (image Env then the user's, the
Entrypoint/Cmd override rules, WorkingDir, User, Labels, StopSignal, Healthcheck) so the
stored ``Config`` is the effective one, as ``docker inspect`` shows it. ``build_spec`` turns
``Config`` + ``HostConfig`` into a ``runtime.spec.ContainerSpec``; ``resolve_user`` reads the
image's ``/etc/passwd`` and ``/etc/group`` text; ``hosts_file``/``resolv_conf`` make the files
the engine binds into the container.

Imports only the standard library, ``dockyard.errors`` and ``runtime.spec``; no I/O here.
"""

from __future__ import annotations

from typing import Any

from dockyard import errors
from dockyard.runtime.spec import DEFAULT_ENV, DEFAULT_NAMESPACES, ContainerSpec, bind_mount

__all__ = [
    "INIT_PATH",
    "build_spec",
    "command_of",
    "healthcheck_of",
    "home_of",
    "hosts_file",
    "merge_env",
    "merge_image_config",
    "resolv_conf",
    "resolve_user",
]

INIT_PATH = "/sbin/docker-init"
_DEFAULT_PATH = DEFAULT_ENV[0]
_NS = 1_000_000_000
_RLIMITS = {
    "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile", "nproc",
    "rss", "rtprio", "rttime", "sigpending", "stack", "as",
}  # fmt: skip


def merge_env(base: list[str], overrides: list[str]) -> list[str]:
    """*base* ``KEY=value`` entries with *overrides* replacing same keys, order kept."""
    out: dict[str, str] = {}
    for entry in [*base, *overrides]:
        key = entry.split("=", 1)[0]
        out[key] = entry
    return list(out.values())


def merge_image_config(config: dict[str, Any], image: dict[str, Any]) -> dict[str, Any]:
    """Docker's ``Config`` as stored at create: the user's *config* over the image's.

    ``Entrypoint`` set by the user (even to ``[]``) resets the image's ``Cmd``, as Docker does.
    """
    merged = dict(config)
    merged["Env"] = merge_env(list(image.get("Env") or []), list(config.get("Env") or []))
    if config.get("Entrypoint") is not None:
        merged["Entrypoint"] = list(config["Entrypoint"]) or None
        merged["Cmd"] = list(config["Cmd"]) if config.get("Cmd") else None
    else:
        merged["Entrypoint"] = image.get("Entrypoint") or None
        merged["Cmd"] = list(config["Cmd"]) if config.get("Cmd") else image.get("Cmd") or None
    merged["WorkingDir"] = config.get("WorkingDir") or image.get("WorkingDir") or ""
    merged["User"] = config.get("User") or image.get("User") or ""
    merged["Labels"] = {**(image.get("Labels") or {}), **(config.get("Labels") or {})}
    if not config.get("StopSignal") and image.get("StopSignal"):
        merged["StopSignal"] = image["StopSignal"]
    if config.get("Healthcheck") is None and image.get("Healthcheck"):
        merged["Healthcheck"] = image["Healthcheck"]
    if image.get("ExposedPorts") and not config.get("ExposedPorts"):
        merged["ExposedPorts"] = image["ExposedPorts"]
    if image.get("Volumes") and not config.get("Volumes"):
        merged["Volumes"] = image["Volumes"]
    return merged


def command_of(config: dict[str, Any]) -> list[str]:
    """Entrypoint + Cmd of an effective ``Config``. Raises InvalidArgument when empty."""
    argv = list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])
    if not argv:
        raise errors.InvalidArgument("No command specified")
    return argv


def _lookup(text: str, name: str, id_field: int) -> list[str] | None:
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) > id_field and (fields[0] == name or fields[id_field] == name):
            return fields
    return None


def resolve_user(user: str, passwd: str, group: str) -> tuple[int, int, tuple[int, ...]]:
    """(uid, gid, supplementary gids) for Docker's ``--user`` (``name``, ``uid``,
    ``name:group``, ``uid:gid``) in an image with *passwd* and *group* file contents.

    Raises InvalidArgument (Docker's ``unable to find user NAME: no matching entries in
    passwd file``).
    """
    name, _, grp = (user or "0").partition(":")
    entry = _lookup(passwd, name, 2)
    if entry is not None:
        uid, gid = int(entry[2]), int(entry[3]) if entry[3].isdigit() else 0
        username = entry[0]
    elif name.isdigit():
        uid, gid, username = int(name), 0, ""
    else:
        raise errors.InvalidArgument(
            f"unable to find user {name}: no matching entries in passwd file"
        )
    if grp:
        gentry = _lookup(group, grp, 2)
        if gentry is not None:
            gid = int(gentry[2])
        elif grp.isdigit():
            gid = int(grp)
        else:
            raise errors.InvalidArgument(
                f"unable to find group {grp}: no matching entries in group file"
            )
    extra: list[int] = []
    if username and not grp:
        for line in group.splitlines():
            fields = line.split(":")
            member = len(fields) >= 4 and username in fields[3].split(",")
            if member and fields[2].isdigit() and int(fields[2]) not in (gid, *extra):
                extra.append(int(fields[2]))
    return uid, gid, tuple(extra) or (gid,)  # runc's default: the primary group


def home_of(user: str, passwd: str) -> str:
    """The home directory Docker sets as ``HOME`` for *user*: its passwd entry's, else ``/``."""
    name = (user or "0").partition(":")[0]
    entry = _lookup(passwd, name, 2)
    return entry[5] if entry is not None and len(entry) > 5 and entry[5] else "/"


def hosts_file(hostname: str) -> str:
    """Docker's ``/etc/hosts`` for a container without a network yet."""
    return (
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
        f"ff02::2\tip6-allrouters\n127.0.1.1\t{hostname}\n"
    )


def resolv_conf(host: str) -> str:
    """The host's ``resolv.conf`` without loopback name servers (useless in a container);
    Google's servers when none remain, as Docker does."""
    kept: list[str] = []
    servers = 0
    for line in host.splitlines():
        fields = line.split()
        if fields[:1] == ["nameserver"] and len(fields) > 1:
            if fields[1].startswith("127.") or fields[1] == "::1":
                continue
            servers += 1
        kept.append(line)
    if not servers:
        kept += ["nameserver 8.8.8.8", "nameserver 8.8.4.4"]
    return "\n".join(kept) + "\n"


def _duration(value: Any, default: float) -> float:
    return float(value) / _NS if value else default


def healthcheck_of(config: dict[str, Any], probe_prefix: list[str]) -> dict[str, Any] | None:
    """The shim's health check (seconds) for ``Config.Healthcheck``; None without one.

    *probe_prefix* is the runtime's ``exec`` argv the probe command is appended to.
    """
    check = config.get("Healthcheck") or {}
    test = list(check.get("Test") or [])
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD-SHELL":
        argv = ["/bin/sh", "-c", " ".join(test[1:])]
    elif test[0] == "CMD":
        argv = test[1:]
    else:
        argv = ["/bin/sh", "-c", " ".join(test)]
    return {
        "test": [*probe_prefix, *argv],
        "interval": _duration(check.get("Interval"), 30.0),
        "timeout": _duration(check.get("Timeout"), 30.0),
        "retries": int(check.get("Retries") or 3),
        "start_period": _duration(check.get("StartPeriod"), 0.0),
        "start_interval": _duration(check.get("StartInterval"), 5.0),
    }


def _split_opt(opt: str) -> tuple[str, str]:
    """``key=value`` or Docker's legacy ``key:value`` (whichever separator comes first)."""
    cut = min((i for i in (opt.find("="), opt.find(":")) if i >= 0), default=len(opt))
    return opt[:cut], opt[cut + 1 :]


def _seccomp(security_opt: list[str]) -> str | dict[str, Any] | None:
    import json

    for opt in security_opt:
        key, value = _split_opt(opt)
        if key == "seccomp":
            if value == "unconfined":
                return "unconfined"
            if value.lstrip().startswith("{"):  # the profile itself, as Docker's CLI sends it
                try:
                    loaded: dict[str, Any] = json.loads(value)
                except ValueError as exc:
                    raise errors.InvalidArgument(f"decoding seccomp profile failed: {exc}") from exc
                return loaded
            try:
                with open(value, encoding="utf-8") as f:  # read at create by the caller's path
                    profile: dict[str, Any] = json.load(f)
            except (OSError, ValueError) as exc:
                raise errors.InvalidArgument(
                    f"opening seccomp profile ({value}) failed: {exc}"
                ) from exc
            return profile
    return None


def validate_security_opt(security_opt: list[str]) -> None:
    """Refuse options Dockyard does not know. Raises InvalidArgument (Docker's message)."""
    for opt in security_opt:
        key = _split_opt(opt)[0]
        if key not in ("seccomp", "no-new-privileges", "apparmor", "label"):
            raise errors.InvalidArgument(f"Invalid --security-opt: {opt!r}")


def _rlimits(ulimits: list[dict[str, Any]]) -> tuple[tuple[str, int, int], ...]:
    out = []
    for u in ulimits:
        name = str(u.get("Name", ""))
        if name not in _RLIMITS:
            raise errors.InvalidArgument(f"invalid ulimit type: {name}")
        out.append((f"RLIMIT_{name.upper()}", int(u["Soft"]), int(u["Hard"])))
    return tuple(out)


def _tmpfs(tmpfs: dict[str, str]) -> list[dict[str, Any]]:
    mounts = []
    for dest, opts in tmpfs.items():
        options = ["nosuid", "nodev", "noexec"]
        options += [o for o in (opts or "").split(",") if o]
        mounts.append({"destination": dest, "type": "tmpfs", "source": "tmpfs",
                       "options": options})  # fmt: skip
    return mounts


def build_spec(
    config: dict[str, Any],
    host: dict[str, Any],
    *,
    state_dir: str,
    user: tuple[int, int, tuple[int, ...]],
    home: str = "/",
    init_binary: str | None = None,
    cgroups_path: str | None = None,
    namespace_paths: dict[str, str] | None = None,
    extra_mounts: list[dict[str, Any]] | None = None,
    hostname: str | None = None,
    host_network: bool = False,
) -> ContainerSpec:
    """The OCI-level spec of a container from its effective ``Config`` and ``HostConfig``.

    The hostname, hosts and resolv.conf files are expected in *state_dir*; *user* comes from
    ``resolve_user``, *home* from ``home_of``; *init_binary* is bound at ``/sbin/docker-init`` when ``HostConfig.Init``.
    *namespace_paths* are namespaces to join (``{"network": PATH}``), *extra_mounts* OCI
    mounts of volumes and binds (after the defaults, so they win), *hostname* the one the
    network setup chose (else ``Config.Hostname``); *host_network* leaves out the network
    namespace (``--network host``).
    Raises InvalidArgument (no command, bad ulimit or seccomp profile).
    """
    argv = command_of(config)
    mounts = [
        bind_mount(f"{state_dir}/hostname", "/etc/hostname"),
        bind_mount(f"{state_dir}/hosts", "/etc/hosts"),
        bind_mount(f"{state_dir}/resolv.conf", "/etc/resolv.conf"),
    ]
    if host.get("Init"):
        if not init_binary:
            raise errors.Unavailable("--init: no init binary (tini-static) on this host")
        mounts.append(bind_mount(init_binary, INIT_PATH, readonly=True))
        argv = [INIT_PATH, "--", *argv]
    mounts += _tmpfs(host.get("Tmpfs") or {})
    mounts += list(extra_mounts or ())
    env = list(config.get("Env") or [])
    if not any(e.startswith("PATH=") for e in env):
        env.insert(0, _DEFAULT_PATH)
    hostname = hostname or config.get("Hostname") or ""
    env = merge_env([f"HOSTNAME={hostname}"], env) if hostname else env
    if not any(e.startswith("HOME=") for e in env):
        env.append(f"HOME={home}")
    if config.get("Tty") and not any(e.startswith("TERM=") for e in env):
        env.append("TERM=xterm")
    security_opt = list(host.get("SecurityOpt") or [])
    validate_security_opt(security_opt)
    nnp = any(
        _split_opt(o)[0] == "no-new-privileges" and _split_opt(o)[1] in ("", "true")
        for o in security_opt
    )
    uid, gid, groups = user
    return ContainerSpec(
        args=tuple(argv),
        env=tuple(env),
        cwd=config.get("WorkingDir") or "/",
        uid=uid,
        gid=gid,
        additional_gids=groups,
        hostname=hostname,
        terminal=bool(config.get("Tty")),
        rootfs="rootfs",
        rootfs_readonly=bool(host.get("ReadonlyRootfs")),
        mounts=tuple(mounts),
        cap_add=tuple(host.get("CapAdd") or ()),
        cap_drop=tuple(host.get("CapDrop") or ()),
        privileged=bool(host.get("Privileged")),
        no_new_privileges=nnp,
        rlimits=_rlimits(list(host.get("Ulimits") or [])),
        cgroups_path=cgroups_path,
        namespace_paths=dict(namespace_paths or {}),
        namespaces=tuple(n for n in DEFAULT_NAMESPACES if not (host_network and n == "network")),
        seccomp=_seccomp(security_opt),
        shm_size=int(host.get("ShmSize") or 64 * 1024 * 1024),
    )
