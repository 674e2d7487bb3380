"""A container's network at start and its release at exit: the glue between the container
service and ``service.container_network``.

On start the engine makes the container's network namespace itself (a thread's ``unshare``,
bind-mounted on ``STATE_DIR/netns``), attaches it (veth, address, published ports, DNS name)
and lets the runtime *join* it through the OCI spec's namespace ``path``. So the network is
ready before the container's first instruction, a failure is reported by ``start`` before
any process exists, and a restart by the shim's policy rejoins the same namespace (same
address). ``host`` and ``container:X`` join that namespace instead and get no file.

:func:`release` takes everything back (ports, veths, address, the namespace file); it is
idempotent and is called whenever an exit is observed (stop, rm, start again, a foreground
``run``).

Imports ``service.container_network``, ``_sys`` (mount, unshare in a thread) and the network
package's netns helper; never cli/ or api/.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from dockyard import errors

if TYPE_CHECKING:
    from dockyard.metadata.containers import ContainerRecord
    from dockyard.service.container_network import NetworkSetup
    from dockyard.service.containers.service import ContainerService

__all__ = ["NETNS_FILE", "port_args", "prepare", "reclaim_exited", "release"]

NETNS_FILE = "netns"


def port_args(bindings: dict[str, Any] | None) -> list[str]:
    """Docker's ``HostConfig.PortBindings`` back as ``-p`` values (``ip:host:cport/proto``)."""
    out: list[str] = []
    for key, entries in (bindings or {}).items():
        port, _, proto = str(key).partition("/")
        proto = proto or "tcp"
        for entry in entries or [{}]:
            ip = (entry or {}).get("HostIp") or ""
            host_port = str((entry or {}).get("HostPort") or "")
            if ip:
                out.append(f"{ip}:{host_port}:{port}/{proto}")
            elif host_port:
                out.append(f"{host_port}:{port}/{proto}")
            else:
                out.append(f"{port}/{proto}")
    return out


def _endpoint_configs(record: ContainerRecord) -> list[tuple[str, list[str], str | None]]:
    """``(network, aliases, ip)`` from the request's ``NetworkingConfig.EndpointsConfig``."""
    doc = record.extra.get("NetworkingConfig") or {}
    out = []
    for net, cfg in (doc.get("EndpointsConfig") or {}).items():
        cfg = cfg or {}
        ipam = cfg.get("IPAMConfig") or {}
        out.append((net, list(cfg.get("Aliases") or []), ipam.get("IPv4Address") or None))
    return out


def _make_netns(path: str) -> None:
    """A new network namespace kept alive by a bind mount on *path*.

    Raises PermissionDenied/Unavailable (no namespace), FailedPrecondition (mount failed).
    """
    from dockyard._sys.mountapi import MS_BIND, mount
    from dockyard.network._netns import new_netns

    with open(path, "a"):
        pass
    fd = new_netns()
    try:
        mount(f"/proc/self/fd/{fd}", path, None, MS_BIND)
    except OSError as exc:
        raise errors.FailedPrecondition(f"cannot keep network namespace at {path}: {exc}") from exc
    finally:
        os.close(fd)


def _drop_netns(path: str) -> None:
    from dockyard._sys.mountapi import umount

    try:
        umount(path, 2)  # MNT_DETACH
    except OSError:
        pass
    try:
        os.unlink(path)
    except OSError:
        pass


def release(svc: ContainerService, record: ContainerRecord) -> None:
    """Take back *record*'s network: published ports, veths, addresses, DNS names and the
    namespace file. Never raises for what is already gone.

    The container must have no process left. Then, when it had a PID namespace of its own
    (nothing of it can outlive its init and hold the network namespace), its veths are left
    to the kernel, which deletes them with the namespace once the file is dropped, after we
    return."""
    from dockyard.service.container_network import detach_container, has_attachment

    container_id = record.id
    own_pids = not record.host_config.get("PidMode")
    path = os.path.join(svc.state_dir(container_id), NETNS_FILE)
    netns = os.path.lexists(path)
    if netns or has_attachment(svc.engine, container_id):
        try:
            detach_container(svc.engine, container_id, netns_dropped=netns and own_pids)
        except errors.DockyardError:
            pass
    if netns:
        _drop_netns(path)


