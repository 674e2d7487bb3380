"""Image documents (config, manifest, index, descriptors) as plain dicts, built and read by pure
functions. Dicts keep every field a document carries, known or not, so what we read we can
write back byte-for-byte; these helpers give them shape. Stdlib only (L0).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from dockyard import errors
from dockyard.oci import mediatypes as mt
from dockyard.oci.digest import sha256_bytes
from dockyard.oci.platform import Platform

__all__ = [
    "canonical",
    "descriptor",
    "history_entry",
    "new_config",
    "new_manifest",
    "now_rfc3339",
    "parse_json",
]


def now_rfc3339() -> str:
    """The current time as Docker writes it: RFC 3339 with nanoseconds, UTC."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}000Z"


def canonical(document: dict[str, Any]) -> bytes:
    """Serialise a document compactly (the bytes whose digest names it)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def parse_json(data: bytes, what: str) -> dict[str, Any]:
    """Parse a JSON object; raises InvalidArgument naming *what*."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise errors.InvalidArgument(f"{what}: invalid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise errors.InvalidArgument(f"{what}: expected a JSON object")
    return value


def descriptor(media_type: str, data_or_digest: bytes | str, size: int | None = None,
               **extra: Any) -> dict[str, Any]:
    """A content descriptor for bytes (digest computed) or for a known digest and size."""
    if isinstance(data_or_digest, bytes):
        digest, size = sha256_bytes(data_or_digest), len(data_or_digest)
    else:
        digest = data_or_digest
    if size is None:
        raise ValueError("descriptor of a digest needs its size")
    out: dict[str, Any] = {"mediaType": media_type, "digest": digest, "size": size}
    out.update({k: v for k, v in extra.items() if v})
    return out


def history_entry(created: str, created_by: str = "", comment: str = "",
                  empty_layer: bool = False, author: str = "") -> dict[str, Any]:
    entry: dict[str, Any] = {"created": created}
    if author:
        entry["author"] = author
    if created_by:
        entry["created_by"] = created_by
    if comment:
        entry["comment"] = comment
    if empty_layer:
        entry["empty_layer"] = True
    return entry


def new_config(platform: Platform, diff_ids: list[str], created: str,
               config: dict[str, Any] | None = None, history: list[dict[str, Any]] | None = None,
               author: str = "") -> dict[str, Any]:
    """An image config (OCI image-spec ``config``), Docker's field order."""
    doc: dict[str, Any] = {"architecture": platform.architecture}
    if author:
        doc["author"] = author
    doc["config"] = config or {}
    doc["created"] = created
    doc["history"] = history or []
    doc["os"] = platform.os
    doc["rootfs"] = {"type": "layers", "diff_ids": list(diff_ids)}
    if platform.variant:
        doc["variant"] = platform.variant
    return doc


def new_manifest(config_bytes: bytes, layers: list[dict[str, Any]]) -> dict[str, Any]:
    """An OCI image manifest for a config and its layer descriptors."""
    return {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": descriptor(mt.OCI_CONFIG, config_bytes),
        "layers": layers,
    }
