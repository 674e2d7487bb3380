"""Write images to a ``docker save`` archive, as Docker 25+ writes it.

One tar holds both views of the same blobs: Docker's ``manifest.json`` + ``repositories`` and an
OCI image layout (``oci-layout``, ``index.json``, ``blobs/sha256/…``). Blobs are written as the
content store holds them (layers compressed as they were pulled or built), so a save → load
round trip keeps every digest. Each blob is written once however many images share it.

Must not import runtime/, network/, volume/ or anything above L3.
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from dockyard.content.protocol import Provider
from dockyard.oci import mediatypes as mt

__all__ = ["SaveItem", "write_archive"]

_MTIME = 0


@dataclass
class SaveItem:
    """One image to save and the references to record for it (full names with tags)."""

    manifest_digest: str
    manifest_media_type: str
    config_digest: str
    layer_digests: list[str]
    diff_ids: list[str]
    refs: list[tuple[str, str]] = field(default_factory=list)  # (full name:tag, familiar name:tag)


def _blob_name(digest: str) -> str:
    algorithm, _, hexpart = digest.partition(":")
    return f"blobs/{algorithm}/{hexpart}"


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = _MTIME
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    info.mtime = _MTIME
    tar.addfile(info)


def write_archive(content: Provider, items: list[SaveItem], out: BinaryIO) -> None:
    """Write *items* as one archive to *out*. Raises NotFound if a blob is missing."""
    index: dict[str, Any] = {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": []}
    manifest_json: list[dict[str, Any]] = []
    repositories: dict[str, dict[str, str]] = {}
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT, bufsize=1 << 20) as tar:
        _add_dir(tar, "blobs/")
        _add_dir(tar, "blobs/sha256/")
        written: set[str] = set()

        def blob(digest: str) -> None:
            if digest in written:
                return
            written.add(digest)
            info = tarfile.TarInfo(_blob_name(digest))
            info.size = content.info(digest).size
            info.mtime = _MTIME
            info.mode = 0o644
            with content.open(digest) as f:
                tar.addfile(info, f)

        for item in items:
            for digest in [*item.layer_digests, item.config_digest, item.manifest_digest]:
                blob(digest)
            size = content.info(item.manifest_digest).size
            base = {"mediaType": item.manifest_media_type, "digest": item.manifest_digest, "size": size}
            if not item.refs:
                index["manifests"].append(base)
            for full, familiar in item.refs:
                tag = full.rsplit(":", 1)[1]
                index["manifests"].append(
                    {
                        **base,
                        "annotations": {
                            "io.containerd.image.name": full,
                            "org.opencontainers.image.ref.name": tag,
                        },
                    }
                )
                repo, _, ftag = familiar.rpartition(":")
                repositories.setdefault(repo, {})[ftag] = item.diff_ids[-1].split(":")[-1] if item.diff_ids else ""
            manifest_json.append(
                {
                    "Config": _blob_name(item.config_digest),
                    "RepoTags": [familiar for _, familiar in item.refs] or None,
                    "Layers": [_blob_name(d) for d in item.layer_digests],
                }
            )
        _add_bytes(tar, "index.json", json.dumps(index, separators=(",", ":")).encode())
        _add_bytes(tar, "manifest.json", json.dumps(manifest_json, separators=(",", ":")).encode())
        _add_bytes(tar, "oci-layout", json.dumps({"imageLayoutVersion": mt.OCI_LAYOUT_VERSION}).encode())
        if repositories:
            _add_bytes(tar, "repositories", json.dumps(repositories, separators=(",", ":")).encode())

