"""RUN: execute a command in a step's root filesystem with the builtin OCI runtime.

``run_in_rootfs(storage, rootfs, spec, on_output)`` writes an OCI bundle beside the mounted
rootfs (``runtime.spec.generate``) and runs it with ``python -m dockyard.runtime.builtin run``
in a subprocess: the runtime forks, and must do so from a single-threaded process, while the
builder may run stages in threads. Output (stdout and stderr merged, as BuildKit shows it) is
passed line by line to ``on_output``. The network is the host's unless ``spec.network`` is
``none`` (a fresh, empty network namespace), as with Docker's builder.

Mount points the runtime had to create in the rootfs (``/proc``, ``/dev``, a cache mount's
target...) are removed again when they did not exist before and are empty, so they do not
end up in the layer. ``parse_mount`` reads ``RUN --mount=`` specs.

Imports only the standard library, ``dockyard.errors``, ``runtime.spec`` and ``build/``.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockyard import errors
from dockyard.build.protocol import Storage

__all__ = ["RunMount", "RunSpec", "parse_mount", "run_in_rootfs"]

_MOUNT_TYPES = frozenset({"bind", "cache", "tmpfs", "secret", "ssh"})


@dataclass(frozen=True)
class RunMount:
    """One ``RUN --mount=`` spec, parsed (values as written)."""

    type: str
    target: str
    source: str = ""
    from_: str = ""
    id: str = ""
    readonly: bool = False
    required: bool = False
    size: int = 0
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None


def _truthy(value: str) -> bool:
    return value.lower() in ("", "true", "1")


def parse_mount(spec: str) -> RunMount:
    """A ``--mount`` value (``type=cache,target=/root/.cache``); raises InvalidArgument."""
    fields: dict[str, str] = {}
    for part in spec.split(","):
        key, has, value = part.strip().partition("=")
        key = key.lower()
        fields[key] = value if has else ""
    kind = fields.get("type", "bind")
    if kind not in _MOUNT_TYPES:
        raise errors.InvalidArgument(f"unsupported mount type {kind!r}")
    target = fields.get("target") or fields.get("dst") or fields.get("destination") or ""
    ident = fields.get("id", "")
    if kind == "secret" and not target:
        if not ident:
            raise errors.InvalidArgument("secret mount needs an id or a target")
        target = f"/run/secrets/{ident}"
    if not target:
        raise errors.InvalidArgument(f"mount {spec!r}: target is required")
    readonly = any(_truthy(fields[k]) for k in ("ro", "readonly") if k in fields)
    if kind == "bind" and "rw" not in fields and "readwrite" not in fields:
        readonly = True
    size = 0
    if fields.get("size"):
        text = fields["size"].lower().rstrip("b")
        unit = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(text[-1:], 1)
        size = int(text.rstrip("kmg") or 0) * unit
    try:
        mode = int(fields["mode"], 8) if fields.get("mode") else None
        uid = int(fields["uid"]) if fields.get("uid") else None
        gid = int(fields["gid"]) if fields.get("gid") else None
    except ValueError as exc:
        raise errors.InvalidArgument(f"mount {spec!r}: {exc}") from exc
    return RunMount(kind, target, fields.get("source") or fields.get("src") or "",
                    fields.get("from", ""), ident, readonly,
                    _truthy(fields["required"]) if "required" in fields else False, size, mode,
                    uid, gid)  # fmt: skip


@dataclass(frozen=True)
class RunSpec:
    """What to run: the command, its identity and environment, and extra OCI mounts."""

    args: list[str]
    env: list[str]
    cwd: str = "/"
    uid: int = 0
    gid: int = 0
    additional_gids: tuple[int, ...] = ()
    network: str = "default"
    mounts: list[dict[str, Any]] = field(default_factory=list)
    stdin: bytes | None = None


def _missing_parts(rootfs: Path, destination: str) -> list[str]:
    """The components of ``destination`` (inside ``rootfs``) that do not exist yet."""
    missing: list[str] = []
    path = ""
    for comp in [c for c in destination.split("/") if c]:
        path = f"{path}/{comp}"
        if not os.path.lexists(rootfs / path.lstrip("/")):
            missing.append(path)
    return missing


def _remove_created(rootfs: Path, created: list[str]) -> None:
    for path in sorted(set(created), key=lambda p: p.count("/"), reverse=True):
        host = rootfs / path.lstrip("/")
        try:
            if host.is_dir() and not host.is_symlink():
                host.rmdir()
            elif host.is_file() and host.stat().st_size == 0:
                host.unlink()
        except OSError:
            continue  # not empty: the command put something there


def run_in_rootfs(
    storage: Storage, rootfs: Path, spec: RunSpec, on_output: Callable[[str], None]
) -> int:
    """Run ``spec`` in the mounted ``rootfs``; the command's exit code.

    Raises InvalidArgument for a bad spec, Unavailable when the runtime cannot start.
    """
    from dockyard.runtime.spec import ContainerSpec, default_mounts, generate  # seccomp tables

    namespaces = ["pid", "ipc", "uts", "mount"]
    if spec.network == "none":
        namespaces.append("network")
    mounts = list(default_mounts())
    if spec.network != "none":
        for name in ("resolv.conf", "hosts"):
            if Path("/etc", name).is_file() and (rootfs / "etc").is_dir():
                mounts.append({"destination": f"/etc/{name}", "type": "bind",
                               "source": f"/etc/{name}", "options": ["rbind", "ro"]})  # fmt: skip
    mounts.extend(spec.mounts)
    created: list[str] = []
    for m in mounts:
        created.extend(_missing_parts(rootfs, m["destination"]))
    cwd_host = rootfs / spec.cwd.lstrip("/")
    if not cwd_host.exists():
        created_cwd = _missing_parts(rootfs, spec.cwd)
        cwd_host.mkdir(parents=True, exist_ok=True)
        for path in created_cwd:
            os.chown(rootfs / path.lstrip("/"), spec.uid, spec.gid)
    config = generate(ContainerSpec(
        args=tuple(spec.args), env=tuple(spec.env), cwd=spec.cwd, uid=spec.uid, gid=spec.gid,
        additional_gids=spec.additional_gids, hostname="buildkitsandbox", rootfs=str(rootfs),
        namespaces=tuple(namespaces),
    ))  # fmt: skip
    config["mounts"] = mounts
    bundle = rootfs.parent
    (bundle / "config.json").write_text(json.dumps(config))
    container_id = f"dockyard-build-{secrets.token_hex(6)}"
    command = [sys.executable, "-m", "dockyard.runtime.builtin", "--root",
               str(storage.runtime_root), "run", "--bundle", str(bundle), container_id]  # fmt: skip
    try:
        proc = subprocess.Popen(
            command, stdin=subprocess.PIPE if spec.stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
    except OSError as exc:
        raise errors.Unavailable(f"start the build runtime: {exc}") from exc
    try:
        if spec.stdin is not None and proc.stdin is not None:
            try:
                proc.stdin.write(spec.stdin)
            except BrokenPipeError:
                pass
            proc.stdin.close()
        assert proc.stdout is not None
        for raw in proc.stdout:
            on_output(raw.decode("utf-8", "replace").rstrip("\n"))
        code = proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _remove_created(rootfs, created)
    return code