def _start_in_progress(state_dir: str) -> bool:
    """A ``start`` is under way (its marker names a live process)."""
    from dockyard.service.containers.state import STARTING

    try:
        with open(os.path.join(state_dir, STARTING), encoding="utf-8") as f:
            pid = int(f.read().strip() or 0)
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid > 0


def reclaim_exited(svc: ContainerService) -> list[str]:
    """Give back the network of every container that has exited without anyone noticing (a
    detached container whose process ended, a shim that was killed): Docker releases a
    container's address and published ports when it stops, so another container can take
    them. Only containers whose shim files say exited (or whose shim is gone) qualify, each
    checked again under its lock, taken without waiting: one being started, stopped or removed
    is busy, and a start whose shim is waiting for its attach still reads as created. Endpoints
    that are not a container's are not ours to judge. The ids released."""
    from dockyard.service.containers.state import read_live_state

    released = []
    for cid in {ep.container_id for ep in svc.engine.networks.manager.endpoints()}:
        sd = svc.state_dir(cid)
        try:
            record = svc.records.get(cid)
        except errors.NotFound:
            continue
        if _start_in_progress(sd) or read_live_state(sd).status not in ("exited", "dead"):
            continue
        with _try_lock(sd) as locked:
            if locked and read_live_state(sd).status in ("exited", "dead"):
                release(svc, record)
                released.append(cid)
    return released


@contextlib.contextmanager
def _try_lock(state_dir: str) -> Iterator[bool]:
    """The container's lock (as ``ContainerService.locked``) if it is free at once."""
    import fcntl

    try:
        fd = os.open(os.path.join(state_dir, "lock"), os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _attach(svc: ContainerService, record: ContainerRecord, path: str | None, mode: str) -> Any:
    """``attach_container`` for *record*; a port or address that an exited container still
    holds is reclaimed and the attach tried once more."""
    from dockyard.service.container_network import attach_container, detach_container

    config, host = record.config, record.host_config
    for attempt in (0, 1):
        try:
            return attach_container(
                svc.engine, record.id, record.name, path, mode,
                networks=_endpoint_configs(record),
                ports=port_args(host.get("PortBindings")),
                publish_all_exposed=bool(host.get("PublishAllPorts")),
                exposed_ports=config.get("ExposedPorts"),
                dns=host.get("Dns") or (), dns_search=host.get("DnsSearch") or (),
                dns_options=host.get("DnsOptions") or (),
                extra_hosts=host.get("ExtraHosts") or (),
                hostname=config.get("Hostname") or "", domainname=config.get("Domainname") or "",
                mac=config.get("MacAddress") or None,
            )  # fmt: skip
        except (errors.Conflict, errors.Unavailable):
            if attempt or not reclaim_exited(svc):
                raise
            detach_container(svc.engine, record.id)  # what the failed attempt attached
    raise AssertionError("unreachable")


def prepare(svc: ContainerService, record: ContainerRecord) -> tuple[NetworkSetup, str | None]:
    """Attach *record* to its networks; the setup and the namespace path the runtime joins
    (None with ``host``: the container keeps the runtime's own, no network namespace).

    Any earlier attachment is released first (start again after an unobserved exit).
    Raises what ``attach_container`` raises (InvalidArgument, NotFound, Conflict,
    FailedPrecondition, Unavailable); nothing stays attached then.
    """
    from dockyard.service.container_network import join_target, parse_network_mode

    engine = svc.engine
    mode = record.host_config.get("NetworkMode") or "bridge"
    release(svc, record)
    kind, _ = parse_network_mode(mode)
    own = kind in ("bridge", "none")
    path = os.path.join(svc.state_dir(record.id), NETNS_FILE) if own else None
    # host: no namespace of its own, the runtime stays in the engine's (the host's); joining
    # /proc/1/ns/net would need ptrace access to pid 1, which a confined engine may lack
    join = path if own else (None if kind == "host" else join_target(engine, mode))
    if path is not None:
        _make_netns(path)
    try:
        setup = _attach(svc, record, path, mode)
    except BaseException:
        release(svc, record)
        raise
    extra = dict(record.extra)
    extra["NetworkSettings"] = setup.settings
    svc.records.update_extra(record.id, extra)
    record.extra = extra
    return setup, join
