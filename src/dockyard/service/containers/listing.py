"""``ps``: the containers, filtered, as Docker's ``/containers/json`` summaries.

``Status`` is Docker's human text (``Up 5 seconds (healthy)``, ``Exited (0) 3 seconds ago``,
``Created``), computed here because the API returns it as is. Filters: ``status``, ``name``
(substring), ``id`` (prefix), ``label`` (``key`` or ``key=value``), ``ancestor`` (image name or
id), ``exited`` (code), ``before``/``since`` (another container).

``ps`` is on the daemon's hot path (the docker CLI lists through it): records come from
``ContainerRecords.all_shared`` (JSON parsed once per row version), live state from the shim's
files through ``state.py``'s stat-validated cache, and the parts of an entry that only depend on
the record are built once per record version (the returned entries share those nested objects:
read them, never change them). Published ports are read once per version of the network state.

Imports only the standard library, metadata and sibling modules; never cli/ (which has its
own humanizer) or api/.
"""

from __future__ import annotations

import re
import shlex
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dockyard import errors
from dockyard.metadata.containers import ContainerRecord
from dockyard.service.containers.state import RACY_NS, LiveState, forget_others, read_live_state
from dockyard.service.humanize import human_duration

if TYPE_CHECKING:
    from dockyard.service.containers.service import ContainerService

__all__ = ["FILTERS", "list_containers", "status_text", "summary"]

FILTERS = ("status", "name", "id", "label", "ancestor", "exited", "before", "since", "health")
_STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")


def _epoch(rfc3339: str) -> float:
    text = rfc3339.rstrip("Z")
    if "." in text:
        head, frac = text.split(".", 1)
        text = f"{head}.{frac[:6]}"
    try:
        return datetime.fromisoformat(text + "+00:00").timestamp()
    except ValueError:
        return 0.0


def status_text(live: LiveState, now: float | None = None) -> str:
    """The ``STATUS`` column."""
    now = time.time() if now is None else now
    if live.status in ("running", "paused"):
        text = "Up " + human_duration(now - _epoch(live.started_at))
        if live.status == "paused":
            return text + " (Paused)"
        health = (live.health or {}).get("Status")
        if health == "starting":
            return text + " (health: starting)"
        if health in ("healthy", "unhealthy"):
            return f"{text} ({health})"
        return text
    if live.status == "restarting":
        ago = human_duration(now - _epoch(live.finished_at))
        return f"Restarting ({live.exit_code}) {ago} ago"
    if live.status == "exited":
        ago = human_duration(now - _epoch(live.finished_at))
        return f"Exited ({live.exit_code}) {ago} ago"
    if live.status == "dead":
        return "Dead"
    if live.status == "removing":
        return "Removal In Progress"
    return "Created"


def _record_part(record: ContainerRecord) -> dict[str, Any]:
    """The fields of a ``/containers/json`` entry that depend on the record only (``Ports``,
    ``State`` and ``Status`` are placeholders, so the keys keep Docker's order)."""
    argv = list(record.config.get("Entrypoint") or []) + list(record.config.get("Cmd") or [])
    return {
        "Id": record.id,
        "Names": ["/" + record.name],
        "Image": record.image,
        "ImageID": "sha256:" + record.image_id.removeprefix("sha256:"),
        "Command": " ".join(shlex.quote(a) if " " in a else a for a in argv),
        "Created": int(_epoch(record.created)),
        "Ports": [],
        "Labels": dict(record.config.get("Labels") or {}),
        "State": "",
        "Status": "",
        "HostConfig": {"NetworkMode": record.host_config.get("NetworkMode", "bridge")},
        "NetworkSettings": {
            "Networks": dict((record.extra.get("NetworkSettings") or {}).get("Networks") or {})
        },
        "Mounts": [
            {k: m.get(k) for k in ("Type", "Name", "Source", "Destination", "RW")}
            for m in record.extra.get("Mounts") or []
        ],
    }


def summary(record: ContainerRecord, live: LiveState, now: float | None = None) -> dict[str, Any]:
    """One ``/containers/json`` entry."""
    out = _record_part(record)
    out["State"] = live.status
    out["Status"] = status_text(live, now)
    return out


# container id -> (the record object, its _record_part): valid while all_shared hands out
# that same object, i.e. while the container's row is unchanged
_parts: dict[str, tuple[ContainerRecord, dict[str, Any]]] = {}
_PARTS_SLACK = 256  # entries of removed containers (or other engines) kept before a sweep


def _shared_part(record: ContainerRecord) -> dict[str, Any]:
    hit = _parts.get(record.id)
    if hit is None or hit[0] is not record:
        hit = (record, _record_part(record))
        _parts[record.id] = hit
    return hit[1]


def _entry(record: ContainerRecord, live: LiveState, now: float) -> dict[str, Any]:
    """``summary``, built on the record's shared part (a new top level, shared values)."""
    out = dict(_shared_part(record))
    out["Ports"] = []
    out["State"] = live.status
    out["Status"] = status_text(live, now)
    return out


