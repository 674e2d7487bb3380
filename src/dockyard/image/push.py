"""Push an image: its blobs as stored (compressed, so digests are stable), then its manifest.

For each layer: ``HEAD`` → skip when the registry has it; a cross-repository mount when the
blob is known to live in another repository of the same registry; otherwise an upload
(monolithic when small, chunked when large). Then the config blob, and the manifest last, so
the registry never serves a manifest whose blobs are missing. An index is pushed as its
platform manifests (by digest) followed by the index itself, byte for byte, so its digest is
kept.

An index pulled from a registry has only this host's platform locally. The others are copied
from where the index came from (*origin*: a client and repository): their manifests are
fetched by digest (verified), and their blobs are mounted when origin and target are the same
registry, else streamed through a temporary file (verified by digest) — never kept in the
content store.

Layer L3: imports ``content``, ``registry``, ``oci`` and ``errors``; never ``service/`` or the
shells.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

from dockyard import errors
from dockyard.content.protocol import Provider
from dockyard.oci import digest as digests
from dockyard.oci.reference import Reference
from dockyard.registry.client import RegistryClient
from dockyard.registry.manifest import (
    Descriptor,
    Document,
    descriptors,
    index_entries,
    parse_document,
)
from dockyard.registry.progress import Progress, ProgressFn, ignore, short_id
from dockyard.registry.sources import BlobSources

__all__ = ["Origin", "PushResult", "push"]


@dataclass(frozen=True)
class PushResult:
    reference: Reference
    digest: str
    size: int


@dataclass(frozen=True)
class Origin:
    """Where an index's missing content can be read: a client of its registry, the registry's
    name (``docker.io``, ``host:port``) and the repository path."""

    client: RegistryClient
    domain: str
    path: str


class _Spool:
    """A temporary file a blob is downloaded into, hashed on the way (a ``BlobSink``)."""

    def __init__(self, digest: str) -> None:
        self.digest = digest
        self.file: BinaryIO = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the caller
        self._hash = digests.hasher(digest)
        self._size = 0

    @property
    def offset(self) -> int:
        return self._size

    def write(self, data: bytes) -> int:
        self._hash.update(data)
        self._size += len(data)
        return self.file.write(data)

    def verify(self, size: int, what: str) -> None:
        actual = f"{self.digest.split(':')[0]}:{self._hash.hexdigest()}"
        if actual != self.digest or self._size != size:
            raise errors.DigestMismatch(f"{what}: got {actual} ({self._size} bytes)")


@dataclass
class _Push:
    client: RegistryClient
    ref: Reference
    content: Provider
    sources: BlobSources | None
    emit: ProgressFn
    concurrency: int
    chunk_size: int
    origin: Origin | None = None

    def blob(self, desc: Descriptor, show: bool) -> None:
        ident = short_id(desc.digest)
        repo = self.ref.path
        if self.client.blob_size(repo, desc.digest, push=True) is not None:
            if show:
                self.emit(Progress("Layer already exists", ident))
            return
        if self.sources is not None:
            others = [
                r for r in self.sources.repositories(self.ref.domain, desc.digest) if r != repo
            ]
            if others and self.client.mount_blob(repo, desc.digest, others[0]):
                if show:
                    self.emit(Progress(f"Mounted from {others[0]}", ident))
                return
        if self.content.has(desc.digest):
            size = self.content.info(desc.digest).size
            self._upload(desc, size, lambda: self.content.open(desc.digest), show)
            return
        origin = self.origin
        if origin is None:
            raise errors.NotFound(f"blob {desc.digest} is not in the local store")
        same_registry = origin.domain == self.ref.domain and origin.path != repo
        if same_registry and self.client.mount_blob(repo, desc.digest, origin.path):
            if show:
                self.emit(Progress(f"Mounted from {origin.path}", ident))
            return
        spool = _Spool(desc.digest)
        try:
            origin.client.fetch_blob(origin.path, desc.digest, spool, size=desc.size)
            spool.verify(desc.size, f"blob {desc.digest} of {origin.domain}/{origin.path}")
            self._upload(desc, desc.size, lambda: _reopen(spool.file), show)
        finally:
            spool.file.close()

    def _upload(
        self, desc: Descriptor, size: int, open_blob: Callable[[], BinaryIO], show: bool
    ) -> None:
        ident = short_id(desc.digest)
        done = 0

        def on_bytes(n: int) -> None:
            nonlocal done
            done += n
            if show:
                self.emit(Progress("Pushing", ident, done, size))

        self.client.upload_blob(
            self.ref.path,
            desc.digest,
            size,
            open_blob,
            chunk_size=self.chunk_size,
            on_bytes=on_bytes,
        )
        if show:
            self.emit(Progress("Pushed", ident))

    def image(self, doc: Document) -> list[str]:
        """Push one image manifest's blobs (layers concurrently, then config); their digests."""
        config, layers = descriptors(doc)
        unique = list({x.digest: x for x in layers}.values())
        for layer in unique:
            self.emit(Progress("Preparing", short_id(layer.digest)))
        for i, layer in enumerate(unique):
            if i >= self.concurrency:
                self.emit(Progress("Waiting", short_id(layer.digest)))
        with ThreadPoolExecutor(max_workers=max(1, self.concurrency)) as pool:
            for future in [pool.submit(self.blob, layer, True) for layer in unique]:
                future.result()
        self.blob(config, show=False)
        return [config.digest, *(x.digest for x in unique)]


