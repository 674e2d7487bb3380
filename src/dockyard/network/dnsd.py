"""``python -m dockyard.network.dnsd STATE_DIR``: the DNS of every user network of an engine.

In daemonless mode no long-lived process owns the networks, so the engine starts this small
helper (one per state directory). It watches the state file: a user network appearing gets a
``DnsServer`` on its gateway, port 53; a network going away stops its server. Each server's
``NameTable`` re-reads the state when it changed before answering, so a container is
resolvable the moment ``connect`` returns. With ``--exit-when-idle`` it exits once no user
network is left. Imports no pyroute2 and nothing outside the package's state and DNS modules.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Sequence
from pathlib import Path

from dockyard import errors
from dockyard.network.dns import DnsServer, NameTable
from dockyard.network.dnsregistry import host_upstreams
from dockyard.network.store import StateFile

__all__ = ["main", "serve"]

log = logging.getLogger(__name__)


def serve(
    state_dir: str | Path,
    stop: threading.Event,
    upstreams: Sequence[tuple[str, int]] | None = None,
    port: int = 53,
    poll: float = 0.2,
    exit_when_idle: bool = False,
) -> None:
    """Serve the user networks of *state_dir* until *stop* is set (or, with
    *exit_when_idle*, until none is left)."""
    file = StateFile(state_dir)
    ups = list(upstreams) if upstreams is not None else host_upstreams()
    servers: dict[str, DnsServer] = {}
    seen: tuple[int, int, int] | None = None
    try:
        while not stop.is_set():
            stamp = file.stamp()
            if stamp != seen:
                seen = stamp
                nets = {n.id: n for n in file.read().networks.values() if not n.default}
                for gone in set(servers) - set(nets):
                    servers.pop(gone).stop()
                for nid, net in nets.items():
                    if nid in servers:
                        continue
                    server = DnsServer(
                        net.gateway, NameTable(refresh=file.name_source(nid)), ups, port
                    )
                    try:
                        server.start()
                    except errors.Conflict as exc:
                        log.warning("no DNS for network %s: %s", net.name, exc)
                        continue
                    servers[nid] = server
                if exit_when_idle and not nets:
                    return
            stop.wait(poll)
    finally:
        for server in servers.values():
            server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; runs until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m dockyard.network.dnsd")
    parser.add_argument("state_dir")
    parser.add_argument("--exit-when-idle", action="store_true")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    serve(args.state_dir, stop, exit_when_idle=args.exit_when_idle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
