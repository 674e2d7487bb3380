"""The ``dockyard`` command: a click group whose subcommands load lazily.

Each command lives in a module of ``cli/`` named for what it holds; ``COMMANDS`` maps a
command name to ``module:attribute`` so start-up imports only the command being run. Errors are
mapped to exit codes here, once: a ``DockyardError`` prints ``Error: <message>`` on stderr and
exits with its category's code (125 for engine errors).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from dockyard import errors

# name -> "module:attribute" (relative to dockyard.cli)
COMMANDS: dict[str, str] = {
    "images": "images:images_cmd",
    "image": "images:image_group",
    "import": "images:import_cmd",
    "tag": "images:tag_cmd",
    "rmi": "images:rmi_cmd",
    "inspect": "inspect:inspect_cmd",
    "history": "images:history_cmd",
    "save": "images:save_cmd",
    "load": "images:load_cmd",
    "system": "system:system_group",
    "version": "system:version_cmd",
    "info": "system:info_cmd",
    "pull": "registry:pull_cmd",
    "push": "registry:push_cmd",
    "login": "registry:login_cmd",
    "logout": "registry:logout_cmd",
    "daemon": "daemon:daemon_cmd",
    "build": "build:build_cmd",
    "builder": "build:builder_group",
    "volume": "volumes:volume_group",
    "network": "networks:network_group",
    "port": "networks:port_cmd",
    "run": "run:run_cmd",
    "create": "run:create_cmd",
    "start": "containers:start_cmd",
    "stop": "containers:stop_cmd",
    "kill": "containers:kill_cmd",
    "restart": "containers:restart_cmd",
    "rm": "containers:rm_cmd",
    "ps": "containers:ps_cmd",
    "logs": "containers:logs_cmd",
    "wait": "containers:wait_cmd",
    "container": "containers:container_group",
    "exec": "container_tools:exec_cmd",
    "top": "container_tools:top_cmd",
    "pause": "container_tools:pause_cmd",
    "unpause": "container_tools:unpause_cmd",
    "rename": "container_tools:rename_cmd",
    "diff": "container_tools:diff_cmd",
    "cp": "container_tools:cp_cmd",
    "commit": "container_tools:commit_cmd",
    "export": "container_tools:export_cmd",
    "stats": "container_tools:stats_cmd",
    "update": "container_tools:update_cmd",
    "attach": "container_tools:attach_cmd",
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        module = importlib.import_module(f"dockyard.cli.{module_name}")
        command: click.Command = getattr(module, attr)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--root",
    envvar="DOCKYARD_ROOT",
    type=click.Path(file_okay=False),
    help="Data root (default /var/lib/dockyard; env DOCKYARD_ROOT).",
)
@click.option("--debug", "-D", is_flag=True, help="Show tracebacks of engine errors.")
@click.version_option(package_name="dockyard", message="Dockyard version %(version)s")
@click.pass_context
def cli(ctx: click.Context, root: str | None, debug: bool) -> None:
    """Dockyard: build, ship and run containers, the way Docker does."""
    from dockyard.cli._context import CliState

    ctx.obj = CliState(root=root, debug=debug)


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the console script; maps engine errors to Docker's exit codes."""
    try:
        return cli.main(args=argv, prog_name="dockyard", standalone_mode=False)
    except errors.DockyardError as exc:
        if "--debug" in sys.argv or "-D" in sys.argv:
            raise
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        # Docker exits 125 for a bad flag or argument; `--help` is ClickException-free.
        sys.exit(125 if exc.exit_code == 2 else exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)


def console_main() -> None:
    """The ``dockyard`` program: :func:`main`, then out at once. When no other thread runs,
    the process ends without the interpreter's teardown (freeing every module and object,
    closing the metadata database with a checkpoint): ~50 ms of every command, for nothing
    the next command needs."""
    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    import threading

    if threading.active_count() > 1:
        raise SystemExit(code)
    if not isinstance(code, int):
        if code is not None:
            print(code, file=sys.stderr)
        code = 0 if code is None else 1
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    try:
        sys.stderr.flush()
    finally:
        os._exit(code)
