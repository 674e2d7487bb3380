"""The RUN instruction: its cache key, its mounts, and running it in a step's rootfs.

``run_step(runner, state, inst, label)`` works out the command (shell or exec form; a heredoc
is the script, or the stdin of ``cmd <<EOF``), the environment (ENV plus the build args in
scope), the user and the ``--mount`` list, keys the step on all of them (a bind mount by the
checksum of what it shows, a ``from=`` mount by that stage's key; a secret by its id only,
never its value), and on a cache miss runs it with ``steps_run.run_in_rootfs``. Cache mounts
live under the build cache's ``mounts`` directory and outlive the build.

Imports only the standard library, ``dockyard.errors`` and ``build/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockyard.build.heredoc import parse_heredoc
from dockyard.build.instructions import Instruction
from dockyard.build.planner import PROXY_ARGS, step_key
from dockyard.build.shell import expand_word
from dockyard.build.state import StageState
from dockyard.build.steps import BuildFailed
from dockyard.build.steps_meta import shell_args
from dockyard.build.steps_run import RunMount, RunSpec, parse_mount, run_in_rootfs
from dockyard.build.users import resolve_user

if TYPE_CHECKING:
    from dockyard.build.steps import StageRunner

__all__ = ["run_step"]


def run_step(runner: StageRunner, state: StageState, inst: Instruction, label: str) -> None:
    """Key RUN ``inst`` and run it unless cached; raises BuildFailed on a non-zero exit."""
    stdin: bytes | None = None
    args = shell_args(state, inst)
    if inst.heredocs and not inst.json_form:
        body = inst.heredocs[0].content
        if (
            len(inst.args) == 1
            and parse_heredoc(inst.args[0]) is not None
            and body.startswith("#!")
        ):
            interpreter = body.splitlines()[0][2:].split()  # a script with its own interpreter
            args, stdin = [*interpreter, "/dev/stdin"], body.encode()
        elif len(inst.args) == 1 and parse_heredoc(inst.args[0]) is not None:
            args = [*state.shell, body]  # the heredoc is the script
        else:
            stdin = body.encode()  # ``cmd <<EOF``: the body on stdin
    scope = state.scope()
    mounts = [parse_mount(expand_word(m, scope, runner.escape)) for m in inst.flag_values("mount")]
    network = inst.flag("network") or runner.s.network
    extra = {k: v for k, v in runner.s.build_args.items() if k in PROXY_ARGS}
    env = state.run_env(extra)
    user = str(state.config.get("User") or "")
    mount_keys: list[Any] = []
    for m in mounts:
        part: list[Any] = [m.type, m.target, m.source, m.from_, m.id, m.readonly]
        if m.type == "bind" and not m.from_:
            part.append(runner.s.context.checksum(runner.s.context.resolve(m.source or ".")))
        elif m.from_:
            part.append(runner.from_key(m.from_))
        mount_keys.append(part)
    history_args = state.history_args()
    shown = " ".join(args)
    if history_args:
        shown = f"|{len(history_args)} {' '.join(history_args)} {shown}"
    keyed_env = [
        e for e in env if e.partition("=")[0] not in extra or e.partition("=")[0] in state.args
    ]
    # proxy settings reach the command but not the key (BuildKit's rule)
    key = step_key(state.key, "RUN", args, keyed_env, user, state.workdir, network, mount_keys,
                   stdin.decode() if stdin else None)  # fmt: skip

    def make(vertex: int) -> Callable[[Path], None]:
        def do(rootfs: Path) -> None:
            uid, gid, groups = resolve_user(rootfs, user) if user else (0, 0, ())
            with contextlib.ExitStack() as stack:
                oci_mounts = [_oci_mount(runner, stack, m) for m in mounts]
                spec = RunSpec(args, env, state.workdir, uid, gid, groups, network,
                               [m for m in oci_mounts if m], stdin)  # fmt: skip
                code = run_in_rootfs(runner.s.storage, rootfs, spec,
                                     lambda line: runner.s.progress.output(vertex, line))  # fmt: skip
            if code != 0:
                raise BuildFailed(f'process "{" ".join(args)}" did not complete '
                                  f"successfully: exit code: {code}")  # fmt: skip

        return do

    runner.layer(state, key, "RUN " + shown, label, make)


def _oci_mount(
    runner: StageRunner, stack: contextlib.ExitStack, m: RunMount
) -> dict[str, Any] | None:
    from dockyard.build.steps_copy import in_root

    s = runner.s
    if m.type == "cache":
        ident = hashlib.sha256((m.id or m.target).encode()).hexdigest()[:32]
        host = s.storage.cache.mounts_dir / ident
        host.mkdir(parents=True, exist_ok=True)
        if m.mode is not None:
            host.chmod(m.mode)
        if m.uid is not None or m.gid is not None:
            os.chown(host, m.uid if m.uid is not None else -1, m.gid if m.gid is not None else -1)
        return {"destination": m.target, "type": "bind", "source": str(host),
                "options": ["rbind", "rw"]}  # fmt: skip
    if m.type == "tmpfs":
        opts = ["nosuid", "nodev"] + ([f"size={m.size}"] if m.size else [])
        return {"destination": m.target, "type": "tmpfs", "source": "tmpfs", "options": opts}
    if m.type == "secret":
        path = s.secrets.get(m.id or posixpath.basename(m.target))
        if path is None:
            if m.required:
                raise BuildFailed(f"secret {m.id} not found")
            return None
        return {"destination": m.target, "type": "bind", "source": str(path),
                "options": ["rbind", "ro"]}  # fmt: skip
    if m.type == "bind":
        if m.from_:
            from dockyard.build.workspace import read_only_view

            root = stack.enter_context(read_only_view(s.storage, runner.from_chain(m.from_)))
            source = in_root(root, "/" + (m.source or "") + "/x").parent
        else:
            from dockyard.build.context import clean_source

            source = s.context.path(clean_source(m.source or "."))
        return {"destination": m.target, "type": "bind", "source": str(source),
                "options": ["rbind", "ro" if m.readonly else "rw"]}  # fmt: skip
    return None  # ssh: nothing to forward
