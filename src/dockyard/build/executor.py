"""The builder: a Dockerfile and a context to an image's documents in the content store.

``build(request, storage, resolve_base, progress)`` plans the stages the target needs
(``planner``), runs them (``steps.StageRunner``) — stages whose dependencies are done run
concurrently, one thread each (RUN steps fork through a subprocess, never from a thread) —
then writes the final stage's config and manifest. Only the final stage's layers are in the
image: build stages contribute files through ``COPY --from`` alone.

A rebuild whose final state has the same cache key reuses the documents of the earlier build,
so a fully cached build gives the same image id (as Docker's does).

Imports only the standard library, ``dockyard.errors``, ``oci/`` and ``build/``; the service
layer registers the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dockyard.build.context import BuildContext
from dockyard.build.instructions import Dockerfile
from dockyard.build.planner import PROXY_ARGS, meta_scope, plan_stages, platform_args, step_key
from dockyard.build.progress import Progress
from dockyard.build.protocol import BaseResolver, Storage
from dockyard.build.state import Layer, StageState
from dockyard.build.steps import BuildFailed, BuildSession, StageRunner
from dockyard.oci import image as docs
from dockyard.oci import mediatypes as mt
from dockyard.oci.platform import Platform, host

__all__ = ["BuildFailed", "BuildOutput", "BuildRequest", "build"]


@dataclass(frozen=True)
class BuildRequest:
    """A parsed Dockerfile, its context and the build's options."""

    dockerfile: Dockerfile
    context: BuildContext
    build_args: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    no_cache: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, Path] = field(default_factory=dict)
    platform: Platform | None = None
    network: str = "default"


@dataclass(frozen=True)
class BuildOutput:
    """The image written: its documents' digests, and its layers."""

    config_digest: str
    manifest_digest: str
    layers: list[Layer]
    unused_args: list[str] = field(default_factory=list)


def _run_stages(session: BuildSession, request: BuildRequest) -> StageState:
    plans = plan_stages(request.dockerfile, request.target, session.meta)
    if len(plans) == 1:  # nothing to overlap: no thread to start
        return StageRunner(session, plans[0]).run()
    import concurrent.futures as cf

    futures: dict[int, cf.Future[StageState]] = {}

    def run(index: int) -> StageState:
        plan = next(p for p in plans if p.index == index)
        for need in sorted(plan.needs):
            state = futures[need].result()  # raises the dependency's error
            session.results[need] = state
        return StageRunner(session, plan).run()

    with cf.ThreadPoolExecutor(max_workers=max(1, len(plans)), thread_name_prefix="stage") as pool:
        for plan in plans:  # dependencies first: every future a stage waits on exists
            futures[plan.index] = pool.submit(run, plan.index)
        done, _ = cf.wait(futures.values(), return_when=cf.FIRST_EXCEPTION)
        for future in done:
            exc = future.exception()
            if exc is not None:
                for other in futures.values():
                    other.cancel()
                raise exc
        return futures[plans[-1].index].result()


def build(
    request: BuildRequest, storage: Storage, resolve_base: BaseResolver, progress: Progress
) -> BuildOutput:
    """Build ``request``; the digests of the image's config and manifest.

    ``request.network`` is the RUN steps' default (``default``: the host's; ``none``).

    Raises BuildFailed (a step failed), InvalidArgument (bad Dockerfile use), NotFound (a
    missing base image, stage or source).
    """
    target = request.platform or host()
    automatic = platform_args(target, host())
    meta = meta_scope(request.dockerfile, request.build_args, automatic)
    session = BuildSession(
        storage, request.dockerfile, request.context, dict(request.build_args), meta,
        resolve_base, progress, target, request.no_cache, dict(request.secrets),
        platform_given=request.platform is not None,
        network=request.network,
    )  # fmt: skip
    storage.work_dir.mkdir(parents=True, exist_ok=True)
    final = _run_stages(session, request)
    if request.labels:
        labels = dict(final.config.get("Labels") or {})
        labels.update(request.labels)
        final.config["Labels"] = labels
    unused = _unused_args(request)
    key = step_key(final.key, "image", sorted(request.labels.items()))
    earlier = None if request.no_cache else storage.cache.result(key)
    if earlier is not None and all(storage.content.has(d) for d in earlier):
        return BuildOutput(earlier[0], earlier[1], final.layers, unused)
    config_bytes = docs.canonical(final.finish(docs.now_rfc3339()))
    config_digest = storage.content.put_bytes(config_bytes)
    manifest = docs.new_manifest(config_bytes, [dict(la.descriptor) for la in final.layers])
    manifest_digest = storage.content.put_bytes(docs.canonical(manifest))
    storage.cache.put_result(key, config_digest, manifest_digest)
    return BuildOutput(config_digest, manifest_digest, final.layers, unused)


def _unused_args(request: BuildRequest) -> list[str]:
    """``--build-arg`` names no ARG declares (Docker warns about them), proxies excepted."""
    declared = {name for inst in request.dockerfile.meta_args for name, _ in inst.pairs}
    for stage in request.dockerfile.stages:
        for inst in stage.instructions:
            if inst.name == "arg":
                declared.update(name for name, _ in inst.pairs)
    return sorted(set(request.build_args) - declared - PROXY_ARGS)


def oci_layer_type(media_type: str) -> str:
    """A layer media type as an OCI manifest names it (Docker's names mapped)."""
    return {
        mt.DOCKER_LAYER_GZIP: mt.OCI_LAYER_GZIP,
        mt.DOCKER_LAYER: mt.OCI_LAYER,
    }.get(media_type, media_type or mt.OCI_LAYER_GZIP)
