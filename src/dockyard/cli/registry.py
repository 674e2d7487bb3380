"""``dockyard pull``, ``push``, ``login`` and ``logout``, with Docker's progress display.

Renders the ``registry.progress.Progress`` events the engine emits: a live view (rich,
imported only when stdout is a terminal) with one line per layer and Docker's progress bar,
or plain lines (one per status change) otherwise; ``-q`` prints only the reference.

A thin shell: the work is in ``service.registry``; errors propagate to ``cli.main``.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import click

from dockyard import errors
from dockyard.cli._context import engine
from dockyard.registry.progress import Progress, ProgressFn, human_size, ignore, progress_bar

__all__ = [
    "LiveView",
    "PlainView",
    "format_line",
    "human_size",
    "login_cmd",
    "logout_cmd",
    "progress_bar",
    "pull_cmd",
    "push_cmd",
]


def format_line(event: Progress) -> str:
    """One line of output for *event* (``a46fbb00284b: Downloading [==>  ] 1MB/2MB``)."""
    text = event.status if event.id is None else f"{event.id}: {event.status}"
    bar = progress_bar(event.current, event.total)
    return f"{text} {bar}" if bar else text


class PlainView:
    """Plain lines for pipes and logs: each status change once, no byte counts."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._last: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, event: Progress) -> None:
        with self._lock:
            if event.id is not None:
                if self._last.get(event.id) == event.status:
                    return
                self._last[event.id] = event.status
            self._out.write(format_line(Progress(event.status, event.id)) + "\n")
            self._out.flush()


class LiveView:
    """One live line per layer (rich), below the plain lines already printed.

    A plain message (``Digest: …``) freezes the current block first, so lines keep Docker's
    order on screen.
    """

    def __init__(self) -> None:
        from rich.console import Console

        self._console = Console(highlight=False)
        self._layers: dict[str, Progress] = {}
        self._lock = threading.Lock()
        self._live: Any = None
        self._drawn = 0.0

    def _render(self) -> Any:
        from rich.text import Text

        lines = "\n".join(format_line(e) for e in self._layers.values())
        return Text(lines, no_wrap=True, overflow="crop")

    def _freeze(self) -> None:
        if self._live is not None:
            self._live.update(self._render(), refresh=True)
            self._live.stop()
            self._live = None
        self._layers.clear()

    def __call__(self, event: Progress) -> None:
        from rich.live import Live

        with self._lock:
            if event.id is None:
                self._freeze()
                self._console.print(event.status, markup=False, soft_wrap=True)
                return
            previous = self._layers.get(event.id)
            self._layers[event.id] = event
            # Redrawn from here, never by rich's refresh thread: a pull that has a thread
            # running makes image/unpack.py start its workers through a fork server instead
            # of forking (slower). A new status is drawn at once, byte counts 8 times a second.
            now = time.monotonic()
            changed = previous is None or previous.status != event.status
            if self._live is None:
                self._live = Live(self._render(), console=self._console, auto_refresh=False)
                self._live.start(refresh=True)
                self._drawn = now
            elif changed or now - self._drawn >= 0.125:
                self._live.update(self._render(), refresh=True)
                self._drawn = now

    def close(self) -> None:
        with self._lock:
            self._freeze()


@contextmanager
def _progress(quiet: bool) -> Iterator[ProgressFn]:
    if quiet:
        yield ignore
    elif sys.stdout.isatty():
        view = LiveView()
        try:
            yield view
        finally:
            view.close()
    else:
        yield PlainView(sys.stdout)


@click.command("pull")
@click.option(
    "-a", "--all-tags", is_flag=True, help="Download all tagged images in the repository."
)
@click.option("-q", "--quiet", is_flag=True, help="Suppress verbose output.")
@click.option("--platform", default=None, help="Set platform if server is multi-platform capable.")
@click.argument("name")
def pull_cmd(all_tags: bool, quiet: bool, platform: str | None, name: str) -> None:
    """Download an image from a registry."""
    from dockyard.oci import reference
    from dockyard.service import registry

    ref = reference.parse(name)
    if not quiet and not all_tags and ref.tag is None and ref.digest is None:
        click.echo("Using default tag: latest")
    with _progress(quiet) as on_progress:
        results = registry.pull(
            engine(), name, all_tags=all_tags, platform=platform, on_progress=on_progress
        )
    if all_tags:
        click.echo(results[0].reference.repository())
    else:
        click.echo(results[0].reference)


@click.command("push")
@click.option("-q", "--quiet", is_flag=True, help="Suppress verbose output.")
@click.argument("name")
def push_cmd(quiet: bool, name: str) -> None:
    """Upload an image to a registry."""
    from dockyard.service import registry

    with _progress(quiet) as on_progress:
        result = registry.push(engine(), name, on_progress=on_progress)
    if quiet:
        click.echo(result.reference)


@click.command("login")
@click.option("-u", "--username", default=None, help="Username.")
@click.option("-p", "--password", default=None, help="Password.")
@click.option("--password-stdin", is_flag=True, help="Take the password from stdin.")
@click.argument("server", required=False)
def login_cmd(
    username: str | None, password: str | None, password_stdin: bool, server: str | None
) -> None:
    """Log in to a registry (Docker Hub when SERVER is omitted)."""
    from dockyard.registry.credentials import CredentialStore
    from dockyard.service import registry

    if password is not None and password_stdin:
        raise errors.InvalidArgument("--password and --password-stdin are mutually exclusive")
    if password_stdin:
        if not username:
            raise errors.InvalidArgument("Must provide --username with --password-stdin")
        password = sys.stdin.read().rstrip("\r\n")
    elif password is not None:
        click.echo(
            "WARNING! Using --password via the CLI is insecure. Use --password-stdin.", err=True
        )
    if not username:
        username = click.prompt("Username", err=True)
    if password is None:
        password = click.prompt("Password", hide_input=True, err=True)
    store = CredentialStore()
    registry.login(engine(), server, username or "", password or "", credentials=store)
    if "credsStore" not in _config_text(store):
        click.echo(f"WARNING! Your password will be stored unencrypted in {store.path}.", err=True)
    click.echo("Login Succeeded")


def _config_text(store: Any) -> str:
    try:
        return str(store.path.read_text())
    except OSError:
        return ""


@click.command("logout")
@click.argument("server", required=False)
def logout_cmd(server: str | None) -> None:
    """Log out from a registry (Docker Hub when SERVER is omitted)."""
    from dockyard.registry.hosts import credential_key
    from dockyard.service import registry

    key = credential_key(server or "docker.io")
    if registry.logout(server):
        click.echo(f"Removing login credentials for {key}")
    else:
        click.echo(f"Not logged in to {key}")
