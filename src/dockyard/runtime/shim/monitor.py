"""The shim's event loop: run the container, copy its output, reap it, restart it, probe it.

One thread, one ``poll``: signals arrive through a wakeup pipe (SIGCHLD → reap everything,
SIGTERM → the user stops the container), output fds are read in 64 KiB chunks into the log
and the attach clients, and timers (health probes, restart back-off, output drain after
exit) are the poll timeout. Policy decisions are the pure functions of ``policy`` and
``health``; this module only does the I/O they ask for.

Imports only the standard library, ``dockyard.errors``, ``dockyard.runtime.logs`` and the
sibling modules; the cgroup driver is imported only when the config names a cgroup.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import time
from typing import Any

from dockyard.runtime.logs import LogWriter, format_time
from dockyard.runtime.shim.attach import AttachServer, ConsoleSocket
from dockyard.runtime.shim.config import FILES, ShimConfig, write_json
from dockyard.runtime.shim.health import HealthConfig, HealthState, to_json
from dockyard.runtime.shim.policy import next_backoff, parse_restart_policy, should_restart
from dockyard.runtime.shim.prober import Prober
from dockyard.runtime.shim.spawn import Child, exit_code_of, set_winsize, spawn

__all__ = ["Monitor"]

CHUNK = 65536
DRAIN_AFTER_EXIT = 1.0
LAUNCHER_DRAIN = 0.5  # a failed launcher's last words, before the start is reported failed
WAIT_ATTACH = 60.0


class Monitor:
    """Supervises one container per its ``ShimConfig``; ``run`` returns when it is done."""

    def __init__(self, config: ShimConfig, ready_fd: int | None = None) -> None:
        self.cfg = config
        self.ready_fd = ready_fd
        self.policy = parse_restart_policy(config.restart)
        self.health_cfg = HealthConfig(**config.healthcheck) if config.healthcheck else None
        log = config.log
        self.log = LogWriter(log.path, log.max_size, log.max_file) if log else None
        self.sig_r, sig_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        os.set_blocking(sig_w, False)
        signal.set_wakeup_fd(sig_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, self._on_stop_signal)
        signal.signal(signal.SIGINT, self._on_stop_signal)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGWINCH, self._on_resize)
        self.attach = AttachServer(FILES["attach"], config.tty)
        self.exited: dict[int, int] = {}
        self.stop_signalled = False
        self.restart_count = 0
        self.init_pid = 0
        self.started_ns = 0
        self.child: Child | None = None
        self.outputs: dict[int, str] = {}
        self.stdin_fd: int | None = None
        self.stdin_buf = bytearray()
        self.stdin_eof = False  # an attached client ended its input (stdin_once)
        self.pty: int | None = None
        self.console: ConsoleSocket | None = None
        if config.tty and config.console_socket:
            self.console = ConsoleSocket(config.console_socket)
        self.prober: Prober | None = None
        self.abandoned: set[int] = set()
        self._driver: Any = None
        try:
            os.unlink(FILES["stop"])
        except FileNotFoundError:
            pass

    # -- signals, reaping, files -------------------------------------------------------------

    def _on_resize(self, _signum: int, _frame: object) -> None:
        """SIGWINCH from ``client.resize``: apply ``STATE_DIR/winsize`` to the pty."""
        if self.pty is None:
            return
        try:
            with open(FILES["winsize"]) as f:
                rows, cols = (int(x) for x in f.read().split()[:2])
            set_winsize(self.pty, rows, cols)
        except (OSError, ValueError):
            pass

    def _on_stop_signal(self, signum: int, _frame: object) -> None:
        self.stop_signalled = True
        if self.init_pid:
            try:
                os.kill(self.init_pid, signum)
            except ProcessLookupError:
                pass

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.abandoned:
                self.abandoned.discard(pid)
            else:
                self.exited[pid] = status

    def _stop_requested(self) -> bool:
        return self.stop_signalled or os.path.exists(FILES["stop"])

    def _ready(self, message: str) -> None:
        if self.ready_fd is not None:
            try:
                os.write(self.ready_fd, message.encode() + b"\n")
            except OSError:
                pass  # the starter is gone (EPIPE): the container runs on regardless
            finally:
                os.close(self.ready_fd)
                self.ready_fd = None

    def _state(self, status: str, started_ns: int = 0, **extra: object) -> None:
        started_ns = started_ns or self.started_ns
        self.started_ns = started_ns
        data = {
            "status": status,
            "pid": self.init_pid if status == "running" else 0,
            "shim_pid": os.getpid(),
            "restart_count": self.restart_count,
            "started_at": format_time(started_ns) if started_ns else "",
        }
        data.update(extra)
        write_json(FILES["state"], data)

    def _driver_call(self, method: str) -> Any:
        ref = self.cfg.cgroup
        if ref is None:
            return None
        if self._driver is None:
            from dockyard.runtime.cgroups import driver_for

            self._driver = driver_for(ref.version, root=ref.root, parent=ref.parent)
        try:
            return getattr(self._driver, method)(ref.path)
        except Exception:  # a missing cgroup must not kill the shim
            return None

    # -- the container's life ----------------------------------------------------------------

    def run(self) -> int:
        """Start, supervise and restart the container until the policy says stop."""
        if self.cfg.wait_attach:
            self._ready(f"ok {os.getpid()} 0")
            self._wait_for_attach()
        backoff = 0.0
        while True:
            oom_before = self._driver_call("oom_events") or 0
            started_ns, started = time.time_ns(), time.monotonic()
            try:
                self._start()
            except Exception as exc:  # nothing ran: report it, never restart
                err = exc.errno if isinstance(exc, OSError) else None
                code = 126 if err in (errno.EACCES, errno.ENOEXEC) else 127
                self._record_exit(code, started_ns, False, error=str(exc))
                self._ready(f"error {exc}")
                break
            if self.health_cfg is not None:
                write_json(FILES["health"], to_json(HealthState(), format_time))
            self._state("running", started_ns)
            if self.cfg.pid_file is None:  # else ready once the init is adopted
                self._ready(f"ok {os.getpid()} {self.init_pid}")
            status, start_failed = self._supervise(started, started_ns)
            code = exit_code_of(status)
            oom = (self._driver_call("oom_events") or 0) > oom_before
            if self.cfg.delete_command:  # after the OOM check: a runtime may remove the cgroup
                self._run_to_end(self.cfg.delete_command)
            self._record_exit(code, started_ns, oom)
            stop = self._stop_requested()
            if not should_restart(self.policy, code, self.restart_count, stop, start_failed):
                break
            backoff = next_backoff(backoff, time.monotonic() - started)
            self._state("restarting", started_ns)
            if not self._sleep(backoff):
                break
            self.restart_count += 1
        self.attach.close()
        if self.console is not None:
            self.console.close()
        if self.log:
            try:
                self.log.close()
            except OSError:
                pass
        self._state("exited")
        return 0

    def _start(self) -> None:
        cfg = self.cfg
        before_exec = None
        if cfg.cgroup is not None and cfg.cgroup.join:
            from dockyard.runtime.cgroups import driver_for

            ref = cfg.cgroup
            driver = driver_for(ref.version, root=ref.root, parent=ref.parent)
            before_exec = lambda: driver.add_process(ref.path, os.getpid())  # noqa: E731
        via_console = self.console is not None  # the runtime sends us the pty master
        self.child = spawn(
            cfg.command,
            tty=cfg.tty and not via_console,
            stdin=(cfg.open_stdin or cfg.tty) and not via_console,
            env=cfg.env,
            cwd=cfg.cwd,
            winsize=cfg.winsize,
            before_exec=before_exec,
        )
        self.init_pid = self.child.pid
        self.outputs = dict(self.child.outputs)
        self.stdin_fd = self.child.stdin if (cfg.open_stdin or cfg.tty) else None
        self.pty = self.child.pty
        # Input that arrived before the start (`echo hi | docker run -i`) goes in now.
        self._flush_stdin()

    def _take_console(self) -> None:
        """The runtime connected to the console socket: its pty master becomes our tty."""
        assert self.console is not None
        master = self.console.receive()
        if master is None:
            return
        os.set_inheritable(master, False)  # recvmsg gives no O_CLOEXEC: keep it from probes
        if self.cfg.winsize:
            set_winsize(master, *self.cfg.winsize)
        os.set_blocking(master, False)
        self.outputs[master] = "stdout"
        self.stdin_fd = self.pty = master
        self._flush_stdin()

    def _adopt(self) -> int | None:
        """Launcher exited 0: run start_command, then take the init pid from pid_file."""
        if self.cfg.start_command and self._run_to_end(self.cfg.start_command) != 0:
            return None
        assert self.cfg.pid_file is not None
        try:
            with open(self.cfg.pid_file) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def _run_to_end(self, argv: list[str]) -> int:
        """Run a runtime command (start, delete) to its end; its wait status (-1: no exec)."""
        try:
            helper = spawn(argv)
        except OSError:
            return -1
        while helper.pid not in self.exited:  # its few bytes of output wait in the pipes
            pid, status = os.waitpid(-1, 0)
            self.exited[pid] = status
        for fd in helper.outputs:
            os.close(fd)
        return self.exited.pop(helper.pid)

    def _supervise(self, started: float, started_ns: int) -> tuple[int, bool]:
        """Serve I/O until the init is reaped and its output drained; (wait status, failed)."""
        cfg = self.health_cfg
        self.prober = Prober(cfg, started, started_ns) if cfg else None
        launching = self.cfg.pid_file is not None
        status: int | None = None
        start_failed = False
        drain_until = 0.0
        while status is None or self.outputs:
            now = time.monotonic()
            timeout = None
            if status is not None:
                if now >= drain_until:
                    break
                timeout = drain_until - now
            elif self.prober is not None:
                timeout = max(0.0, self.prober.due() - now)
            self._poll_once(timeout)
            if status is None and self.init_pid in self.exited:
                raw = self.exited.pop(self.init_pid)
                if launching:
                    launching = False
                    adopted = self._adopt() if raw == 0 else None
                    if adopted is None:  # the launcher failed: nothing to supervise
                        status, start_failed = raw or 1 << 8, True
                        self._drain_outputs(LAUNCHER_DRAIN)  # its reason, into the log first
                        self._ready(f"error launcher exited with {exit_code_of(status)}")
                    else:
                        self.init_pid = adopted
                        self._state("running", started_ns)
                        self._ready(f"ok {os.getpid()} {adopted}")
                        if adopted in self.exited:
                            status = self.exited.pop(adopted)
                else:
                    status = raw
                if status is not None:
                    drain_until = time.monotonic() + DRAIN_AFTER_EXIT
                    if self.prober is not None:
                        self.prober.kill(self.exited, self.abandoned)
            if not launching:  # forget orphans the subreaper reaped; keep init's and probe's
                probe_pid = self.prober.pid if self.prober else 0
                for pid in [p for p in self.exited if p not in (self.init_pid, probe_pid)]:
                    del self.exited[pid]
            if status is None and self.prober and self.prober.tick(self.exited, self.abandoned):
                write_json(FILES["health"], to_json(self.prober.state, format_time))
        for fd in list(self.outputs):
            self._close_output(fd)
        if self.stdin_fd is not None:  # a pipe, or the pty master (never closed above)
            os.close(self.stdin_fd)
        self.stdin_fd = self.pty = None
        self.exited.clear()
        return (status if status is not None else 0), start_failed

    def _poll_once(self, timeout: float | None) -> None:
        poller = select.poll()
        poller.register(self.sig_r, select.POLLIN)
        poller.register(self.attach.listener.fileno(), select.POLLIN)
        for fd in self.outputs:
            poller.register(fd, select.POLLIN)
        if self.console is not None:
            poller.register(self.console.listener.fileno(), select.POLLIN)
        for fd in self.attach.clients:
            poller.register(
                fd,
                (select.POLLIN if self.attach.reading(fd) else 0)
                | (select.POLLOUT if self.attach.wants_write(fd) else 0),
            )
        if self.stdin_fd is not None and self.stdin_buf:
            if self.stdin_fd in self.outputs:
                poller.modify(self.stdin_fd, select.POLLIN | select.POLLOUT)
            else:
                poller.register(self.stdin_fd, select.POLLOUT)
        if self.prober is not None and self.prober.fd >= 0:
            poller.register(self.prober.fd, select.POLLIN)
        ms = None if timeout is None else int(timeout * 1000) + 1
        for fd, ev in poller.poll(ms):
            if fd == self.sig_r:
                try:
                    while os.read(self.sig_r, 512):
                        pass
                except BlockingIOError:
                    pass
                self._reap()
                continue
            if fd == self.attach.listener.fileno():
                self.attach.accept()
                continue
            if self.console is not None and fd == self.console.listener.fileno():
                self._take_console()
                continue
            if fd in self.attach.clients:
                self._on_client(fd, ev)
                continue
            if fd in self.outputs and ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
                self._on_output(fd)
            if fd == self.stdin_fd and ev & select.POLLOUT:
                self._flush_stdin()
            if self.prober is not None and fd == self.prober.fd:
                self.prober.read_output()
        self._reap()

    def _drain_outputs(self, limit: float) -> None:
        """Log what is left in the output pipes (at most *limit* seconds): whoever learns that
        the start failed reads the runtime's reason in the log."""
        deadline = time.monotonic() + limit
        while self.outputs:
            left = deadline - time.monotonic()
            if left <= 0 or not (ready := select.select(list(self.outputs), [], [], left)[0]):
                return
            for fd in ready:
                self._on_output(fd)

    def _on_output(self, fd: int) -> None:
        try:
            data = os.read(fd, CHUNK)
        except BlockingIOError:
            return
        except OSError:  # EIO: the pty's last slave closed
            data = b""
        if not data:
            self._close_output(fd)
            return
        stream = self.outputs[fd]
        if self.log:
            try:
                self.log.write(stream, data)
            except OSError:
                pass  # a full disk loses log lines, never the container (as Docker)
        self.attach.broadcast(stream, data)

    def _close_output(self, fd: int) -> None:
        self.outputs.pop(fd, None)
        if fd != self.stdin_fd:
            os.close(fd)

    def _on_client(self, fd: int, ev: int) -> None:
        if ev & select.POLLOUT:
            self.attach.flush(fd)
        if fd in self.attach.clients and not self.attach.reading(fd) and ev & (select.POLLHUP | select.POLLERR):
            self.attach.drop(fd)  # its input ended earlier; now it is gone
            return
        if (
            not ev & (select.POLLIN | select.POLLHUP | select.POLLERR)
            or fd not in self.attach.clients
        ):
            return
        data = self.attach.receive(fd)
        if data is None:
            if self.cfg.stdin_once and not self.cfg.tty:
                self.stdin_eof = True
                self._flush_stdin()
            return
        wants_input = self.stdin_fd is not None or self.cfg.open_stdin
        if data and wants_input and len(self.stdin_buf) < (1 << 20):
            self.stdin_buf += data
            self._flush_stdin()

    def _flush_stdin(self) -> None:
        """Write buffered input; once all is written after the end of input, close stdin."""
        if self.stdin_fd is None:
            return
        if self.stdin_buf:
            try:
                written = os.write(self.stdin_fd, self.stdin_buf)
            except BlockingIOError:
                return
            except OSError:
                self.stdin_buf.clear()
                written = 0
            del self.stdin_buf[:written]
        if self.stdin_eof and not self.stdin_buf and not self.cfg.tty:
            if self.stdin_fd in self.outputs:
                return  # the pty master doubles as output: never closed here
            os.close(self.stdin_fd)
            self.stdin_fd = None

    # -- waiting -----------------------------------------------------------------------------

    def _sleep(self, seconds: float) -> bool:
        """Back off before a restart, serving attach; False if a stop came meanwhile."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self._poll_once(left)
            if self._stop_requested():
                return False
        return not self._stop_requested()

    def _wait_for_attach(self) -> None:
        end = time.monotonic() + WAIT_ATTACH
        while not self.attach.accepted and (left := end - time.monotonic()) > 0:
            self._poll_once(left)

    def _record_exit(self, code: int, started_ns: int, oom: bool, error: str = "") -> None:
        write_json(
            FILES["exit"],
            {
                "exit_code": code,
                "oom_killed": oom,
                "started_at": format_time(started_ns),
                "finished_at": format_time(time.time_ns()),
                "restart_count": self.restart_count,
                "pid": self.init_pid,
                "error": error,
            },
        )
