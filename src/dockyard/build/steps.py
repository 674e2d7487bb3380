"""One stage's steps: each instruction applied to a ``StageState``, through the cache.

``StageRunner(session, plan).run()`` starts the stage from its base (an image, ``scratch``,
or an earlier stage's result), runs the base image's ``ONBUILD`` triggers, then every
instruction. Metadata instructions only change the config (``empty_layer`` history);
``RUN``, ``COPY``, ``ADD`` and ``WORKDIR`` make a layer unless the cache has one for the
step's key: the parent's key, the instruction after expansion, the build args it sees, and
for ``COPY``/``ADD`` the checksum of its sources. RUN is ``dispatch_run``'s, COPY and ADD are
``dispatch_copy``'s; both come back through ``StageRunner.layer`` (cache lookup, layer commit).

Imports only the standard library, ``dockyard.errors``, ``oci/`` and ``build/``.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dockyard import errors
from dockyard.build.cache import CacheEntry
from dockyard.build.context import BuildContext
from dockyard.build.instructions import Dockerfile, Instruction, parse_dockerfile
from dockyard.build.planner import StagePlan, stage_index, step_key
from dockyard.build.progress import Progress
from dockyard.build.protocol import BaseResolver, Storage
from dockyard.build.shell import expand_word
from dockyard.build.state import Layer, StageState, chain_of
from dockyard.build.steps_meta import (
    METADATA_INSTRUCTIONS,
    apply_arg,
    apply_metadata,
    workdir_path,
)  # fmt: skip
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
    platform_given: bool = False  # --platform: FROM images must be of that platform
    network: str = "default"  # build --network: RUN's default
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
            if wanted:
                wanted = expand_word(wanted, self.s.meta, self.escape)
            elif self.s.platform_given:
                wanted = str(self.s.platform)
            base = self.s.resolve_base(self.plan.base, wanted)
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
            if path == "/":  # nothing to create: BuildKit records no layer
                state.key = step_key(state.key, "WORKDIR", path)
                state.add_history(f"WORKDIR {path}", _now(), True)
                return
            user = str(state.config.get("User") or "")

            def mkdir(rootfs: Path) -> None:  # created as the current USER, like BuildKit
                from dockyard.build.steps_copy import Ownership, make_dirs
                from dockyard.build.users import resolve_user

                uid, gid, _ = resolve_user(rootfs, user) if user else (0, 0, ())
                make_dirs(rootfs, path, Ownership(uid, gid))

            self.layer(state, step_key(state.key, "WORKDIR", path, user), f"WORKDIR {path}",
                        label, lambda vertex: mkdir, suffix="")  # fmt: skip
        elif name == "run":
            from dockyard.build.dispatch_run import run_step

            run_step(self, state, inst, label)
        elif name in ("copy", "add"):
            from dockyard.build.dispatch_copy import copy_step

            copy_step(self, state, inst, label)
        else:
            raise errors.InvalidArgument(f"unsupported instruction {name.upper()}")

    def layer(self, state: StageState, key: str, created_by: str, label: str,
               make: Callable[[int], Callable[[Path], None]], suffix: str = " # buildkit") -> None:  # fmt: skip
        s = self.s
        vertex = s.vertex()
        s.progress.start(vertex, label)
        parent = state.chain_id
        entry = None if s.no_cache else s.storage.cache.get(key)
        if entry is not None and entry.chain_id == chain_of(parent, entry.diff_id):
            if not s.storage.content.has(entry.blob_digest):
                from dockyard.build.workspace import rebuild_blob

                entry = rebuild_blob(s.storage, entry)
                s.storage.cache.put(key, entry)
            layer = Layer(entry.diff_id, docs.descriptor(entry.media_type, entry.blob_digest,
                                                         entry.blob_size))  # fmt: skip
            s.progress.cached(vertex)
        else:
            try:
                from dockyard.build.workspace import layer_step  # only on a miss

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
        state.add_history(created_by + suffix, _now(), False)

    # -- sources of COPY --from and RUN --mount=from ----------------------------------------
    def stage_of(self, ref: str) -> int | None:
        return stage_index(self.s.dockerfile, ref, self.plan.index)

    def from_key(self, ref: str) -> str:
        index = self.stage_of(ref)
        if index is not None:
            return self.s.results[index].key
        return self.s.resolve_base(ref, None).id

    def from_chain(self, ref: str) -> str | None:
        index = self.stage_of(ref)
        if index is not None:
            return self.s.results[index].chain_id
        chain = chain_ids([layer.diff_id for layer in self.s.resolve_base(ref, None).layers])
        return chain[-1] if chain else None
