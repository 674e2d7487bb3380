"""One stage's steps: each instruction applied to a ``StageState``, through the cache.

``StageRunner(session, plan).run()`` starts the stage from its base (an image, ``scratch``,
or an earlier stage's result), runs the base image's ``ONBUILD`` triggers, then every
instruction. Metadata instructions only change the config (``empty_layer`` history);
``RUN``, ``COPY``, ``ADD`` and ``WORKDIR`` make a layer unless the cache has one for the
step's key: the parent's key, the instruction after expansion, the build args it sees, and
for ``COPY``/``ADD`` the checksum of its sources.

Imports only the standard library, ``dockyard.errors``, ``oci/`` and ``build/``.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import posixpath
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockyard import errors
from dockyard.build.cache import CacheEntry
from dockyard.build.context import BuildContext
from dockyard.build.heredoc import parse_heredoc
from dockyard.build.instructions import Dockerfile, Instruction, parse_dockerfile
from dockyard.build.planner import PROXY_ARGS, StagePlan, step_key
from dockyard.build.progress import Progress
from dockyard.build.protocol import BaseResolver, Storage
from dockyard.build.shell import ShellLex, expand_word
from dockyard.build.state import Layer, StageState
from dockyard.build.steps_copy import CopyItem, Ownership, copy_items, make_dirs
from dockyard.build.steps_meta import (
    METADATA_INSTRUCTIONS,
    apply_arg,
    apply_metadata,
    shell_args,
    workdir_path,
)  # fmt: skip
from dockyard.build.steps_run import RunSpec, parse_mount, run_in_rootfs
from dockyard.build.users import resolve_user
from dockyard.build.workspace import chain_of, layer_step, read_only_view, rebuild_blob
from dockyard.oci import image as docs
from dockyard.oci.digest import chain_ids
from dockyard.oci.platform import Platform

__all__ = ["BuildFailed", "BuildSession", "StageRunner"]


class BuildFailed(errors.FailedPrecondition):
    """A step failed (a RUN exited non-zero); ``docker build`` exits 1."""

    exit_code = 1


@dataclass
class BuildSession:
    """What every stage of one build shares."""

    storage: Storage
    dockerfile: Dockerfile
    context: BuildContext
    build_args: dict[str, str]
    meta: dict[str, str]
    resolve_base: BaseResolver
    progress: Progress
    platform: Platform
    no_cache: bool = False
    secrets: dict[str, Path] = field(default_factory=dict)
    results: dict[int, StageState] = field(default_factory=dict)
    _vertex: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def vertex(self) -> int:
        with self._lock:
            self._vertex += 1
            return self._vertex

    def stage_label(self, index: int) -> str:
        stage = self.dockerfile.stages[index]
        return stage.name or f"stage-{index}"


def _now() -> str:
    return docs.now_rfc3339()


class StageRunner:
    """Builds one stage; ``run`` returns its final state."""

    def __init__(self, session: BuildSession, plan: StagePlan) -> None:
        self.s = session
        self.plan = plan
        self.stage = session.dockerfile.stages[plan.index]
        self.escape = session.dockerfile.escape_token
        self.total = len(self.stage.instructions) + 1

    # -- the stage ------------------------------------------------------------------------
    def run(self) -> StageState:
        state = self._base()
        triggers = list(state.config.pop("OnBuild", None) or [])
        for text in triggers:
            parsed = parse_dockerfile("FROM scratch\n" + text, "ONBUILD")
            for inst in parsed.stages[0].instructions:
                self.step(state, inst, f"ONBUILD {inst.original.strip()}")
        for i, inst in enumerate(self.stage.instructions):
            self.step(state, inst, f"{i + 2}/{self.total}")
        return state

    def _base(self) -> StageState:
        label = f"[{self.s.stage_label(self.plan.index)} 1/{self.total}] FROM {self.plan.base}"
        name = self.s.stage_label(self.plan.index)
        if self.plan.base_stage is not None:
            parent = self.s.results[self.plan.base_stage]
            return StageState(
                copy.deepcopy(parent.image), list(parent.layers), parent.key, name=name
            )
        platform = {"os": self.s.platform.os, "architecture": self.s.platform.architecture,
                    "variant": self.s.platform.variant or ""}  # fmt: skip
        if self.plan.base.lower() == "scratch":
            return StageState.from_base(None, [], step_key("scratch", platform), platform, name)
        vertex = self.s.vertex()
        self.s.progress.start(vertex, label)
        try:
            wanted = self.stage.platform
            base = self.s.resolve_base(
                self.plan.base, expand_word(wanted, self.s.meta, self.escape) if wanted else None
            )
        except errors.DockyardError as exc:
            self.s.progress.error(vertex, str(exc))
            raise
        self.s.progress.done(vertex)
        return StageState.from_base(base.config, base.layers, step_key("image", base.id),
                                    platform, name)  # fmt: skip

    # -- one instruction ------------------------------------------------------------------
    def step(self, state: StageState, inst: Instruction, position: str) -> None:
        name = inst.name
        if name == "arg":
            created = apply_arg(state, inst, self.s.build_args, self.s.meta, self.escape)
            state.key = step_key(state.key, created, sorted(state.args.items()))
            state.add_history(created, _now(), True)
            return
        if name in METADATA_INSTRUCTIONS:
            created = apply_metadata(state, inst, self.escape)
            state.key = step_key(state.key, created)
            state.add_history(created, _now(), True)
            return
        label = f"[{state.name} {position}] {inst.original.strip()}"
        if name == "workdir":
            path = workdir_path(state, inst, self.escape)
            state.config["WorkingDir"] = path

            def mkdir(rootfs: Path) -> None:
                make_dirs(rootfs, path, Ownership())

            self._layer(state, step_key(state.key, "WORKDIR", path), f"WORKDIR {path}", label,
                        lambda vertex: mkdir)  # fmt: skip
        elif name == "run":
            self._run(state, inst, label)
        elif name in ("copy", "add"):
            self._copy(state, inst, label)
        else:
            raise errors.InvalidArgument(f"unsupported instruction {name.upper()}")

    def _layer(self, state: StageState, key: str, created_by: str, label: str,
               make: Callable[[int], Callable[[Path], None]]) -> None:  # fmt: skip
        s = self.s
        vertex = s.vertex()
        s.progress.start(vertex, label)
        parent = state.chain_id
        entry = None if s.no_cache else s.storage.cache.get(key)
        if entry is not None and entry.chain_id == chain_of(parent, entry.diff_id):
            if not s.storage.content.has(entry.blob_digest):
                entry = rebuild_blob(s.storage, entry)
                s.storage.cache.put(key, entry)
            layer = Layer(entry.diff_id, docs.descriptor(entry.media_type, entry.blob_digest,
                                                         entry.blob_size))  # fmt: skip
            s.progress.cached(vertex)
        else:
            try:
                layer, chain_id = layer_step(s.storage, parent, make(vertex))
            except BuildFailed as exc:
                s.progress.error(vertex, str(exc))
                raise
            except errors.DockyardError as exc:
                s.progress.error(vertex, str(exc))
                raise BuildFailed(f"{label}: {exc}") from exc
            desc = layer.descriptor
            s.storage.cache.put(key, CacheEntry(chain_id, layer.diff_id, desc["digest"],
                                                desc["size"], desc["mediaType"]))  # fmt: skip
            s.progress.done(vertex)
        state.add_layer(layer)
        state.key = key
        state.add_history(created_by + " # buildkit", _now(), False)

    # -- RUN ------------------------------------------------------------------------------
    def _run(self, state: StageState, inst: Instruction, label: str) -> None:
        stdin: bytes | None = None
        args = shell_args(state, inst)
        if inst.heredocs and not inst.json_form:
            if len(inst.args) == 1 and parse_heredoc(inst.args[0]) is not None:
                args = [*state.shell, inst.heredocs[0].content]  # the heredoc is the script
            else:
                stdin = inst.heredocs[0].content.encode()  # ``cmd <<EOF``: the body on stdin
        scope = state.scope()
        mounts = [
            parse_mount(expand_word(m, scope, self.escape)) for m in inst.flag_values("mount")
        ]
        network = inst.flag("network") or "default"
        extra = {k: v for k, v in self.s.build_args.items() if k in PROXY_ARGS}
        env = state.run_env(extra)
        user = str(state.config.get("User") or "")
        mount_keys: list[Any] = []
        for m in mounts:
            part: list[Any] = [m.type, m.target, m.source, m.from_, m.id, m.readonly]
            if m.type == "bind" and not m.from_:
                part.append(self.s.context.checksum(self.s.context.resolve(m.source or ".")))
            elif m.from_:
                part.append(self._from_key(m.from_))
            mount_keys.append(part)
        history_args = state.history_args()
        shown = " ".join(args)
        if history_args:
            shown = f"|{len(history_args)} {' '.join(history_args)} {shown}"
        key = step_key(state.key, "RUN", args, env, user, state.workdir, network, mount_keys,
                       stdin.decode() if stdin else None)  # fmt: skip

        def make(vertex: int) -> Callable[[Path], None]:
            def do(rootfs: Path) -> None:
                uid, gid, groups = resolve_user(rootfs, user) if user else (0, 0, ())
                with contextlib.ExitStack() as stack:
                    oci_mounts = [self._oci_mount(stack, m) for m in mounts]
                    spec = RunSpec(args, env, state.workdir, uid, gid, groups, network,
                                   [m for m in oci_mounts if m], stdin)  # fmt: skip
                    code = run_in_rootfs(self.s.storage, rootfs, spec,
                                         lambda line: self.s.progress.output(vertex, line))  # fmt: skip
                if code != 0:
                    raise BuildFailed(f'process "{" ".join(args)}" did not complete '
                                      f"successfully: exit code: {code}")  # fmt: skip

            return do

        self._layer(state, key, "RUN " + shown, label, make)

    def _oci_mount(self, stack: contextlib.ExitStack, m: Any) -> dict[str, Any] | None:
        from dockyard.build.steps_copy import in_root

        s = self.s
        if m.type == "cache":
            ident = hashlib.sha256((m.id or m.target).encode()).hexdigest()[:32]
            host = s.storage.cache.mounts_dir / ident
            host.mkdir(parents=True, exist_ok=True)
            if m.mode is not None:
                host.chmod(m.mode)
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
                root = stack.enter_context(read_only_view(s.storage, self._from_chain(m.from_)))
                source = in_root(root, "/" + (m.source or "") + "/x").parent
            else:
                from dockyard.build.context import clean_source

                source = s.context.path(clean_source(m.source or "."))
            return {"destination": m.target, "type": "bind", "source": str(source),
                    "options": ["rbind", "ro" if m.readonly else "rw"]}  # fmt: skip
        return None  # ssh: nothing to forward

    # -- COPY / ADD -----------------------------------------------------------------------
    def _stage_of(self, ref: str) -> int | None:
        from dockyard.build.planner import _stage_index

        return _stage_index(self.s.dockerfile, ref, self.plan.index)

    def _from_key(self, ref: str) -> str:
        index = self._stage_of(ref)
        if index is not None:
            return self.s.results[index].key
        return self.s.resolve_base(ref, None).id

    def _from_chain(self, ref: str) -> str | None:
        index = self._stage_of(ref)
        if index is not None:
            return self.s.results[index].chain_id
        chain = chain_ids([layer.diff_id for layer in self.s.resolve_base(ref, None).layers])
        return chain[-1] if chain else None

    def _copy(self, state: StageState, inst: Instruction, label: str) -> None:
        from dockyard.build.steps_copy import extract_archive, in_root, is_archive

        scope = state.scope()
        word = lambda text: expand_word(text, scope, self.escape)  # noqa: E731
        is_add = inst.name == "add"
        from_ref = word(inst.flag("from") or "")
        dest_raw = word(inst.destination)
        dest = posixpath.normpath(posixpath.join(state.workdir, dest_raw))
        raw_sources = inst.sources()
        stack_files: list[Path] = []
        literal: list[CopyItem] = []
        paths: list[str] = []
        for src in raw_sources:
            if isinstance(src, str):
                paths.append(word(src))
            else:
                body = ShellLex(self.escape, skip_quotes=True).process_word(src.content, scope) \
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

            local = fetch_url(url, self.s.storage.work_dir, inst.flag("checksum"))
            stack_files.append(local)
            fetched.append(CopyItem(local, posixpath.basename(url.split("?")[0]) or "index.html"))
        paths = [p for p in paths if p not in urls]
        if from_ref:
            source_key: Any = [self._from_key(from_ref), paths]
        else:
            resolved = [self.s.context.resolve(p) for p in paths]
            flat = [r for group in resolved for r in group]
            dest_is_dir = dest_is_dir or len(flat) > 1
            source_key = [self.s.context.checksum(flat), flat]
        created = f"{'ADD' if is_add else 'COPY'} {' '.join(paths + [i.name for i in literal])} {dest_raw}"
        digests = [hashlib.sha256(i.data).hexdigest() for i in literal if i.data is not None]
        digests += [_file_digest(i.path) for i in fetched if i.path is not None]
        key = step_key(state.key, inst.name, source_key, digests, dest, dest_is_dir, chown, chmod)

        def make(vertex: int) -> Callable[[Path], None]:
            def do(rootfs: Path) -> None:
                uid = gid = None
                if chown:
                    uid, gid, _ = (
                        resolve_user(rootfs, chown if ":" in chown else f"{chown}:{chown}")
                        if not chown.isdigit()
                        else (int(chown), int(chown), ())
                    )
                own = Ownership(uid, gid, chmod)
                with contextlib.ExitStack() as stack:
                    items = [*literal, *fetched]
                    if from_ref:
                        root = stack.enter_context(
                            read_only_view(self.s.storage, self._from_chain(from_ref))
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
                            for rel in self.s.context.resolve(p):
                                host = in_root(self.s.context.path(""), "/" + rel + "/x").parent
                                items.append(CopyItem(host, posixpath.basename(rel) or "/", rel=rel,
                                                      skip=self.s.context.skips))
                    archives = [i for i in items if is_add and i.path is not None and not from_ref
                                and i.path.is_file() and is_archive(i.path)]  # fmt: skip
                    plain = [i for i in items if i not in archives]
                    copy_items(rootfs, plain, dest, own, dest_is_dir)
                    for item in archives:
                        assert item.path is not None
                        extract_archive(item.path, make_dirs(rootfs, dest, own))

            return do

        try:
            self._layer(state, key, created, label, make)
        finally:
            for path in stack_files:
                path.unlink(missing_ok=True)


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()
