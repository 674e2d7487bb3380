"""Push an image: its blobs as stored (compressed, so digests are stable), then its manifest.

For each layer: ``HEAD`` → skip when the registry has it; a cross-repository mount when the
blob is known to live in another repository of the same registry; otherwise an upload
(monolithic when small, chunked when large). Then the config blob, and the manifest last, so
the registry never serves a manifest whose blobs are missing. An index is pushed as its
platform manifests (by digest) followed by the index itself.

Layer L3: imports ``content``, ``registry``, ``oci`` and ``errors``; never ``service/`` or the
shells.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from dockyard import errors
from dockyard.content.protocol import Provider
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

__all__ = ["PushResult", "push"]


@dataclass(frozen=True)
class PushResult:
    reference: Reference
    digest: str
    size: int


@dataclass
class _Push:
    client: RegistryClient
    ref: Reference
    content: Provider
    sources: BlobSources | None
    emit: ProgressFn
    concurrency: int
    chunk_size: int

    def blob(self, desc: Descriptor, show: bool) -> None:
        ident = short_id(desc.digest)
        repo = self.ref.path
        size = self.content.info(desc.digest).size
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
        done = 0

        def on_bytes(n: int) -> None:
            nonlocal done
            done += n
            if show:
                self.emit(Progress("Pushing", ident, done, size))

        self.client.upload_blob(
            repo,
            desc.digest,
            size,
            lambda: self.content.open(desc.digest),
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


def _load(content: Provider, digest: str, media_type: str | None) -> Document:
    data = content.read_bytes(digest)
    return parse_document(data, media_type, digest, f"manifest {digest}")


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
) -> PushResult:
    """Push the image whose manifest (or index) is *manifest_digest* to *ref* (``:latest``).

    Raises NotFound (a blob missing locally), PermissionDenied, InvalidArgument, Unavailable.
    """
    ref = ref.with_default_tag()
    if ref.tag is None:
        raise errors.InvalidArgument(f"cannot push by digest: {ref.familiar()}; give a tag")
    on_progress(Progress(f"The push refers to repository [{ref.name}]"))
    job = _Push(client, ref, content, sources, on_progress, concurrency, chunk_size)
    top = _load(content, manifest_digest, media_type)
    pushed: list[str] = []
    try:
        if top.is_index:
            for entry in index_entries(top):
                if not content.has(entry.digest):
                    raise errors.FailedPrecondition(
                        f"cannot push {ref.familiar()}: platform manifest {entry.digest} "
                        "is not in the local store"
                    )
                child = _load(content, entry.digest, entry.media_type or None)
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
