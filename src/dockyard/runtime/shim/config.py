"""What a shim runs, read from ``STATE_DIR/shim.json``, and the files it keeps there.

The launcher (the engine) writes ``shim.json`` with ``ShimConfig.to_json`` and starts the
shim; the shim reads it back with ``load``. Keeping the command in a file rather than argv
keeps the shim's command line short and lets ``docker start`` reuse it.

``command`` is either the container's init itself (the shim is its parent) or, with
``pid_file``, a launcher such as ``runtime create`` that exits once the container exists and
leaves the init's pid in that file (the shim adopts it as subreaper); ``start_command`` then
lets it run (``runtime start``) and ``delete_command`` (``runtime delete``) clears the
runtime's record after each exit, so a restart can ``create`` again. A ``python -m
dockyard.…`` command (the launcher, the builtin runtime) runs in the shim's forked child
without a new interpreter (see ``spawn``). The launcher runs in the state dir (unless ``cwd``), so with a
tty it can be given ``--console-socket console.sock`` when ``console_socket`` is
``"console.sock"``: the shim listens there for the pty master the runtime made.

Imports only the standard library and ``dockyard.errors``.
"""

from __future__ import annotations

import json
import os
from typing import Any, NamedTuple

from dockyard import errors

__all__ = ["FILES", "CgroupRef", "LogConfig", "ShimConfig", "load", "write_json"]

FILES = {
    "config": "shim.json",
    "state": "state.json",
    "exit": "exit.json",
    "health": "health.json",
    "attach": "attach.sock",
    "stop": "stop-requested",
    "winsize": "winsize",
}


class LogConfig(NamedTuple):
    """Where the json-file log goes; ``max_size`` 0 means never rotate."""

    path: str
    max_size: int = 0
    max_file: int = 1


class CgroupRef(NamedTuple):
    """The container's cgroup; with ``join`` the shim puts the command in it itself."""

    path: str
    version: str = "v1"
    root: str = "/sys/fs/cgroup"
    parent: str = "dockyard"
    join: bool = False


class ShimConfig(NamedTuple):
    """Everything one shim needs; see the module docstring for ``pid_file``.

    ``restart`` is a ``--restart`` value; ``healthcheck`` holds ``health.HealthConfig``'s
    fields in seconds (``{"test": argv, "interval": 30, "timeout": 30, "retries": 3,
    "start_period": 0, "start_interval": 5}``), ``test`` being the probe's argv as the shim
    runs it (for a runtime container: the runtime's ``exec``). ``wait_attach`` holds the
    start until a client is on ``attach.sock`` (``docker run`` without ``-d``).
    """

    command: list[str]
    id: str = ""
    pid_file: str | None = None
    start_command: list[str] | None = None
    delete_command: list[str] | None = None
    env: dict[str, str] | None = None
    cwd: str | None = None
    tty: bool = False
    console_socket: str | None = None
    winsize: tuple[int, int] | None = None
    open_stdin: bool = False
    stdin_once: bool = False
    wait_attach: bool = False
    restart: str = "no"
    log: LogConfig | None = None
    cgroup: CgroupRef | None = None
    healthcheck: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The config as ``shim.json`` holds it."""
        data = self._asdict()
        data["log"] = self.log._asdict() if self.log else None
        data["cgroup"] = self.cgroup._asdict() if self.cgroup else None
        return data


def load(state_dir: str) -> ShimConfig:
    """Read ``shim.json``. Raises NotFound (no file), InvalidArgument (malformed)."""
    path = os.path.join(state_dir, FILES["config"])
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError as exc:
        raise errors.NotFound(f"No shim config: {path}") from exc
    except ValueError as exc:
        raise errors.InvalidArgument(f"shim config {path}: {exc}") from exc
    try:
        data["log"] = LogConfig(**data["log"]) if data.get("log") else None
        data["cgroup"] = CgroupRef(**data["cgroup"]) if data.get("cgroup") else None
        if data.get("winsize"):
            data["winsize"] = tuple(data["winsize"])
        config = ShimConfig(**data)
    except (TypeError, KeyError) as exc:
        raise errors.InvalidArgument(f"shim config {path}: {exc}") from exc
    if (
        not isinstance(config.command, list)
        or not config.command
        or not all(isinstance(a, str) for a in config.command)
    ):
        raise errors.InvalidArgument(f"shim config {path}: command must be a list of strings")
    return config


def write_json(path: str, data: object) -> None:
    """Replace *path* atomically (temp file + rename), so readers never see half a file."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, path)