def _reopen(file: BinaryIO) -> BinaryIO:
    """A second handle on *file* (rewound), which the uploader may close."""
    file.flush()
    copy = os.fdopen(os.dup(file.fileno()), "rb")
    copy.seek(0)
    return copy


def _load(content: Provider, digest: str, media_type: str | None) -> Document:
    data = content.read_bytes(digest)
    return parse_document(data, media_type, digest, f"manifest {digest}")


def _platform_manifest(
    content: Provider, entry: Descriptor, origin: Origin | None, what: str
) -> Document:
    """One manifest an index lists: from the local store, else fetched from *origin*."""
    if content.has(entry.digest):
        return _load(content, entry.digest, entry.media_type or None)
    if origin is None:
        raise errors.FailedPrecondition(
            f"cannot push {what}: platform manifest {entry.digest} is not in the local store"
        )
    return origin.client.get_manifest(origin.path, entry.digest)


def push(
    client: RegistryClient,
    ref: Reference,
    manifest_digest: str,
    content: Provider,
    *,
    media_type: str | None = None,
    sources: BlobSources | None = None,
    on_progress: ProgressFn = ignore,
    concurrency: int = 3,
    chunk_size: int = 8 << 20,
    origin: Origin | None = None,
) -> PushResult:
    """Push the image whose manifest (or index) is *manifest_digest* to *ref* (``:latest``).

    Content of an index that is not in the local store is copied from *origin*.

    Raises NotFound (a blob missing locally and at the origin), FailedPrecondition (a platform
    manifest of an index missing, with no origin), PermissionDenied, DigestMismatch,
    InvalidArgument, Unavailable.
    """
    ref = ref.with_default_tag()
    if ref.tag is None:
        raise errors.InvalidArgument(f"cannot push by digest: {ref.familiar()}; give a tag")
    on_progress(Progress(f"The push refers to repository [{ref.name}]"))
    job = _Push(client, ref, content, sources, on_progress, concurrency, chunk_size, origin)
    top = _load(content, manifest_digest, media_type)
    pushed: list[str] = []
    try:
        if top.is_index:
            for entry in index_entries(top):
                child = _platform_manifest(content, entry, origin, ref.familiar())
                pushed += job.image(child)
                client.put_manifest(ref.path, child.digest, child.data, child.media_type)
        else:
            pushed += job.image(top)
        digest = client.put_manifest(ref.path, ref.tag, top.data, top.media_type)
    except errors.PermissionDenied as exc:
        raise errors.PermissionDenied(
            f"push access denied for {ref.familiar_name()}: {exc}"
        ) from exc
    if sources is not None:
        sources.record(ref.domain, ref.path, pushed)
    on_progress(Progress(f"{ref.tag}: digest: {digest} size: {len(top.data)}"))
    return PushResult(ref, digest, len(top.data))
