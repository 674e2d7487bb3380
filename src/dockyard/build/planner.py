"""The build plan: which stages a target needs and in which order, the build arguments each
scope sees, and the cache keys of steps.

* ``plan_stages(dockerfile, target, meta_env)`` walks the stage graph from the target: a stage
  depends on the stage its ``FROM`` names, and on the stages ``COPY --from`` and
  ``RUN --mount=from=`` name. Stages the target does not reach are skipped (BuildKit's rule).
  The result lists the needed stages with their dependencies, dependencies first.
* ``meta_scope(dockerfile, build_args, platforms)`` gives the values of the ARGs before the
  first ``FROM`` (defaults overridden by ``--build-arg``), plus the automatic platform ARGs.
* ``step_key(parent, *parts)`` is a step's cache key: a sha256 over its parent's key and
  everything that decides its result. Same inputs, same key, in any process.

Pure functions over values. Imports only the standard library, ``dockyard.errors``,
``dockyard.oci.platform`` and sibling parser modules of ``build/``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from dockyard import errors
from dockyard.build.instructions import Dockerfile, Stage
from dockyard.build.shell import expand_word
from dockyard.oci.platform import Platform

__all__ = [
    "PROXY_ARGS",
    "StagePlan",
    "meta_scope",
    "plan_stages",
    "platform_args",
    "step_key",
]

#: Build arguments every build accepts without an ``ARG`` and keeps out of the history.
PROXY_ARGS = frozenset(
    {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
     "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"}
)  # fmt: skip


@dataclass(frozen=True)
class StagePlan:
    """A stage to build: its index, the base it starts from, and the stages it needs.

    ``base_stage`` is the index of the stage its ``FROM`` names, or None for an image or
    ``scratch`` (then ``base`` is the expanded image name).
    """

    index: int
    base: str
    base_stage: int | None
    needs: frozenset[int]


def platform_args(target: Platform, build: Platform) -> dict[str, str]:
    """``TARGETPLATFORM``, ``BUILDPLATFORM`` and friends, as BuildKit defines them."""
    out: dict[str, str] = {}
    for prefix, p in (("TARGET", target), ("BUILD", build)):
        out[prefix + "PLATFORM"] = str(p)
        out[prefix + "OS"] = p.os
        out[prefix + "ARCH"] = p.architecture
        out[prefix + "VARIANT"] = p.variant or ""
    return out


def meta_scope(
    dockerfile: Dockerfile, build_args: Mapping[str, str], automatic: Mapping[str, str]
) -> dict[str, str]:
    """The values of the global ARGs (before the first FROM) plus the automatic ones.

    Raises InvalidArgument for a default that does not expand.
    """
    scope = dict(automatic)
    for inst in dockerfile.meta_args:
        for name, default in inst.pairs:
            if name in build_args:
                scope[name] = build_args[name]
            elif default is not None:
                scope[name] = expand_word(default, scope, dockerfile.escape_token)
    return scope


def stage_index(dockerfile: Dockerfile, ref: str, before: int) -> int | None:
    """The stage ``ref`` names (a name, or an index below ``before``), or None.

    Raises InvalidArgument for an index that is not below ``before``.
    """
    lowered = ref.lower()
    for stage in dockerfile.stages[:before]:
        if stage.name and stage.name == lowered:
            return stage.index
    if ref.isdigit():
        index = int(ref)
        if index >= before:
            raise errors.InvalidArgument(f"invalid stage index {ref}: refers to a later stage")
        return index
    return None


def _references(dockerfile: Dockerfile, stage: Stage, scope: Mapping[str, str]) -> set[int]:
    found: set[int] = set()
    for inst in stage.instructions:
        refs: list[str] = []
        if inst.name in ("copy", "add") and inst.flag("from"):
            refs.append(str(inst.flag("from")))
        if inst.name == "run":
            for spec in inst.flag_values("mount"):
                for part in spec.split(","):
                    key, _, value = part.partition("=")
                    if key.strip() in ("from",) and value:
                        refs.append(value.strip())
        for ref in refs:
            index = stage_index(dockerfile, expand_word(ref, scope, dockerfile.escape_token),
                                 stage.index)  # fmt: skip
            if index is not None:
                found.add(index)
    return found


def plan_stages(
    dockerfile: Dockerfile, target: str | None, scope: Mapping[str, str]
) -> list[StagePlan]:
    """The stages needed for ``target`` (the last stage if None), dependencies first.

    Raises NotFound for an unknown target, InvalidArgument for a bad stage reference.
    """
    last = dockerfile.stage(target) if target else dockerfile.stages[-1]
    plans: dict[int, StagePlan] = {}
    for stage in dockerfile.stages[: last.index + 1]:
        base = expand_word(stage.base, scope, dockerfile.escape_token)
        if not base:
            raise errors.InvalidArgument(f"base name ({stage.base}) should not be blank")
        base_stage = stage_index(dockerfile, base, stage.index)
        needs = _references(dockerfile, stage, scope)
        if base_stage is not None:
            needs.add(base_stage)
        plans[stage.index] = StagePlan(stage.index, base, base_stage, frozenset(needs))
    wanted: set[int] = set()
    todo = [last.index]
    while todo:
        index = todo.pop()
        if index not in wanted:
            wanted.add(index)
            todo.extend(plans[index].needs)
    return [plans[i] for i in sorted(wanted)]


def step_key(parent: str, *parts: object) -> str:
    """The cache key of a step: sha256 over ``parent`` and ``parts`` (JSON-able values)."""
    blob = json.dumps([parent, *parts], sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()
