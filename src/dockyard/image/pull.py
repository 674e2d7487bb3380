"""Pull an image: registry → content store (verified blobs) → the image store's ``register``.

The steps, as Docker takes them: resolve the tag to a manifest (its digest becomes the repo
digest ``name@sha256:…``), choose this platform's manifest from an index, download the config
and the layers (concurrently, skipping blobs the store has), store the manifest, then hand the
manifest digest to ``register`` (which unpacks layers into snapshots and tags the image).

Nothing partial survives a failure: the blobs this pull added are deleted again and no image
is recorded. Progress is reported as ``registry.progress.Progress`` events through a callback.

**Concurrent pulls.** Two pulls (threads or processes) may share a blob: one downloads it, the
other finds it present. So that a failing pull never deletes a blob another one is using, every
pull holds a *lease* (a shared ``flock`` on ``<lock_dir>/blob-<hex>``) on each blob it uses,
taken before it looks whether the blob is present and kept until its image is recorded. A
failing pull deletes a blob only when it ingested it itself, can turn its lease into an
exclusive lock (no other pull holds one) and no recorded image references it.

Layer L3: imports ``content``, ``registry``, ``oci`` and ``errors``; never ``service/`` (the
engine passes ``register`` and ``current`` in) nor the shells.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from dockyard import errors
from dockyard.content.leases import BlobLeases
from dockyard.content.protocol import Ingester, Manager, Provider
from dockyard.image.unpack import Unpacker
from dockyard.oci.platform import Platform
from dockyard.oci.platform import host as host_platform
from dockyard.oci.reference import Reference
from dockyard.registry.client import RegistryClient
from dockyard.registry.manifest import (
    Descriptor,
    Document,
    descriptors,
    index_entries,
    select_platform,
)
from dockyard.registry.progress import Progress, ProgressFn, ignore, short_id
from dockyard.registry.sources import BlobSources

__all__ = ["BlobLeases", "PullJob", "PullResult", "Register", "pull", "pull_all_tags"]


class Register(Protocol):
    """The image store's ``register``: blobs are in the content store; returns the image id."""

    def __call__(
        self,
        manifest_digest: str,
        *,
        ref: Reference | None,
        repo_digest: str | None,
        index_digest: str | None,
        on_layer: Callable[[int, str], None] | None,
    ) -> str: ...


class Store(Provider, Ingester, Manager, Protocol):
    """The content store roles a pull needs."""


@dataclass(frozen=True)
class PullResult:
    reference: Reference
    image_id: str
    manifest_digest: str
    repo_digest: str
    up_to_date: bool


@dataclass
class PullJob:
    """Everything a pull needs, given by the engine.

    *clients* are the endpoints to try in order (mirrors first); *current* returns the id of
    the image *ref* already names when its manifest digest is the one given, else None.
    *lock_dir* holds the blob leases (none without it: a single pull at a time);
    *blobs_in_use* returns the blobs recorded images reference (never deleted on failure).
    """

    clients: Sequence[RegistryClient]
    content: Store
    register: Register
    current: Callable[[Reference, str], str | None] = lambda ref, digest: None
    platform: Platform = field(default_factory=host_platform)
    concurrency: int = 3
    on_progress: ProgressFn = ignore
    sources: BlobSources | None = None
    lock_dir: Path | None = None
    blobs_in_use: Callable[[], set[str]] = set
    #: Starts unpacking each layer as soon as it is downloaded and verified (``register``
    #: then takes the results from it); None: layers are unpacked by ``register`` alone.
    unpacker: Unpacker | None = None


_T = TypeVar("_T")
#: Report download progress every this many bytes (and at the end).
_REPORT_EVERY = 256 << 10


class _Cancelled(Exception):
    """Another layer failed: stop this download."""


def pull(job: PullJob, ref: Reference) -> PullResult:
    """Pull *ref* (``:latest`` when it names neither tag nor digest).

    Raises NotFound (no such tag or platform), PermissionDenied (pull access denied),
    DigestMismatch (corrupted manifest or blob), InvalidArgument, Unavailable.
    """
    ref = ref.with_default_tag()
    emit = job.on_progress
    emit(Progress(f"{ref.digest or ref.tag}: Pulling from {ref.path}"))
    client, top = _resolve(job.clients, ref)
    repo_digest = f"{ref.name}@{top.digest}"
    manifest = top
    if top.is_index:
        entry = select_platform(index_entries(top), job.platform)
        manifest = _guard(ref, lambda: client.get_manifest(ref.path, entry.digest))
    config, layers = descriptors(manifest)

    existing = job.current(ref, manifest.digest)
    if existing is not None:
        emit(Progress(f"Digest: {top.digest}"))
        emit(Progress(f"Status: Image is up to date for {ref.familiar()}"))
        return PullResult(ref, existing, manifest.digest, repo_digest, up_to_date=True)

    created: list[str] = []
    leases = BlobLeases(job.lock_dir)
    try:
        downloaded = _fetch_all(job, client, ref, config, layers, created, leases)
        for doc in {manifest.digest: manifest, top.digest: top}.values():
            leases.hold(doc.digest)
            if not job.content.has(doc.digest):
                job.content.put_bytes(doc.data, doc.digest)
                created.append(doc.digest)
        for layer in downloaded:
            if job.unpacker is None:
                emit(Progress("Extracting", short_id(layer.digest)))
        image_id = job.register(
            manifest.digest,
            ref=ref if ref.tag is not None else None,
            repo_digest=repo_digest,
            index_digest=top.digest if top.is_index else None,
            on_layer=lambda i, digest: emit(Progress("Pull complete", short_id(digest))),
        )
    except BaseException:
        _forget(job, leases, created)
        raise
    finally:
        leases.release()
    if job.sources is not None:
        # The manifest and the index too: a push of the index copies the platforms this pull
        # did not download from where the index came from.
        documents = dict.fromkeys([top.digest, manifest.digest])
        job.sources.record(
            ref.domain, ref.path, [*documents, config.digest, *(x.digest for x in layers)]
        )
    emit(Progress(f"Digest: {top.digest}"))
    emit(Progress(f"Status: Downloaded newer image for {ref.familiar()}"))
    return PullResult(ref, image_id, manifest.digest, repo_digest, up_to_date=False)


