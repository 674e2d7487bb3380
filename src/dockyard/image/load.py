"""Read a ``docker save`` archive (any Docker version since 1.10, Docker 25+'s OCI-layout
form, ``skopeo``'s docker-archive) or an OCI image layout archive into the content store.

The archive is read once, front to back (it may be a pipe), with the lean tar reader of layer
application (``_tarstream``; ``tarfile``'s stream mode copied every byte several times): each
file is ingested into the content store as it passes (a ``blobs/<alg>/<hex>`` entry is
verified against its name) and handed to ``on_blob`` at once, so the caller can start
unpacking a layer while the rest of the archive is read; small JSON documents are kept in
memory. Then the images are worked out from ``index.json`` and/or ``manifest.json``; where an
archive has only ``manifest.json`` a manifest is written for it. The caller registers each
image (unpacks and records it) and drops the blobs nobody uses.

Must not import runtime/, network/, volume/ or anything above L3.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

from dockyard import errors
from dockyard.content.store import ContentStore
from dockyard.image import compression
from dockyard.image._tarstream import TarStream
from dockyard.image.compression import Compression, detect
from dockyard.oci import image as docs
from dockyard.oci import mediatypes as mt
from dockyard.oci.platform import Platform

__all__ = ["LoadedImage", "ReadArchive", "read_archive"]

_BLOB = re.compile(r"^(?:\./)?blobs/(sha256|sha512)/([a-f0-9]+)$")
_SMALL_DOCS = {"manifest.json", "index.json", "oci-layout", "repositories"}
_MAX_DOC = 32 << 20


@dataclass
class LoadedImage:
    manifest_digest: str
    manifest_media_type: str
    config_digest: str
    refs: list[str] = field(default_factory=list)  # as written in the archive (familiar or full)


@dataclass
class ReadArchive:
    images: list[LoadedImage]
    ingested: set[str]  # every digest this archive put into the store


def _layer_type(head: bytes) -> str:
    kind = detect(head)
    return {Compression.NONE: mt.OCI_LAYER, Compression.GZIP: mt.OCI_LAYER_GZIP,
            Compression.ZSTD: mt.OCI_LAYER_ZSTD}[kind]


def read_archive(
    content: ContentStore,
    stream: BinaryIO,
    platform: Platform,
    on_blob: Callable[[str], None] | None = None,
    ingested: set[str] | None = None,
) -> ReadArchive:
    """Ingest every file of the archive; return the images it holds.

    *on_blob* is called with the digest of each file stored (verified) that is not a small
    JSON document, as soon as it is in the store: the caller may start unpacking it while the
    rest of the archive is read. Every digest put into the store is added to *ingested* as it
    is, so that a caller can remove what a failed read left (the result's ``ingested`` is
    that set).

    Raises InvalidArgument for a malformed archive, DigestMismatch for a blob whose bytes do
    not match its name. Blobs already ingested stay in the store.
    """
    by_name: dict[str, str] = {}
    links: dict[str, str] = {}
    small: dict[str, bytes] = {}
    if ingested is None:
        ingested = set()
    with compression.read_errors("archive"):
        try:
            _read_entries(content, _uncompressed(stream), by_name, links, small, ingested, on_blob)
        except ValueError as exc:  # a number field that is not a number
            raise errors.InvalidArgument(f"invalid archive: {exc}") from exc
    for name, target in links.items():
        if target in by_name:
            by_name[name] = by_name[target]
    images = _images(content, by_name, small, platform)
    if not images:
        raise errors.InvalidArgument(
            "invalid archive: no manifest.json or index.json naming an image was found"
        )
    return ReadArchive(images, ingested)


def _uncompressed(stream: BinaryIO) -> BinaryIO:
    """The archive's tar stream: ``docker load`` takes it plain, gzip, zstd, bzip2 or xz."""
    head = stream.read(6)
    rest = compression.prefixed(head, stream)
    if head.startswith(b"BZh"):
        import bz2

        return cast(BinaryIO, _Checked(cast(BinaryIO, bz2.BZ2File(rest))))
    if head.startswith(b"\xfd7zXZ\x00"):
        import lzma

        return cast(BinaryIO, _Checked(cast(BinaryIO, lzma.LZMAFile(rest))))
    return compression.decompressed(rest)[1]