def _matches(svc: ContainerService, record: ContainerRecord, live: LiveState,
             filters: dict[str, list[str]], order: dict[str, int]) -> bool:  # fmt: skip
    for key, values in filters.items():
        if key == "status" and live.status not in values:
            return False
        if key == "name" and not any(re.search(v.lstrip("/"), record.name) for v in values):
            return False
        if key == "id" and not any(record.id.startswith(v) for v in values):
            return False
        if key == "label":
            labels = record.config.get("Labels") or {}
            for v in values:
                k, eq, val = v.partition("=")
                if k not in labels or (eq and labels[k] != val):
                    return False
        if key == "ancestor":
            ids = set()
            for v in values:
                try:
                    ids.add(svc.engine.images.resolve_id(v))
                except errors.NotFound:
                    continue
            if record.image_id not in ids and record.image not in values:
                return False
        if key == "exited" and (live.status != "exited" or str(live.exit_code) not in values):
            return False
        if key == "health":
            status = (live.health or {}).get("Status", "none")
            if status not in values:
                return False
        if key in ("before", "since"):
            ref = svc.resolve(values[0])
            mine, theirs = order[record.id], order[ref.id]
            if key == "before" and not mine > theirs:  # newest first: larger is older
                return False
            if key == "since" and not mine < theirs:
                return False
    return True


def list_containers(
    svc: ContainerService,
    all: bool = False,
    filters: dict[str, list[str]] | None = None,
    last: int = -1,
) -> list[dict[str, Any]]:
    """``docker ps``: running containers (every one with *all*), newest first; *last* keeps
    the N newest of any state (``-n``/``-l``). Raises InvalidArgument (unknown filter or status).
    """
    filters = {k: list(v) for k, v in (filters or {}).items() if v}
    for key, values in filters.items():
        if key not in FILTERS:
            raise errors.InvalidArgument(f"invalid filter '{key}'")
        if key == "status":
            for v in values:
                if v not in _STATUSES:
                    raise errors.InvalidArgument(f"invalid filter 'status={v}'")
    records = svc.records.all_shared()
    forget_others([svc.state_dir(r.id) for r in records])
    order = {r.id: i for i, r in enumerate(records)} if ("before" in filters or "since" in filters) else {}
    if len(_parts) > len(records) + _PARTS_SLACK:
        ids = set(order) if order else {r.id for r in records}
        for cid in [c for c in _parts if c not in ids]:
            _parts.pop(cid, None)
    if last > 0:
        records = records[:last]
        all = True
    now = time.time()
    out = []
    published: dict[str, list[Any]] | None = None
    for record in records:
        live = read_live_state(svc.state_dir(record.id), check_pid=False)
        if not all and not live.running and "status" not in filters and "exited" not in filters:
            continue
        if not filters or _matches(svc, record, live, filters, order):
            item = _entry(record, live, now)
            if live.running:
                if published is None:
                    published = _published(svc)
                item["Ports"] = _ports(record, published.get(record.id, []))
            out.append(item)
    return out


# the network state file's stamp -> its published ports by container id
_published_cache: dict[str, tuple[tuple[int, int, int], dict[str, list[Any]]]] = {}


def _published(svc: ContainerService) -> dict[str, list[Any]]:
    """Every published port by container id: one read of the network state per listing
    (one per running container made ``ps`` of 50 of them take 30 ms), none while the state
    file keeps the stamp (inode, mtime, size) it had when read, once older than RACY_NS."""
    try:
        manager = svc.engine.networks.manager
        path = str(manager.state.path)
        stamp = manager.state.stamp()
        hit = _published_cache.get(path)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        mappings = manager.ports()
    except errors.DockyardError:
        return {}
    out: dict[str, list[Any]] = {}
    for mapping in mappings:
        out.setdefault(mapping.container_id, []).append(mapping)
    if stamp == manager.state.stamp() and time.time_ns() - stamp[1] > RACY_NS:
        _published_cache[path] = (stamp, out)
    else:
        _published_cache.pop(path, None)
    return out


def _ports(record: ContainerRecord, published: list[Any]) -> list[dict[str, Any]]:
    """``/containers/json`` ``Ports``: *published* (the container's port mappings) with their
    host side, then the exposed ones nobody published (Docker's shape)."""
    if (record.host_config.get("NetworkMode") or "bridge") in ("none", "host"):
        return []
    if record.host_config.get("NetworkMode", "").startswith("container:"):
        return []
    out: list[dict[str, Any]] = []
    seen = set()
    for p in published:
        seen.add((p.container_port, p.proto))
        out.append({"IP": p.host_ip or "0.0.0.0", "PrivatePort": p.container_port,
                    "PublicPort": p.host_port, "Type": p.proto})  # fmt: skip
    for key in record.config.get("ExposedPorts") or {}:
        port, _, proto = str(key).partition("/")
        if port.isdigit() and (int(port), proto or "tcp") not in seen:
            out.append({"PrivatePort": int(port), "Type": proto or "tcp"})
    return out