def _forget(job: PullJob, leases: BlobLeases, created: list[str]) -> None:
    """Delete the blobs this failed pull ingested that no other pull or image uses.

    The exclusive locks come first: a pull that recorded its image has released its lease,
    so the image is visible to ``blobs_in_use`` by the time we hold the lock.
    """
    mine = [blob for blob in dict.fromkeys(created) if leases.exclusive(blob)]
    if not mine:
        return
    try:
        used = job.blobs_in_use()
    except errors.DockyardError:
        return  # cannot tell: keeping a blob is always safe
    for blob in mine:
        if blob not in used:
            job.content.delete(blob)


def pull_all_tags(job: PullJob, ref: Reference) -> list[PullResult]:
    """Pull every tag of *ref*'s repository (``docker pull --all-tags``)."""
    if ref.tag is not None or ref.digest is not None:
        raise errors.InvalidArgument("tag can't be used with --all-tags/-a")
    repo = ref.repository()
    tags: list[str] = []
    for client in job.clients:
        try:
            tags = _guard(repo, lambda c=client: c.list_tags(repo.path))  # type: ignore[misc]
            break
        except (errors.Unavailable, errors.NotFound):
            if not client.endpoint.mirror:
                raise
    if not tags:
        raise errors.NotFound(f"no tags found for {repo.familiar()}")
    return [pull(job, repo.with_tag(tag)) for tag in sorted(tags)]


def _guard(ref: Reference, fn: Callable[[], _T]) -> _T:
    """Run a registry call, turning a refusal into Docker's ``pull access denied`` message."""
    try:
        return fn()
    except errors.PermissionDenied as exc:
        raise errors.PermissionDenied(
            f"pull access denied for {ref.familiar_name()}, repository does not exist or may "
            f"require 'docker login': {exc}"
        ) from exc


def _resolve(clients: Sequence[RegistryClient], ref: Reference) -> tuple[RegistryClient, Document]:
    """The first endpoint that serves *ref*'s manifest (mirrors may fail; the origin decides)."""
    wanted = ref.digest or ref.tag or "latest"
    for client in clients:
        try:
            return client, _guard(ref, lambda c=client: c.get_manifest(ref.path, wanted))  # type: ignore[misc]
        except (errors.Unavailable, errors.NotFound, errors.PermissionDenied):
            if not client.endpoint.mirror:
                raise
    raise errors.Unavailable(f"no registry endpoint for {ref.domain}")


def _fetch_all(
    job: PullJob,
    client: RegistryClient,
    ref: Reference,
    config: Descriptor,
    layers: list[Descriptor],
    created: list[str],
    leases: BlobLeases,
) -> list[Descriptor]:
    """Download the config and the missing layers; returns the layers downloaded."""
    emit, content = job.on_progress, job.content
    unique = list({x.digest: x for x in layers}.values())
    for desc in [config, *unique]:
        leases.hold(desc.digest)  # before looking: a failing pull may be deleting it
    missing = [x for x in unique if not content.has(x.digest)]
    for layer in unique:
        if layer not in missing:
            emit(Progress("Already exists", short_id(layer.digest)))
    for i, layer in enumerate(missing):
        emit(Progress("Pulling fs layer", short_id(layer.digest)))
        if i >= job.concurrency:
            emit(Progress("Waiting", short_id(layer.digest)))
    lock = threading.Lock()
    cancel = threading.Event()

    def fetch(desc: Descriptor, show: bool) -> None:
        if content.has(desc.digest):
            return
        ident = short_id(desc.digest)
        done = shown = 0

        def on_bytes(n: int) -> None:
            nonlocal done, shown
            if cancel.is_set():
                raise _Cancelled()
            done += n
            if show and (done - shown >= _REPORT_EVERY or done >= desc.size):
                shown = done
                emit(Progress("Downloading", ident, done, desc.size))

        writer = content.writer(desc.digest, desc.size)
        try:
            _guard(
                ref,
                lambda: client.fetch_blob(
                    ref.path, desc.digest, writer, size=desc.size, on_bytes=on_bytes
                ),
            )
            if show:
                emit(Progress("Verifying Checksum", ident))
            writer.commit()
        except BaseException:
            writer.abort()
            raise
        with lock:
            created.append(desc.digest)
        if show:
            emit(Progress("Download complete", ident))

    fetch(config, show=False)
    unpacker = job.unpacker
    if unpacker is not None:
        unpacker.warm([x.size for x in missing])  # before the download threads: forked
    with ThreadPoolExecutor(max_workers=max(1, job.concurrency)) as pool:
        futures = {pool.submit(fetch, layer, True): layer for layer in missing}
        failure: BaseException | None = None
        for future in as_completed(futures):
            try:
                future.result()
                if unpacker is not None and failure is None:
                    # Stored and verified: unpack it while the others download.
                    unpacker.early(futures[future].digest)
                    emit(Progress("Extracting", short_id(futures[future].digest)))
            except _Cancelled:
                continue
            except BaseException as exc:
                if failure is None:
                    failure = exc
                cancel.set()
    if failure is not None:
        raise failure
    return missing
