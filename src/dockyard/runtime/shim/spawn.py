"""Fork and exec a process for the shim: the container's command, a launcher, or a probe.

The shim is single-threaded, so a plain fork is safe. The child starts a new session (and,
with a tty, takes the pty slave as its controlling terminal), moves into the container's
cgroup when asked, and execs; if exec fails, its errno travels back over a close-on-exec
pipe, so a missing command is an error the caller sees rather than a mystery exit 127.

Imports only the standard library.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import NamedTuple

__all__ = ["Child", "SpawnError", "exit_code_of", "set_winsize", "spawn"]


def exit_code_of(status: int) -> int:
    """A wait status as Docker reports it: the exit code, or 128 + the killing signal."""
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


class SpawnError(OSError):
    """The command could not be executed (errno from execve in the child)."""


class Child(NamedTuple):
    """A spawned process and the parent's ends of its stdio.

    *outputs* maps a readable fd to its stream name (``stdout``/``stderr``; a pty master is
    ``stdout``). *stdin* is the writable fd (the pty master with a tty) or None.
    """

    pid: int
    outputs: dict[int, str]
    stdin: int | None
    pty: int | None


def _nonblock(fd: int) -> int:
    os.set_blocking(fd, False)
    return fd


def spawn(
    argv: list[str],
    *,
    tty: bool = False,
    stdin: bool = False,
    merge_stderr: bool = False,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    winsize: tuple[int, int] | None = None,
    before_exec: Callable[[], None] | None = None,
) -> Child:
    """Start *argv*; return its pid and the parent's (non-blocking) pipe or pty ends.

    A ``python [-S] -m dockyard.MODULE ARGS`` command of this very interpreter (a launcher, the
    builtin runtime's ``start`` or ``exec``) is not exec'd: the forked child calls the
    module's ``main(ARGS)`` and exits with its code, which saves an interpreter start and, in
    a warm process (see ``zygote``), the imports. *env* then does not apply (it only ever
    locates Dockyard for a fresh interpreter).

    Raises SpawnError (with the child's errno) when the command cannot be executed.
    """
    if not argv:
        raise SpawnError(2, "empty command")
    parent_fds: list[int] = []
    child_fds: list[int] = []
    if tty:
        master, slave = os.openpty()
        if winsize:
            _set_winsize(master, *winsize)
        parent_fds.append(master)
        child_fds.append(slave)
        child_stdio = (slave, slave, slave)
    else:
        out_r, out_w = os.pipe()
        parent_fds.append(out_r)
        child_fds.append(out_w)
        if merge_stderr:
            err_r, err_w = None, out_w
        else:
            err_r, err_w = os.pipe()
            parent_fds.append(err_r)
            child_fds.append(err_w)
        if stdin:
            in_r, in_w = os.pipe()
            parent_fds.append(in_w)
        else:
            in_r, in_w = os.open(os.devnull, os.O_RDONLY), None
        child_fds.append(in_r)
        child_stdio = (in_r, out_w, err_w)
    err_pipe_r, err_pipe_w = os.pipe2(os.O_CLOEXEC)
    pid = os.fork()
    if pid == 0:  # child: no Python-level cleanup may run here
        try:
            import signal

            signal.set_wakeup_fd(-1)
            for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD, signal.SIGTERM,
                        signal.SIGHUP):  # Python ignores SIGPIPE, the shim SIGHUP: exec keeps that
                signal.signal(sig, signal.SIG_DFL)
            os.close(err_pipe_r)
            for fd in parent_fds:
                os.close(fd)
            os.setsid()
            if tty:
                import fcntl
                import termios

                fcntl.ioctl(child_stdio[0], termios.TIOCSCTTY, 0)
            for target, fd in enumerate(child_stdio):
                os.dup2(fd, target)
            if before_exec is not None:
                before_exec()
            if cwd:
                os.chdir(cwd)
            main = _module_main(argv)
            if main is not None:
                _run_main(main[0], main[1], err_pipe_w)
            if env is None:
                os.execvp(argv[0], argv)
            else:
                os.execvpe(argv[0], argv, env)
        except BaseException as exc:  # report "errno:what" to the parent, never return
            code = (exc.errno if isinstance(exc, OSError) else None) or 1
            what = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            os.write(err_pipe_w, f"{code}:{what}"[:512].encode(errors="replace"))
        os._exit(127)
    os.close(err_pipe_w)
    for fd in child_fds:
        os.close(fd)
    failure = os.read(err_pipe_r, 1024).decode(errors="replace")
    os.close(err_pipe_r)
    if failure:
        os.waitpid(pid, 0)
        for fd in parent_fds:
            os.close(fd)
        number, _, what = failure.partition(":")
        errnum = int(number) if number.isdigit() else 1
        raise SpawnError(errnum, f"exec {argv[0]}: {what or os.strerror(errnum)}")
    if tty:
        return Child(pid, {_nonblock(parent_fds[0]): "stdout"}, parent_fds[0], parent_fds[0])
    outputs = {_nonblock(parent_fds[0]): "stdout"}
    if not merge_stderr:
        outputs[_nonblock(parent_fds[1])] = "stderr"
    return Child(pid, outputs, _nonblock(parent_fds[-1]) if stdin else None, None)


def _module_main(argv: list[str]) -> tuple[Callable[[list[str]], int], list[str]] | None:
    """``(main, args)`` when *argv* runs a Dockyard module with this interpreter and the
    module (or its ``__main__``) has a ``main(args)``; None to exec *argv* as it is."""
    import sys

    rest = argv[1:] if argv and argv[0] == sys.executable else []
    if rest[:1] == ["-S"]:
        rest = rest[1:]
    if len(rest) < 2 or rest[0] != "-m" or not rest[1].startswith("dockyard."):
        return None
    import importlib

    for name in (rest[1], f"{rest[1]}.__main__"):
        try:
            main = getattr(importlib.import_module(name), "main", None)
        except ImportError:
            return None
        if callable(main):
            return main, rest[2:]
    return None


def _run_main(main: Callable[[list[str]], int], args: list[str], err_pipe_w: int) -> None:
    """In the child: tell the parent the command "exec'd", run *main* and exit with its code
    (an exception is printed to stderr, the process's log, and exits 125)."""
    import sys

    os.close(err_pipe_w)
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 (the child's new stdio)
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
    try:
        code = int(main(args) or 0)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 125
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def _set_winsize(fd: int, rows: int, cols: int) -> None:
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def set_winsize(fd: int, rows: int, cols: int) -> None:
    """Resize the pty whose master is *fd* (the container gets SIGWINCH)."""
    _set_winsize(fd, rows, cols)
