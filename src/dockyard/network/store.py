"""The network state file: networks, endpoints and published ports, under a file lock.

``network.json`` in the directory the caller gives holds every record; ``network.lock`` beside
it is held (``flock``) for the whole of a change, host side effects included, so two processes
never hand out the same address or port. Writes go to a temporary file renamed into place: a
crashed process leaves the old state or the new one. There is no fsync (it cost 2-15 ms of a
~10 ms container set-up here): only a power loss could lose the last change, and a power loss
takes every bridge, veth and container namespace with it, so the records it could lose
describe nothing that still exists. Imports only the standard library,
``dockyard.errors`` and the package's model.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dockyard import errors
from dockyard.network.model import Endpoint, NetworkRecord, PortMapping

__all__ = ["NetworkState", "StateFile"]

VERSION = 1


@dataclass
class NetworkState:
    """Everything the network package remembers, keyed by network id and endpoint key."""

    networks: dict[str, NetworkRecord] = field(default_factory=dict)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    ports: list[PortMapping] = field(default_factory=list)

    def find_network(self, ref: str) -> NetworkRecord:
        """The network named *ref*, or whose id is or starts with *ref*.

        Raises NotFound (``network web not found``), or Conflict when a prefix is ambiguous.
        """
        for net in self.networks.values():
            if ref in (net.name, net.id):
                return net
        matches = [n for n in self.networks.values() if ref and n.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise errors.Conflict(f"network {ref} is ambiguous ({len(matches)} matches found)")
        raise errors.NotFound(f"network {ref} not found")

    def endpoints_of(self, network_id: str) -> list[Endpoint]:
        return [e for e in self.endpoints.values() if e.network_id == network_id]

    def names(self, network_id: str) -> dict[str, list[str]]:
        """The DNS names of a network: each endpoint's name, aliases and 12-char container
        id (lower case), name first, mapped to its addresses."""
        names: dict[str, list[str]] = {}
        for ep in self.endpoints_of(network_id):
            for name in (ep.name, *ep.aliases, ep.container_id[:12]):
                if name:
                    names.setdefault(name.lower(), []).append(ep.ip)
        return names

    def to_dict(self) -> dict[str, object]:
        return {
            "version": VERSION,
            "networks": [n.to_dict() for n in self.networks.values()],
            "endpoints": [e.to_dict() for e in self.endpoints.values()],
            "ports": [p.to_dict() for p in self.ports],
        }

    @classmethod
    def from_dict(cls, data: dict[str, list[dict[str, object]]]) -> NetworkState:
        nets = [NetworkRecord.from_dict(d) for d in data.get("networks", [])]
        eps = [Endpoint.from_dict(d) for d in data.get("endpoints", [])]
        ports = [PortMapping.from_dict(d) for d in data.get("ports", [])]
        return cls({n.id: n for n in nets}, {e.key: e for e in eps}, ports)


class StateFile:
    """The state file of one engine, in *state_dir* (created if missing)."""

    def __init__(self, state_dir: str | os.PathLike[str]) -> None:
        self.dir = Path(state_dir)
        self.path = self.dir / "network.json"
        self.lock_path = self.dir / "network.lock"

    def read(self) -> NetworkState:
        """The current state, read under a shared lock (empty when there is no file yet).

        Raises FailedPrecondition when the file is corrupt.
        """
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH)
            return self._load()

    def stamp(self) -> tuple[int, int, int]:
        """Changes whenever the state is saved: (inode, mtime ns, size); zeros without a
        file. Cheap enough to check before every DNS answer."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return (0, 0, 0)
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def name_source(self, network_id: str) -> Callable[[], dict[str, list[str]] | None]:
        """A ``NameTable`` refresher: the network's names when the state changed since the
        last call, else None (one ``stat`` per DNS answer)."""
        seen: list[tuple[int, int, int]] = [(-1, -1, -1)]

        def refresh() -> dict[str, list[str]] | None:
            stamp = self.stamp()
            if stamp == seen[0]:
                return None
            seen[0] = stamp
            return self.read().names(network_id)

        return refresh

    @contextmanager
    def change(self) -> Iterator[NetworkState]:
        """Hold the exclusive lock, yield the state to change, and save it when the block
        succeeds (an exception leaves the file untouched)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = self._load()
            yield state
            self._save(state)

    def _load(self) -> NetworkState:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return NetworkState()
        try:
            return NetworkState.from_dict(json.loads(text))
        except (ValueError, TypeError, KeyError) as exc:
            raise errors.FailedPrecondition(f"network state {self.path} is corrupt: {exc}") from exc

    def _save(self, state: NetworkState) -> None:
        tmp = self.path.with_suffix(".json.tmp")
        with open(tmp, "w") as f:
            f.write(json.dumps(state.to_dict(), separators=(",", ":")))
        os.replace(tmp, self.path)
