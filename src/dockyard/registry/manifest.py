"""Manifests and indexes as a registry serves them, and choosing a platform from an index.

Pure functions over bytes and dicts. Imports only ``dockyard.errors`` and ``dockyard.oci``.
Schema 1 manifests (long deprecated) are refused with a clear message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dockyard import errors
from dockyard.oci import digest as digests
from dockyard.oci import mediatypes
from dockyard.oci.platform import Platform

__all__ = [
    "ACCEPT",
    "Descriptor",
    "Document",
    "descriptors",
    "index_entries",
    "parse_document",
    "select_platform",
]

#: What we ask a registry for, most preferred first.
ACCEPT = (
    mediatypes.OCI_INDEX,
    mediatypes.DOCKER_MANIFEST_LIST,
    mediatypes.OCI_MANIFEST,
    mediatypes.DOCKER_MANIFEST,
)

_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: dict[str, str] | None = None
    urls: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, obj: Any, what: str) -> Descriptor:
        """A descriptor from a manifest's JSON; raises InvalidArgument when malformed."""
        try:
            digest = digests.validate(str(obj["digest"]))
            size = int(obj["size"])
            media_type = str(obj.get("mediaType", ""))
            platform = obj.get("platform")
            urls = tuple(obj.get("urls") or ())
        except (KeyError, TypeError, ValueError) as exc:
            raise errors.InvalidArgument(f"invalid descriptor in {what}: {obj!r}") from exc
        if size < 0:
            raise errors.InvalidArgument(f"invalid descriptor in {what}: negative size")
        return cls(media_type, digest, size, platform if isinstance(platform, dict) else None, urls)


@dataclass(frozen=True)
class Document:
    """A manifest or index exactly as served: its bytes, media type, digest and parsed JSON."""

    data: bytes
    media_type: str
    digest: str
    body: dict[str, Any]

    @property
    def is_index(self) -> bool:
        return mediatypes.is_index(self.media_type)


def parse_document(data: bytes, content_type: str | None, digest: str, what: str) -> Document:
    """Parse a manifest or index; the media type comes from the body, else the Content-Type.

    Raises InvalidArgument for JSON that is not a manifest or for schema 1.
    """
    try:
        body = json.loads(data)
    except ValueError as exc:
        raise errors.InvalidArgument(f"{what}: manifest is not valid JSON") from exc
    if not isinstance(body, dict):
        raise errors.InvalidArgument(f"{what}: manifest is not a JSON object")
    declared = (content_type or "").split(";")[0].strip()
    media_type = str(body.get("mediaType") or "")
    if not media_type:
        if declared in ACCEPT:
            media_type = declared
        elif "manifests" in body:
            media_type = mediatypes.OCI_INDEX
        elif "layers" in body and "config" in body:
            media_type = mediatypes.OCI_MANIFEST
    if declared in _SCHEMA1 or media_type in _SCHEMA1 or body.get("schemaVersion") == 1:
        raise errors.InvalidArgument(
            f"{what}: Docker Image manifest schema 1 is not supported; push the image again "
            "with a current client"
        )
    if media_type not in ACCEPT:
        raise errors.InvalidArgument(f"{what}: unsupported manifest media type {media_type!r}")
    return Document(data, media_type, digest, body)


def descriptors(doc: Document) -> tuple[Descriptor, list[Descriptor]]:
    """``(config, layers)`` of an image manifest; raises InvalidArgument."""
    what = f"manifest {doc.digest}"
    if doc.is_index:
        raise errors.InvalidArgument(f"{what} is an index, not an image manifest")
    try:
        config = Descriptor.from_json(doc.body["config"], what)
        layers = [Descriptor.from_json(item, what) for item in doc.body.get("layers") or []]
    except (KeyError, TypeError) as exc:
        raise errors.InvalidArgument(f"{what}: no config descriptor") from exc
    return config, layers


def index_entries(doc: Document) -> list[Descriptor]:
    """The manifests an index lists; raises InvalidArgument."""
    what = f"index {doc.digest}"
    entries = doc.body.get("manifests")
    if not isinstance(entries, list):
        raise errors.InvalidArgument(f"{what}: no manifests list")
    return [Descriptor.from_json(item, what) for item in entries]


def select_platform(entries: list[Descriptor], want: Platform) -> Descriptor:
    """The index entry for *want*: an exact variant match first, then any compatible one.

    Entries without a platform, or with ``unknown/unknown`` (attestations), never match.
    Raises NotFound naming the platform, as Docker does.
    """
    candidates = [
        e
        for e in entries
        if e.platform is not None
        and mediatypes.is_manifest(e.media_type or mediatypes.OCI_MANIFEST)
        and want.matches(e.platform)
    ]
    if want.variant is not None:
        exact = [e for e in candidates if e.platform and e.platform.get("variant") == want.variant]
        if exact:
            return exact[0]
    else:
        plain = [e for e in candidates if e.platform and not e.platform.get("variant")]
        if plain:
            return plain[0]
    if candidates:
        return candidates[0]
    raise errors.NotFound(f"no matching manifest for {want} in the manifest list entries")
