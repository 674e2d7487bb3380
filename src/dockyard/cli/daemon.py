"""``dockyard daemon`` (and the ``dockyardd`` script): serve the Docker Engine API.

The daemon is the ``api/`` shell; ``cli/`` and ``api/`` are independent shells (an
import-linter contract), so this command only *launches* it: it imports ``dockyard.api.server``
and hands it the settings. That one import is the contract's only, declared, exception
(``ignore_imports`` in pyproject.toml); nothing else of ``api/`` is used here.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

__all__ = ["daemon_cmd", "main"]


def _run(root: str | None, hosts: tuple[str, ...], pidfile: str | None, debug: bool) -> None:
    from dockyard.service.settings import Settings

    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from dockyard.api import server  # the api shell: the one declared exception to the contract

    server.serve(Settings.resolve(root), list(hosts), Path(pidfile) if pidfile else None)
    # The daemon has shut down (socket and pid file gone). Pool threads may still sit in a
    # container wait or a followed log that only the container's exit would end: do not let
    # them hold the process (containers outlive the daemon anyway).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


_host_option = click.option(
    "-H", "--host", "hosts", multiple=True, metavar="ADDRESS",
    help="Where to listen: unix:///path or tcp://127.0.0.1:PORT (repeatable). "
    "Default unix:///run/dockyard/dockyard.sock, or <root>/run/dockyard.sock for another --root.",
)
_pidfile_option = click.option(
    "-p", "--pidfile", default=None, help="Pid file (default <exec root>/dockyard.pid)."
)


@click.command("daemon")
@_host_option
@_pidfile_option
@click.pass_context
def daemon_cmd(ctx: click.Context, hosts: tuple[str, ...], pidfile: str | None) -> None:
    """Serve the Docker Engine API (for the docker CLI and SDKs) until SIGTERM."""
    from dockyard.cli._context import CliState

    state = ctx.find_object(CliState) or CliState()
    _run(state.root, hosts, pidfile, state.debug)


@click.command("dockyardd")
@click.option("--root", envvar="DOCKYARD_ROOT", type=click.Path(file_okay=False),
              help="Data root (default /var/lib/dockyard; env DOCKYARD_ROOT).")
@click.option("--debug", "-D", is_flag=True, help="Log debug messages.")
@_host_option
@_pidfile_option
def _dockyardd(root: str | None, debug: bool, hosts: tuple[str, ...], pidfile: str | None) -> None:
    """Serve the Docker Engine API (for the docker CLI and SDKs) until SIGTERM."""
    _run(root, hosts, pidfile, debug)


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``dockyardd`` console script."""
    from dockyard import errors

    try:
        return _dockyardd.main(args=argv, prog_name="dockyardd", standalone_mode=False)
    except errors.DockyardError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
