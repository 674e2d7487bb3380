"""Entry point: ``python -m dockyard.runtime.shim [--ready-fd N] [--foreground] STATE_DIR``.

Reads ``STATE_DIR/shim.json``, daemonizes (unless ``--foreground``), becomes a subreaper when
the config adopts an init through ``pid_file``, and runs the monitor. The first line written to
the ready fd is ``ok <shim pid> <init pid>`` or ``error <message>``.

Imports only the standard library and the shim's own modules (plus ``dockyard._sys.prctl``
in subreaper mode): every import here costs memory in every running container.
"""

from __future__ import annotations

import os
import sys


def _fail(ready_fd: int | None, message: str) -> int:
    if ready_fd is not None:
        os.write(ready_fd, f"error {message}\n".encode())
        os.close(ready_fd)
    else:
        sys.stderr.write(f"dockyard-shim: {message}\n")
    return 1


def main(argv: list[str]) -> int:
    ready_fd: int | None = None
    foreground = False
    args = list(argv)
    while args and args[0].startswith("--"):
        flag = args.pop(0)
        if flag == "--ready-fd" and args:
            ready_fd = int(args.pop(0))
            os.set_inheritable(ready_fd, False)
        elif flag == "--foreground":
            foreground = True
        else:
            return _fail(ready_fd, f"unknown flag {flag}")
    if len(args) != 1:
        return _fail(ready_fd, "usage: python -m dockyard.runtime.shim [--ready-fd N] STATE_DIR")
    state_dir = os.path.abspath(args[0])

    from dockyard.runtime.shim.config import load

    try:
        config = load(state_dir)
    except Exception as exc:
        return _fail(ready_fd, str(exc))
    from dockyard.runtime.shim.daemon import daemonize

    if foreground:
        os.chdir(state_dir)
    else:
        try:
            daemonize(state_dir, keep_fds=())
        except OSError as exc:
            return _fail(ready_fd, f"state dir {state_dir}: {exc.strerror}")
    if config.pid_file:
        from dockyard._sys.prctl import set_child_subreaper

        set_child_subreaper(True)
    from dockyard.runtime.shim.monitor import Monitor

    try:
        monitor = Monitor(config, ready_fd)
    except Exception as exc:
        return _fail(ready_fd, str(exc))
    try:
        return monitor.run()
    except BaseException:
        # stdio is /dev/null: leave the reason where the engine (and a human) can find it
        import traceback

        with open("shim-error.log", "a") as f:
            traceback.print_exc(file=f)
        raise


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
