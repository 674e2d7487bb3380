"""``build`` and ``builder prune``: the Engine wired to the builder (``dockyard.build``).

``build_image(engine, BuildImageRequest(...), progress)`` reads the Dockerfile and the
context (a directory honouring ``.dockerignore``, a tar stream, or none when the Dockerfile
came on stdin), resolves ``FROM`` images through ``image_ensure`` (pulling as ``--pull``
says), runs the builder and registers the image under its tags. A failed build registers
nothing. ``prune_build_cache(engine)`` empties the build cache.

No HTTP, no click: typed requests in, data out.
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from dockyard import errors
from dockyard.oci import reference

if TYPE_CHECKING:
    from dockyard.build.cache import BuildCache
    from dockyard.build.progress import Progress
    from dockyard.build.protocol import BaseImage, Storage
    from dockyard.service.engine import Engine

__all__ = [
    "BuildImageRequest",
    "BuildImageResult",
    "build_cache",
    "build_image",
    "prune_build_cache",
]


@dataclass
class BuildImageRequest:
    """What ``dockyard build`` asks for. Exactly one of ``context_dir``/``context_tar`` may be
    set (none: an empty context); ``dockerfile_text`` overrides reading ``dockerfile``."""

    context_dir: Path | None = None
    context_tar: IO[bytes] | None = None
    dockerfile: str | None = None
    dockerfile_text: str | None = None
    tags: list[str] = field(default_factory=list)
    build_args: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    no_cache: bool = False
    pull: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, Path] = field(default_factory=dict)
    platform: str | None = None
    network: str = "default"


@dataclass(frozen=True)
class BuildImageResult:
    image_id: str
    tags: list[str]
    unused_args: list[str] = field(default_factory=list)


def build_cache(engine: Engine) -> BuildCache:
    """The engine's build cache (the ``buildcache`` database component)."""
    from dockyard.build.cache import BuildCache

    return BuildCache(engine.db, engine.snapshotter, engine.settings.root / "buildcache" / "mounts")


def _storage(engine: Engine) -> Storage:
    from dockyard.build.protocol import Storage

    return Storage(engine.content, engine.snapshotter, build_cache(engine), engine.lock_dir,
                   engine.settings.root / "tmp" / "build", engine.settings.exec_root / "build")  # fmt: skip


class _Bases:
    """Resolves FROM images once per build (pulling with ``--pull``)."""

    def __init__(self, engine: Engine, pull: bool) -> None:
        self._engine = engine
        self._policy = "always" if pull else "missing"
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str | None], BaseImage] = {}

    def __call__(self, name: str, platform: str | None) -> BaseImage:
        from dockyard.build.executor import oci_layer_type
        from dockyard.build.protocol import BaseImage
        from dockyard.build.state import Layer
        from dockyard.oci import image as docs

        with self._lock:
            if (name, platform) in self._seen:
                return self._seen[(name, platform)]
            try:
                from dockyard.service.image_ensure import ensure_image
            except ImportError:  # pragma: no cover - the pull path is another engineer's
                record = self._engine.images.resolve(name)
            else:
                record = ensure_image(self._engine, name, pull=self._policy, platform=platform)
            config = self._engine.images.config(record)
            layers = [Layer(la.diff_id, docs.descriptor(oci_layer_type(la.blob_media_type), la.blob_digest,
                                                        la.blob_size)) for la in record.layers]  # fmt: skip
            self._seen[(name, platform)] = BaseImage(record.id, config, layers)
            return self._seen[(name, platform)]


def _read_dockerfile(req: BuildImageRequest, root: Path | None) -> tuple[str, str]:
    if req.dockerfile_text is not None:
        return req.dockerfile_text, "Dockerfile"
    name = req.dockerfile or "Dockerfile"
    path = Path(name)
    if not path.is_absolute():
        path = (
            (root / name)
            if root is not None and (req.context_tar is not None or not path.exists())
            else path
        )
    try:
        return path.read_text(), path.name
    except FileNotFoundError as exc:
        raise errors.NotFound(
            f"failed to read dockerfile: open {name}: no such file or directory"
        ) from exc
    except OSError as exc:
        raise errors.InvalidArgument(f"failed to read dockerfile {name}: {exc.strerror}") from exc


def _ignore_patterns(root: Path | None, dockerfile_name: str) -> list[str]:
    from dockyard.build.dockerignore import read_ignore_file

    if root is None:
        return []
    for candidate in (root / f"{dockerfile_name}.dockerignore", root / ".dockerignore"):
        if candidate.is_file():
            return read_ignore_file(candidate.read_text())
    return []


def _extract(stream: IO[bytes], into: Path) -> None:
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as tar:
            tar.extractall(into, filter="tar")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise errors.InvalidArgument(f"build context is not a valid tar archive: {exc}") from exc


def build_image(engine: Engine, req: BuildImageRequest, progress: Progress) -> BuildImageResult:
    """Build and register an image; its id and the tags given to it.

    Raises BuildFailed (a step failed), InvalidArgument (a bad Dockerfile, tag or option),
    NotFound (a missing Dockerfile, base image, stage or source).
    """
    from dockyard.build.context import BuildContext
    from dockyard.build.executor import BuildRequest, build
    from dockyard.build.instructions import parse_dockerfile
    from dockyard.oci.platform import parse as parse_platform

    refs = [reference.parse(t).with_default_tag() for t in req.tags]
    if any(r.digest for r in refs):
        raise errors.InvalidArgument("invalid reference format: a build tag cannot have a digest")
    storage = _storage(engine)
    scratch: Path | None = None
    try:
        root = req.context_dir
        if req.context_tar is not None:
            storage.work_dir.mkdir(parents=True, exist_ok=True)
            scratch = Path(tempfile.mkdtemp(prefix="context-", dir=storage.work_dir))
            _extract(req.context_tar, scratch)
            root = scratch
        text, name = _read_dockerfile(req, root)
        dockerfile = parse_dockerfile(text, name)
        context = BuildContext(root, _ignore_patterns(root, name))
        request = BuildRequest(
            dockerfile, context, dict(req.build_args), req.target, req.no_cache, dict(req.labels),
            dict(req.secrets), parse_platform(req.platform) if req.platform else None,
            req.network,
        )  # fmt: skip
        out = build(request, storage, _Bases(engine, req.pull), progress)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    if _registered(engine, out.config_digest, out.manifest_digest):
        image_id = out.config_digest  # a fully cached rebuild: nothing to unpack or record
    else:
        image_id = engine.images.register(out.manifest_digest)
    for ref in refs:
        engine.images.tag(image_id, str(ref))  # emits the "tag" event, as Docker's build does
    return BuildImageResult(image_id, [ref.familiar() for ref in refs], out.unused_args)


def _registered(engine: Engine, image_id: str, manifest_digest: str) -> bool:
    try:
        return engine.image_records.get(image_id).manifest_digest == manifest_digest
    except errors.NotFound:
        return False


def prune_build_cache(engine: Engine) -> tuple[int, int]:
    """``builder prune``: forget every cached step; ``(entries removed, bytes freed)``."""
    cache = build_cache(engine)
    return cache.prune(engine.image_records.chain_ids_in_use)