class _Checked:
    """A bzip2 or xz reader whose corrupt data is InvalidArgument (their own errors are
    OSError and LZMAError, which also mean other things)."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner

    def read(self, size: int = -1) -> bytes:
        import lzma

        try:
            return self._inner.read(size)
        except (OSError, EOFError, lzma.LZMAError) as exc:
            raise errors.InvalidArgument(f"invalid archive: corrupt compressed data: {exc}") from exc


def _read_entries(
    content: ContentStore,
    stream: BinaryIO,
    by_name: dict[str, str],
    links: dict[str, str],
    small: dict[str, bytes],
    ingested: set[str],
    on_blob: Callable[[str], None] | None,
) -> None:
    tar = TarStream(stream)
    for member in tar:
        name = posixpath.normpath(member.name.lstrip("/"))
        if member.issym() or member.islnk():
            links[name] = posixpath.normpath(
                posixpath.join(posixpath.dirname(name), member.linkname)
                if member.issym() else member.linkname.lstrip("/")
            )
            continue
        if not member.isreg():
            continue
        if name in _SMALL_DOCS or (name.endswith(".json") and "/" not in name):
            if member.size > _MAX_DOC:
                raise errors.InvalidArgument(f"invalid archive: {name} is too large")
            data = bytearray()
            tar.read_data(data.extend)
            small[name] = bytes(data)
            if name not in _SMALL_DOCS:  # legacy config <hex>.json: a blob too
                by_name[name] = content.put_bytes(small[name])
                ingested.add(by_name[name])
            continue
        m = _BLOB.match(name)
        expected = f"{m.group(1)}:{m.group(2)}" if m else None
        if expected is not None and content.has(expected):
            by_name[name] = expected  # stored and verified before: not ours to remove
            continue
        with content.writer(expected, member.size) as writer:
            tar.read_data(writer.write)
            digest = writer.commit()
        by_name[name] = digest
        ingested.add(digest)
        if on_blob is not None:
            on_blob(digest)


def _images(content: ContentStore, by_name: dict[str, str], small: dict[str, bytes],
            platform: Platform) -> list[LoadedImage]:
    found: dict[str, LoadedImage] = {}
    if "index.json" in small:
        index = docs.parse_json(small["index.json"], "index.json")
        for entry in index.get("manifests") or []:
            image = _from_index_entry(content, entry, platform)
            if image is None:
                continue
            known = found.setdefault(image.config_digest, image)
            known.refs.extend(r for r in image.refs if r not in known.refs)
    if "manifest.json" in small:
        import json

        try:
            entries = json.loads(small["manifest.json"])
        except ValueError as exc:
            raise errors.InvalidArgument(f"manifest.json: invalid JSON: {exc}") from exc
        for entry in entries or []:
            config_digest = _resolve(by_name, entry["Config"])
            if config_digest not in found:
                found[config_digest] = _from_docker_entry(content, by_name, entry)
            refs = found[config_digest].refs
            refs.extend(r for r in entry.get("RepoTags") or [] if r not in refs)
    return list(found.values())


def _resolve(by_name: dict[str, str], name: str) -> str:
    key = posixpath.normpath(name.lstrip("/"))
    if key not in by_name:
        raise errors.InvalidArgument(f"invalid archive: manifest.json names {name}, which is not in the archive")
    return by_name[key]


def _from_docker_entry(content: ContentStore, by_name: dict[str, str], entry: dict[str, Any]) -> LoadedImage:
    config_digest = _resolve(by_name, entry["Config"])
    layers = []
    for path in entry.get("Layers") or []:
        digest = _resolve(by_name, path)
        with content.open(digest) as f:
            head = f.read(4)
        layers.append(docs.descriptor(_layer_type(head), digest, content.info(digest).size))
    config_bytes = content.read_bytes(config_digest)
    manifest = docs.new_manifest(config_bytes, layers)
    manifest_digest = content.put_bytes(docs.canonical(manifest))
    return LoadedImage(manifest_digest, mt.OCI_MANIFEST, config_digest, [])


def _from_index_entry(content: ContentStore, entry: dict[str, Any], platform: Platform) -> LoadedImage | None:
    media_type = entry.get("mediaType", "")
    digest = entry["digest"]
    if not content.has(digest):
        return None
    doc = docs.parse_json(content.read_bytes(digest), f"manifest {digest}")
    media_type = media_type or doc.get("mediaType", mt.OCI_MANIFEST)
    annotations = entry.get("annotations") or {}
    refs = []
    name = annotations.get("io.containerd.image.name")
    ref_name = annotations.get("org.opencontainers.image.ref.name", "")
    if name:
        refs.append(name)
    elif ref_name and ("/" in ref_name or ":" in ref_name):
        refs.append(ref_name)
    if mt.is_index(media_type) or "manifests" in doc:
        for child in doc.get("manifests") or []:
            if platform.matches(child.get("platform") or {}) and content.has(child["digest"]):
                image = _from_index_entry(content, child, platform)
                if image is not None:
                    image.refs = refs
                return image
        return None
    config_digest = doc["config"]["digest"]
    if not content.has(config_digest):
        return None
    return LoadedImage(digest, media_type, config_digest, refs)
