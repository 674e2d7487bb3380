"""The COPY and ADD instructions: their sources, their cache key, and the copy itself.

``copy_step(runner, state, inst, label)`` expands sources and destination, resolves sources
in the context (wildcards, ``.dockerignore``), a stage or an image (``--from``), heredocs and
``ADD`` URLs (downloaded, ``--checksum`` checked), keys the step on the checksum of what will be
copied plus the destination and ``--chown``/``--chmod``, and on a cache miss copies with
``steps_copy`` (local tars given to ADD are extracted).

Imports only the standard library, ``dockyard.errors`` and ``build/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockyard import errors
from dockyard.build.context import BuildContext
from dockyard.build.instructions import Instruction
from dockyard.build.planner import step_key
from dockyard.build.shell import ShellLex, expand_word
from dockyard.build.state import StageState
from dockyard.build.steps_copy import CopyItem, Ownership, copy_items, make_dirs
from dockyard.build.users import resolve_user

if TYPE_CHECKING:
    from dockyard.build.steps import StageRunner

__all__ = ["copy_step"]


def copy_step(runner: StageRunner, state: StageState, inst: Instruction, label: str) -> None:
    """Key COPY/ADD ``inst`` and copy unless cached; raises NotFound for a missing source."""
    from dockyard.build.steps_copy import extract_archive, in_root, is_archive

    scope = state.scope()
    word = lambda text: expand_word(text, scope, runner.escape)  # noqa: E731
    is_add = inst.name == "add"
    from_ref = word(inst.flag("from") or "")
    dest_raw = word(inst.destination)
    dest = posixpath.normpath(posixpath.join(state.workdir, dest_raw))
    raw_sources = inst.sources()
    stack_files: list[Path] = []
    literal: list[CopyItem] = []
    paths: list[str] = []
    shown: list[str] = []  # the sources as BuildKit's history line lists them
    for src in raw_sources:
        if isinstance(src, str):
            paths.append(word(src))
            shown.append(paths[-1])
        else:
            shown.append(f"<<{src.name}")
            body = ShellLex(runner.escape, skip_quotes=True).process_word(src.content, scope) \
                if src.expand else src.content  # fmt: skip
            literal.append(CopyItem(None, src.name, body.encode()))
    wildcard = any(c in p for p in paths for c in "*?[")
    dest_is_dir = dest_raw.endswith("/") or len(raw_sources) > 1 or wildcard
    chown = word(inst.flag("chown") or "")
    chmod_text = word(inst.flag("chmod") or "")
    try:
        chmod = int(chmod_text, 8) if chmod_text else None
    except ValueError as exc:
        raise errors.InvalidArgument(f"invalid chmod parameter: {chmod_text}") from exc
    urls = [p for p in paths if is_add and p.startswith(("http://", "https://"))]
    fetched: list[CopyItem] = []
    for url in urls:
        from dockyard.build.remote import fetch_url

        local = fetch_url(url, runner.s.storage.work_dir, inst.flag("checksum"))
        stack_files.append(local)
        fetched.append(CopyItem(local, posixpath.basename(url.split("?")[0]) or "index.html"))
    paths = [p for p in paths if p not in urls]
    if from_ref:
        source_key: Any = [runner.from_key(from_ref), paths]
    else:
        resolved = [runner.s.context.resolve(p) for p in paths]
        flat = [r for group in resolved for r in group]
        dest_is_dir = dest_is_dir or len(flat) > 1
        source_key = [runner.s.context.checksum(flat), flat]
    created = f"{'ADD' if is_add else 'COPY'} {' '.join(shown)} {dest_raw}"
    digests = [hashlib.sha256(i.data).hexdigest() for i in literal if i.data is not None]
    digests += [_file_digest(i.path) for i in fetched if i.path is not None]
    key = step_key(state.key, inst.name, source_key, digests, dest, dest_is_dir, chown, chmod)

    def make(vertex: int) -> Callable[[Path], None]:
        def do(rootfs: Path) -> None:
            from dockyard.build.workspace import read_only_view  # a cache miss only

            uid = gid = None
            if chown:  # "user" alone: the group id is the user id (Docker's rule)
                uid, gid, _ = resolve_user(rootfs, chown)
                if ":" not in chown:
                    gid = uid
            own = Ownership(uid, gid, chmod)
            with contextlib.ExitStack() as stack:
                items = [*literal, *fetched]
                if from_ref:
                    root = stack.enter_context(
                        read_only_view(runner.s.storage, runner.from_chain(from_ref))
                    )
                    ctx = BuildContext(root)
                    for p in paths:
                        for rel in ctx.resolve(p):
                            host = in_root(root, "/" + rel + "/x").parent
                            items.append(
                                CopyItem(host, posixpath.basename(rel) or "/", keep_owner=True)
                            )
                else:
                    for p in paths:
                        for rel in runner.s.context.resolve(p):
                            host = in_root(runner.s.context.path(""), "/" + rel + "/x").parent
                            items.append(
                                CopyItem(
                                    host,
                                    posixpath.basename(rel) or "/",
                                    rel=rel,
                                    skip=runner.s.context.skips,
                                )
                            )
                archives = [i for i in items if is_add and i.path is not None and not from_ref
                            and i.path.is_file() and is_archive(i.path)]  # fmt: skip
                plain = [i for i in items if i not in archives]
                copy_items(rootfs, plain, dest, own, dest_is_dir)
                for item in archives:
                    assert item.path is not None
                    extract_archive(item.path, make_dirs(rootfs, dest, own))

        return do

    try:
        runner.layer(state, key, created, label, make)
    finally:
        for path in stack_files:
            path.unlink(missing_ok=True)


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()
