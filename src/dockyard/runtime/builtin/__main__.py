"""The OCI runtime command line, like runc's: ``python -m dockyard.runtime.builtin [--root DIR]
create|start|state|kill|delete|run ...``.

Errors print ``dockyard-runtime: <message>`` on stderr and exit 1; ``run`` exits with the
container's code. argparse, not click: this is on the container start-up path.
Imports only the standard library and this package.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable

from dockyard import errors
from dockyard.runtime import builtin

__all__ = ["main"]


@functools.cache
def _parser() -> argparse.ArgumentParser:
    """The command line (built once per process, ~10 ms: a shim's zygote builds it before
    forking, so each ``start``/``delete``/``exec`` a shim runs in a child finds it made)."""
    parser = argparse.ArgumentParser(prog="dockyard-runtime", description=__doc__)
    parser.add_argument("--root", default=builtin.DEFAULT_ROOT, help="state directory")
    parser.add_argument("--log", help="ignored (runc compatibility)")
    parser.add_argument("--log-format", help="ignored (runc compatibility)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("create", "run"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--bundle", "-b", default=".")
        cmd.add_argument("--pid-file")
        cmd.add_argument("--console-socket")
        cmd.add_argument("id")
    for name in ("start", "state"):
        sub.add_parser(name).add_argument("id")
    kill = sub.add_parser("kill")
    kill.add_argument("--all", "-a", action="store_true", help="accepted; the init is signalled")
    kill.add_argument("id")
    kill.add_argument("signal", nargs="?", default="TERM")
    ex = sub.add_parser("exec")
    ex.add_argument("--process", "-p", help="process.json to run instead of ARGS")
    ex.add_argument("--console-socket")
    ex.add_argument("--pid-file")
    ex.add_argument("--tty", "-t", action="store_true")
    ex.add_argument("--detach", "-d", action="store_true")
    ex.add_argument("--cwd")
    ex.add_argument("--env", "-e", action="append", default=[])
    ex.add_argument("--user", "-u", help="uid[:gid]")
    ex.add_argument("id")
    ex.add_argument("args", nargs=argparse.REMAINDER)
    delete = sub.add_parser("delete")
    delete.add_argument("--force", "-f", action="store_true")
    delete.add_argument("id")
    return parser


def _exec(args: argparse.Namespace) -> int:
    """``exec``: the process's exit code, or 0 at once with ``--detach``."""
    import os

    from dockyard.runtime.builtin import container_exec

    if args.process:
        with open(args.process) as f:
            process = json.load(f)
    else:
        if not args.args:
            raise errors.InvalidArgument("exec: no command")
        from dockyard.runtime.builtin.container_create import load_config

        bundle = builtin.state(args.id, root=args.root).bundle
        process = container_exec.process_for(
            load_config(bundle)["process"], args.args, env=args.env, cwd=args.cwd,
            user=args.user, terminal=args.tty,
        )  # fmt: skip
    if not args.detach:
        from dockyard._sys import prctl

        prctl.set_child_subreaper(True)
    pid = builtin.exec_process(
        args.id, process, root=args.root, console_socket=args.console_socket,
        pid_file=args.pid_file,
    )  # fmt: skip
    if args.detach:
        return 0
    _, status = os.waitpid(pid, 0)
    return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def main(argv: list[str] | None = None, *, on_pid: Callable[[int], None] | None = None) -> int:
    """Run one runtime command; the process exit code. *on_pid*: see ``create``."""
    args = _parser().parse_args(argv)
    root = args.root
    try:
        if args.command == "create":
            builtin.create(
                args.id,
                args.bundle,
                root=root,
                pid_file=args.pid_file,
                console_socket=args.console_socket,
                on_pid=on_pid,
            )
        elif args.command == "run":
            return builtin.run(
                args.id,
                args.bundle,
                root=root,
                pid_file=args.pid_file,
                console_socket=args.console_socket,
            )
        elif args.command == "start":
            builtin.start(args.id, root=root)
        elif args.command == "state":
            print(json.dumps(builtin.state(args.id, root=root).to_oci(), indent=2))
        elif args.command == "kill":
            from dockyard.runtime.builtin.container_kill import parse_signal

            builtin.kill(args.id, parse_signal(args.signal), root=root)
        elif args.command == "delete":
            builtin.delete(args.id, root=root, force=args.force)
        elif args.command == "exec":
            return _exec(args)
    except errors.DockyardError as exc:
        print(f"dockyard-runtime: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"dockyard-runtime: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
